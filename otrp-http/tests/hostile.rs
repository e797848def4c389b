//! Hostile clients against the TAM server on loopback, each while real
//! devices (the soft TEE behind the agent, from their own loopback
//! addresses) run the whole TA lifecycle: every test asserts that the real
//! devices still complete. Bounded in count and time (small limits in the
//! server configuration make each attack reach them quickly).
//!
//! Attacks: a session flood from one client and from many; slow clients
//! (connections that never finish their headers, bodies that trickle);
//! cookie reuse from another connection and address (garbage, restart,
//! oversized body, an answer signed by another device); duplicate answers
//! racing; oversized and malformed requests.

mod support;

use std::io::{Read, Write};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use otrp_http::{ServerConfig, Step};
use support::*;

/// A server of the EC fixtures playing the lifecycle script.
fn server(config: ServerConfig) -> (otrp_http::TamServer, Arc<Scripted>) {
    let app = Scripted::new(lifecycle(Kind::Ec));
    (start(Kind::Ec, app.clone(), config), app)
}

/// Real devices from 127.0.0.(10+i), run on threads while `attack` runs on
/// this one; returns when both are done.
fn devices_during(url: &str, devices: u8, attack: impl FnOnce()) -> Duration {
    let started = Instant::now();
    let handles: Vec<_> = (0..devices)
        .map(|i| {
            let url = url.to_string();
            std::thread::spawn(move || {
                // Let the attack get going first.
                std::thread::sleep(Duration::from_millis(100 + 50 * u64::from(i)));
                device_completes(&url, client_ip(0, 10 + i), &format!("device-{i}"));
            })
        })
        .collect();
    attack();
    for h in handles {
        h.join().expect("a real device did not complete");
    }
    started.elapsed()
}

fn completed(app: &Scripted) -> usize {
    app.finished_sessions()
        .iter()
        .filter(|e| *e == "completed")
        .count()
}

#[test]
fn a_session_flood_from_one_client_does_not_lock_devices_out() {
    let config = ServerConfig {
        max_sessions: 64,
        max_sessions_per_client: 8,
        ..test_config()
    };
    let (server, app) = server(config);
    let addr = server.local_addr();
    let flooder = client_ip(0, 2);
    let mut statuses = Vec::new();
    let took = devices_during(&server.url(), 4, || {
        for _ in 0..300 {
            statuses.push(post_from(flooder, addr, None, b"").status);
            assert!(server.session_count() <= 64);
        }
    });
    // The flooder only ever churned its own sessions.
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let evicted = app
        .finished_sessions()
        .iter()
        .filter(|e| *e == "evicted")
        .count();
    assert_eq!(evicted, 300 - 8);
    assert_eq!(completed(&app), 4);
    assert_eq!(server.session_count(), 8);
    eprintln!("300 flood POSTs and 4 device lifecycles: {took:?}");
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[test]
fn a_flood_from_many_clients_evicts_the_heaviest_and_never_a_device() {
    // 12 flooding addresses x 8 sessions > 48 slots: the table stays full
    // and every new exchange must evict someone.
    let config = ServerConfig {
        max_sessions: 48,
        max_sessions_per_client: 8,
        ..test_config()
    };
    let (server, app) = server(config);
    let addr = server.local_addr();
    let flooders: Vec<_> = (0..12u8)
        .map(|i| {
            std::thread::spawn(move || {
                let mut refused = 0;
                for _ in 0..25 {
                    let status = post_from(client_ip(1, 1 + i), addr, None, b"").status;
                    assert!(status == 200 || status == 503, "{status}");
                    refused += usize::from(status == 503);
                }
                refused
            })
        })
        .collect();
    let took = devices_during(&server.url(), 4, || {});
    let refused: usize = flooders.into_iter().map(|f| f.join().unwrap()).sum();
    eprintln!(
        "4 device lifecycles during a 12-address flood: {took:?}; {refused} flood POSTs got 503"
    );
    assert_eq!(completed(&app), 4);
    assert!(server.session_count() <= 48);
    // Every flood session beyond the table was evicted; no device was.
    let evicted = app
        .finished_sessions()
        .iter()
        .filter(|e| *e == "evicted")
        .count();
    assert_eq!(evicted + server.session_count(), 300 - refused);
    assert!(evicted >= 300 - 48 - refused, "{evicted}");
}

#[test]
fn slow_clients_hold_only_their_own_connections() {
    let config = ServerConfig {
        max_connections: 24,
        max_connections_per_client: 8,
        read_timeout: Duration::from_millis(1500),
        ..test_config()
    };
    let (server, app) = server(config);
    let addr = server.local_addr();
    let slow = client_ip(0, 3);
    devices_during(&server.url(), 3, || {
        // Headers that never finish, on more connections than allowed.
        let mut held = Vec::new();
        for _ in 0..20 {
            let mut s = connect_from(slow, addr).unwrap();
            let _ = s.write_all(b"POST /tam HTTP/1.1\r\nHost: x\r\n");
            held.push(s);
        }
        let started = Instant::now();
        let mut buf = [0u8; 64];
        // Beyond the per-client cap, connections are closed on accept.
        for (i, s) in held.iter_mut().enumerate().skip(8) {
            s.set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            match s.read(&mut buf) {
                Ok(0) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
                other => panic!("connection {i} over the cap was served: {other:?}"),
            }
        }
        // The ones within the cap are closed at the header read timeout.
        for (i, s) in held.iter_mut().enumerate().take(8) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut rest = Vec::new();
            let r = s.read_to_end(&mut rest);
            assert!(
                r.is_ok() || started.elapsed() < Duration::from_secs(5),
                "connection {i}: {r:?}"
            );
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    });
    assert_eq!(completed(&app), 3);
}

#[test]
fn a_body_that_trickles_gets_408_with_the_headers() {
    let config = ServerConfig {
        read_timeout: Duration::from_millis(800),
        ..test_config()
    };
    let (server, app) = server(config);
    let addr = server.local_addr();
    devices_during(&server.url(), 1, || {
        let mut s = connect_from(client_ip(0, 4), addr).unwrap();
        s.write_all(
            b"POST /tam HTTP/1.1\r\nHost: x\r\nContent-Type: application/otrp+json\r\n\
              Content-Length: 1000\r\n\r\n{",
        )
        .unwrap();
        let started = Instant::now();
        for _ in 0..3 {
            let _ = s.write_all(b" ");
            std::thread::sleep(Duration::from_millis(200));
        }
        let r = read_response(&mut s);
        assert_eq!(r.status, 408);
        r.assert_security_headers();
        assert!(started.elapsed() < Duration::from_secs(5));
    });
    assert_eq!(completed(&app), 1);
}

/// A script that asks for the device state twice: the second request is
/// where another device tries to answer in the bound device's place.
fn twice() -> Vec<Step> {
    let mut script = vec![Step::GetDeviceState];
    script.extend(lifecycle(Kind::Ec));
    script
}

#[test]
fn a_stolen_cookie_cannot_end_or_take_over_the_session() {
    let app = Scripted::new(twice());
    let server = start(Kind::Ec, app.clone(), test_config());
    let addr = server.local_addr();
    let (device_ip, thief) = (client_ip(0, 20), client_ip(0, 21));

    let dir = TempDir::new("victim");
    let mut tee = open_tee(Kind::Ec, dir.path());
    let first = post_from(device_ip, addr, None, b"");
    let id = first.session_cookie().unwrap();
    let answer = tee.handle(&first.body, now()).unwrap();
    let second = post_from(device_ip, addr, Some(&id), &answer);
    assert_eq!(second.status, 200);
    // Bound to the device now; the TAM asks for the state again.

    // From another address and connection, with the cookie:
    // garbage, a restart, an oversized body, a wrong media type.
    let garbage = post_from(thief, addr, Some(&id), b"{\"GetDeviceStateResponse\":[]}");
    assert_eq!(garbage.status, 400);
    let restart = post_from(thief, addr, Some(&id), b"");
    assert_eq!(restart.status, 200);
    assert_ne!(restart.session_cookie().unwrap(), id);
    let big = vec![b' '; 2 << 20];
    assert_eq!(post_from(thief, addr, Some(&id), &big).status, 413);
    // An answer to the bound device's request, signed by another device:
    // authentic for that device, but not the one the session is bound to.
    let other_dir = TempDir::new("thief-tee");
    let mut other = open_other_tee(other_dir.path());
    let forged = other.handle(&second.body, now()).unwrap();
    let r = post_from(thief, addr, Some(&id), &forged);
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    r.assert_security_headers();
    // The thief's opened session is its own; the device's session is
    // intact and runs to the end.
    assert!(!app.finished_sessions().iter().any(|e| e != "evicted"));
    let mut body = second.body;
    let cookie = id;
    loop {
        let answer = tee.handle(&body, now()).unwrap();
        let r = post_from(device_ip, addr, Some(&cookie), &answer);
        if r.status == 204 {
            break;
        }
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        body = r.body;
    }
    assert_eq!(app.finished_sessions(), ["completed"]);
    let done = app.done.lock().unwrap();
    // The session saw the device's answers only: two device states and
    // the five commands.
    assert_eq!(done[0].events.len(), 7);
    assert_lifecycle_events(&done[0].events[1..]);
}

#[test]
fn duplicate_answers_racing_get_the_same_reply() {
    let (server, app) = server(test_config());
    let addr = server.local_addr();
    let ip = client_ip(0, 30);
    let dir = TempDir::new("dup");
    let mut tee = open_tee(Kind::Ec, dir.path());
    let mut r = post_from(ip, addr, None, b"");
    let id = r.session_cookie().unwrap();
    let mut rounds = 0;
    loop {
        let answer = Arc::new(tee.handle(&r.body, now()).unwrap());
        // Four copies of the same valid answer, on four connections at once.
        let copies: Vec<_> = (0..4)
            .map(|_| {
                let (answer, id) = (answer.clone(), id.clone());
                std::thread::spawn(move || post_from(ip, addr, Some(&id), &answer))
            })
            .collect();
        let replies: Vec<_> = copies.into_iter().map(|h| h.join().unwrap()).collect();
        let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
        assert!(
            statuses.iter().all(|s| *s == statuses[0]),
            "round {rounds}: {statuses:?}"
        );
        assert!(replies.iter().all(|x| x.body == replies[0].body));
        rounds += 1;
        if statuses[0] == 204 {
            break;
        }
        assert_eq!(statuses[0], 200);
        r = replies.into_iter().next().unwrap();
    }
    assert_eq!(rounds, LIFECYCLE_KINDS.len());
    // One session, completed once, every answer handled once.
    assert_eq!(app.finished_sessions(), ["completed"]);
    assert_lifecycle_events(&app.done.lock().unwrap()[0].events);
    // A late copy of the last answer still gets the end.
    let _ = tee;
    assert_eq!(server.session_count(), 0);
}

/// Sends raw bytes on a fresh connection and reads the response.
fn raw_bytes(addr: std::net::SocketAddr, from: IpAddr, bytes: &[u8]) -> RawResponse {
    let mut s = connect_from(from, addr).unwrap();
    let _ = s.write_all(bytes);
    read_response(&mut s)
}

#[test]
fn oversized_and_malformed_requests_get_errors_with_the_headers() {
    let config = ServerConfig {
        max_body_bytes: 64 * 1024,
        ..test_config()
    };
    let (server, app) = server(config);
    let addr = server.local_addr();
    let bad = client_ip(0, 5);
    devices_during(&server.url(), 2, || {
        let huge_header = format!(
            "POST /tam HTTP/1.1\r\nHost: x\r\nX-Junk: {}\r\nContent-Length: 0\r\n\r\n",
            "j".repeat(40 * 1024)
        );
        let many_headers = format!(
            "POST /tam HTTP/1.1\r\nHost: x\r\n{}Content-Length: 0\r\n\r\n",
            (0..200)
                .map(|i| format!("X-H{i}: v\r\n"))
                .collect::<String>()
        );
        let cases: Vec<(Vec<u8>, u16)> = vec![
            // hyper's own parser errors.
            (huge_header.into_bytes(), 431),
            (many_headers.into_bytes(), 431),
            (
                b"POST /tam HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".to_vec(),
                400,
            ),
            (
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(),
                400,
            ),
            (b"POST /t\x01am HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400),
            (b"GARBAGE\r\n\r\n".to_vec(), 400),
            // The server's own checks.
            (
                b"POST /tam HTTP/1.1\r\nContent-Length: 0\r\n\r\n".to_vec(),
                400,
            ),
            (
                b"POST /tam HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 0\r\n\r\n".to_vec(),
                400,
            ),
            (
                format!(
                    "POST /tam HTTP/1.1\r\nHost: x\r\nContent-Type: application/otrp+json\r\n\
                     Content-Length: {}\r\n\r\n",
                    1 << 30
                )
                .into_bytes(),
                413,
            ),
            (
                b"POST /tam HTTP/1.1\r\nHost: x\r\nContent-Type: application/otrp+json\r\n\
                  Transfer-Encoding: chunked\r\n\r\nzz\r\n"
                    .to_vec(),
                400,
            ),
        ];
        for (i, (bytes, status)) in cases.iter().enumerate() {
            let r = raw_bytes(addr, bad, bytes);
            assert_eq!(r.status, *status, "case {i}");
            r.assert_security_headers();
        }
        // HTTP/1.0 needs no Host.
        let r = raw_bytes(
            addr,
            bad,
            b"POST /tam HTTP/1.0\r\nAccept: application/otrp+json\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(r.status, 200);
        r.assert_security_headers();
    });
    assert_eq!(completed(&app), 2);
}

#[test]
fn a_client_that_hangs_up_mid_step_leaves_no_session_stuck() {
    // A slow TAM application: each step takes 300 ms.
    let mut slow = Scripted::new(lifecycle(Kind::Ec));
    Arc::get_mut(&mut slow).unwrap().delay = Some(Duration::from_millis(300));
    let server = start(Kind::Ec, slow.clone(), test_config());
    let addr = server.local_addr();
    let ip = client_ip(0, 40);
    let first = post_from(ip, addr, None, b"");
    let id = first.session_cookie().unwrap();
    let dir = TempDir::new("hangup");
    let mut tee = open_tee(Kind::Ec, dir.path());
    let answer = tee.handle(&first.body, now()).unwrap();
    // Send the answer and hang up before the step is done.
    {
        let mut s = connect_from(ip, addr).unwrap();
        write!(
            s,
            "POST /tam HTTP/1.1\r\nHost: x\r\nCookie: otrp-session={id}\r\n\
             Content-Type: application/otrp+json\r\nContent-Length: {}\r\n\r\n",
            answer.len()
        )
        .unwrap();
        s.write_all(&answer).unwrap();
    }
    // The step finished anyway: the same answer gets the step's stored
    // reply (a step stuck busy would make it wait past the client's read
    // timeout; a second run would be refused, 400, the request being
    // answered already), and the session goes on.
    std::thread::sleep(Duration::from_millis(600));
    let r = post_from(ip, addr, Some(&id), &answer);
    assert_eq!(r.status, 200);
    let mut body = r.body;
    loop {
        let answer = tee.handle(&body, now()).unwrap();
        let r = post_from(ip, addr, Some(&id), &answer);
        if r.status == 204 {
            break;
        }
        assert_eq!(r.status, 200);
        body = r.body;
    }
    assert_eq!(slow.finished_sessions(), ["completed"]);
    assert_lifecycle_events(&slow.done.lock().unwrap()[0].events);
}
