//! The TAM server at the HTTP level (draft sections 4 and 6), with a raw
//! HTTP/1.1 client: headers on every response, POST only, the session
//! cookie, media types, body limits, read timeouts, session expiry and
//! limits, and broken sessions that leave the others alone.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use otrp_http::{Agent, ServerConfig};
use support::*;

/// A server of the EC fixtures playing the lifecycle script.
fn server_with(config: ServerConfig) -> (otrp_http::TamServer, std::sync::Arc<Scripted>) {
    let app = Scripted::new(lifecycle(Kind::Ec));
    (start(Kind::Ec, app.clone(), config), app)
}

/// Runs a whole exchange with a fresh soft TEE and checks it completed.
fn full_exchange(url: &str) {
    let dir = TempDir::new("full");
    let mut device = Device::new(Kind::Ec, dir.path());
    let report = Agent::new(url).unwrap().run_blocking(&mut device).unwrap();
    assert!(report.ended_by_tam);
    assert_eq!(report.exchanges.len(), LIFECYCLE_KINDS.len() + 1);
}

#[test]
fn first_answer_is_a_get_device_state_request_with_the_draft_headers() {
    let (server, _app) = server_with(test_config());
    let r = post(server.local_addr(), None, b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(otrp_http::MEDIA_TYPE));
    r.assert_security_headers();
    assert_eq!(
        r.header("content-length")
            .map(|l| l.parse::<usize>().unwrap()),
        Some(r.body.len())
    );
    // The body is the TAM's signed GetDeviceStateRequest (spec 9.1.1).
    let env =
        otrp_core::message::parse_request(&r.body, &otrp_core::message::Limits::DEFAULT).unwrap();
    assert_eq!(env.kind, otrp_core::message::MessageKind::GetDeviceState);
    // The session cookie: random, HttpOnly, scoped to the TAM path.
    let cookie = r.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/tam"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let id = r.session_cookie().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let again = post(server.local_addr(), None, b"")
        .session_cookie()
        .unwrap();
    assert_ne!(id, again);
    assert_eq!(server.session_count(), 2);
}

#[test]
fn every_error_response_carries_the_security_headers() {
    let (server, _app) = server_with(test_config());
    let addr = server.local_addr();
    let responses = [
        raw(addr, "GET /tam HTTP/1.1", b""),
        raw(addr, "POST /elsewhere HTTP/1.1\r\nContent-Length: 0", b""),
        post(addr, None, b"{}"),
        post(addr, Some("00112233445566778899aabbccddeeff"), b"{}"),
        raw(
            addr,
            "POST /tam HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 2",
            b"{}",
        ),
        raw(
            addr,
            "POST /tam HTTP/1.1\r\nAccept: text/html\r\nContent-Length: 0",
            b"",
        ),
    ];
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [405, 404, 400, 400, 415, 406]);
    for r in &responses {
        r.assert_security_headers();
        // Errors are plain text, never the OTrP media type.
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    }
    assert_eq!(server.session_count(), 0);
}

#[test]
fn only_post_is_allowed() {
    let (server, _app) = server_with(test_config());
    for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let r = raw(
            server.local_addr(),
            &format!("{method} /tam HTTP/1.1\r\nContent-Length: 0"),
            b"",
        );
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("POST"), "{method}");
        r.assert_security_headers();
    }
    let head = raw(server.local_addr(), "HEAD /tam HTTP/1.1", b"");
    assert_eq!(head.status, 405);
    assert_eq!(server.session_count(), 0);
}

#[test]
fn the_end_of_an_exchange_is_an_empty_204_with_the_headers() {
    // A script of one GetDeviceState: the answer to the TEE's message is
    // the end (draft 6.2).
    let app = Scripted::new(vec![otrp_http::Step::GetDeviceState]);
    let server = start(Kind::Ec, app.clone(), test_config());
    let addr = server.local_addr();
    let first = post(addr, None, b"");
    let id = first.session_cookie().unwrap();
    let dir = TempDir::new("end");
    let mut tee = open_tee(Kind::Ec, dir.path());
    let answer = tee.handle(&first.body, now()).unwrap();
    let end = post(addr, Some(&id), &answer);
    assert_eq!(end.status, 204);
    assert!(end.body.is_empty());
    assert_eq!(end.header("content-type"), None);
    end.assert_security_headers();
    assert_eq!(app.finished_sessions(), ["completed"]);
    assert_eq!(server.session_count(), 0);
    // An identical duplicate of the last answer gets the same end; any
    // other message for the finished session is refused.
    let again = post(addr, Some(&id), &answer);
    assert_eq!(again.status, 204);
    again.assert_security_headers();
    assert_eq!(post(addr, Some(&id), b"{}").status, 400);
    assert_eq!(app.finished_sessions(), ["completed"]);
}

#[test]
fn oversized_bodies_get_413_and_end_only_their_session() {
    let config = ServerConfig {
        max_body_bytes: 32 * 1024,
        ..test_config()
    };
    let (server, app) = server_with(config);
    let addr = server.local_addr();
    let victim = post(addr, None, b"").session_cookie().unwrap();
    let bystander = post(addr, None, b"").session_cookie().unwrap();
    assert_eq!(server.session_count(), 2);

    // Declared too large: refused before reading.
    let big = vec![b'x'; 64 * 1024];
    let r = post(addr, Some(&victim), &big);
    assert_eq!(r.status, 413);
    r.assert_security_headers();
    assert_eq!(r.header("connection"), Some("close"));
    // Chunked, without a length: refused once the limit is crossed.
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST /tam HTTP/1.1\r\nHost: x\r\nContent-Type: application/otrp+json\r\n\
         Cookie: otrp-session={bystander}x\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    for _ in 0..10 {
        let _ = write!(stream, "1000\r\n{}\r\n", "y".repeat(0x1000));
    }
    let r = read_response(&mut stream);
    assert_eq!(r.status, 413);
    r.assert_security_headers();

    // Only the victim's session ended; the bystander's is intact and a new
    // exchange runs to the end.
    assert!(wait_until(Duration::from_secs(5), || {
        app.finished_sessions() == ["aborted 413"]
    }));
    assert_eq!(server.session_count(), 1);
    full_exchange(&server.url());
    assert_eq!(app.finished_sessions(), ["aborted 413", "completed"]);
    // The bystander can still answer its GetDeviceState request.
    let dir = TempDir::new("bystander");
    let mut tee = open_tee(Kind::Ec, dir.path());
    let restart = post(addr, Some(&bystander), b"");
    // An empty POST with a live cookie restarts that device's exchange.
    assert_eq!(restart.status, 200);
    let id = restart.session_cookie().unwrap();
    assert_ne!(id, bystander);
    let answer = tee.handle(&restart.body, now()).unwrap();
    let next = post(addr, Some(&id), &answer);
    assert_eq!(next.status, 200, "{}", String::from_utf8_lossy(&next.body));
    let next_request =
        otrp_core::message::parse_request(&next.body, &otrp_core::message::Limits::DEFAULT)
            .unwrap();
    assert_eq!(next_request.kind, otrp_core::message::MessageKind::CreateSd);
    assert_eq!(
        app.finished_sessions(),
        ["aborted 413", "completed", "restarted"]
    );
}

#[test]
fn messages_for_unknown_sessions_are_refused() {
    let (server, app) = server_with(test_config());
    let addr = server.local_addr();
    let live = post(addr, None, b"").session_cookie().unwrap();
    for cookie in [
        None,
        Some("00000000000000000000000000000000"),
        Some("not-hex"),
        Some(""),
    ] {
        let r = post(addr, cookie, b"{\"GetDeviceStateResponse\":[]}");
        assert_eq!(r.status, 400, "{cookie:?}");
        r.assert_security_headers();
    }
    // The live session was not touched.
    assert_eq!(server.session_count(), 1);
    assert!(app.finished_sessions().is_empty());
    let _ = live;
}

#[test]
fn a_message_the_tam_refuses_leaves_the_session_waiting_for_the_real_answer() {
    let (server, app) = server_with(test_config());
    let addr = server.local_addr();
    let first = post(addr, None, b"");
    let id = first.session_cookie().unwrap();
    let other = post(addr, None, b"");
    let other_id = other.session_cookie().unwrap();

    // Not an OTrP response at all: 400, but the session is not ended (a
    // client holding a stolen cookie cannot end it).
    let r = post(addr, Some(&id), b"{\"hello\":\"tam\"}");
    assert_eq!(r.status, 400);
    r.assert_security_headers();
    assert!(app.finished_sessions().is_empty());
    assert_eq!(server.session_count(), 2);

    // The real answer still goes through, on both sessions.
    let dir = TempDir::new("refused");
    let mut tee = open_tee(Kind::Ec, dir.path());
    let answer = tee.handle(&first.body, now()).unwrap();
    let next = post(addr, Some(&id), &answer);
    assert_eq!(next.status, 200, "{}", String::from_utf8_lossy(&next.body));
    let dir = TempDir::new("refused-other");
    let mut tee = open_tee(Kind::Ec, dir.path());
    let answer = tee.handle(&other.body, now()).unwrap();
    let next = post(addr, Some(&other_id), &answer);
    assert_eq!(next.status, 200);
    assert_eq!(server.session_count(), 2);
}

#[test]
fn a_silent_agent_is_timed_out_and_others_are_unaffected() {
    let config = ServerConfig {
        session_timeout: Duration::from_millis(400),
        read_timeout: Duration::from_millis(500),
        ..test_config()
    };
    let (server, app) = server_with(config);
    let addr = server.local_addr();

    // 1. An agent that never comes back after the first request: its
    // session expires.
    let silent = post(addr, None, b"");
    let silent_id = silent.session_cookie().unwrap();
    assert_eq!(server.session_count(), 1);
    // Meanwhile another agent completes a whole exchange (each of its
    // steps within the timeout).
    full_exchange(&server.url());
    assert!(wait_until(Duration::from_secs(5), || server
        .session_count()
        == 0));
    assert!(wait_until(Duration::from_secs(5), || {
        let mut s = app.finished_sessions();
        s.sort();
        s == ["completed", "expired"]
    }));
    let dir = TempDir::new("silent");
    let mut tee = open_tee(Kind::Ec, dir.path());
    let late = tee.handle(&silent.body, now()).unwrap();
    assert_eq!(post(addr, Some(&silent_id), &late).status, 400);

    // 2. A body that stops half way: 408 once the read timeout passes.
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST /tam HTTP/1.1\r\nHost: x\r\nContent-Type: application/otrp+json\r\n\
         Content-Length: 100\r\n\r\n{{\"partial"
    )
    .unwrap();
    let r = read_response(&mut stream);
    assert_eq!(r.status, 408);
    r.assert_security_headers();
    assert!(started.elapsed() >= Duration::from_millis(450));
    assert!(started.elapsed() < Duration::from_secs(5));

    // 3. A connection that never sends a request is closed.
    let started = Instant::now();
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 256];
    let n = idle.read(&mut buf).unwrap_or(0);
    let _ = n; // closed (0) or a 408 from hyper, but not held open
    assert!(started.elapsed() < Duration::from_secs(5));

    // 4. Headers that never finish: the connection is closed too.
    let started = Instant::now();
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.write_all(b"POST /tam HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let _ = slow.read(&mut buf);
    assert!(started.elapsed() < Duration::from_secs(5));

    // The server still serves.
    full_exchange(&server.url());
}

#[test]
fn the_number_of_sessions_is_bounded_and_bound_sessions_are_never_evicted() {
    let config = ServerConfig {
        max_sessions: 2,
        ..test_config()
    };
    let (server, app) = server_with(config);
    let addr = server.local_addr();
    let a = post(addr, None, b"");
    let b = post(addr, None, b"");
    assert_eq!((a.status, b.status), (200, 200));
    // Full: the oldest session without an authenticated answer makes room.
    let c = post(addr, None, b"");
    assert_eq!(c.status, 200);
    assert_eq!(app.finished_sessions(), ["evicted"]);
    assert_eq!(server.session_count(), 2);
    // b and c get their device's answer: bound, never evicted.
    for (i, r) in [&b, &c].into_iter().enumerate() {
        let dir = TempDir::new(&format!("bounded-{i}"));
        let mut tee = open_tee(Kind::Ec, dir.path());
        let answer = tee.handle(&r.body, now()).unwrap();
        let next = post(addr, Some(&r.session_cookie().unwrap()), &answer);
        assert_eq!(next.status, 200);
    }
    let d = post(addr, None, b"");
    assert_eq!(d.status, 503);
    assert_eq!(d.header("retry-after"), Some("1"));
    d.assert_security_headers();
    assert_eq!(server.session_count(), 2);
    // The evicted session is gone.
    let dir = TempDir::new("bounded-a");
    let mut tee = open_tee(Kind::Ec, dir.path());
    let answer = tee.handle(&a.body, now()).unwrap();
    assert_eq!(
        post(addr, Some(&a.session_cookie().unwrap()), &answer).status,
        400
    );
}

#[test]
fn the_agent_reports_http_errors() {
    // An agent pointed at a path that is not the TAM URI gets 404 and
    // tells its handler (draft 5.5).
    let (server, _app) = server_with(test_config());
    let url = server.url().replace("/tam", "/nope");
    let dir = TempDir::new("agent-404");
    let mut device = Device::new(Kind::Ec, dir.path());
    let err = Agent::new(&url)
        .unwrap()
        .run_blocking(&mut device)
        .unwrap_err();
    match &err {
        otrp_http::AgentError::Status { status, message } => {
            assert_eq!(*status, 404);
            assert_eq!(message, "not a TAM URI");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(device.errors, [err.to_string()]);
    assert!(device.seen.is_empty());

    // A TAM that takes longer than the agent's request timeout.
    let mut slow = Scripted::new(lifecycle(Kind::Ec));
    std::sync::Arc::get_mut(&mut slow).unwrap().delay = Some(Duration::from_millis(800));
    let server = start(Kind::Ec, slow, test_config());
    let err = Agent::new(&server.url())
        .unwrap()
        .with_request_timeout(Duration::from_millis(200))
        .run_blocking(&mut device)
        .unwrap_err();
    assert!(matches!(err, otrp_http::AgentError::Timeout(_)), "{err:?}");
}

#[test]
fn shutdown_ends_open_sessions() {
    let (server, app) = server_with(test_config());
    let addr = server.local_addr();
    post(addr, None, b"");
    assert_eq!(server.session_count(), 1);
    server.shutdown();
    assert_eq!(app.finished_sessions(), ["shutdown"]);
    assert!(TcpStream::connect(addr).is_err());
}

/// A TamApp that panics when a TEE answers.
struct Panicky(std::sync::Mutex<Vec<String>>);

impl otrp_http::TamApp for Panicky {
    type Session = ();
    fn connect(&self, _peer: std::net::SocketAddr) {}
    fn next(
        &self,
        _session: &mut (),
        _device: &otrp_core::tam::DeviceState,
        input: otrp_http::Input<'_>,
    ) -> otrp_http::Step {
        match input {
            otrp_http::Input::Connected => otrp_http::Step::GetDeviceState,
            otrp_http::Input::Event(_) => panic!("application bug"),
        }
    }
    fn finished(
        &self,
        _session: (),
        _device: &otrp_core::tam::DeviceState,
        end: &otrp_http::SessionEnd,
    ) {
        self.0.lock().unwrap().push(format!("{end:?}"));
    }
}

#[test]
fn a_panicking_application_ends_only_that_session() {
    let app = std::sync::Arc::new(Panicky(std::sync::Mutex::new(Vec::new())));
    let server = otrp_http::TamServer::start(
        "127.0.0.1:0".parse().unwrap(),
        tam(Kind::Ec),
        app.clone(),
        test_config(),
    )
    .unwrap();
    let addr = server.local_addr();
    let first = post(addr, None, b"");
    let second = post(addr, None, b"");
    let dir = TempDir::new("panicky");
    let mut tee = open_tee(Kind::Ec, dir.path());
    let answer = tee.handle(&first.body, now()).unwrap();
    let r = post(addr, Some(&first.session_cookie().unwrap()), &answer);
    assert_eq!(r.status, 500);
    r.assert_security_headers();
    assert_eq!(*app.0.lock().unwrap(), ["Panicked"]);
    // The server and the other session are still there.
    assert_eq!(server.session_count(), 1);
    assert_eq!(post(addr, None, b"").status, 200);
    let _ = second;
}

#[test]
fn a_request_the_tam_cannot_build_is_a_500() {
    // The script names a TEE the device does not have (draft 6.4).
    let script = vec![
        otrp_http::Step::GetDeviceState,
        otrp_http::Step::Command {
            tee: "no-such-tee".into(),
            command: otrp_core::tam::Command::DeleteSd {
                sdname: "sd1".into(),
                deleteta: false,
            },
        },
    ];
    let app = Scripted::new(script);
    let server = start(Kind::Ec, app.clone(), test_config());
    let dir = TempDir::new("failed");
    let mut device = Device::new(Kind::Ec, dir.path());
    let err = Agent::new(&server.url())
        .unwrap()
        .run_blocking(&mut device)
        .unwrap_err();
    assert!(
        matches!(&err, otrp_http::AgentError::Status { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(
        app.finished_sessions(),
        ["failed: unknown TEE \"no-such-tee\": run GetDeviceState first"]
    );
    assert_eq!(server.session_count(), 0);
}
