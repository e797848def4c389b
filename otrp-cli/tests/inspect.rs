//! `otrp inspect`: real OTrP messages (a TAM session's requests, the
//! software TEE's answers through `otrp tee handle`) decoded, verified and
//! decrypted with the keys given; compact JOSE objects; refusals.

mod support;

/// A run of `inspect` whose signature check failed: the tree on stdout,
/// exit 1, one line on stderr saying so.
fn unverified(run: Run) -> String {
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .starts_with("otrp: error: a signature does not verify: ")
            || run.stderr.contains(" signatures do not verify"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    run.text()
}

use otrp_core::tam::{Command, TamSession};
use support::*;

struct Setup {
    _t: tempfile::TempDir,
    pki: std::path::PathBuf,
    gds_request: Vec<u8>,
    gds_response: Vec<u8>,
    create_request: Vec<u8>,
    create_response: Vec<u8>,
}

fn setup() -> Setup {
    let t = temp();
    let pki = pki(t.path());
    let state = t.path().join("state");
    otrp_p(&[&"tee", &"init", &"--pki", &pki, &"--state", &state], b"").ok();
    let tam = tam(&pki);
    let mut session = TamSession::new(&tam);
    let gds_request = session.get_device_state().unwrap();
    let run = otrp_p(&[&"tee", &"handle", &"--state", &state], &gds_request);
    run.ok();
    let gds_response = run.stdout;
    session.handle_response(&gds_response, now()).unwrap();
    let create_request = session
        .command(
            "soft-tee",
            Command::CreateSd {
                spid: "sp1".into(),
                sdname: "sd-inspected".into(),
                spcert: cert(&pki.join("sp.cert.pem")),
            },
        )
        .unwrap();
    let run = otrp_p(&[&"tee", &"handle", &"--state", &state], &create_request);
    run.ok();
    Setup {
        _t: t,
        pki,
        gds_request,
        gds_response,
        create_request,
        create_response: run.stdout,
    }
}

#[test]
fn otrp_messages_are_decoded_verified_and_decrypted() {
    let s = setup();
    let key = |f: &str| s.pki.join(f);

    // A request without keys: structure, x5c subjects, the x5c leaf check.
    let out = otrp(&["inspect"], &s.gds_request).ok();
    for needle in [
        "GetDeviceStateRequest: JWS",
        "GetDeviceStateTBSRequest:",
        "x5c[0]: CN=TAM 1,O=OTrP Test",
        "x5c[1]: CN=TAM Root CA,O=OTrP Test",
        "signature: valid for the x5c leaf key (certificate chain not validated)",
        "ocspdat:",
        "rid: ",
    ] {
        assert!(out.contains(needle), "{needle:?} missing in\n{out}");
    }

    // The answer: TEE-signed, its edsi encrypted to the TAM.
    let out = otrp(&["inspect"], &s.gds_response).ok();
    assert!(out.contains("GetDeviceStateResponse:"), "{out}");
    assert!(out.contains("GetDeviceTEEStateResponse: JWS"), "{out}");
    assert!(out.contains("edsi: JWE (encrypted)"), "{out}");
    assert!(out.contains("not decrypted (no --key to open it)"), "{out}");
    assert!(
        out.contains("signature: not checked (no --key, no x5c)"),
        "{out}"
    );
    let out = otrp_p(
        &[
            &"inspect",
            &"--key",
            &key("tam.key.pem"),
            &"--key",
            &key("tee.cert.pem"),
        ],
        &s.gds_response,
    )
    .ok();
    assert!(
        out.contains("signature: VALID, verified with P-256 public key"),
        "{out}"
    );
    assert!(out.contains("decrypted with P-256 private key"), "{out}");
    assert!(
        out.contains("name: \"soft-tee\""),
        "the DSI is shown: {out}"
    );
    // The TAM's own key does not verify the TEE's signature: the tree is
    // printed, and the command fails (issue 14).
    let out = unverified(otrp_p(
        &[&"inspect", &"--key", &key("tam.cert.pem")],
        &s.gds_response,
    ));
    assert!(out.contains("signature: NOT verified"), "{out}");

    // CreateSD: the content opens with the TEE key only.
    let out = otrp(&["inspect"], &s.create_request).ok();
    assert!(out.contains("content: JWE (encrypted)"), "{out}");
    assert!(!out.contains("sd-inspected"), "{out}");
    let out = otrp_p(
        &[
            &"inspect",
            &"--key",
            &key("tee.key.pem"),
            &"--key",
            &key("tam.cert.pem"),
        ],
        &s.create_request,
    )
    .ok();
    assert!(out.contains("sdname: \"sd-inspected\""), "{out}");
    // Without the TAM's certificate the request's signature is not verified.
    let out = unverified(otrp_p(
        &[&"inspect", &"--key", &key("tee.key.pem")],
        &s.create_request,
    ));
    assert!(out.contains("sdname: \"sd-inspected\""), "{out}");
    assert!(out.contains("spcert: "), "{out}");
    let out = unverified(otrp_p(
        &[&"inspect", &"--key", &key("sp.key.pem")],
        &s.create_request,
    ));
    assert!(out.contains("not decrypted:"), "{out}");

    // The answer, from a file.
    let file = s.pki.join("create-response.json");
    std::fs::write(&file, &s.create_response).unwrap();
    let out = otrp_p(
        &[
            &"inspect",
            &file,
            &"--key",
            &key("tee.cert.pem"),
            &"--key",
            &key("tam.key.pem"),
        ],
        b"",
    )
    .ok();
    assert!(out.contains("CreateSDResponse: JWS"), "{out}");
    assert!(out.contains("CreateSDTBSResponse:"), "{out}");
    assert!(out.contains("signature: VALID"), "{out}");
    assert!(out.contains("decrypted with"), "{out}");
    assert!(
        out.contains("teespaik"),
        "the response content is shown: {out}"
    );
}

#[test]
fn compact_objects_and_refusals() {
    let t = temp();
    let pki = pki(t.path());
    let signed = otrp_p(
        &[
            &"jose",
            &"sign",
            &"--key",
            &pki.join("sp.key.pem"),
            &"--alg",
            &"ES256",
            &"--compact",
        ],
        b"{\"hello\":\"world\"}",
    )
    .ok();
    assert_eq!(signed.trim().split('.').count(), 3);
    let out = otrp(&["inspect"], signed.as_bytes()).ok();
    assert!(out.starts_with("JWS (compact serialization)"), "{out}");
    assert!(out.contains("hello: \"world\""), "{out}");
    let out = otrp_p(
        &[&"inspect", &"--key", &pki.join("sp.cert.pem")],
        signed.as_bytes(),
    )
    .ok();
    assert!(out.contains("signature: VALID"), "{out}");
    // A changed payload no longer verifies.
    let parts: Vec<&str> = signed.trim().split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        otrp_core::jose::b64::encode_url(b"{\"hello\":\"mallory\"}"),
        parts[2]
    );
    let out = unverified(otrp_p(
        &[&"inspect", &"--key", &pki.join("sp.cert.pem")],
        forged.as_bytes(),
    ));
    assert!(out.contains("signature: NOT verified"), "{out}");
    // Without --key, against the x5c-less compact JWS: not checked, exit 0;
    // a forged x5c-signed message fails against its leaf key.
    otrp(&["inspect"], forged.as_bytes()).ok();

    let encrypted = otrp_p(
        &[
            &"jose",
            &"encrypt",
            &"--key",
            &pki.join("tee.cert.pem"),
            &"--alg",
            &"ECDH-ES+A128KW",
            &"--enc",
            &"A256GCM",
            &"--compact",
        ],
        b"binary \x00\x01\x02",
    )
    .ok();
    let out = otrp_p(
        &[&"inspect", &"--key", &pki.join("tee.key.pem")],
        encrypted.as_bytes(),
    )
    .ok();
    assert!(out.starts_with("JWE (compact serialization)"), "{out}");
    assert!(out.contains("\"enc\":\"A256GCM\""), "{out}");
    assert!(
        out.contains("plaintext (10 bytes, binary, base64)"),
        "{out}"
    );

    for junk in [&b"hello"[..], b"{not json", b"a.b", b"\xff\xfe"] {
        otrp(&["inspect"], junk).fails();
    }
    let line = otrp_p(&[&"inspect", &t.path().join("nope.json")], b"").fails();
    assert!(line.contains("nope.json"), "{line}");
    let line = otrp_p(&[&"inspect", &"--key", &pki.join("README.txt")], b"{}").fails();
    assert!(line.contains("README.txt"), "{line}");
}
