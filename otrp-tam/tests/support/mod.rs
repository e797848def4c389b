//! Test support: a generated test PKI with a fleet of distinct soft-TEE
//! devices, the TAM of that PKI, TA images, fresh databases (SQLite always,
//! PostgreSQL when `OTRP_TEST_POSTGRES_URL` is set), and a driver that runs
//! a device session against a `TamService` exactly as otrp-http's server
//! does, with a "TAM killed" cut at any message.
#![allow(dead_code)]
// A test crate exports nothing: `pub` here means "for the test files".
#![allow(unreachable_pub)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use otrp_core::broker::{Broker, routing_info};
use otrp_core::crypto::{Provider, SecureRandom};
use otrp_core::message::{Direction, Limits};
use otrp_core::pki::{TrustAnchors, UnixTime};
use otrp_core::tam::{DeviceState, Event, Tam, TamSession};
use otrp_core::tee::{Tee, TeeConfig};
use otrp_http::{Input, SessionEnd, Step, TamApp};
use otrp_soft_tee::{SoftIdentity, SoftTeeOptions, TaImageInfo};
use otrp_tam::clock::{Clock, unix_ms};
use otrp_tam::{ServiceConfig, TamService};
use otrp_test_pki::{Cert, CertSpec, Key, KeyType, OcspResponseBuilder, Profile, TestPki};

pub fn now() -> UnixTime {
    UnixTime::since_unix_epoch(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap(),
    )
}

pub fn provider() -> Provider {
    otrp_crypto_rustcrypto::provider()
}

/// A device identity: its certificate (DER) and PKCS#8 key.
pub struct Identity {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
}

/// A PKI, a TAM, `n` device identities and their state directories.
pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub pki: TestPki,
    pub tam: Arc<Tam>,
    pub devices: Vec<Identity>,
}

pub fn issue(ca: &Cert, name: &str, profile: Profile) -> Identity {
    let rng = &otrp_crypto_rustcrypto::OS_RANDOM;
    let key = Key::generate(KeyType::P256, rng).unwrap();
    let mut serial = [0u8; 8];
    rng.fill(&mut serial).unwrap();
    let spec = CertSpec::new(
        name,
        u64::from_be_bytes(serial) >> 2 | 1 << 32,
        UnixTime::since_unix_epoch(Duration::from_secs(otrp_test_pki::DEFAULT_NOT_BEFORE)),
        UnixTime::since_unix_epoch(Duration::from_secs(otrp_test_pki::DEFAULT_NOT_AFTER)),
        profile,
    );
    let cert = ca.issue(&spec, key).unwrap();
    Identity {
        cert: cert.der().to_vec(),
        key: cert.key().unwrap().pkcs8_der().to_vec(),
    }
}

pub fn test_pki() -> TestPki {
    TestPki::builder(KeyType::P256)
        .build(&otrp_crypto_rustcrypto::OS_RANDOM)
        .unwrap()
}

impl Fleet {
    pub fn new(n: usize) -> Fleet {
        let pki = test_pki();
        let provider = provider();
        let key = provider
            .key_loader
            .private_key_from_pkcs8_der(pki.tam.key().unwrap().pkcs8_der())
            .unwrap();
        let ocsp = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, now())
            .build()
            .unwrap();
        let tam = Tam::new(
            provider,
            key,
            vec![pki.tam.der().to_vec(), pki.tam_root.der().to_vec()],
            TrustAnchors::from_certificates([pki.tee_root.der()]).unwrap(),
        )
        .unwrap()
        .with_ocspdat(vec![ocsp]);
        let devices = (0..n)
            .map(|i| issue(&pki.tee_root, &format!("device-{i}"), Profile::Tee))
            .collect();
        Fleet {
            dir: tempfile::Builder::new()
                .prefix("otrp-tam-test-")
                .tempdir()
                .unwrap(),
            pki,
            tam: Arc::new(tam),
            devices,
        }
    }

    pub fn tee_name(i: usize) -> String {
        format!("tee-{i}")
    }

    /// Device `i`'s soft TEE (its storage persists across calls), behind a
    /// broker.
    pub fn device(&self, i: usize) -> Broker<Tee> {
        self.device_trusting(i, self.pki.sp_root.der())
    }

    /// Device `i`, trusting `sp_root` for SP certificates.
    pub fn device_trusting(&self, i: usize, sp_root: &[u8]) -> Broker<Tee> {
        let provider = provider();
        let d = &self.devices[i];
        let identity = SoftIdentity::from_der(
            &provider,
            d.cert.clone(),
            vec![self.pki.tee_root.der().to_vec()],
            &d.key,
        )
        .unwrap();
        let mut config = TeeConfig::new(
            Self::tee_name(i),
            TrustAnchors::from_certificates([self.pki.tam_root.der()]).unwrap(),
        );
        config.sp_anchors = TrustAnchors::from_certificates([sp_root]).unwrap();
        let tee = otrp_soft_tee::open(
            &self.dir.path().join(format!("device-{i}")),
            config,
            provider,
            identity,
            SoftTeeOptions::default(),
        )
        .unwrap();
        let mut broker = Broker::new(Limits::DEFAULT);
        broker.register(Self::tee_name(i), tee);
        broker
    }

    /// A TA image of `taid` at `version`, signed by the PKI's SP.
    pub fn image(&self, taid: &str, version: u64) -> Vec<u8> {
        sign_image(&self.pki.sp, taid, version)
    }

    /// The SP roots the catalog trusts.
    pub fn anchors(&self) -> Vec<Vec<u8>> {
        vec![self.pki.sp_root.der().to_vec()]
    }

    /// A SQLite database in the fleet's directory.
    pub fn sqlite(&self, name: &str) -> String {
        format!("sqlite:{}", self.dir.path().join(name).display())
    }
}

/// A TA image signed by `sp` (a certificate with its key).
pub fn sign_image(sp: &Cert, taid: &str, version: u64) -> Vec<u8> {
    let provider = provider();
    let key = provider
        .key_loader
        .private_key_from_pkcs8_der(sp.key().unwrap().pkcs8_der())
        .unwrap();
    let info = TaImageInfo {
        taid: taid.into(),
        version,
        taname: None,
    };
    let code = format!("{taid} code, version {version}");
    otrp_tam::catalog::build_image(
        &provider,
        code.as_bytes(),
        &info,
        key.as_ref(),
        &[sp.der().to_vec()],
    )
    .unwrap()
}

/// The databases to run a test against: a SQLite file in `dir`, and a
/// fresh PostgreSQL database when `OTRP_TEST_POSTGRES_URL` is set.
pub fn databases(dir: &std::path::Path, tag: &str) -> Vec<String> {
    let mut urls = vec![format!(
        "sqlite:{}",
        dir.join(format!("{tag}.db")).display()
    )];
    match std::env::var("OTRP_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => urls.push(fresh_postgres(&base, tag)),
        _ => {
            use std::sync::Once;
            static NOTICE: Once = Once::new();
            NOTICE.call_once(|| {
                eprintln!(
                    "note: OTRP_TEST_POSTGRES_URL is not set: PostgreSQL runs skipped \
                     (.ci/postgres runs them against a throwaway server)"
                )
            });
        }
    }
    urls
}

/// Runs `f` once per database of [`databases`], each time with a new fleet
/// of `n` devices (a TEE keeps its anti-rollback floor and its state: no
/// device is shared between two runs).
pub fn each_database(n: usize, tag: &str, mut f: impl FnMut(&Fleet, &str)) {
    let count = databases_count();
    for k in 0..count {
        let fleet = Fleet::new(n);
        let urls = databases(fleet.dir.path(), tag);
        f(&fleet, &urls[k]);
    }
}

fn databases_count() -> usize {
    match std::env::var("OTRP_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => 2,
        _ => 1,
    }
}

/// Creates a new database on the server of `base` and returns its URL.
fn fresh_postgres(base: &str, tag: &str) -> String {
    let mut rnd = [0u8; 6];
    otrp_crypto_rustcrypto::OS_RANDOM.fill(&mut rnd).unwrap();
    let name = format!(
        "otrp_{}_{}",
        tag.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        rnd.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let (server, _) = base.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

/// A clock that tests can move forward (claims expire).
pub fn movable_clock() -> (Clock, Arc<AtomicI64>) {
    let offset = Arc::new(AtomicI64::new(0));
    let o = offset.clone();
    (
        Clock::from_fn(move || unix_ms() + o.load(Ordering::SeqCst)),
        offset,
    )
}

pub fn service(url: &str, clock: Clock) -> TamService {
    TamService::open(
        url,
        ServiceConfig {
            clock,
            ..ServiceConfig::default()
        },
    )
    .unwrap()
}

/// Where the TAM dies in [`session`]: before the TEE sees message `k`
/// (counting every message of the test), or after the TEE answered it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    BeforeTee(usize),
    AfterTee(usize),
}

/// How a [`session`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Completed,
    Killed,
    Other(String),
}

/// Counts the messages and records the kind of every request the TEE
/// processed.
#[derive(Default, Debug)]
pub struct Wire {
    pub count: usize,
    pub processed: Vec<String>,
}

impl Wire {
    /// How many requests of `kind` (e.g. "InstallTA") reached the TEE.
    pub fn reached(&self, kind: &str) -> usize {
        self.processed.iter().filter(|k| *k == kind).count()
    }
}

/// One device session, driven like otrp-http's server drives it (resume
/// the `TamSession`, hand the answer, ask the app, build the request),
/// with the TEE answering directly. At `cut` the TAM "dies": the session is
/// dropped without `finished`.
pub fn session(
    service: &TamService,
    tam: &Tam,
    device: &mut Broker<Tee>,
    wire: &mut Wire,
    cut: Option<Cut>,
) -> Ended {
    session_with(service, tam, device, wire, cut, &mut |_| {})
}

/// [`session`], calling `between(k)` after the TEE answered message `k`
/// and before the TAM handles the answer (another front end acts there).
pub fn session_with(
    service: &TamService,
    tam: &Tam,
    device: &mut Broker<Tee>,
    wire: &mut Wire,
    cut: Option<Cut>,
    between: &mut dyn FnMut(usize),
) -> Ended {
    let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let mut s = service.connect(peer);
    let mut state = DeviceState::new();
    let mut answer: Option<Vec<u8>> = None;
    loop {
        let mut session = TamSession::resume(tam, std::mem::take(&mut state));
        let event;
        let input = match &answer {
            None => Input::Connected,
            Some(bytes) => match session.handle_response(bytes, now()) {
                // As the HTTP server does: the same request again, with x5c.
                Ok(Event::Resend { request, .. }) => {
                    state = session.into_state();
                    answer = Some(device.process(&request, now()).into_bytes());
                    continue;
                }
                Ok(e) => {
                    event = e;
                    Input::Event(&event)
                }
                Err(e) => {
                    // The server keeps the session for the genuine answer;
                    // here none comes, so it expires.
                    let state = session.into_state();
                    service.finished(s, &state, &SessionEnd::Expired);
                    return Ended::Other(format!("refused: {e}"));
                }
            },
        };
        let built = match service.next(&mut s, session.state(), input) {
            Step::End => {
                let state = session.into_state();
                service.finished(s, &state, &SessionEnd::Completed);
                return Ended::Completed;
            }
            Step::Retry => {
                let state = session.into_state();
                service.finished(s, &state, &SessionEnd::Shutdown);
                return Ended::Other("retry later".into());
            }
            Step::GetDeviceState => session.get_device_state(),
            Step::Command { tee, command } => session.command(&tee, command),
        };
        let request = match built {
            Ok(b) => b,
            Err(e) => {
                let state = session.into_state();
                let why = format!("failed: {e}");
                service.finished(s, &state, &SessionEnd::Failed(e));
                return Ended::Other(why);
            }
        };
        state = session.into_state();
        let k = wire.count;
        wire.count += 1;
        if cut == Some(Cut::BeforeTee(k)) {
            return Ended::Killed;
        }
        let kind = routing_info(&request, &Limits::DEFAULT)
            .map(|i| {
                let n = i.kind.envelope_name(Direction::Request);
                n.strip_suffix("Request").unwrap_or(n).to_string()
            })
            .unwrap_or_default();
        wire.processed.push(kind);
        let response = device.process(&request, now()).into_bytes();
        if cut == Some(Cut::AfterTee(k)) {
            return Ended::Killed;
        }
        between(k);
        answer = Some(response);
    }
}

/// The (taid, version) pairs on a device's TEE, by SD.
pub fn tee_contents(device: &Broker<Tee>, i: usize) -> Vec<(String, String, u64)> {
    let tee = device.endpoint(&Fleet::tee_name(i)).unwrap();
    let mut out = Vec::new();
    for sd in &tee.state().sds {
        if sd.tas.is_empty() {
            out.push((sd.name.clone(), String::new(), 0));
        }
        for ta in &sd.tas {
            out.push((sd.name.clone(), ta.taid.clone(), ta.current.version));
        }
    }
    out
}

/// The state directory root of the fleet.
pub fn path(fleet: &Fleet) -> PathBuf {
    fleet.dir.path().to_path_buf()
}

/// A runtime for store calls (keep it alive as long as the store).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
