//! `OfflineServer`: the TAM server's connection handling over in-memory
//! byte streams (the seam of the `http_server` fuzz target): a whole
//! lifecycle from raw request bytes, keep-alive and pipelined requests on
//! one connection, and the parser's own errors with the security headers.

mod support;

use std::net::SocketAddr;

use otrp_http::{DeviceHandler, OfflineServer};
use support::*;

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn request(cookie: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "POST /tam HTTP/1.1\r\nHost: tam\r\nAccept: application/otrp+json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/otrp+json\r\n");
    }
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: otrp-session={c}\r\n"));
    }
    [head.as_bytes(), b"\r\n", body].concat()
}

#[test]
fn a_lifecycle_over_byte_streams() {
    let app = Scripted::new(lifecycle(Kind::Ec));
    let server = OfflineServer::new(tam(Kind::Ec), app.clone(), test_config()).unwrap();
    let dir = TempDir::new("offline");
    let mut device = Device::new(Kind::Ec, dir.path());
    let first = parse_response(&server.connection(peer(), &request(None, b"")));
    assert_eq!(first.status, 200);
    first.assert_security_headers();
    let cookie = first.session_cookie().unwrap();
    assert_eq!(server.session_count(), 1);
    let mut message = first.body;
    let mut rounds = 0;
    loop {
        let answer = device.process(&message).unwrap();
        let r = parse_response(&server.connection(peer(), &request(Some(&cookie), &answer)));
        r.assert_security_headers();
        rounds += 1;
        if r.status == 204 {
            break;
        }
        assert_eq!(r.status, 200);
        message = r.body;
    }
    // One answer per command of the script; the last one gets 204.
    assert_eq!(rounds, LIFECYCLE_KINDS.len());
    assert_eq!(server.session_count(), 0);
    let done = app.finished_sessions();
    assert_eq!(done, ["completed"]);
}

#[test]
fn pipelined_requests_and_parser_errors_carry_the_headers() {
    let app = Scripted::new(lifecycle(Kind::Ec));
    let server = OfflineServer::new(tam(Kind::Ec), app, test_config()).unwrap();
    // Two empty POSTs on one connection: two sessions, two answers.
    let two = [request(None, b""), request(None, b"")].concat();
    let out = server.connection(peer(), &two);
    let first_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let first = parse_response(&out[..first_end + 4]);
    assert_eq!(first.status, 200);
    let len: usize = first.header("content-length").unwrap().parse().unwrap();
    let second = parse_response(&out[first_end + 4 + len..]);
    assert_eq!(second.status, 200);
    second.assert_security_headers();
    assert_eq!(server.session_count(), 2);
    // hyper's own 400 for a header without a colon.
    let bad = server.connection(
        peer(),
        b"POST /tam HTTP/1.1\r\nHost: tam\r\nno colon\r\n\r\n",
    );
    let r = parse_response(&bad);
    assert_eq!(r.status, 400);
    r.assert_security_headers();
    // Nothing at all: no response.
    assert!(server.connection(peer(), b"").is_empty());
}
