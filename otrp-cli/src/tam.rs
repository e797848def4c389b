//! The TAM side of the CLI: a [`Tam`] built from a PKI directory and the
//! lifecycle script every device is taken through ([`LifecycleApp`]), served
//! over HTTP by `otrp tam serve` and `otrp demo`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use otrp_core::crypto::{JwsAlg, KeyKind, Provider};
use otrp_core::pki::TrustAnchors;
use otrp_core::tam::{Command, DeviceState, Event, Tam, TeeResult};
use otrp_http::{Input, ServerConfig, SessionEnd, Step, TamApp, TamServer};
use otrp_test_pki::{Cert, Key, OcspResponseBuilder};

use crate::util::{Error, Result, now, outln, read_certificates, read_pkcs8, read_text};

/// `otrp tam serve` arguments.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The test PKI directory (`otrp pki init`).
    #[arg(long)]
    pub pki: PathBuf,
    /// The address to listen on (port 0: an ephemeral port), e.g. 127.0.0.1:8080.
    #[arg(long)]
    pub listen: SocketAddr,
    /// Exit after this many sessions have ended (default: serve until killed).
    #[arg(long)]
    pub sessions: Option<usize>,
}

/// The SP, SD and TA names of the lifecycle.
pub const SPID: &str = "sp1";
/// The SD of the lifecycle.
pub const SDNAME: &str = "sd1";
/// The TA of the lifecycle.
pub const TAID: &str = "ta1";

/// The TAM of the PKI in `dir`: `tam.key.pem` and `tam.chain.pem`, a fresh
/// OCSP response for its certificate signed by `tam-root` (the `ocspdat`
/// of GetDeviceState, 9.1.1), trusting `tee-root` and `tfw-root`.
pub fn tam_from_pki(dir: &Path, provider: &Provider) -> Result<Tam> {
    let key = provider
        .key_loader
        .private_key_from_pkcs8_der(&read_pkcs8(&dir.join("tam.key.pem"))?)?;
    let chain = read_certificates(&dir.join("tam.chain.pem"))?;
    let root = Cert::from_pem(
        &read_text(&dir.join("tam-root.cert.pem"))?,
        Some(Key::from_pkcs8_pem(&read_text(
            &dir.join("tam-root.key.pem"),
        )?)?),
    )?;
    let leaf = chain
        .first()
        .ok_or_else(|| Error::msg("tam.chain.pem is empty"))?;
    let ocsp = OcspResponseBuilder::new(leaf, &root, now()).build()?;
    let tee_roots = read_certificates(&dir.join("tee-root.cert.pem"))?;
    let tfw_roots = read_certificates(&dir.join("tfw-root.cert.pem"))?;
    Ok(Tam::new(
        *provider,
        key,
        chain,
        TrustAnchors::from_certificates(tee_roots.iter().map(Vec::as_slice))?,
    )?
    .with_tfw_anchors(TrustAnchors::from_certificates(
        tfw_roots.iter().map(Vec::as_slice),
    )?)
    .with_ocspdat(vec![ocsp]))
}

/// Two versions of a soft-TEE TA image signed with the SP key of `dir`.
pub fn ta_images(dir: &Path, provider: &Provider) -> Result<(Vec<u8>, Vec<u8>)> {
    let key = provider
        .key_loader
        .private_key_from_pkcs8_der(&read_pkcs8(&dir.join("sp.key.pem"))?)?;
    let alg = match otrp_core::crypto::JwsSigner::key_kind(key.as_ref()) {
        KeyKind::Rsa => JwsAlg::Rs256,
        _ => JwsAlg::Es256,
    };
    let image = |code: &[u8]| {
        otrp_soft_tee::sign_ta_image(code, Some("demo TA"), key.as_ref(), alg, provider)
    };
    Ok((image(b"demo TA, version 1")?, image(b"demo TA, version 2")?))
}

/// What the TAM saw of one step of a session.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The event, in a few words.
    pub summary: String,
    /// Whether it was the expected success.
    pub ok: bool,
}

/// The lifecycle every device goes through: GetDeviceState, CreateSD,
/// InstallTA, UpdateTA, DeleteTA, DeleteSD on the first TEE accepted, then
/// the end. A failure ends the session.
pub struct LifecycleApp {
    spcert: Vec<u8>,
    ta_v1: Vec<u8>,
    ta_v2: Vec<u8>,
    /// Every session's events, in order (the demo prints them).
    pub seen: Mutex<Vec<Seen>>,
    /// The SP AIK (SPKI DER) of the lifecycle's SP, once the TAM knows it:
    /// what a TAM hands to its Client Application (6.5.1 step 10).
    pub sp_aik: Mutex<Option<Vec<u8>>>,
    /// Told of every finished session (peer and how it ended).
    pub finished: Mutex<Option<Sender<String>>>,
}

/// Position of a session in the lifecycle.
#[derive(Debug)]
pub struct LifecycleSession {
    peer: SocketAddr,
    tee: Option<String>,
    next: usize,
}

impl LifecycleApp {
    /// The lifecycle with the SP certificate and TA images of the PKI `dir`.
    pub fn from_pki(dir: &Path, provider: &Provider) -> Result<Self> {
        let spcert = read_certificates(&dir.join("sp.cert.pem"))?.remove(0);
        let (ta_v1, ta_v2) = ta_images(dir, provider)?;
        Ok(LifecycleApp {
            spcert,
            ta_v1,
            ta_v2,
            seen: Mutex::new(Vec::new()),
            sp_aik: Mutex::new(None),
            finished: Mutex::new(None),
        })
    }

    fn command(&self, n: usize) -> Option<Command> {
        Some(match n {
            0 => Command::CreateSd {
                spid: SPID.into(),
                sdname: SDNAME.into(),
                spcert: self.spcert.clone(),
            },
            1 => Command::InstallTa {
                spid: SPID.into(),
                sdname: SDNAME.into(),
                taid: TAID.into(),
                spcert: None,
                ta: self.ta_v1.clone(),
                pdata: Some(b"personalization data".to_vec()),
            },
            2 => Command::UpdateTa {
                spid: SPID.into(),
                sdname: SDNAME.into(),
                taid: TAID.into(),
                spcert: None,
                ta: Some(self.ta_v2.clone()),
                pdata: None,
            },
            3 => Command::DeleteTa {
                sdname: SDNAME.into(),
                taid: TAID.into(),
            },
            4 => Command::DeleteSd {
                sdname: SDNAME.into(),
                deleteta: false,
            },
            _ => return None,
        })
    }

    fn record(&self, summary: String, ok: bool) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(Seen { summary, ok });
        }
    }
}

const RESULTS: [&str; 5] = [
    "SD sd1 created for SP sp1",
    "TA ta1 v1 installed in sd1 (encrypted for the TEE SP AIK)",
    "TA ta1 updated to v2 (v1 kept for rollback)",
    "TA ta1 deleted",
    "SD sd1 deleted (and the SP's TEE SP AIK)",
];

impl TamApp for LifecycleApp {
    type Session = LifecycleSession;

    fn connect(&self, peer: SocketAddr) -> LifecycleSession {
        LifecycleSession {
            peer,
            tee: None,
            next: 0,
        }
    }

    fn next(&self, s: &mut LifecycleSession, device: &DeviceState, input: Input<'_>) -> Step {
        let event = match input {
            Input::Connected => return Step::GetDeviceState,
            Input::Event(e) => e,
        };
        match event {
            Event::DeviceState(results) => {
                let accepted: Vec<&str> = results
                    .iter()
                    .filter_map(|r| match r {
                        TeeResult::Accepted { name, .. } => Some(name.as_str()),
                        _ => None,
                    })
                    .collect();
                let Some(first) = accepted.first() else {
                    self.record(format!("no TEE accepted: {results:?}"), false);
                    return Step::End;
                };
                self.record(
                    format!("TEE {} accepted, DSI decrypted", accepted.join(", ")),
                    true,
                );
                s.tee = Some(first.to_string());
            }
            Event::Success { kind, .. } => {
                let summary = RESULTS.get(s.next).copied().unwrap_or("success");
                self.record(summary.to_string(), true);
                if *kind == otrp_core::message::MessageKind::InstallTa {
                    let aik = s.tee.as_deref().and_then(|t| device.dsi(t)).and_then(|d| {
                        d.tee
                            .teeaiklist
                            .iter()
                            .find(|k| k.spid == SPID)
                            .map(|k| k.spaik.as_bytes().to_vec())
                    });
                    if let Ok(mut slot) = self.sp_aik.lock() {
                        *slot = aik;
                    }
                }
                s.next += 1;
            }
            Event::TeeFailure(f) => {
                self.record(
                    format!("TEE refused: {} {:?}", f.code.as_str(), f.message),
                    false,
                );
                return Step::End;
            }
            Event::BrokerError(e) => {
                self.record(format!("broker error {}", e.errcode.as_str()), false);
                return Step::End;
            }
        }
        match (&s.tee, self.command(s.next)) {
            (Some(tee), Some(command)) => Step::Command {
                tee: tee.clone(),
                command,
            },
            _ => Step::End,
        }
    }

    fn finished(&self, s: LifecycleSession, _device: &DeviceState, end: &SessionEnd) {
        let how = match end {
            SessionEnd::Completed => "completed".to_string(),
            other => format!("{other:?}"),
        };
        if let Ok(slot) = self.finished.lock() {
            if let Some(tx) = slot.as_ref() {
                let _ = tx.send(format!("session from {}: {how}", s.peer));
            }
        }
    }
}

/// Starts a TAM server for the PKI `dir` on `addr`.
pub fn serve(
    dir: &Path,
    addr: SocketAddr,
    provider: &Provider,
) -> Result<(TamServer, Arc<LifecycleApp>)> {
    let tam = tam_from_pki(dir, provider)?;
    let app = Arc::new(LifecycleApp::from_pki(dir, provider)?);
    let server = TamServer::start(addr, Arc::new(tam), app.clone(), ServerConfig::default())
        .map_err(|e| Error::msg(e.to_string()))?;
    Ok((server, app))
}

/// `otrp tam serve`.
pub fn run_serve(args: &ServeArgs) -> Result<()> {
    let provider = otrp_crypto_rustcrypto::provider();
    let (server, app) = serve(&args.pki, args.listen, &provider)?;
    let (tx, rx) = std::sync::mpsc::channel();
    if let Ok(mut slot) = app.finished.lock() {
        *slot = Some(tx);
    }
    outln!("TAM listening on {}", server.url());
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let mut ended = 0;
    while let Ok(line) = rx.recv() {
        outln!("{line}");
        let _ = std::io::stdout().flush();
        ended += 1;
        if args.sessions.is_some_and(|n| ended >= n) {
            break;
        }
    }
    server.shutdown();
    Ok(())
}
