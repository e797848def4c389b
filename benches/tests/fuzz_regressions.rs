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
        let jws = Jws::parse_json(&env.jws_bytes()).unwrap();
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
    let payload = Jws::parse_json(&env.jws_bytes())
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
