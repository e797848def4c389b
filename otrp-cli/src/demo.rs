//! `otrp demo`: the whole OTrP lifecycle on a fresh test PKI and software
//! TEE, one line per step (message, bytes, time), then the device state.
//!
//! A TAM server (otrp-http) on 127.0.0.1 with an ephemeral port takes the
//! device through the lifecycle; the device agent answers with the software
//! TEE behind the OTrP Broker. After InstallTA a local GetTAInformation
//! query (6.4.2) is verified with the TEE SP AIK the TAM learnt.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::ValueEnum;
use otrp_core::broker::{Broker, TaQuery, verify_ta_information};
use otrp_core::crypto::Provider;
use otrp_core::message::Limits;
use otrp_core::tee::Tee;
use otrp_http::HandlerError;
use otrp_test_pki::KeyType;

use crate::KeyTypeArg;
use crate::agent::{message_name, process, step_ms};
use crate::tam::{LifecycleApp, Seen};
use crate::util::{Error, Result, hex, ms, now, out, outln};

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
            let t = tempfile::Builder::new().prefix("otrp-demo-").tempdir()?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    outln!(
        "otrp demo: the OTrP lifecycle over HTTP on loopback \
         (TAM server <-> device agent <-> OTrP Broker <-> software TEE)"
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
    let result = lifecycle(&dir, &provider, args.key_type);
    if args.dir.is_none() {
        outln!("removing {}", dir.display());
    }
    result
}

/// A line of the demo's output, in order.
enum Entry {
    /// The k-th TAM message the device answered.
    Message(usize),
    /// A local call (GetTAInformation).
    Local {
        name: &'static str,
        request: usize,
        response: usize,
        ms: f64,
        result: String,
    },
    /// Free text (a device state table).
    Text(String),
}

fn lifecycle(dir: &Path, provider: &Provider, key_type: KeyTypeArg) -> Result<()> {
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
    let tee_dir = dir.join("tee");
    let tee = crate::tee::init(&pki_dir, &tee_dir, crate::tee::DEFAULT_NAME, *provider)?;
    let tee_name = tee.config().name.clone();
    outln!(
        "setup  software TEE {tee_name:?}, did {}..., state in {} ({:.1} ms)",
        &hex(tee.did().as_bytes())[..16],
        tee_dir.display(),
        ms(t.elapsed())
    );
    let mut broker: Broker<Tee> = Broker::new(Limits::DEFAULT);
    broker.register(tee_name.clone(), tee);

    let t = Instant::now();
    let (server, app) =
        crate::tam::serve(&pki_dir, SocketAddr::from(([127, 0, 0, 1], 0)), provider)?;
    outln!(
        "setup  TAM serving OTrP over HTTP on {} ({:.1} ms)",
        server.url(),
        ms(t.elapsed())
    );
    let agent = crate::agent::agent(&server.url(), None, false)?;

    let mut log = Vec::new();
    let mut entries = Vec::new();
    let mut local_error = None;
    let mut handler = |request: &[u8]| -> std::result::Result<Vec<u8>, HandlerError> {
        let name = message_name(request);
        if name == "UpdateTA" {
            // InstallTA is done: a Client Application asks the TEE about
            // its TA (GetTAInformation, 6.4.2) with the AIK its TAM gave it.
            match ta_information(&mut broker, &app, &tee_name, provider) {
                Ok(entry) => entries.push(entry),
                Err(e) => local_error = Some(e),
            }
        }
        if name == "DeleteTA" {
            if let Some(tee) = broker.endpoint(&tee_name) {
                entries.push(Entry::Text(format!(
                    "device state after UpdateTA:\n{}",
                    indent(&crate::tee::table(tee))
                )));
            }
        }
        entries.push(Entry::Message(log.len()));
        Ok(process(&mut broker, request, &mut log))
    };
    let report = agent.run_blocking(&mut handler);
    server.shutdown();
    let report = report.map_err(|e| Error::msg(format!("HTTP exchange: {e}")))?;
    if let Some(e) = local_error {
        return Err(e);
    }

    outln!(
        "{:>3}  {:<17} {:>9} {:>9} {:>12}  result (as the TAM saw it)",
        "#",
        "message",
        "request",
        "response",
        "time"
    );
    let seen = app.seen.lock().map(|s| s.clone()).unwrap_or_default();
    let mut n = 0;
    for entry in &entries {
        match entry {
            Entry::Message(k) => {
                let Some(h) = log.get(*k) else { continue };
                let result = seen.get(*k).map_or_else(
                    || "(no answer from the TAM)".to_string(),
                    |s| s.summary.clone(),
                );
                n += 1;
                print_step(
                    n,
                    &h.name,
                    h.request,
                    h.response,
                    step_ms(&report, *k),
                    &result,
                );
            }
            Entry::Local {
                name,
                request,
                response,
                ms,
                result,
            } => {
                n += 1;
                print_step(n, name, *request, *response, *ms, result);
            }
            Entry::Text(t) => out!("{t}"),
        }
    }
    let failed: Vec<&Seen> = seen.iter().filter(|s| !s.ok).collect();
    if let Some(f) = failed.first() {
        return Err(Error::msg(format!("the lifecycle failed: {}", f.summary)));
    }
    if !report.ended_by_tam || seen.len() != 6 {
        return Err(Error::msg(format!(
            "the exchange ended early after {} steps",
            seen.len()
        )));
    }
    if let Some(tee) = broker.endpoint(&tee_name) {
        outln!("device state at the end:");
        out!("{}", indent(&crate::tee::table(tee)));
    }
    outln!(
        "done: {n} steps, {} HTTP round trips, {:.1} ms",
        report.exchanges.len(),
        ms(started.elapsed())
    );
    Ok(())
}

fn print_step(n: usize, message: &str, request: usize, response: usize, ms: f64, result: &str) {
    outln!(
        "{:>3}  {:<17} {:>9} {:>9} {:>9.1} ms  {result}",
        n,
        message,
        format!("{request} B"),
        format!("{response} B"),
        ms
    );
}

/// GetTAInformation through the broker, verified with the SP AIK the TAM
/// learnt from the DSI.
fn ta_information(
    broker: &mut Broker<Tee>,
    app: &LifecycleApp,
    tee: &str,
    provider: &Provider,
) -> Result<Entry> {
    let spki = app
        .sp_aik
        .lock()
        .ok()
        .and_then(|s| s.clone())
        .ok_or_else(|| Error::msg("the TAM did not learn the TEE SP AIK"))?;
    let aik = provider.key_loader.public_key_from_spki_der(&spki)?;
    let t = Instant::now();
    let query = TaQuery::new(crate::tam::SPID, crate::tam::TAID);
    let info = broker.ta_information(Some(tee), &query, now())?;
    let tbs = verify_ta_information(&info, provider, &aik, &query, &Limits::DEFAULT)?;
    Ok(Entry::Local {
        name: "GetTAInformation",
        request: query.to_vec().len(),
        response: info.len(),
        ms: ms(t.elapsed()),
        result: format!(
            "local query; signed by the TEE SP AIK, verified (TAM {}, TA signer certificate {} bytes)",
            tbs.tamid,
            tbs.signercert.as_bytes().len()
        ),
    })
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("     {l}\n")).collect()
}
