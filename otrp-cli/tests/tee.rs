//! `otrp tee init|handle|show`: a TAM session (otrp-core) drives a software
//! TEE that lives in a state directory, one `otrp tee handle` process per
//! request; signed failures are successes of the command; what is not an
//! OTrP request for this TEE fails with one line.

mod support;

use otrp_core::crypto::JwsAlg;
use otrp_core::message::ErrorCode;
use otrp_core::tam::{Command, Event, TamSession, TeeResult};
use support::*;

fn handle(state: &std::path::Path, request: &[u8]) -> Vec<u8> {
    let run = otrp_p(&[&"tee", &"handle", &"--state", &state], request);
    run.ok();
    run.stdout
}

#[test]
fn a_tam_session_drives_the_tee_through_handle() {
    let t = temp();
    let pki = pki(t.path());
    let state = t.path().join("state");
    let out = otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").ok();
    assert!(out.contains("soft-tee"), "{out}");
    let line = otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").fails();
    assert!(line.contains("already holds a TEE"), "{line}");

    let tam = tam(&pki);
    let mut session = TamSession::new(&tam);

    // GetDeviceState: the answer is the broker's GetDeviceStateResponse array.
    let request = session.get_device_state().unwrap();
    let response = handle(&state, &request);
    let text = String::from_utf8(response.clone()).unwrap();
    assert!(text.starts_with(r#"{"GetDeviceStateResponse":["#), "{text}");
    match session.handle_response(&response, now()).unwrap() {
        Event::DeviceState(r) => assert!(
            matches!(r.as_slice(), [TeeResult::Accepted { name, .. }] if name == "soft-tee"),
            "{r:?}"
        ),
        other => panic!("{other:?}"),
    }

    // CreateSD and InstallTA, each in its own process: state persists.
    let sp_cert = cert(&pki.join("sp.cert.pem"));
    let request = session
        .command(
            "soft-tee",
            Command::CreateSd {
                spid: "sp1".into(),
                sdname: "sd1".into(),
                spcert: sp_cert.clone(),
            },
        )
        .unwrap();
    assert!(matches!(
        session
            .handle_response(&handle(&state, &request), now())
            .unwrap(),
        Event::Success { .. }
    ));
    let provider = otrp_crypto_rustcrypto::provider();
    let sp_key = provider
        .key_loader
        .private_key_from_pkcs8_der(&pem_ders(&pki.join("sp.key.pem"), "PRIVATE KEY")[0])
        .unwrap();
    let image = otrp_soft_tee::sign_ta_image(
        b"ta code",
        &otrp_soft_tee::TaImageInfo {
            taid: "ta1".into(),
            version: 1,
            taname: Some("my TA".into()),
        },
        sp_key.as_ref(),
        JwsAlg::Es256,
        &provider,
    )
    .unwrap();
    let request = session
        .command(
            "soft-tee",
            Command::InstallTa {
                spid: "sp1".into(),
                sdname: "sd1".into(),
                taid: "ta1".into(),
                spcert: None,
                ta: image,
                pdata: None,
            },
        )
        .unwrap();
    assert!(matches!(
        session
            .handle_response(&handle(&state, &request), now())
            .unwrap(),
        Event::Success { .. }
    ));

    // show: table and JSON.
    let table = otrp_p(&[&"tee", &"show", &"--state", &state], b"").ok();
    assert!(table.starts_with("TEE soft-tee (did "), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["sd1", "sp1", "ta1", "1", "https://tam.example.com/tam1"]),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&otrp_p(&[&"tee", &"show", &"--state", &state, &"--json"], b"").ok())
            .unwrap();
    assert_eq!(json["name"], "soft-tee");
    assert_eq!(json["did"].as_str().unwrap().len(), 64);
    assert_eq!(json["sds"][0]["name"], "sd1");
    assert_eq!(json["sds"][0]["spid"], "sp1");
    assert_eq!(json["sds"][0]["tas"][0]["taid"], "ta1");
    assert_eq!(json["sds"][0]["tas"][0]["taname"], "my TA");
    assert_eq!(json["sds"][0]["tas"][0]["version"], 1);

    // A refused request is a signed failure: the command exits 3.
    let request = session
        .command(
            "soft-tee",
            Command::CreateSd {
                spid: "sp1".into(),
                sdname: "sd1".into(),
                spcert: sp_cert,
            },
        )
        .unwrap();
    // Exit 3, the signed refusal on stdout, its error code on stderr.
    let run = otrp_p(&[&"tee", &"handle", &"--state", &state], &request);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim_end(),
        "otrp: error: the TEE refused: CreateSD ERR_SD_ALREADY_EXISTS (the SD exists) \
         (the signed refusal is on stdout)"
    );
    match session.handle_response(&run.stdout, now()).unwrap() {
        Event::TeeFailure(f) => assert_eq!(f.code, ErrorCode::SdAlreadyExists),
        other => panic!("{other:?}"),
    }
    // Nothing changed.
    let again = otrp_p(&[&"tee", &"show", &"--state", &state], b"").ok();
    assert_eq!(again, table);

    // A request for another TEE: the broker does not know it.
    let other = t.path().join("other");
    otrp_p(
        &[
            &"tee",
            &"init",
            &"--pki",
            &pki,
            &"--state",
            &other,
            &"--name",
            &"other-tee",
        ],
        b"",
    )
    .ok();
    let request = session
        .command(
            "soft-tee",
            Command::DeleteTa {
                sdname: "sd1".into(),
                taid: "ta1".into(),
            },
        )
        .unwrap();
    let line = otrp_p(&[&"tee", &"handle", &"--state", &other], &request).fails();
    assert!(line.contains("ERR_AGENT_TEE_UNKNOWN"), "{line}");
    assert!(line.contains("soft-tee"), "{line}");
}

#[test]
fn handle_and_show_refuse_bad_input_with_one_line() {
    let t = temp();
    let pki = pki(t.path());
    let state = t.path().join("state");
    otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").ok();
    for input in [
        &b""[..],
        b"garbage",
        br#"{"CreateSDResponse":{"payload":"e30","signature":"AA"}}"#,
        br#"{"GetDeviceStateRequest": []}"#,
    ] {
        let line = otrp_p(&[&"tee", &"handle", &"--state", &state], input).fails();
        assert!(line.contains("not an OTrP request"), "{line}");
    }
    let nowhere = t.path().join("nowhere");
    for sub in ["handle", "show"] {
        let line = otrp_p(&[&"tee", &sub, &"--state", &nowhere], b"").fails();
        assert!(line.contains("not a TEE state directory"), "{line}");
    }
    let line = otrp_p(
        &[
            &"tee",
            &"init",
            &"--pki",
            &t.path().join("no-pki"),
            &"--state",
            &t.path().join("s2"),
        ],
        b"",
    )
    .fails();
    assert!(line.contains("tee.key.pem"), "{line}");
}
