//! `otrp demo`: the fleet story of the TAM service (docs/tam-service.md)
//! on embedded defaults, with no set-up: a TAM service on SQLite in a
//! temporary directory serving OTrP over HTTP on loopback, three
//! software-TEE devices, and an operator who adds TA v1 and a policy
//! (every device reconciled: CreateSD + InstallTA), publishes v2 (rolled
//! out: UpdateTA), pins v1 (a downgrade: refused and audited) and retires
//! the TA (DeleteTA, DeleteSD). One line per message, the fleet table after
//! each phase, and the audit log verified at the end.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::ValueEnum;
use otrp_core::broker::Broker;
use otrp_core::crypto::Provider;
use otrp_core::message::Limits;
use otrp_core::tee::Tee;
use otrp_http::{HandlerError, ServerConfig, TamServer};
use otrp_tam::clock::unix_ms;
use otrp_tam::report::DeviceReport;
use otrp_tam::{Note, NoteKind, ServiceConfig, TamService};
use otrp_test_pki::KeyType;

use crate::KeyTypeArg;
use crate::agent::{process, step_ms};
use crate::util::{Error, Result, hex, ms, out, outln};

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Work in DIR (kept afterwards) instead of a temporary directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The crypto backend (default: aws-lc, the fastest complete one measured;
    /// docs/performance.md).
    #[arg(long, value_enum, default_value = "aws-lc")]
    pub backend: Backend,
    /// Key type of the generated PKI (rsa is the basic profile, section 11).
    #[arg(long, value_enum, default_value = "ec")]
    pub key_type: KeyTypeArg,
}

/// A crypto backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// otrp-crypto-rustcrypto: every algorithm, pure Rust.
    Rustcrypto,
    /// otrp-crypto-ring's composed provider: ring for signatures, digests,
    /// AES-GCM and chain validation, RustCrypto for JWE key management and
    /// AES-CBC-HMAC (ring offers neither).
    Ring,
    /// otrp-crypto-aws-lc: every algorithm on aws-lc-rs.
    #[value(name = "aws-lc")]
    AwsLc,
}

impl Backend {
    /// The provider of this backend.
    pub fn provider(self) -> Provider {
        match self {
            Backend::Rustcrypto => otrp_crypto_rustcrypto::provider(),
            Backend::Ring => otrp_crypto_ring::composed_provider(),
            Backend::AwsLc => otrp_crypto_aws_lc::provider(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Backend::Rustcrypto => "rustcrypto (otrp-crypto-rustcrypto, pure Rust)",
            Backend::Ring => {
                "ring (otrp-crypto-ring composed: ring signatures, digests, AES-GCM and \
                 chains; RustCrypto JWE key management and AES-CBC-HMAC)"
            }
            Backend::AwsLc => "aws-lc (otrp-crypto-aws-lc, every algorithm on aws-lc-rs)",
        }
    }
}

pub fn run(args: &DemoArgs) -> Result<()> {
    let provider = args.backend.provider();
    // The temporary directory is removed when `_temp` drops, also on error.
    let (_temp, dir) = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| Error::from(e).context(d.display()))?;
            (None, d.clone())
        }
        None => {
            // Removed also on SIGINT/SIGTERM (it holds private keys).
            let t = crate::cleanup::TempDir::new("otrp-demo-")?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    outln!(
        "otrp demo: a TAM service and a fleet of {DEVICES} software TEEs, OTrP over HTTP on loopback"
    );
    outln!(
        "directory {}{}",
        dir.display(),
        if args.dir.is_some() {
            " (kept)"
        } else {
            " (temporary, removed at the end)"
        }
    );
    outln!("backend {}", args.backend.describe());
    let result = fleet(&dir, &provider, args.key_type);
    if args.dir.is_none() {
        outln!("removing {}", dir.display());
    }
    result
}

/// The number of devices of the demo.
const DEVICES: usize = 3;
/// The demo's Service Provider, SD and TA.
const SPID: &str = "sp1";
const SDNAME: &str = "wallet-sd";
const TAID: &str = "wallet";

/// One device of the fleet: its name and its TEE behind a broker.
struct Device {
    name: String,
    broker: Broker<Tee>,
}

/// What the demo keeps while it runs.
struct Demo<'a> {
    dir: &'a Path,
    provider: &'a Provider,
    service: Arc<TamService>,
    url: String,
    notes: Arc<Mutex<Vec<Note>>>,
    devices: Vec<Device>,
    round_trips: usize,
}

fn fleet(dir: &Path, provider: &Provider, key_type: KeyTypeArg) -> Result<()> {
    let started = Instant::now();
    let pki_dir = dir.join("pki");
    let pki = crate::pki::init(&pki_dir, key_type)?;
    let kind = match key_type.key_type() {
        KeyType::Rsa2048 => "RSA-2048",
        KeyType::P256 => "P-256",
    };
    outln!(
        "setup  test PKI ({kind}, tamid {}) in {} ({:.1} ms)",
        pki.tamid,
        pki_dir.display(),
        ms(started.elapsed())
    );

    let t = Instant::now();
    let mut devices = Vec::new();
    for i in 1..=DEVICES {
        let name = format!("device-{i}");
        crate::pki::issue(&pki_dir, crate::pki::Role::Tee, &name, None)?;
        let tee = crate::tee::init(&pki_dir, &dir.join(&name), &name, Some(&name), *provider)?;
        outln!(
            "setup  software TEE {name}: its own certificate (pki issue --role tee), did {}...",
            &hex(tee.did().as_bytes())[..16]
        );
        let mut broker: Broker<Tee> = Broker::new(Limits::DEFAULT);
        broker.register(name.clone(), tee);
        devices.push(Device { name, broker });
    }
    outln!("setup  {DEVICES} devices ({:.1} ms)", ms(t.elapsed()));

    let t = Instant::now();
    let db = format!("sqlite:{}", dir.join("tam.db").display());
    let notes = Arc::new(Mutex::new(Vec::new()));
    let sink = notes.clone();
    let service = TamService::open(&db, ServiceConfig::default())?.with_observer(Arc::new(
        move |n: &Note| {
            if let Ok(mut v) = sink.lock() {
                v.push(n.clone());
            }
        },
    ));
    let roots = crate::tam::sp_roots(&pki_dir)?;
    service.block_on(
        service
            .store()
            .add_sp_anchors(&roots, "operator", unix_ms()),
    )?;
    let service = Arc::new(service);
    let tam = crate::tam::tam_from_pki(&pki_dir, provider)?;
    let server = TamServer::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        Arc::new(tam),
        service.clone(),
        ServerConfig::default(),
    )
    .map_err(|e| Error::msg(e.to_string()))?;
    outln!(
        "setup  TAM service on {db}, serving OTrP over HTTP on {} ({:.1} ms)",
        server.url(),
        ms(t.elapsed())
    );
    let mut demo = Demo {
        dir,
        provider,
        service,
        url: server.url(),
        notes,
        devices,
        round_trips: 0,
    };
    let result = demo.story();
    server.shutdown();
    result?;
    outln!(
        "done: {DEVICES} devices, 4 phases, {} HTTP round trips, {:.1} ms",
        demo.round_trips,
        ms(started.elapsed())
    );
    Ok(())
}

impl Demo<'_> {
    fn story(&mut self) -> Result<()> {
        self.phase(
            1,
            "the operator adds TA wallet v1 and a policy; every device is reconciled",
        )?;
        self.add_ta(1)?;
        self.policy(TAID)?;
        self.sessions()?;
        self.expect(
            |r| r.compliant && version(r) == Some(1),
            "compliant with v1",
        )?;

        self.phase(2, "v2 is published and rolled out")?;
        self.add_ta(2)?;
        self.sessions()?;
        self.expect(
            |r| r.compliant && version(r) == Some(2),
            "compliant with v2",
        )?;

        self.phase(3, "the policy pins v1: a downgrade, refused (and audited)")?;
        self.policy(&format!("{TAID}@1"))?;
        self.sessions()?;
        self.expect(
            |r| {
                !r.compliant
                    && version(r) == Some(2)
                    && r.reasons.iter().any(|x| x.contains("downgrade refused"))
            },
            "still on v2, non-compliant: downgrade refused",
        )?;

        self.phase(4, "the TA is retired: policy removed, TA and SD deleted")?;
        let service = self.service.clone();
        let store = service.store();
        service.block_on(store.remove_policy(TAID, "operator", unix_ms()))?;
        outln!("operator  policy remove --ta {TAID}");
        self.sessions()?;
        self.expect(|r| r.compliant && r.sds.is_empty(), "compliant, no SD left")?;

        let n = service.block_on(store.verify_audit())?;
        let (log, head) = service.block_on(store.audit_log())?;
        let downgrades = log
            .iter()
            .filter(|e| e.action == "downgrade.refused")
            .count();
        let head = head
            .map(|(s, h)| format!("head {s} {}...", &h[..16]))
            .unwrap_or_default();
        outln!(
            "audit log: {n} entries ({downgrades} refused downgrades), hash chain verified ({head})"
        );
        Ok(())
    }

    fn phase(&self, n: usize, what: &str) -> Result<()> {
        outln!();
        outln!("phase {n}: {what}");
        Ok(())
    }

    fn add_ta(&self, version: u64) -> Result<()> {
        let code = format!("wallet TA code, version {version}");
        let pki = self.dir.join("pki");
        let image = crate::tam::build_image(
            self.provider,
            &pki,
            TAID,
            version,
            code.as_bytes(),
            Some("Wallet".into()),
        )?;
        let store = self.service.store();
        let added = self.service.block_on(otrp_tam::catalog::add(
            store,
            self.provider,
            SPID,
            &image,
            "operator",
            unix_ms(),
        ))?;
        outln!(
            "operator  ta add: {} v{} of {} ({} bytes, SP signature and chain verified, sha256 {}...)",
            added.taid,
            added.version,
            added.spid,
            added.image.len(),
            &added.sha256[..16]
        );
        Ok(())
    }

    fn policy(&self, ta: &str) -> Result<()> {
        let entry = otrp_tam::admin::policy_entry(SPID, SDNAME, ta, None)?;
        let store = self.service.store();
        self.service
            .block_on(store.set_policy(&entry, "operator", unix_ms()))?;
        outln!("operator  policy set --spid {SPID} --sd {SDNAME} --ta {ta} --devices all");
        Ok(())
    }

    /// One session of each device, one line per message.
    fn sessions(&mut self) -> Result<()> {
        outln!(
            "{:<9} {:>2}  {:<15} {:>8} {:>8} {:>10}  result (as the TAM saw it)",
            "device",
            "#",
            "message",
            "request",
            "response",
            "time"
        );
        for device in &mut self.devices {
            if let Ok(mut v) = self.notes.lock() {
                v.clear();
            }
            let agent = crate::agent::agent(&self.url, None, false)?;
            let mut log = Vec::new();
            let broker = &mut device.broker;
            let mut handler = |request: &[u8]| -> std::result::Result<Vec<u8>, HandlerError> {
                Ok(process(broker, request, &mut log))
            };
            let report = agent
                .run_blocking(&mut handler)
                .map_err(|e| Error::msg(format!("HTTP exchange: {e}")))?;
            self.round_trips += report.exchanges.len();
            let notes = self.notes.lock().map(|v| v.clone()).unwrap_or_default();
            let answers: Vec<&Note> = notes
                .iter()
                .filter(|n| n.kind == NoteKind::Answer)
                .collect();
            for (k, h) in log.iter().enumerate() {
                let seen = answers
                    .get(k)
                    .map_or("(no answer from the TAM)", |n| &n.text);
                outln!(
                    "{:<9} {:>2}  {:<15} {:>8} {:>8} {:>7.1} ms  {seen}",
                    device.name,
                    k + 1,
                    h.name,
                    format!("{} B", h.request),
                    format!("{} B", h.response),
                    step_ms(&report, k)
                );
            }
            for n in notes.iter().filter(|n| n.kind == NoteKind::Summary) {
                outln!("{:<9}     session: {}", device.name, n.text);
            }
            if !report.ended_by_tam {
                return Err(Error::msg(format!(
                    "{}: the exchange ended early",
                    device.name
                )));
            }
        }
        Ok(())
    }

    /// Prints the fleet table and checks every device against `ok`.
    fn expect(&self, ok: impl Fn(&DeviceReport) -> bool, what: &str) -> Result<()> {
        let mut reports = self
            .service
            .block_on(otrp_tam::report::devices(self.service.store()))?;
        reports.sort_by(|a, b| a.tee.cmp(&b.tee));
        outln!("fleet:");
        let table: String = otrp_tam::report::table(&reports)
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect();
        out!("{table}");
        if reports.len() != DEVICES || !reports.iter().all(&ok) {
            return Err(Error::msg(format!("the fleet is not {what}")));
        }
        Ok(())
    }
}

/// The version of the demo's TA on a device.
fn version(r: &DeviceReport) -> Option<u64> {
    r.sds
        .iter()
        .flat_map(|sd| sd.tas.iter())
        .find(|t| t.taid == TAID)
        .and_then(|t| t.version)
}
