//! The fuzz targets' bodies (`otrp_benches::fuzz`) over their seed corpora
//! (`fuzz/seeds/<target>/`) and every input a campaign turned into a
//! regression (`fuzz/regressions/<target>/`): none may panic. Also checks
//! that the structure-aware seeds really get past the signature and the
//! state checks (the TEE answers them "pass").

use std::path::PathBuf;

use otrp_benches::fixtures::{Kind, repo_dir};
use otrp_benches::fuzz;
use otrp_benches::now;
use otrp_core::jose::Jws;
use otrp_core::message::{Envelope, Limits};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["fuzz/seeds", "fuzz/regressions"] {
        let d = repo_dir().join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            out.push((p, bytes));
        }
    }
    out.sort();
    out
}

fn run(target: &str, body: fn(&[u8]), min_seeds: usize) {
    let inputs = inputs(target);
    assert!(
        inputs.len() >= min_seeds,
        "{target}: {} inputs (run `cargo run -p otrp-benches --bin fuzz-seeds`)",
        inputs.len()
    );
    for (path, bytes) in inputs {
        let r = std::panic::catch_unwind(|| body(&bytes));
        assert!(r.is_ok(), "{target} panics on {}", path.display());
    }
}

#[test]
fn message_parse() {
    run("message_parse", fuzz::message_parse, 40);
}

#[test]
fn jws_verify() {
    run("jws_verify", fuzz::jws_verify, 10);
}

#[test]
fn jwe_decrypt() {
    run("jwe_decrypt", fuzz::jwe_decrypt, 10);
}

#[test]
fn encrypted_ta() {
    run("encrypted_ta", fuzz::encrypted_ta, 4);
}

#[test]
fn tee_agent_bytes() {
    run("tee_agent_bytes", fuzz::tee_agent_bytes, 10);
}

#[test]
fn tee_agent_signed() {
    run("tee_agent_signed", fuzz::tee_agent_signed, 14);
}

#[test]
fn tam_response() {
    run("tam_response", fuzz::tam_response, 28);
}

#[test]
fn broker_route() {
    run("broker_route", fuzz::broker_route, 56);
}

#[test]
fn http_server() {
    run("http_server", fuzz::http_server, 5);
}

/// The structure-aware HTTP seeds do what they were made for: the
/// lifecycle seed completes the exchange over the offline server (seven
/// answers, then 204), the stolen cookie is refused without ending the
/// device's session, the flood stays within the table, and malformed
/// requests get errors (with the security headers, which the target
/// checks on every response).
#[test]
fn http_seeds_reach_their_states() {
    let seed =
        |name: &str| std::fs::read(repo_dir().join("fuzz/seeds/http_server").join(name)).unwrap();
    assert_eq!(
        fuzz::http_statuses(&seed("lifecycle")),
        [200, 200, 200, 200, 200, 200, 200, 204]
    );
    let stolen = fuzz::http_statuses(&seed("stolen-cookie"));
    assert_eq!(stolen.len(), 4, "{stolen:?}");
    assert!(stolen[2] >= 400, "{stolen:?}");
    assert_eq!(stolen[3], 200, "the device's session goes on: {stolen:?}");
    let flood = fuzz::http_statuses(&seed("flood"));
    assert_eq!(flood.len(), 6);
    let malformed = fuzz::http_statuses(&seed("malformed"));
    assert_eq!(malformed.len(), 8, "{malformed:?}");
    assert!(malformed.iter().all(|s| *s >= 400), "{malformed:?}");
}

/// Every `tam_response` seed but the doubled array is accepted by the TAM
/// from the state it was made for: fuzzing starts past the signature, the
/// decryption, the ids and the chain; the doubled array is refused.
#[test]
fn tam_seeds_are_accepted() {
    let mut checked = 0;
    for (path, bytes) in inputs("tam_response") {
        if !path.starts_with(repo_dir().join("fuzz/seeds")) {
            continue;
        }
        let (kind, step, message) = fuzz::tam_response_message(&bytes).unwrap();
        let s = &fuzz::scenarios()[usize::from(kind == Kind::Ec)];
        let mut session = otrp_core::tam::TamSession::resume(&s.tam, step.tam_before.clone());
        let result = session.handle_response(&message, now());
        let twice = bytes[0] & fuzz::TAM_TWICE != 0;
        assert_eq!(result.is_ok(), !twice, "{}: {result:?}", path.display());
        checked += 1;
    }
    assert_eq!(
        checked, 32,
        "7 steps x 2 modes x 2 hierarchies, 2 arrays x 2"
    );
}

/// Every structure-aware seed, signed by the target, is answered "pass"
/// from the state it was made for: fuzzing starts past the signature, the
/// chain, the replay and dsihash checks.
#[test]
fn signed_seeds_pass() {
    let mut checked = 0;
    for (path, bytes) in inputs("tee_agent_signed") {
        if !path.starts_with(repo_dir().join("fuzz/seeds")) {
            continue;
        }
        let (sel, payload) = bytes.split_first().unwrap();
        let kind = if sel & 0x80 != 0 { Kind::Ec } else { Kind::Rsa };
        let s = &fuzz::scenarios()[usize::from(kind == Kind::Ec)];
        let step = &s.steps[usize::from(sel & 0x7f)];
        let request = fuzz::sign_request(kind, step.kind, payload);
        let mut tee = s.tee.open(step.tee_before.snapshot());
        let answer = tee.handle(&request, now()).unwrap();
        let env = Envelope::parse(&answer, &Limits::DEFAULT).unwrap();
        let jws = Jws::parse_json(env.jws_bytes()).unwrap();
        let body: serde_json::Value =
            serde_json::from_slice(&jws.unverified_payload().unwrap()).unwrap();
        let status = body.as_object().unwrap().values().next().unwrap()["status"].clone();
        assert_eq!(status, "pass", "{}: {body}", path.display());
        checked += 1;
    }
    assert_eq!(checked, 14, "7 steps x 2 hierarchies");
}

/// A failed request leaves the SDs as they were (the invariant the
/// structure-aware target checks), shown on a CreateSD whose payload names
/// another TEE.
#[test]
fn wrong_tee_name_fails_without_state_change() {
    let s = &fuzz::scenarios()[1];
    let i = s
        .steps
        .iter()
        .position(|st| st.kind == otrp_core::message::MessageKind::CreateSd)
        .unwrap();
    let step = &s.steps[i];
    let env = Envelope::parse(&step.request, &Limits::DEFAULT).unwrap();
    let payload = Jws::parse_json(env.jws_bytes())
        .unwrap()
        .unverified_payload()
        .unwrap();
    let text = String::from_utf8(payload).unwrap();
    let changed = text.replace("\"soft-tee\"", "\"other-tee\"");
    assert_ne!(changed, text);
    let mut input = vec![fuzz::signed_selector(Kind::Ec, i)];
    input.extend_from_slice(changed.as_bytes());
    fuzz::tee_agent_signed(&input);
    let mut tee = s.tee.open(step.tee_before.snapshot());
    let before = tee.state().sds.clone();
    let request = fuzz::sign_request(Kind::Ec, step.kind, changed.as_bytes());
    let answer = String::from_utf8(tee.handle(&request, now()).unwrap()).unwrap();
    assert!(answer.contains("CreateSDResponse"));
    assert_eq!(tee.state().sds, before);
}
