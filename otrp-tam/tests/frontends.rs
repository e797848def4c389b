//! Stateless front ends (issue 16, item 1): several OTrP/HTTP servers on
//! one database, each POST of a device's exchange sent to any of them, on
//! every database of `support::databases`.

mod support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use otrp_http::{
    Admission, ServerConfig, SessionStore, SessionStoreError, StoredSession, Taken, TamServer,
};
use otrp_tam::TamService;
use otrp_tam::clock::{Clock, unix_ms};
use otrp_tam::policy::{DeviceSel, PolicyEntry, VersionSel};
use support::*;

const OP: &str = "operator";

/// One HTTP/1.1 POST; the status, the headers (lowercase names) and body.
fn post(
    addr: SocketAddr,
    cookie: Option<&str>,
    body: &[u8],
) -> (u16, HashMap<String, String>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: otrp-session={c}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST /tam HTTP/1.1\r\nHost: x\r\n{cookie}Accept: application/otrp+json\r\n\
         Content-Type: application/otrp+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let body = out[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body)
}

/// The session id a first answer sets.
fn cookie_of(headers: &HashMap<String, String>) -> String {
    let set = &headers["set-cookie"];
    let value = set.strip_prefix("otrp-session=").unwrap();
    value.split(';').next().unwrap().to_string()
}

/// Publishes TA `taid` v1 for every device.
fn publish(service: &TamService, fleet: &Fleet, taids: &[&str]) {
    let store = service.store();
    service
        .block_on(store.add_sp_anchors(&fleet.anchors(), OP, 0))
        .unwrap();
    for taid in taids {
        service
            .block_on(otrp_tam::catalog::add(
                store,
                &provider(),
                "sp1",
                &fleet.image(taid, 1),
                OP,
                1,
            ))
            .unwrap();
        let entry = PolicyEntry {
            taid: taid.to_string(),
            spid: "sp1".into(),
            sdname: "sd1".into(),
            version: VersionSel::Latest,
            devices: DeviceSel::All,
        };
        service.block_on(store.set_policy(&entry, OP, 2)).unwrap();
    }
}

/// `n` stateless front ends on the database of `service`.
fn front_ends(
    fleet: &Fleet,
    url: &str,
    n: usize,
    config: ServerConfig,
) -> Vec<(Arc<TamService>, TamServer)> {
    (0..n)
        .map(|_| {
            let service = Arc::new(service(url, Clock::system()));
            let server = TamServer::start_stateless(
                "127.0.0.1:0".parse().unwrap(),
                fleet.tam.clone(),
                service.clone(),
                service.session_store(),
                config.clone(),
            )
            .unwrap();
            (service, server)
        })
        .collect()
}

/// Runs one exchange of device `d`, its k-th POST sent to `route(k)`;
/// returns the number of POSTs.
fn exchange(
    d: &mut otrp_core::broker::Broker<otrp_core::tee::Tee>,
    route: &mut dyn FnMut(usize) -> SocketAddr,
) -> usize {
    let (status, headers, mut request) = post(route(0), None, b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&request));
    let id = cookie_of(&headers);
    let mut k = 1;
    loop {
        let answer = d.process(&request, now()).into_bytes();
        let (status, _, body) = post(route(k), Some(&id), &answer);
        k += 1;
        match status {
            200 => request = body,
            204 => return k,
            other => panic!("{other}: {}", String::from_utf8_lossy(&body)),
        }
        assert!(k < 64, "the exchange does not end");
    }
}

fn compliant(service: &TamService, n: usize) {
    let reports = service
        .block_on(otrp_tam::report::devices(service.store()))
        .unwrap();
    assert_eq!(reports.len(), n);
    for r in &reports {
        assert!(r.compliant, "{r:?}");
    }
}

#[test]
fn each_post_of_a_session_may_land_on_another_front_end() {
    each_database(3, "frontends", |fleet, url| {
        let ends = front_ends(fleet, url, 2, ServerConfig::default());
        publish(&ends[0].0, fleet, &["wallet", "pay"]);
        let addrs: Vec<SocketAddr> = ends.iter().map(|e| e.1.local_addr()).collect();
        let mut devices: Vec<_> = (0..3).map(|i| fleet.device(i)).collect();
        for (i, d) in devices.iter_mut().enumerate() {
            // Alternate, starting on either front end.
            let posts = exchange(d, &mut |k| addrs[(k + i) % 2]);
            // Connect, GetDeviceState, CreateSD, two InstallTAs.
            assert_eq!(posts, 5);
        }
        for (i, d) in devices.iter().enumerate() {
            let mut tas: Vec<_> = tee_contents(d, i).into_iter().map(|t| t.1).collect();
            tas.sort();
            assert_eq!(tas, ["pay", "wallet"]);
        }
        compliant(&ends[1].0, 3);
        // Each command reached the device once: one audit entry each.
        let (log, _) = ends[0].0.block_on(ends[0].0.store().audit_log()).unwrap();
        let commands = log.iter().filter(|e| e.action == "command").count();
        assert_eq!(commands, 3 * 3);
        // Only tombstones are left, and no lock.
        let counts = ends[0]
            .0
            .block_on(ends[0].0.store().session_counts(unix_ms()))
            .unwrap();
        assert_eq!((counts.live, counts.locked), (0, 0), "{counts:?}");
        assert_eq!(counts.rows, 3);
    });
}

#[test]
fn a_front_end_gone_mid_session_leaves_the_session_to_the_other() {
    each_database(1, "frontend_gone", |fleet, url| {
        let mut ends = front_ends(fleet, url, 2, ServerConfig::default());
        publish(&ends[0].0, fleet, &["wallet"]);
        let a = ends[0].1.local_addr();
        let b = ends[1].1.local_addr();
        let mut d = fleet.device(0);
        // A opens the exchange and sends GetDeviceState and CreateSD...
        let (status, headers, request) = post(a, None, b"");
        assert_eq!(status, 200);
        let id = cookie_of(&headers);
        let answer = d.process(&request, now()).into_bytes();
        let (status, _, request) = post(a, Some(&id), &answer);
        assert_eq!(status, 200);
        // ...and goes away with the CreateSD outstanding.
        let (_, server) = ends.remove(0);
        server.shutdown();
        let answer = d.process(&request, now()).into_bytes();
        let mut request = {
            let (status, _, body) = post(b, Some(&id), &answer);
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            body
        };
        loop {
            let answer = d.process(&request, now()).into_bytes();
            let (status, _, body) = post(b, Some(&id), &answer);
            if status == 204 {
                break;
            }
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            request = body;
        }
        assert_eq!(tee_contents(&d, 0), [("sd1".into(), "wallet".into(), 1)]);
        compliant(&ends[0].0, 1);
    });
}

#[test]
fn two_front_ends_racing_on_one_answer_apply_it_once() {
    each_database(1, "frontend_race", |fleet, url| {
        let ends = front_ends(fleet, url, 2, ServerConfig::default());
        publish(&ends[0].0, fleet, &["wallet"]);
        let addrs: Vec<SocketAddr> = ends.iter().map(|e| e.1.local_addr()).collect();
        let mut d = fleet.device(0);
        let (_, headers, mut request) = post(addrs[0], None, b"");
        let id = cookie_of(&headers);
        let mut rounds = 0;
        loop {
            let answer = d.process(&request, now()).into_bytes();
            // The same answer to both front ends at once.
            let replies: Vec<_> = std::thread::scope(|s| {
                let handles: Vec<_> = addrs
                    .iter()
                    .map(|a| {
                        let (id, answer) = (&id, &answer);
                        s.spawn(move || post(*a, Some(id), answer))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            // One ran the step; the other answered the same reply again
            // (it came after the step) or 503 Retry-After (during it).
            let done: Vec<_> = replies.iter().filter(|r| r.0 != 503).collect();
            assert!(!done.is_empty());
            for r in &replies {
                assert!(matches!(r.0, 200 | 204 | 503), "{}", r.0);
                if r.0 == 503 {
                    assert_eq!(r.1["retry-after"], "1");
                }
            }
            assert!(
                done.windows(2)
                    .all(|w| w[0].0 == w[1].0 && w[0].2 == w[1].2)
            );
            rounds += 1;
            if done[0].0 == 204 {
                break;
            }
            request = done[0].2.clone();
            assert!(rounds < 16);
        }
        assert_eq!(tee_contents(&d, 0), [("sd1".into(), "wallet".into(), 1)]);
        let (log, _) = ends[0].0.block_on(ends[0].0.store().audit_log()).unwrap();
        let commands: Vec<_> = log.iter().filter(|e| e.action == "command").collect();
        assert_eq!(commands.len(), 2, "{commands:?}");
        assert!(
            !log.iter().any(|e| e.action == "command.unanswered"),
            "{log:?}"
        );
    });
}

#[test]
fn a_silent_device_holds_no_session_lock_or_claim_beyond_its_timeout() {
    each_database(1, "frontend_silent", |fleet, url| {
        let timeout = Duration::from_millis(800);
        let config = ServerConfig {
            session_timeout: timeout,
            ..ServerConfig::default()
        };
        let ends = front_ends(fleet, url, 2, config);
        publish(&ends[0].0, fleet, &["wallet"]);
        let a = ends[0].1.local_addr();
        let mut d = fleet.device(0);
        let (_, headers, request) = post(a, None, b"");
        let id = cookie_of(&headers);
        let answer = d.process(&request, now()).into_bytes();
        let (status, _, _create_sd) = post(a, Some(&id), &answer);
        assert_eq!(status, 200);
        let service = &ends[1].0;
        let store = service.store();
        let claimed = service.block_on(store.devices()).unwrap();
        assert!(claimed[0].claim.is_some());
        // The device goes silent: within the timeout (and a reaper tick),
        // the session is gone from the database and its claim released.
        let start = Instant::now();
        loop {
            let counts = service.block_on(store.session_counts(unix_ms())).unwrap();
            let rows = service.block_on(store.devices()).unwrap();
            if counts.rows == 0 && rows[0].claim.is_none() {
                assert_eq!(counts.locked, 0);
                break;
            }
            assert!(
                start.elapsed() < timeout + Duration::from_secs(5),
                "{counts:?} {:?}",
                rows[0].claim
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let (log, _) = service.block_on(store.audit_log()).unwrap();
        assert_eq!(
            log.iter()
                .filter(|e| e.action == "command.unanswered")
                .count(),
            1,
            "{log:?}"
        );
        // A late answer finds no session.
        let (status, _, _) = post(ends[1].1.local_addr(), Some(&id), b"{}");
        assert_eq!(status, 400);
        // The device's next session installs the TA.
        exchange(&mut d, &mut |_| ends[1].1.local_addr());
        assert_eq!(tee_contents(&d, 0), [("sd1".into(), "wallet".into(), 1)]);
    });
}

/// The session store of `inner` whose expiry pass blocks until the gate
/// opens (a database that is down or slow for the reaper).
struct StuckExpiry {
    inner: Arc<dyn SessionStore>,
    /// Set once a pass is blocked; opened by the test.
    entered: std::sync::mpsc::SyncSender<()>,
    gate: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

impl SessionStore for StuckExpiry {
    fn open(
        &self,
        session: &StoredSession,
        max_per_client: usize,
        locked_until: i64,
        now: i64,
    ) -> Result<Admission, SessionStoreError> {
        self.inner.open(session, max_per_client, locked_until, now)
    }
    fn take(
        &self,
        id: &str,
        digest: &[u8; 32],
        locked_until: i64,
        now: i64,
    ) -> Result<Taken, SessionStoreError> {
        self.inner.take(id, digest, locked_until, now)
    }
    fn save(&self, session: &StoredSession) -> Result<bool, SessionStoreError> {
        self.inner.save(session)
    }
    fn release(&self, id: &str, step: i64) -> Result<(), SessionStoreError> {
        self.inner.release(id, step)
    }
    fn end_by(
        &self,
        id: &str,
        peer: std::net::IpAddr,
    ) -> Result<Option<StoredSession>, SessionStoreError> {
        self.inner.end_by(id, peer)
    }
    fn expire(&self, now: i64) -> Result<Vec<StoredSession>, SessionStoreError> {
        let _ = self.entered.try_send(());
        let (open, opened) = &*self.gate;
        let mut open = open.lock().unwrap();
        let until = Instant::now() + Duration::from_secs(60);
        while !*open && Instant::now() < until {
            open = opened.wait_timeout(open, Duration::from_secs(1)).unwrap().0;
        }
        drop(open);
        self.inner.expire(now)
    }
}

#[test]
fn a_stuck_reaper_does_not_hold_up_new_connections() {
    // The fault test of a PostgreSQL restart waited 20-30 s for a 503: the
    // accept loop awaited each reaper pass, and every pass waited out the
    // pool's timeout.
    each_database(1, "frontend_stuck_reaper", |fleet, url| {
        let service = Arc::new(service(url, Clock::system()));
        publish(&service, fleet, &["wallet"]);
        let (entered, blocked) = std::sync::mpsc::sync_channel(1);
        let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let store = StuckExpiry {
            inner: service.session_store(),
            entered,
            gate: gate.clone(),
        };
        let config = ServerConfig {
            session_timeout: Duration::from_millis(40),
            read_timeout: Duration::from_secs(10),
            ..ServerConfig::default()
        };
        let server = TamServer::start_stateless(
            "127.0.0.1:0".parse().unwrap(),
            fleet.tam.clone(),
            service.clone(),
            Arc::new(store),
            config,
        )
        .unwrap();
        blocked.recv_timeout(Duration::from_secs(10)).unwrap();
        // A whole exchange while the reaper's pass is blocked.
        let mut d = fleet.device(0);
        let addr = server.local_addr();
        let (status, headers, request) = post(addr, None, b"");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&request));
        let id = cookie_of(&headers);
        let answer = d.process(&request, now()).into_bytes();
        let (status, _, body) = post(addr, Some(&id), &answer);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let (open, opened) = &*gate;
        *open.lock().unwrap() = true;
        opened.notify_all();
    });
}
