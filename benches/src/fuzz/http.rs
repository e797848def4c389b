//! `http_server`: the otrp-http TAM server's request handling on raw HTTP
//! request bytes, without sockets ([`OfflineServer`], issue 13). An input
//! is a sequence of connections from one of two client addresses; inside
//! each, three placeholders make the bytes meaningful across a session:
//! `{cookie}` is the last session cookie the server set, `{tee}` the soft
//! TEE's answer to the last TAM message the server sent (a real TEE
//! behind the client, EC fixtures), and `{len}` the length of what follows
//! the first blank line (after substitution). The properties: no panic;
//! every byte the server writes is a sequence of well-framed HTTP/1.x
//! responses, each carrying the draft's security headers (section 4), the
//! parser's own error responses included; the session table stays within
//! its bound.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use otrp_core::message::{Direction, Envelope, Limits};
use otrp_core::tam::{Command, DeviceState, Tam};
use otrp_http::{Clock, Input, OfflineServer, SECURITY_HEADERS, ServerConfig, Step, TamApp};

use super::{FUZZ_TA_SIZE, fuzz_provider, kind_index, scenarios};
use crate::fixtures::{Kind, now};
use crate::soft::TEE_NAME;

/// The hierarchy of the HTTP target (P-256: fast enough per input).
const KIND: Kind = Kind::Ec;

/// Sessions the fuzzed server keeps at most (small, so that inputs reach
/// eviction).
pub const HTTP_MAX_SESSIONS: usize = 4;

/// The lifecycle of the fuzzing scenario as a server script: GetDeviceState,
/// then each command, then the end.
struct Script(Vec<Command>);

impl TamApp for Script {
    type Session = usize;

    fn connect(&self, _peer: SocketAddr) -> usize {
        0
    }

    fn next(&self, pos: &mut usize, _device: &DeviceState, input: Input<'_>) -> Step {
        if let Input::Connected = input {
            return Step::GetDeviceState;
        }
        let step = self.0.get(*pos).map_or(Step::End, |command| Step::Command {
            tee: TEE_NAME.into(),
            command: command.clone(),
        });
        *pos += 1;
        step
    }
}

struct Served {
    tam: Arc<Tam>,
    script: Arc<Script>,
}

fn served() -> &'static Served {
    static S: OnceLock<Served> = OnceLock::new();
    S.get_or_init(|| {
        let provider = fuzz_provider(KIND);
        Served {
            tam: Arc::new(crate::scenario::tam(KIND, provider)),
            script: Arc::new(Script(crate::scenario::commands(
                KIND,
                &provider,
                FUZZ_TA_SIZE,
            ))),
        }
    })
}

/// The server configuration of the target: the fixtures' time, small
/// limits.
pub fn http_config() -> ServerConfig {
    ServerConfig {
        max_body_bytes: 64 * 1024,
        max_sessions: HTTP_MAX_SESSIONS,
        max_sessions_per_client: 2,
        read_timeout: Duration::from_millis(200),
        clock: Clock::fixed(now()),
        ..ServerConfig::default()
    }
}

/// One connection of an `http_server` input: the client address
/// (127.0.0.1 or 127.0.0.2) and the bytes it sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConnection {
    /// Whether the second client address sends it.
    pub second_client: bool,
    /// The request bytes, with placeholders.
    pub bytes: Vec<u8>,
}

/// Encodes connections as an `http_server` input: per connection a flag
/// byte (bit 0: second client), a big-endian u16 length and the bytes.
pub fn http_input(connections: &[HttpConnection]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in connections {
        let len = u16::try_from(c.bytes.len()).unwrap_or(u16::MAX);
        out.push(u8::from(c.second_client));
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&c.bytes[..usize::from(len)]);
    }
    out
}

/// Decodes an `http_server` input (a short last connection takes what is
/// left); at most 16 connections.
pub fn http_connections(mut data: &[u8]) -> Vec<HttpConnection> {
    let mut out = Vec::new();
    while let [flags, hi, lo, rest @ ..] = data {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
        out.push(HttpConnection {
            second_client: flags & 1 != 0,
            bytes: rest[..len].to_vec(),
        });
        data = &rest[len..];
        if out.len() == 16 {
            break;
        }
    }
    out
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(i) = find(rest, needle) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(with);
        rest = &rest[i + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One response of the server's output, as framed by its head.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits what the server wrote on a connection into responses; panics if
/// it is not a sequence of well-framed HTTP/1.x responses (`Content-Length`
/// framing: the server sends no chunked bodies).
pub fn http_responses(mut output: &[u8]) -> Vec<HttpResponse> {
    let mut out = Vec::new();
    while !output.is_empty() {
        let end = find(output, b"\r\n\r\n").expect("a response head ends with a blank line");
        let head = std::str::from_utf8(&output[..end]).expect("the head is UTF-8");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        assert!(
            status_line.starts_with("HTTP/1.1 ") || status_line.starts_with("HTTP/1.0 "),
            "status line {status_line:?}"
        );
        let status: u16 = status_line
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .expect("a status code");
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l.split_once(':').expect("a header line has a colon");
                (n.trim().to_ascii_lowercase(), v.trim().to_string())
            })
            .collect();
        assert!(
            headers.iter().all(|(n, _)| n != "transfer-encoding"),
            "no chunked responses"
        );
        let len = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse::<usize>().expect("a Content-Length"));
        let rest = &output[end + 4..];
        assert!(
            rest.len() >= len,
            "the body is shorter than its Content-Length"
        );
        out.push(HttpResponse {
            status,
            headers,
            body: rest[..len].to_vec(),
        });
        output = &rest[len..];
    }
    out
}

/// `http_server`: see the module documentation.
pub fn http_server(data: &[u8]) {
    let _ = http_statuses(data);
}

/// The body of `http_server`: serves every connection of `data` and
/// returns the status of each response, in order.
pub fn http_statuses(data: &[u8]) -> Vec<u16> {
    let mut statuses = Vec::new();
    let s = served();
    let server = OfflineServer::new(s.tam.clone(), s.script.clone(), http_config())
        .expect("a valid configuration");
    let scenario = &scenarios()[kind_index(KIND)];
    let mut tee = scenario.tee.open(scenario.steps[0].tee_before.snapshot());
    let mut cookie: Vec<u8> = Vec::new();
    let mut answer: Vec<u8> = Vec::new();
    for c in http_connections(data) {
        let mut bytes = replace(&c.bytes, b"{cookie}", &cookie);
        if find(&bytes, b"{tee}").is_some() {
            bytes = replace(&bytes, b"{tee}", &answer);
        }
        if find(&bytes, b"{len}").is_some() {
            // What follows the blank line; a `{len}` in the head (the
            // Content-Length) does not change it.
            let body = find(&bytes, b"\r\n\r\n").map_or(0, |e| bytes.len() - (e + 4));
            bytes = replace(&bytes, b"{len}", body.to_string().as_bytes());
        }
        let peer = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + u8::from(c.second_client))),
            40_000,
        );
        let output = server.connection(peer, &bytes);
        for r in http_responses(&output) {
            statuses.push(r.status);
            for (name, value) in SECURITY_HEADERS {
                assert_eq!(r.header(name), Some(value), "{name} on {}", r.status);
            }
            if let Some(set) = r.header("set-cookie") {
                let value = set
                    .split(';')
                    .next()
                    .and_then(|p| p.split_once('='))
                    .map(|(_, v)| v.trim().as_bytes().to_vec());
                cookie = value.unwrap_or_default();
            }
            if r.status == 200 && !r.body.is_empty() {
                assert!(
                    Envelope::parse(&r.body, &Limits::DEFAULT)
                        .is_ok_and(|e| e.direction == Direction::Request),
                    "a 200 body is a TAM request"
                );
                answer = tee.handle(&r.body, now()).unwrap_or_default();
            }
        }
        assert!(server.session_count() <= HTTP_MAX_SESSIONS);
    }
    statuses
}

/// A request head to the TAM path: `extra` header lines (each ending in
/// CRLF) after Host, then the blank line.
pub fn http_post(extra: &str) -> Vec<u8> {
    format!("POST /tam HTTP/1.1\r\nHost: tam.example\r\n{extra}\r\n").into_bytes()
}

/// The empty POST that opens an exchange (draft 5.1.1).
pub fn http_open() -> Vec<u8> {
    http_post("Accept: application/otrp+json\r\nContent-Length: 0\r\n")
}

/// The POST of the TEE's answer in the current session (placeholders
/// `{cookie}`, `{len}`, `{tee}`).
pub fn http_answer() -> Vec<u8> {
    let mut r = http_post(
        "Cookie: otrp-session={cookie}\r\nAccept: application/otrp+json\r\n\
         Content-Type: application/otrp+json\r\nContent-Length: {len}\r\n",
    );
    r.extend_from_slice(b"{tee}");
    r
}
