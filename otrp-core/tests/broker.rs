//! The OTrP Broker (sections 6.4, 10) between a TAM session and soft TEEs:
//! ProcessOTrPMessage routing (GetDeviceState to every TEE, commands to the
//! TEE named in the signed payload), OTrPBrokerError for unknown, busy and
//! silent TEEs with the request's rid/tid, and GetTAInformation signed by
//! the TEE SP AIK and verified by a Client Application.

otrp_test_support::provider_under_test!(rustcrypto);

mod tam_support;

use std::path::Path;

use otrp_core::broker::{Answer, Broker, BrokerFailure, EndpointError, TeeEndpoint, routing_info};
use otrp_core::crypto::PublicKey;
use otrp_core::message::{
    ErrorCode, Limits, MessageKind, TaInfoError, TaQuery, verify_ta_information,
};
use otrp_core::pki::{TrustAnchors, UnixTime};
use otrp_core::tam::{Command, Event, TamSession, TeeResult};
use otrp_core::tee::{Tee, TeeConfig};
use otrp_soft_tee::{SoftIdentity, SoftTeeOptions};
use tam_support::soft::{fresh_dir, pkcs8_der, ta_image};
use tam_support::*;

const KIND: Kind = Kind::Ec;

/// A TEE for the broker: a real soft TEE, or one that never answers.
#[allow(clippy::large_enum_variant)]
enum Ep {
    Real(Tee),
    Failing(EndpointError),
}

impl Ep {
    fn tee(&self) -> &Tee {
        match self {
            Ep::Real(t) => t,
            Ep::Failing(_) => panic!("not a real TEE"),
        }
    }
}

impl TeeEndpoint for Ep {
    fn process(&mut self, request: &[u8], now: UnixTime) -> Result<Vec<u8>, EndpointError> {
        match self {
            Ep::Real(t) => TeeEndpoint::process(t, request, now),
            Ep::Failing(e) => Err(e.clone()),
        }
    }

    fn ta_information(&mut self, query: &TaQuery, now: UnixTime) -> Result<Vec<u8>, EndpointError> {
        match self {
            Ep::Real(t) => TeeEndpoint::ta_information(t, query, now),
            Ep::Failing(e) => Err(e.clone()),
        }
    }
}

fn soft_tee(name: &str, dir: &Path) -> Ep {
    let provider = provider(&format!("tee {name}"));
    let identity = SoftIdentity::from_der(
        &provider,
        cert(KIND, "tee"),
        vec![cert(KIND, "tee-ca"), cert(KIND, "tee-root")],
        &pkcs8_der(KIND, "tee"),
    )
    .unwrap();
    let anchors = TrustAnchors::from_certificates([cert(KIND, "tam-root").as_slice()]).unwrap();
    let config = TeeConfig::new(name, anchors);
    Ep::Real(
        otrp_soft_tee::open(dir, config, provider, identity, SoftTeeOptions::default()).unwrap(),
    )
}

struct Device {
    broker: Broker<Ep>,
    dirs: Vec<std::path::PathBuf>,
}

impl Drop for Device {
    fn drop(&mut self) {
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A broker with real TEEs `real` and failing ones `failing`, in order.
fn device(test: &str, real: &[&str], failing: &[(&str, EndpointError)]) -> Device {
    let mut broker = Broker::new(Limits::DEFAULT);
    let mut dirs = Vec::new();
    for name in real {
        let dir = fresh_dir(&format!("broker-{test}-{name}"));
        broker.register(*name, soft_tee(name, &dir));
        dirs.push(dir);
    }
    for (name, e) in failing {
        broker.register(*name, Ep::Failing(e.clone()));
    }
    Device { broker, dirs }
}

fn create_sd(sdname: &str) -> Command {
    Command::CreateSd {
        spid: "sp1".into(),
        sdname: sdname.into(),
        spcert: cert(KIND, "sp"),
    }
}

/// GetDeviceState through the broker; returns the names the TAM accepted.
fn discover(session: &mut TamSession<'_>, broker: &mut Broker<Ep>) -> Vec<String> {
    let request = session.get_device_state().unwrap();
    let answer = broker.process(&request, now());
    let Event::DeviceState(results) = session.handle_response(&answer.bytes(), now()).unwrap()
    else {
        panic!("not a device state")
    };
    results
        .iter()
        .map(|r| match r {
            TeeResult::Accepted { name, .. } => name.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn get_device_state_reaches_every_tee_and_skips_a_failing_one() {
    let mut d = device(
        "gds",
        &["tee-a", "tee-b"],
        &[("tee-c", EndpointError::Busy)],
    );
    let tam = tam(KIND);
    let mut session = TamSession::new(&tam);
    let request = session.get_device_state().unwrap();
    let answer = d.broker.process(&request, now());
    let Answer::DeviceState {
        answered, failed, ..
    } = &answer
    else {
        panic!("{answer:?}")
    };
    assert_eq!(answered, &["tee-a", "tee-b"]);
    assert_eq!(failed, &[("tee-c".to_string(), EndpointError::Busy)]);
    let Event::DeviceState(results) = session.handle_response(&answer.bytes(), now()).unwrap()
    else {
        panic!()
    };
    let names: Vec<_> = results
        .iter()
        .map(|r| match r {
            TeeResult::Accepted { name, .. } => name.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["tee-a", "tee-b"]);
}

#[test]
fn a_command_goes_only_to_the_tee_its_payload_names() {
    let mut d = device("route", &["tee-a", "tee-b"], &[]);
    let tam = tam(KIND);
    let mut session = TamSession::new(&tam);
    assert_eq!(discover(&mut session, &mut d.broker), ["tee-a", "tee-b"]);

    let request = session.command("tee-b", create_sd("sd1")).unwrap();
    let info = routing_info(&request, &Limits::DEFAULT).unwrap();
    assert_eq!(info.kind, MessageKind::CreateSd);
    assert_eq!(info.tee.as_deref(), Some("tee-b"));
    let answer = d.broker.process(&request, now());
    assert!(matches!(&answer, Answer::Tee { tee, .. } if tee == "tee-b"));
    let event = session.handle_response(&answer.bytes(), now()).unwrap();
    assert!(
        matches!(event, Event::Success { kind: MessageKind::CreateSd, ref tee, .. } if tee == "tee-b")
    );
    assert!(
        d.broker
            .endpoint("tee-b")
            .unwrap()
            .tee()
            .state()
            .sd(TAMID, "sd1")
            .is_some()
    );
    assert!(
        d.broker
            .endpoint("tee-a")
            .unwrap()
            .tee()
            .state()
            .sds
            .is_empty()
    );

    // The same SD name on tee-a is independent.
    let request = session.command("tee-a", create_sd("sd1")).unwrap();
    let answer = d.broker.process(&request, now());
    assert!(matches!(&answer, Answer::Tee { tee, .. } if tee == "tee-a"));
    assert!(matches!(
        session.handle_response(&answer.bytes(), now()).unwrap(),
        Event::Success { .. }
    ));
    assert!(
        d.broker
            .endpoint("tee-a")
            .unwrap()
            .tee()
            .state()
            .sd(TAMID, "sd1")
            .is_some()
    );
}

fn expect_broker_error(answer: &Answer, code: ErrorCode, rid: &str, tid: &str) -> BrokerFailure {
    let Answer::Error { error, reason } = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(error.errcode, code);
    assert_eq!(error.rid.as_str(), rid);
    assert_eq!(error.tid.as_str(), tid);
    // The wire form is the section 10 Type 2 message.
    let wire: serde_json::Value = serde_json::from_slice(&answer.bytes()).unwrap();
    assert_eq!(wire["OTrPBrokerError"]["errcode"], code.as_str());
    assert_eq!(wire["OTrPBrokerError"]["ver"], "1.0");
    reason.clone()
}

#[test]
fn unknown_and_busy_tees_get_broker_errors_with_the_request_ids() {
    let mut d = device("errors", &["tee-a"], &[]);
    let tam = tam(KIND);
    let mut session = TamSession::new(&tam);
    discover(&mut session, &mut d.broker);

    // tee-a disappears: ERR_AGENT_TEE_UNKNOWN, and the TAM sees a broker error.
    let request = session.command("tee-a", create_sd("sd1")).unwrap();
    let info = routing_info(&request, &Limits::DEFAULT).unwrap();
    let real = d.broker.unregister("tee-a").unwrap();
    let answer = d.broker.process(&request, now());
    let reason = expect_broker_error(
        &answer,
        ErrorCode::AgentTeeUnknown,
        info.rid.as_str(),
        info.tid.as_str(),
    );
    assert_eq!(reason, BrokerFailure::UnknownTee("tee-a".into()));
    assert!(!info.rid.as_str().is_empty() && !info.tid.as_str().is_empty());
    match session.handle_response(&answer.bytes(), now()).unwrap() {
        Event::BrokerError(e) => assert_eq!(e.errcode, ErrorCode::AgentTeeUnknown),
        other => panic!("{other:?}"),
    }

    // tee-a busy, then unreachable, then unable to sign: ERR_AGENT_TEE_BUSY.
    for failure in [
        EndpointError::Busy,
        EndpointError::Unreachable("driver closed".into()),
        EndpointError::CannotAnswer,
    ] {
        d.broker.register("tee-a", Ep::Failing(failure.clone()));
        let request = session.command("tee-a", create_sd("sd1")).unwrap();
        let info = routing_info(&request, &Limits::DEFAULT).unwrap();
        let answer = d.broker.process(&request, now());
        let reason = expect_broker_error(
            &answer,
            ErrorCode::AgentTeeBusy,
            info.rid.as_str(),
            info.tid.as_str(),
        );
        assert_eq!(
            reason,
            BrokerFailure::Endpoint {
                tee: "tee-a".into(),
                error: failure
            }
        );
        assert!(matches!(
            session.handle_response(&answer.bytes(), now()).unwrap(),
            Event::BrokerError(_)
        ));
    }

    // Back to the real TEE: nothing was changed by the failures.
    d.broker.register("tee-a", real);
    assert!(
        d.broker
            .endpoint("tee-a")
            .unwrap()
            .tee()
            .state()
            .sds
            .is_empty()
    );
}

#[test]
fn get_device_state_with_no_answer_is_a_broker_error() {
    let tam = tam(KIND);
    let mut session = TamSession::new(&tam);
    let request = session.get_device_state().unwrap();
    let info = routing_info(&request, &Limits::DEFAULT).unwrap();
    assert_eq!(info.tee, None);

    let mut d = device("none", &[], &[]);
    let reason = expect_broker_error(
        &d.broker.process(&request, now()),
        ErrorCode::AgentTeeUnknown,
        info.rid.as_str(),
        info.tid.as_str(),
    );
    assert_eq!(reason, BrokerFailure::NoTees);

    let mut d = device(
        "allfail",
        &[],
        &[
            ("x", EndpointError::Busy),
            ("y", EndpointError::CannotAnswer),
        ],
    );
    let answer = d.broker.process(&request, now());
    let reason = expect_broker_error(
        &answer,
        ErrorCode::AgentTeeBusy,
        info.rid.as_str(),
        info.tid.as_str(),
    );
    assert_eq!(reason, BrokerFailure::NoAnswer);
    assert!(matches!(
        session.handle_response(&answer.bytes(), now()).unwrap(),
        Event::BrokerError(_)
    ));
}

#[test]
fn messages_that_are_not_routable_requests() {
    let mut d = device("junk", &["tee-a"], &[]);
    for junk in [
        &b"not json"[..],
        br#"{"CreateSDResponse": {"payload": "e30", "protected": "e30", "signature": ""}}"#,
        br#"{"Whatever": {}}"#,
    ] {
        let answer = d.broker.process(junk, now());
        let reason = expect_broker_error(&answer, ErrorCode::AgentTeeUnknown, "", "");
        assert!(
            matches!(reason, BrokerFailure::NotARequest(_)),
            "{reason:?}"
        );
    }
    // A request whose payload names no TEE (an unreadable payload).
    let no_tee =
        br#"{"CreateSDRequest": {"payload": "eyJDcmVhdGVTRFRCU1JlcXVlc3QiOnsicmlkIjoiMSIsInRpZCI6IjIifX0", "protected": "eyJhbGciOiJSUzI1NiJ9", "signature": "AA"}}"#;
    let answer = d.broker.process(no_tee, now());
    let reason = expect_broker_error(&answer, ErrorCode::AgentTeeUnknown, "1", "2");
    assert_eq!(reason, BrokerFailure::NoTeeNamed);
}

/// A device with ta1 installed in sd1 on tee-a; returns the broker, the
/// session's TEE SP AIK for sp1 (as a Client Application would get it from
/// its TAM).
fn with_installed_ta(test: &str) -> (Device, PublicKey) {
    let mut d = device(test, &["tee-a"], &[]);
    let tam = tam(KIND);
    let mut session = TamSession::new(&tam);
    discover(&mut session, &mut d.broker);
    for command in [
        create_sd("sd1"),
        Command::InstallTa {
            spid: "sp1".into(),
            sdname: "sd1".into(),
            taid: "ta1".into(),
            spcert: None,
            ta: ta_image(KIND, "ta1", 1, b"ta one"),
            pdata: None,
        },
    ] {
        let request = session.command("tee-a", command).unwrap();
        let answer = d.broker.process(&request, now());
        assert!(matches!(
            session.handle_response(&answer.bytes(), now()).unwrap(),
            Event::Success { .. }
        ));
    }
    let dsi = session.state().dsi("tee-a").unwrap();
    let aik = &dsi.tee.teeaiklist[0];
    assert_eq!(aik.spid, "sp1");
    use otrp_core::crypto::KeyLoader;
    let key = otrp_crypto_rustcrypto::KEY_LOADER
        .public_key_from_spki_der(aik.spaik.as_bytes())
        .unwrap();
    (d, key)
}

#[test]
fn ta_information_is_signed_by_the_sp_aik_and_verifies() {
    let (mut d, aik) = with_installed_ta("tainfo");
    let provider = otrp_crypto_rustcrypto::provider();
    let query = TaQuery::new("sp1", "ta1");
    assert_eq!(
        TaQuery::parse(&query.to_vec(), &Limits::DEFAULT).unwrap(),
        query
    );
    let bytes = d.broker.ta_information(None, &query, now()).unwrap();
    let info = verify_ta_information(&bytes, &provider, &aik, &query, &Limits::DEFAULT).unwrap();
    assert_eq!(info.taid, "ta1");
    assert_eq!(info.spid, "sp1");
    assert_eq!(info.tamid, "https://tam.example.com/tam1");
    assert_eq!(info.signercert.as_bytes(), cert(KIND, "sp"));
    assert!(info.signercacerts.is_empty(), "the TEE has no SP roots");
    assert_eq!(info.tamcert.as_bytes(), cert(KIND, "tam"));
    assert_eq!(info.tamcacerts.len(), 1);
    assert_eq!(info.tamcacerts[0].as_bytes(), cert(KIND, "tam-root"));

    // The header carries the AIK as a JWK (6.4.2).
    let wire: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(wire["TAInformation"]["header"]["signer"]["kty"], "EC");

    // Asking the named TEE gives the same kind of answer.
    let again = d
        .broker
        .ta_information(Some("tee-a"), &query, now())
        .unwrap();
    verify_ta_information(&again, &provider, &aik, &query, &Limits::DEFAULT).unwrap();
}

#[test]
fn ta_information_is_refused_with_a_wrong_aik_or_query() {
    let (mut d, aik) = with_installed_ta("tainfo-bad");
    let provider = otrp_crypto_rustcrypto::provider();
    let query = TaQuery::new("sp1", "ta1");
    let bytes = d.broker.ta_information(None, &query, now()).unwrap();

    // Another P-256 key (the TEE's own) is not the SP AIK.
    let wrong = public_of(&cert(KIND, "tee"));
    assert_ne!(wrong, aik);
    assert_eq!(
        verify_ta_information(&bytes, &provider, &wrong, &query, &Limits::DEFAULT),
        Err(TaInfoError::SignerMismatch)
    );
    // Without the header key, the signature itself is what fails.
    let mut wire: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    wire["TAInformation"]
        .as_object_mut()
        .unwrap()
        .remove("header");
    let stripped = serde_json::to_vec(&wire).unwrap();
    verify_ta_information(&stripped, &provider, &aik, &query, &Limits::DEFAULT).unwrap();
    assert!(matches!(
        verify_ta_information(&stripped, &provider, &wrong, &query, &Limits::DEFAULT),
        Err(TaInfoError::Jose(_))
    ));
    // An answer about another TA.
    assert_eq!(
        verify_ta_information(
            &bytes,
            &provider,
            &aik,
            &TaQuery::new("sp1", "ta2"),
            &Limits::DEFAULT
        ),
        Err(TaInfoError::QueryMismatch("taid"))
    );

    // Unknown TA or SP: the TEE refuses.
    for q in [TaQuery::new("sp1", "nope"), TaQuery::new("sp2", "ta1")] {
        assert_eq!(
            d.broker.ta_information(Some("tee-a"), &q, now()),
            Err(BrokerFailure::Endpoint {
                tee: "tee-a".into(),
                error: EndpointError::Query(TaInfoError::TaNotFound)
            })
        );
    }
    assert_eq!(
        d.broker.ta_information(Some("tee-z"), &query, now()),
        Err(BrokerFailure::UnknownTee("tee-z".into()))
    );
}
