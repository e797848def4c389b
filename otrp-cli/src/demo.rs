//! `otrp demo`: the whole OTrP lifecycle on a fresh test PKI and software
//! TEE, one line per step (message, bytes, time), then the device state.
//!
//! The TAM session talks to the device through the OTrP Broker in process
//! (TAM session -> broker -> soft TEE): the HTTP transport (otrp-http) is
//! not wired in yet, and the output says so.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::ValueEnum;
use otrp_core::broker::{Answer, Broker, TaQuery, verify_ta_information};
use otrp_core::crypto::{JwsAlg, Provider, PublicKey};
use otrp_core::message::{Limits, MessageKind};
use otrp_core::pki::TrustAnchors;
use otrp_core::tam::{Command, Event, Tam, TamSession, TeeResult};
use otrp_core::tee::Tee;
use otrp_test_pki::{KeyType, OcspResponseBuilder, TestPki};

use crate::KeyTypeArg;
use crate::util::{Error, Result, hex, ms, now};

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Work in DIR (kept afterwards) instead of a temporary directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The crypto backend.
    #[arg(long, value_enum, default_value = "rustcrypto")]
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
    /// otrp-crypto-ring.
    Ring,
}

/// The provider of `backend`.
pub fn provider(backend: Backend) -> Result<Provider> {
    match backend {
        Backend::Rustcrypto => Ok(otrp_crypto_rustcrypto::provider()),
        Backend::Ring => Err(Error::msg(
            "backend ring is not available in this build: otrp-crypto-ring exports no \
             provider yet (it lands with its own issue); use --backend rustcrypto",
        )),
    }
}

pub fn run(args: &DemoArgs) -> Result<()> {
    let provider = provider(args.backend)?;
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
    println!(
        "otrp demo: the OTrP lifecycle in process (TAM session <-> OTrP Broker <-> software TEE; \
         the HTTP transport is not wired in yet)"
    );
    println!(
        "directory {}{}",
        dir.display(),
        if args.dir.is_some() {
            " (kept)"
        } else {
            " (temporary, removed at the end)"
        }
    );
    let result = lifecycle(&dir, &provider, args.key_type);
    if args.dir.is_none() {
        println!("removing {}", dir.display());
    }
    result
}

struct Step {
    n: usize,
}

impl Step {
    fn print(&mut self, message: &str, request: usize, response: usize, ms: f64, result: &str) {
        self.n += 1;
        println!(
            "{:>3}  {:<17} {:>9} {:>9} {:>9.1} ms  {result}",
            self.n,
            message,
            format!("{request} B"),
            format!("{response} B"),
            ms
        );
    }
}

fn lifecycle(dir: &Path, provider: &Provider, key_type: KeyTypeArg) -> Result<()> {
    let now = now();
    let started = Instant::now();
    let pki_dir = dir.join("pki");
    let pki = crate::pki::init(&pki_dir, key_type)?;
    let kind = match key_type.key_type() {
        KeyType::Rsa2048 => "RSA-2048",
        KeyType::P256 => "P-256",
    };
    println!(
        "setup  test PKI ({kind}, tamid {}) in {} ({:.1} ms)",
        pki.tamid,
        pki_dir.display(),
        ms(started.elapsed())
    );

    let t = Instant::now();
    let tee_dir = dir.join("tee");
    let tee = crate::tee::init(&pki_dir, &tee_dir, crate::tee::DEFAULT_NAME, *provider)?;
    let tee_name = tee.config().name.clone();
    println!(
        "setup  software TEE {tee_name:?}, did {}..., state in {} ({:.1} ms)",
        &hex(tee.did().as_bytes())[..16],
        tee_dir.display(),
        ms(t.elapsed())
    );
    let mut broker: Broker<Tee> = Broker::new(Limits::DEFAULT);
    broker.register(tee_name.clone(), tee);

    let tam = build_tam(&pki, provider, now)?;
    let mut session = TamSession::new(&tam);
    println!(
        "{:>3}  {:<17} {:>9} {:>9} {:>12}  result",
        "#", "message", "request", "response", "time"
    );
    let mut step = Step { n: 0 };

    // GetDeviceState (9.1).
    let t = Instant::now();
    let request = session.get_device_state()?;
    let answer = broker.process(&request, now);
    let response = answer_bytes(answer, "GetDeviceState")?;
    let event = session.handle_response(&response, now)?;
    let elapsed = ms(t.elapsed());
    let Event::DeviceState(results) = event else {
        return Err(Error::msg(format!("GetDeviceState: unexpected {event:?}")));
    };
    let mut accepted = Vec::new();
    for r in &results {
        match r {
            TeeResult::Accepted { name, .. } => accepted.push(name.clone()),
            other => return Err(Error::msg(format!("GetDeviceState: {other:?}"))),
        }
    }
    step.print(
        "GetDeviceState",
        request.len(),
        response.len(),
        elapsed,
        &format!("TEE {} accepted, DSI decrypted", accepted.join(", ")),
    );

    let sp_key = pki.sp.key().ok_or(otrp_test_pki::Error::MissingKey)?;
    let sp_signer = provider
        .key_loader
        .private_key_from_pkcs8_der(sp_key.pkcs8_der())?;
    let sp_alg = match key_type {
        KeyTypeArg::Rsa => JwsAlg::Rs256,
        KeyTypeArg::Ec => JwsAlg::Es256,
    };
    let ta = |code: &[u8]| {
        otrp_soft_tee::sign_ta_image(code, Some("demo TA"), sp_signer.as_ref(), sp_alg, provider)
    };

    let commands = [
        (
            Command::CreateSd {
                spid: "sp1".into(),
                sdname: "sd1".into(),
                spcert: pki.sp.der().to_vec(),
            },
            "SD sd1 created for SP sp1",
        ),
        (
            Command::InstallTa {
                spid: "sp1".into(),
                sdname: "sd1".into(),
                taid: "ta1".into(),
                spcert: None,
                ta: ta(b"demo TA, version 1")?,
                pdata: Some(b"personalization data".to_vec()),
            },
            "TA ta1 v1 installed in sd1 (encrypted for the TEE SP AIK)",
        ),
        (
            Command::UpdateTa {
                spid: "sp1".into(),
                sdname: "sd1".into(),
                taid: "ta1".into(),
                spcert: None,
                ta: Some(ta(b"demo TA, version 2")?),
                pdata: None,
            },
            "TA ta1 updated to v2 (v1 kept for rollback)",
        ),
        (
            Command::DeleteTa {
                sdname: "sd1".into(),
                taid: "ta1".into(),
            },
            "TA ta1 deleted",
        ),
        (
            Command::DeleteSd {
                sdname: "sd1".into(),
                deleteta: false,
            },
            "SD sd1 deleted (and the SP's TEE SP AIK)",
        ),
    ];
    for (command, what) in commands {
        let kind = command.kind();
        let t = Instant::now();
        let request = session.command(&tee_name, command)?;
        let response = answer_bytes(broker.process(&request, now), name_of(kind))?;
        let event = session.handle_response(&response, now)?;
        let elapsed = ms(t.elapsed());
        match event {
            Event::Success { kind: k, .. } if k == kind => {}
            other => {
                return Err(Error::msg(format!("{}: {other:?}", name_of(kind))));
            }
        }
        step.print(name_of(kind), request.len(), response.len(), elapsed, what);

        if kind == MessageKind::InstallTa {
            // GetTAInformation (6.4.2), as a Client Application would.
            let aik = sp_aik(&session, &tee_name, provider)?;
            let t = Instant::now();
            let query = TaQuery::new("sp1", "ta1");
            let info = broker.ta_information(Some(&tee_name), &query, now)?;
            let tbs = verify_ta_information(&info, provider, &aik, &query, &Limits::DEFAULT)?;
            step.print(
                "GetTAInformation",
                query.to_vec().len(),
                info.len(),
                ms(t.elapsed()),
                &format!(
                    "signed by the TEE SP AIK, verified; TAM {}, TA signer certificate {} bytes",
                    tbs.tamid,
                    tbs.signercert.as_bytes().len()
                ),
            );
        }
        if kind == MessageKind::UpdateTa {
            if let Some(tee) = broker.endpoint(&tee_name) {
                println!("device state after UpdateTA:");
                print!("{}", indent(&crate::tee::table(tee)));
            }
        }
    }

    if let Some(tee) = broker.endpoint(&tee_name) {
        println!("device state at the end:");
        print!("{}", indent(&crate::tee::table(tee)));
    }
    println!("done: {} steps in {:.1} ms", step.n, ms(started.elapsed()));
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("     {l}\n")).collect()
}

fn name_of(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::GetDeviceState => "GetDeviceState",
        MessageKind::CreateSd => "CreateSD",
        MessageKind::UpdateSd => "UpdateSD",
        MessageKind::DeleteSd => "DeleteSD",
        MessageKind::InstallTa => "InstallTA",
        MessageKind::UpdateTa => "UpdateTA",
        MessageKind::DeleteTa => "DeleteTA",
    }
}

fn answer_bytes(answer: Answer, what: &str) -> Result<Vec<u8>> {
    match answer {
        Answer::Error { error, reason } => Err(Error::msg(format!(
            "{what}: the broker answered {} ({reason})",
            error.errcode.as_str()
        ))),
        other => Ok(other.into_bytes()),
    }
}

/// The TAM of the test PKI: its key and chain, a fresh OCSP response for
/// its certificate, trusting the PKI's TEE and TFW roots.
fn build_tam(pki: &TestPki, provider: &Provider, now: otrp_core::pki::UnixTime) -> Result<Tam> {
    let key = pki.tam.key().ok_or(otrp_test_pki::Error::MissingKey)?;
    let ocsp = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, now).build()?;
    Ok(Tam::new(
        *provider,
        provider
            .key_loader
            .private_key_from_pkcs8_der(key.pkcs8_der())?,
        vec![pki.tam.der().to_vec(), pki.tam_root.der().to_vec()],
        TrustAnchors::from_certificates([pki.tee_root.der()])?,
    )?
    .with_tfw_anchors(TrustAnchors::from_certificates([pki.tfw_root.der()])?)
    .with_ocspdat(vec![ocsp]))
}

/// The TEE SP AIK of sp1 from the TAM's last DSI (6.5.1 step 10: the TAM
/// hands it to the Client Application).
fn sp_aik(session: &TamSession<'_>, tee: &str, provider: &Provider) -> Result<PublicKey> {
    let dsi = session
        .state()
        .dsi(tee)
        .ok_or_else(|| Error::msg("no DSI for the TEE"))?;
    let aik = dsi
        .tee
        .teeaiklist
        .iter()
        .find(|k| k.spid == "sp1")
        .ok_or_else(|| Error::msg("no TEE SP AIK for sp1 in the DSI"))?;
    Ok(provider
        .key_loader
        .public_key_from_spki_der(aik.spaik.as_bytes())?)
}
