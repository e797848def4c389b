//! The operator commands: catalog, policy, devices, audit, on the database
//! directly. Each is one store operation: refused input changes nothing.

use otrp_tam::Store;
use otrp_tam::audit::AuditEntry;
use otrp_tam::clock::{rfc3339, unix_ms};
use otrp_tam::policy::{DeviceSel, PolicyEntry, VersionSel};

use super::{AuditArgs, PolicyCmd, TaCatalogCmd, TamCmd, runtime};
use crate::util::{Error, Result, read_certificates, read_input, write_stdout};

/// The audit actor of CLI commands.
const OPERATOR: &str = "operator";

pub fn run(cmd: TamCmd) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        match cmd {
            TamCmd::Serve(_) => Err(Error::msg("not an operator command")),
            TamCmd::Ta(TaCatalogCmd::Add {
                db,
                spid,
                image,
                sp_root,
            }) => {
                let bytes = read_input(Some(&image))?;
                let store = Store::open(&db).await?;
                if let Some(path) = sp_root {
                    let roots = read_certificates(&path)?;
                    store.add_sp_anchors(&roots, OPERATOR, unix_ms()).await?;
                }
                let provider = otrp_crypto_rustcrypto::provider();
                let added =
                    otrp_tam::catalog::add(&store, &provider, &spid, &bytes, OPERATOR, unix_ms())
                        .await?;
                print(format!(
                    "added TA {} version {} of SP {} ({} bytes, sha256 {})\n",
                    added.taid,
                    added.version,
                    added.spid,
                    added.image.len(),
                    added.sha256
                ))
            }
            TamCmd::Ta(TaCatalogCmd::List(args)) => {
                let store = Store::open(&args.db).await?;
                let list = store.catalog().await?;
                if args.json {
                    return json(&list);
                }
                let mut out = format!(
                    "{:<16} {:>7} {:<10} {:<16} {:>9}  {:<20} SHA-256\n",
                    "TA", "VERSION", "SP", "NAME", "BYTES", "ADDED"
                );
                for e in &list {
                    out.push_str(&format!(
                        "{:<16} {:>7} {:<10} {:<16} {:>9}  {:<20} {}\n",
                        e.taid,
                        e.version,
                        e.spid,
                        e.taname.as_deref().unwrap_or("-"),
                        e.size,
                        e.added,
                        &e.sha256[..16.min(e.sha256.len())]
                    ));
                }
                if list.is_empty() {
                    out.push_str("(the catalog is empty)\n");
                }
                print(out)
            }
            TamCmd::Policy(PolicyCmd::Set {
                db,
                spid,
                sd,
                ta,
                devices,
            }) => {
                let entry = otrp_tam::admin::policy_entry(&spid, &sd, &ta, Some(&devices))?;
                let store = Store::open(&db).await?;
                store.set_policy(&entry, OPERATOR, unix_ms()).await?;
                print(format!("policy set: {}\n", describe(&entry)))
            }
            TamCmd::Policy(PolicyCmd::Remove { db, ta }) => {
                let store = Store::open(&db).await?;
                store.remove_policy(&ta, OPERATOR, unix_ms()).await?;
                print(format!(
                    "policy removed: TA {ta} is to be deleted from every device\n"
                ))
            }
            TamCmd::Policy(PolicyCmd::Show(args)) => {
                let store = Store::open(&args.db).await?;
                let policy = store.policy().await?;
                if args.json {
                    return json(&policy);
                }
                let mut out = String::new();
                for e in &policy {
                    out.push_str(&describe(e));
                    out.push('\n');
                }
                if policy.is_empty() {
                    out.push_str("(no policy: every managed TA is to be absent)\n");
                }
                print(out)
            }
            TamCmd::Devices(args) => {
                let store = Store::open(&args.db).await?;
                let reports = otrp_tam::report::devices(&store).await?;
                if args.json {
                    return json(&reports);
                }
                print(otrp_tam::report::table(&reports))
            }
            TamCmd::Audit(args) => audit(args).await,
        }
    })
}

async fn audit(args: AuditArgs) -> Result<()> {
    let store = Store::open(&args.db).await?;
    let (entries, head) = store.audit_log().await?;
    let verified = if args.verify {
        Some(store.verify_audit().await?)
    } else {
        None
    };
    if args.json {
        let head = head.map(|(seq, hash)| serde_json::json!({ "seq": seq, "hash": hash }));
        let mut value = serde_json::json!({ "entries": entries, "head": head });
        if verified.is_some() {
            value["verified"] = serde_json::Value::Bool(true);
        }
        return json(&value);
    }
    let mut out = String::new();
    if !args.verify {
        for e in &entries {
            out.push_str(&line(e));
        }
    }
    match (verified, head) {
        (Some(n), Some((seq, hash))) => out.push_str(&format!(
            "audit log verified: {n} entries, head {seq} {hash}\n"
        )),
        (Some(_), None) => out.push_str("audit log verified: empty\n"),
        (None, Some((seq, hash))) => out.push_str(&format!("head {seq} {hash}\n")),
        (None, None) => out.push_str("(the audit log is empty)\n"),
    }
    print(out)
}

fn line(e: &AuditEntry) -> String {
    format!(
        "{:>5} {} {:<10} {:<18} {}\n",
        e.seq,
        rfc3339(e.at),
        e.actor,
        e.action,
        e.detail
    )
}

/// A policy entry in words.
pub fn describe(e: &PolicyEntry) -> String {
    let version = match e.version {
        VersionSel::Latest => "latest".to_string(),
        VersionSel::Pinned(n) => format!("version {n}"),
    };
    let devices = match &e.devices {
        DeviceSel::All => "all devices".to_string(),
        DeviceSel::List(d) => format!("devices {}", d.join(",")),
    };
    format!(
        "TA {} ({version}) in SD {} of SP {}, on {devices}",
        e.taid, e.sdname, e.spid
    )
}

fn print(text: String) -> Result<()> {
    write_stdout(text.as_bytes())
}

fn json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(text)
}
