//! Whole exchanges over loopback: the TAM server with a scripted TamApp and
//! the agent with the soft TEE behind it, through the lifecycle of one TA
//! (GetDeviceState, CreateSD, InstallTA, UpdateTA, DeleteTA, DeleteSD), over
//! plain HTTP and over TLS, and two agents at once.

mod support;

use std::time::Duration;

use otrp_http::{Agent, AgentError};
use support::*;

/// What the soft TEE holds after each TAM message of [`lifecycle`].
fn expected_device_views() -> Vec<Vec<(String, Vec<String>)>> {
    let sd = |tas: &[&str]| {
        vec![(
            "sd1".to_string(),
            tas.iter().map(|t| t.to_string()).collect(),
        )]
    };
    vec![
        vec![],       // GetDeviceState
        sd(&[]),      // CreateSD
        sd(&["ta1"]), // InstallTA
        sd(&["ta1"]), // UpdateTA
        sd(&[]),      // DeleteTA
        vec![],       // DeleteSD
    ]
}

fn check_exchange(report: &otrp_http::AgentReport, device: &Device) {
    // The opening POST plus one POST per answer; the last answer is a 204.
    assert!(report.ended_by_tam);
    assert_eq!(report.exchanges.len(), LIFECYCLE_KINDS.len() + 1);
    assert_eq!(report.exchanges[0].sent, 0);
    for (i, x) in report.exchanges.iter().enumerate() {
        if i + 1 < report.exchanges.len() {
            assert_eq!(x.status, 200, "round trip {i}");
            assert!(x.received > 0, "round trip {i}");
        } else {
            assert_eq!(x.status, 204);
            assert_eq!(x.received, 0);
        }
        if i > 0 {
            assert!(x.sent > 0, "round trip {i} carried the TEE's answer");
        }
    }
    assert_eq!(device.seen, expected_device_views());
    assert!(device.errors.is_empty(), "{:?}", device.errors);
}

#[test]
fn full_lifecycle_over_http() {
    for kind in BOTH {
        let app = Scripted::new(lifecycle(kind));
        let server = start(kind, app.clone(), test_config());
        let dir = TempDir::new(&format!("lifecycle-{}", kind.dir()));
        let mut device = Device::new(kind, dir.path());

        let report = Agent::new(&server.url())
            .unwrap()
            .with_request_timeout(Duration::from_secs(30))
            .run_blocking(&mut device)
            .unwrap();
        check_exchange(&report, &device);

        // The TAM side saw every answer as an authentic success, and its
        // view of the device ends empty like the device itself.
        assert!(wait_until(Duration::from_secs(5), || app
            .done
            .lock()
            .unwrap()
            .len()
            == 1));
        let done = app.done.lock().unwrap();
        assert_eq!(done[0].end, "completed");
        assert_lifecycle_events(&done[0].events);
        let dsi = done[0].device.dsi(TEE_NAME).unwrap();
        assert!(dsi.tee.sdlist.sd.is_empty());
        assert!(device.tee.state().sds.is_empty());
        assert_eq!(server.session_count(), 0);
    }
}

#[test]
fn full_lifecycle_over_tls() {
    let kind = Kind::Ec;
    let (tls, ca_pem) = tls_identity();
    let app = Scripted::new(lifecycle(kind));
    let config = otrp_http::ServerConfig {
        tls: Some(tls),
        ..test_config()
    };
    let server = start(kind, app.clone(), config);
    let url = server.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let dir = TempDir::new("tls");
    let mut device = Device::new(kind, dir.path());
    let report = Agent::new(&url)
        .unwrap()
        .with_root_certificates_pem(&ca_pem)
        .unwrap()
        .run_blocking(&mut device)
        .unwrap();
    check_exchange(&report, &device);
    assert!(wait_until(Duration::from_secs(5), || app
        .done
        .lock()
        .unwrap()
        .len()
        == 1));
    assert_eq!(app.finished_sessions(), ["completed"]);
    assert_lifecycle_events(&app.done.lock().unwrap()[0].events);

    // Without trust anchors, https is refused before connecting.
    let mut unused = Device::new(kind, TempDir::new("tls-none").path());
    assert!(matches!(
        Agent::new(&url).unwrap().run_blocking(&mut unused),
        Err(AgentError::NoTrustAnchors)
    ));

    // A server certificate from another CA fails validation: no POST
    // reaches the TAM, and the handler is told (draft 5.5).
    let (_, other_ca) = tls_identity();
    let dir = TempDir::new("tls-other");
    let mut stranger = Device::new(kind, dir.path());
    let err = Agent::new(&url)
        .unwrap()
        .with_root_certificates_pem(&other_ca)
        .unwrap()
        .run_blocking(&mut stranger)
        .unwrap_err();
    match &err {
        AgentError::Http(text) => assert!(text.contains("certificate"), "{text}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(stranger.errors, [err.to_string()]);
    assert!(stranger.seen.is_empty());

    // Plain http to the TLS port is not answered as OTrP.
    let plain = url.replace("https://", "http://");
    let mut confused = Device::new(kind, TempDir::new("tls-plain").path());
    assert!(
        Agent::new(&plain)
            .unwrap()
            .run_blocking(&mut confused)
            .is_err()
    );
    assert!(confused.seen.is_empty());

    // None of the failed attempts opened a session.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(app.finished_sessions(), ["completed"]);
    assert_eq!(server.session_count(), 0);
}

#[test]
fn two_agents_at_once() {
    let kind = Kind::Ec;
    let mut app = Scripted::new(lifecycle(kind));
    // A slow back end, so that the two exchanges overlap.
    std::sync::Arc::get_mut(&mut app).unwrap().delay = Some(Duration::from_millis(50));
    let server = start(kind, app.clone(), test_config());
    let url = server.url();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let agents: Vec<_> = (0..2)
        .map(|i| {
            let url = url.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let dir = TempDir::new(&format!("two-{i}"));
                let mut device = Device::new(kind, dir.path());
                barrier.wait();
                let report = Agent::new(&url).unwrap().run_blocking(&mut device).unwrap();
                check_exchange(&report, &device);
                report
            })
        })
        .collect();
    let reports: Vec<_> = agents.into_iter().map(|a| a.join().unwrap()).collect();
    assert_eq!(reports.len(), 2);
    assert!(wait_until(Duration::from_secs(5), || app
        .done
        .lock()
        .unwrap()
        .len()
        == 2));
    let done = app.done.lock().unwrap();
    for f in done.iter() {
        assert_eq!(f.end, "completed");
        assert_lifecycle_events(&f.events);
    }
    // Two devices with their own TEE key pairs would have distinct dids;
    // here both soft TEEs use the fixture identity, so the TAM's sessions
    // are told apart by their HTTP session only.
    assert_eq!(server.session_count(), 0);
}

#[test]
fn the_handler_can_end_the_exchange() {
    // A TEE that passes no data back (draft 5.3): the agent stops without
    // another POST, and the TAM's session later expires.
    let kind = Kind::Ec;
    let app = Scripted::new(lifecycle(kind));
    let config = otrp_http::ServerConfig {
        session_timeout: Duration::from_millis(300),
        ..test_config()
    };
    let server = start(kind, app.clone(), config);
    let mut calls = 0;
    let report = Agent::new(&server.url())
        .unwrap()
        .run_blocking(
            &mut |_m: &[u8]| -> Result<Vec<u8>, otrp_http::HandlerError> {
                calls += 1;
                Ok(Vec::new())
            },
        )
        .unwrap();
    assert_eq!(calls, 1);
    assert!(!report.ended_by_tam);
    assert_eq!(report.exchanges.len(), 1);
    assert!(wait_until(Duration::from_secs(5), || server
        .session_count()
        == 0));
    assert!(wait_until(Duration::from_secs(5), || app
        .finished_sessions()
        == ["expired"]));
}

#[test]
fn a_handler_failure_is_reported() {
    let kind = Kind::Ec;
    let app = Scripted::new(lifecycle(kind));
    let server = start(kind, app, test_config());
    let err = Agent::new(&server.url())
        .unwrap()
        .run_blocking(
            &mut |_m: &[u8]| -> Result<Vec<u8>, otrp_http::HandlerError> {
                Err("the TEE is unreachable".into())
            },
        )
        .unwrap_err();
    match err {
        AgentError::Handler(e) => assert_eq!(e.to_string(), "the TEE is unreachable"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tls_from_pem_files_and_the_agent_trusting_a_root_file() {
    let kind = Kind::Ec;
    let (chain, key, ca) = tls_identity_pem();
    let files = TempDir::new("tls-files");
    let (chain_path, key_path, ca_path) = (
        files.path().join("tam.pem"),
        files.path().join("tam.key"),
        files.path().join("root.pem"),
    );
    std::fs::write(&chain_path, &chain).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    std::fs::write(&ca_path, &ca).unwrap();

    let tls = otrp_http::ServerTls::from_pem_files(&chain_path, &key_path).unwrap();
    let app = Scripted::new(lifecycle(kind));
    let config = otrp_http::ServerConfig {
        tls: Some(tls),
        ..test_config()
    };
    let server = start(kind, app.clone(), config);
    let dir = TempDir::new("tls-files-device");
    let mut device = Device::new(kind, dir.path());
    let report = Agent::new(&server.url())
        .unwrap()
        .with_root_certificates_pem_file(&ca_path)
        .unwrap()
        .run_blocking(&mut device)
        .unwrap();
    check_exchange(&report, &device);

    // Unusable files: clear errors naming the problem.
    let missing = files.path().join("nope.pem");
    let err = otrp_http::ServerTls::from_pem_files(&missing, &key_path).unwrap_err();
    assert!(err.to_string().contains("nope.pem"), "{err}");
    // The key file given as the certificate, and the reverse.
    assert!(otrp_http::ServerTls::from_pem_files(&key_path, &key_path).is_err());
    assert!(otrp_http::ServerTls::from_pem_files(&chain_path, &chain_path).is_err());
    let err = Agent::new(&server.url())
        .unwrap()
        .with_root_certificates_pem_file(&key_path)
        .unwrap_err();
    assert!(matches!(err, AgentError::Tls(_)), "{err:?}");
    assert!(matches!(
        Agent::new(&server.url())
            .unwrap()
            .with_root_certificates_pem_file(&missing),
        Err(AgentError::Tls(_))
    ));
    assert_eq!(app.finished_sessions(), ["completed"]);
}

#[test]
fn a_retry_step_answers_503_and_the_same_answer_goes_on() {
    // The app cannot take the step after GetDeviceState once per session
    // (its database is away): 503 + Retry-After, the session stays where
    // it was, and the same answer sent again goes on.
    let kind = Kind::Ec;
    let mut script = lifecycle(kind);
    script.insert(1, otrp_http::Step::Retry);
    let app = Scripted::new(script);
    let server = start(kind, app.clone(), test_config());
    // Without retries the agent reports the 503.
    let dir = TempDir::new("retry-none");
    let mut device = Device::new(kind, dir.path());
    let err = Agent::new(&server.url())
        .unwrap()
        .run_blocking(&mut device)
        .unwrap_err();
    assert!(
        matches!(err, AgentError::Status { status: 503, .. }),
        "{err}"
    );
    // With one, it waits as told and sends the same answer again.
    let dir = TempDir::new("retry-one");
    let mut device = Device::new(kind, dir.path());
    let report = Agent::new(&server.url())
        .unwrap()
        .with_retries(1)
        .with_request_timeout(Duration::from_secs(30))
        .run_blocking(&mut device)
        .unwrap();
    check_exchange(&report, &device);
    assert!(report.exchanges[1].round_trip >= Duration::from_secs(1));
}
