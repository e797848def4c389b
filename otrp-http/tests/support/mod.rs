//! Test support: a TAM and a soft TEE from the test-pki fixtures, a
//! scripted TamApp that records what happened, a TLS server identity made
//! with otrp-test-pki (rcgen), and a raw HTTP/1.1 client for protocol-level
//! checks.
#![allow(dead_code)]
// A test crate exports nothing: `pub` here means "for the test files".
#![allow(unreachable_pub)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otrp_core::crypto::PrivateKey;
use otrp_core::message::MessageKind;
use otrp_core::pki::{TrustAnchors, UnixTime};
use otrp_core::tam::{Command, DeviceState, Event, Tam, TeeResult};
use otrp_core::tee::{Tee, TeeConfig};
use otrp_http::{
    HandlerError, Input, ServerConfig, ServerTls, SessionEnd, Step, TamApp, TamServer,
};
use otrp_soft_tee::{SoftFirmware, SoftIdentity, SoftTeeOptions};

pub const TEE_NAME: &str = "soft-tee";

pub use otrp_test_support::TempDir;
pub use otrp_test_support::fixtures::{Kind, cert, fixture, now};

/// Both fixture hierarchies.
pub const BOTH: [Kind; 2] = Kind::BOTH;

/// PKCS#8 DER of `test-pki/<kind>/<name>.key` (PEM).
pub fn pkcs8(kind: Kind, name: &str) -> Vec<u8> {
    otrp_test_support::fixtures::pkcs8_der(kind, name)
}

pub fn private_key(kind: Kind, name: &str) -> Box<dyn PrivateKey> {
    otrp_test_support::fixtures::private_key(&otrp_crypto_rustcrypto::provider(), kind, name)
}

/// The fixture TAM of `kind`, trusting the fixture TEE and TFW roots.
pub fn tam(kind: Kind) -> Arc<Tam> {
    tam_named(kind, "tam", "ocsp/tam-good-by-ca.der")
}

/// The TAM of `kind` with certificate `name` (issued by `tam-root`) and
/// the OCSP response `ocsp`, trusting the fixture TEE and TFW roots.
pub fn tam_named(kind: Kind, name: &str, ocsp: &str) -> Arc<Tam> {
    let tee_roots = TrustAnchors::from_certificates([cert(kind, "tee-root").as_slice()]).unwrap();
    let tfw_roots = TrustAnchors::from_certificates([cert(kind, "tfw-root").as_slice()]).unwrap();
    let tam = Tam::new(
        otrp_crypto_rustcrypto::provider(),
        private_key(kind, name),
        vec![cert(kind, name), cert(kind, "tam-root")],
        tee_roots,
    )
    .unwrap()
    .with_tfw_anchors(tfw_roots)
    .with_ocspdat(vec![fixture(kind, ocsp)]);
    Arc::new(tam)
}

/// The soft TEE of `kind` over `dir`, trusting the fixture TAM root, with
/// firmware data.
pub fn open_tee(kind: Kind, dir: &Path) -> Tee {
    open_tee_with(kind, dir, |_| {})
}

/// [`open_tee`] with changes to the TEE configuration.
pub fn open_tee_with(kind: Kind, dir: &Path, edit: impl FnOnce(&mut TeeConfig)) -> Tee {
    let provider = otrp_crypto_rustcrypto::provider();
    let identity = SoftIdentity::from_der(
        &provider,
        cert(kind, "tee"),
        vec![cert(kind, "tee-ca"), cert(kind, "tee-root")],
        &pkcs8(kind, "tee"),
    )
    .unwrap();
    let anchors = TrustAnchors::from_certificates([cert(kind, "tam-root").as_slice()]).unwrap();
    let firmware =
        SoftFirmware::new(provider, cert(kind, "tfw"), &pkcs8(kind, "tfw"), kind.alg()).unwrap();
    let options = SoftTeeOptions {
        firmware: Some(firmware),
        ..SoftTeeOptions::default()
    };
    let mut config = TeeConfig::new(TEE_NAME, anchors);
    edit(&mut config);
    otrp_soft_tee::open(dir, config, provider, identity, options).unwrap()
}

/// A TA image for the soft TEE: `code` of TA `taid` at `version`, signed
/// by the fixture SP key.
pub fn ta_image(kind: Kind, taid: &str, version: u64, code: &[u8]) -> Vec<u8> {
    otrp_soft_tee::sign_ta_image(
        code,
        &otrp_soft_tee::TaImageInfo {
            taid: taid.into(),
            version,
            taname: None,
        },
        &*private_key(kind, "sp"),
        kind.alg(),
        &otrp_crypto_rustcrypto::provider(),
    )
    .unwrap()
}

/// The whole lifecycle of one TA (the issue's list): GetDeviceState,
/// CreateSD, InstallTA, UpdateTA, DeleteTA, DeleteSD.
pub fn lifecycle(kind: Kind) -> Vec<Step> {
    let cmd = |command| Step::Command {
        tee: TEE_NAME.into(),
        command,
    };
    vec![
        Step::GetDeviceState,
        cmd(Command::CreateSd {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            spcert: cert(kind, "sp"),
        }),
        cmd(Command::InstallTa {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            taid: "ta1".into(),
            spcert: None,
            ta: ta_image(kind, "ta1", 1, b"TA code, version 1"),
            pdata: Some(b"personalization".to_vec()),
        }),
        cmd(Command::UpdateTa {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            taid: "ta1".into(),
            spcert: None,
            ta: Some(ta_image(kind, "ta1", 2, b"TA code, version 2")),
            pdata: None,
        }),
        cmd(Command::DeleteTa {
            sdname: "sd1".into(),
            taid: "ta1".into(),
        }),
        cmd(Command::DeleteSd {
            sdname: "sd1".into(),
            deleteta: false,
        }),
    ]
}

/// The message kinds of [`lifecycle`], in order.
pub const LIFECYCLE_KINDS: [MessageKind; 6] = [
    MessageKind::GetDeviceState,
    MessageKind::CreateSd,
    MessageKind::InstallTa,
    MessageKind::UpdateTa,
    MessageKind::DeleteTa,
    MessageKind::DeleteSd,
];

/// What one session did, as recorded by [`Scripted::finished`].
#[derive(Debug)]
pub struct Finished {
    pub events: Vec<Event>,
    pub end: String,
    pub device: DeviceState,
}

/// A TamApp that plays the same script in every session and records each
/// session's events and end.
pub struct Scripted {
    pub script: Vec<Step>,
    pub done: Mutex<Vec<Finished>>,
    /// When set, `next` sleeps this long first (a slow TAM back end).
    pub delay: Option<Duration>,
}

pub struct ScriptSession {
    pos: usize,
    events: Vec<Event>,
}

impl Scripted {
    pub fn new(script: Vec<Step>) -> Arc<Self> {
        Arc::new(Scripted {
            script,
            done: Mutex::new(Vec::new()),
            delay: None,
        })
    }

    pub fn finished_sessions(&self) -> Vec<String> {
        self.done
            .lock()
            .unwrap()
            .iter()
            .map(|f| f.end.clone())
            .collect()
    }
}

impl TamApp for Scripted {
    type Session = ScriptSession;

    fn connect(&self, peer: SocketAddr) -> ScriptSession {
        assert!(peer.ip().is_loopback());
        ScriptSession {
            pos: 0,
            events: Vec::new(),
        }
    }

    fn next(&self, session: &mut ScriptSession, _device: &DeviceState, input: Input<'_>) -> Step {
        if let Some(d) = self.delay {
            std::thread::sleep(d);
        }
        if let Input::Event(event) = input {
            session.events.push(event.clone());
        }
        let step = self.script.get(session.pos).cloned().unwrap_or(Step::End);
        session.pos += 1;
        step
    }

    fn finished(&self, session: ScriptSession, device: &DeviceState, end: &SessionEnd) {
        let end = match end {
            SessionEnd::Completed => "completed".to_string(),
            SessionEnd::Failed(e) => format!("failed: {e}"),
            SessionEnd::Expired => "expired".to_string(),
            SessionEnd::Restarted => "restarted".to_string(),
            SessionEnd::Aborted(status) => format!("aborted {}", status.as_u16()),
            SessionEnd::Panicked => "panicked".to_string(),
            SessionEnd::Shutdown => "shutdown".to_string(),
            SessionEnd::Evicted => "evicted".to_string(),
            other => format!("{other:?}"),
        };
        self.done.lock().unwrap().push(Finished {
            events: session.events,
            end,
            device: device.clone(),
        });
    }
}

/// Checks that `events` are the successful answers of [`lifecycle`].
pub fn assert_lifecycle_events(events: &[Event]) {
    assert_eq!(events.len(), LIFECYCLE_KINDS.len(), "{events:#?}");
    match &events[0] {
        Event::DeviceState(r) => assert!(
            matches!(r.as_slice(), [TeeResult::Accepted { name, .. }] if name == TEE_NAME),
            "{r:?}"
        ),
        other => panic!("GetDeviceState: {other:?}"),
    }
    for (event, kind) in events[1..].iter().zip(&LIFECYCLE_KINDS[1..]) {
        match event {
            Event::Success { kind: k, tee, .. } => {
                assert_eq!(k, kind);
                assert_eq!(tee, TEE_NAME);
            }
            other => panic!("{kind:?}: {other:?}"),
        }
    }
}

/// The default test server configuration: fixed time (the fixtures' 2036),
/// short timeouts so that failures show quickly.
pub fn test_config() -> ServerConfig {
    ServerConfig {
        clock: otrp_http::Clock::fixed(now()),
        read_timeout: Duration::from_secs(5),
        session_timeout: Duration::from_secs(20),
        ..ServerConfig::default()
    }
}

pub fn start(kind: Kind, app: Arc<Scripted>, config: ServerConfig) -> TamServer {
    TamServer::start("127.0.0.1:0".parse().unwrap(), tam(kind), app, config).unwrap()
}

/// A device handler over the soft TEE that records, after each TAM
/// message, the (sdname, [taid]) the TEE holds.
pub struct Device {
    pub tee: Tee,
    pub seen: Vec<Vec<(String, Vec<String>)>>,
    pub errors: Vec<String>,
}

impl Device {
    pub fn new(kind: Kind, dir: &Path) -> Self {
        Device {
            tee: open_tee(kind, dir),
            seen: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl otrp_http::DeviceHandler for Device {
    fn process(&mut self, message: &[u8]) -> Result<Vec<u8>, HandlerError> {
        let answer = self.tee.handle(message, now())?;
        self.seen.push(
            self.tee
                .state()
                .sds
                .iter()
                .map(|sd| {
                    (
                        sd.name.clone(),
                        sd.tas.iter().map(|t| t.taid.clone()).collect(),
                    )
                })
                .collect(),
        );
        Ok(answer)
    }

    fn error(&mut self, error: &otrp_http::AgentError) {
        self.errors.push(error.to_string());
    }
}

/// A TLS identity for 127.0.0.1 / localhost under a fresh P-256 CA, made
/// with otrp-test-pki (rcgen): (server identity, CA certificate PEM).
pub fn tls_identity() -> (ServerTls, String) {
    let (chain, key, ca) = tls_identity_pem();
    (ServerTls::from_pem(&chain, &key).unwrap(), ca)
}

/// [`tls_identity`] as PEM: (server certificate, server key, CA
/// certificate).
pub fn tls_identity_pem() -> (String, String, String) {
    let id = otrp_test_pki::tls_server_identity(&otrp_crypto_rustcrypto::OS_RANDOM).unwrap();
    (id.chain_pem, id.key_pem, id.ca_pem)
}

/// A raw HTTP/1.1 response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `otrp-session` cookie set by this response.
    pub fn session_cookie(&self) -> Option<String> {
        let value = self.header("set-cookie")?;
        let pair = value.split(';').next()?;
        let (name, value) = pair.split_once('=')?;
        (name.trim() == otrp_http::SESSION_COOKIE).then(|| value.trim().to_string())
    }

    /// Every draft section 4 security header is present with its value.
    pub fn assert_security_headers(&self) {
        for (name, value) in otrp_http::SECURITY_HEADERS {
            assert_eq!(self.header(name), Some(value), "{name} on {}", self.status);
        }
    }
}

/// Sends `head` (request line and headers, without the final blank line;
/// `Connection: close` is added) and `body` over a fresh connection, and
/// reads the whole response. Bounded: 10 s read timeout.
pub fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!("{head}\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    // The server may answer (413) before taking the whole body.
    let _ = stream.write_all(body);
    read_response(&mut stream)
}

/// Reads one response until the server closes the connection.
pub fn read_response(stream: &mut TcpStream) -> RawResponse {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !bytes.is_empty() => {
                break;
            }
            Err(e) => panic!("reading the response: {e} (got {} bytes)", bytes.len()),
        }
    }
    parse_response(&bytes)
}

pub fn parse_response(bytes: &[u8]) -> RawResponse {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(bytes)));
    let head = std::str::from_utf8(&bytes[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_string(), v.trim().to_string())
        })
        .collect();
    RawResponse {
        status,
        headers,
        body: bytes[split + 4..].to_vec(),
    }
}

/// A POST to the TAM path with the OTrP headers, `cookie` and `body`.
pub fn post(addr: SocketAddr, cookie: Option<&str>, body: &[u8]) -> RawResponse {
    let mut head = format!(
        "POST /tam HTTP/1.1\r\nAccept: application/otrp+json\r\nContent-Length: {}",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("\r\nContent-Type: application/otrp+json");
    }
    if let Some(c) = cookie {
        head.push_str(&format!("\r\nCookie: otrp-session={c}"));
    }
    raw(addr, &head, body)
}

/// Polls `f` every 10 ms for up to `limit`.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

/// The loopback address 127.0.X.Y, a distinct "client" for the server's
/// per-client caps.
pub fn client_ip(x: u8, y: u8) -> std::net::IpAddr {
    std::net::IpAddr::from([127, 0, x, y])
}

/// A TCP connection to `addr` from the local address `local`.
pub fn connect_from(local: std::net::IpAddr, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(local, 0))?;
        socket.connect(addr).await
    })?;
    let stream = stream.into_std()?;
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(stream)
}

/// [`post`] from the local address `local`.
pub fn post_from(
    local: std::net::IpAddr,
    addr: SocketAddr,
    cookie: Option<&str>,
    body: &[u8],
) -> RawResponse {
    let mut stream = connect_from(local, addr).unwrap();
    let mut head = format!(
        "POST /tam HTTP/1.1\r\nHost: {addr}\r\nAccept: application/otrp+json\r\n\
         Connection: close\r\nContent-Length: {}",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("\r\nContent-Type: application/otrp+json");
    }
    if let Some(c) = cookie {
        head.push_str(&format!("\r\nCookie: otrp-session={c}"));
    }
    head.push_str("\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    read_response(&mut stream)
}

/// The soft TEE of a second device: a fresh P-256 key and certificate
/// issued by the fixture TEE CA (so another `did`), over `dir`.
pub fn open_other_tee(dir: &Path) -> Tee {
    use otrp_test_pki::{
        Cert, CertSpec, DEFAULT_NOT_AFTER, DEFAULT_NOT_BEFORE, Key, KeyType, Profile,
    };
    let kind = Kind::Ec;
    let rng = &otrp_crypto_rustcrypto::OS_RANDOM;
    let at = |secs| UnixTime::since_unix_epoch(Duration::from_secs(secs));
    let ca_key = Key::from_pkcs8_der(&pkcs8(kind, "tee-ca")).unwrap();
    let ca = Cert::from_der(cert(kind, "tee-ca"), Some(ca_key)).unwrap();
    let spec = CertSpec::new(
        "second device TEE",
        4242,
        at(DEFAULT_NOT_BEFORE),
        at(DEFAULT_NOT_AFTER),
        Profile::Tee,
    );
    let tee_cert = ca
        .issue(&spec, Key::generate(KeyType::P256, rng).unwrap())
        .unwrap();
    let provider = otrp_crypto_rustcrypto::provider();
    let identity = SoftIdentity::from_der(
        &provider,
        tee_cert.der().to_vec(),
        vec![cert(kind, "tee-ca"), cert(kind, "tee-root")],
        tee_cert.key().unwrap().pkcs8_der(),
    )
    .unwrap();
    let anchors = TrustAnchors::from_certificates([cert(kind, "tam-root").as_slice()]).unwrap();
    let firmware =
        SoftFirmware::new(provider, cert(kind, "tfw"), &pkcs8(kind, "tfw"), kind.alg()).unwrap();
    let options = SoftTeeOptions {
        firmware: Some(firmware),
        ..SoftTeeOptions::default()
    };
    otrp_soft_tee::open(
        dir,
        TeeConfig::new(TEE_NAME, anchors),
        provider,
        identity,
        options,
    )
    .unwrap()
}

/// Runs the lifecycle script as a device from the local address `local`,
/// and checks it completed.
pub fn device_completes(url: &str, local: std::net::IpAddr, tag: &str) -> otrp_http::AgentReport {
    let dir = TempDir::new(tag);
    let mut device = Device::new(Kind::Ec, dir.path());
    let report = otrp_http::Agent::new(url)
        .unwrap()
        .with_local_address(local)
        .with_request_timeout(Duration::from_secs(30))
        .run_blocking(&mut device)
        .unwrap_or_else(|e| panic!("device {tag} from {local}: {e}"));
    assert!(report.ended_by_tam, "{tag}");
    assert_eq!(report.exchanges.len(), LIFECYCLE_KINDS.len() + 1, "{tag}");
    assert!(device.tee.state().sds.is_empty(), "{tag}");
    report
}
