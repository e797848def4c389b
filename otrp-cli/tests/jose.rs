//! `otrp jose sign|verify|encrypt|decrypt`: round trips in every
//! serialization with PEM (PKCS#8, SPKI, certificate) and JWK / JWK Set
//! keys, RSA from the test-pki fixtures, and the refusals (wrong key, wrong
//! algorithm, tampering, keys that cannot do the job).

mod support;

use std::path::Path;

use support::*;

fn sign(key: &Path, alg: &str, extra: &[&str], payload: &[u8]) -> String {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
        vec![&"jose", &"sign", &"--key", &key, &"--alg", &alg];
    for e in extra {
        args.push(e);
    }
    otrp_p(&args, payload).ok()
}

fn verify(key: &Path, extra: &[&str], jws: &str) -> Run {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"jose", &"verify", &"--key", &key];
    for e in extra {
        args.push(e);
    }
    otrp_p(&args, jws.as_bytes())
}

fn encrypt(key: &Path, alg: &str, enc: &str, extra: &[&str], plaintext: &[u8]) -> String {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
        &"jose", &"encrypt", &"--key", &key, &"--alg", &alg, &"--enc", &enc,
    ];
    for e in extra {
        args.push(e);
    }
    otrp_p(&args, plaintext).ok()
}

fn decrypt(key: &Path, jwe: &str) -> Run {
    otrp_p(&[&"jose", &"decrypt", &"--key", &key], jwe.as_bytes())
}

#[test]
fn sign_and_verify_in_every_serialization() {
    let t = temp();
    let pki = pki(t.path());
    let key = pki.join("tam.key.pem");
    let payload = b"payload \x00 bytes";

    // Flattened JSON by default, with x5c in the protected header.
    let jws = sign(
        &key,
        "ES256",
        &["--x5c", pki.join("tam.chain.pem").to_str().unwrap()],
        payload,
    );
    let v: serde_json::Value = serde_json::from_str(&jws).unwrap();
    assert!(
        v["payload"].is_string() && v["signature"].is_string(),
        "{jws}"
    );
    let protected =
        otrp_core::jose::b64::decode_url(v["protected"].as_str().unwrap(), "p").unwrap();
    let protected: serde_json::Value = serde_json::from_slice(&protected).unwrap();
    assert_eq!(protected["alg"], "ES256");
    assert_eq!(protected["x5c"].as_array().unwrap().len(), 2);
    for k in ["tam.cert.pem", "tam.key.pem", "tam.chain.pem"] {
        assert_eq!(verify(&pki.join(k), &[], &jws).stdout, payload, "{k}");
    }
    assert_eq!(
        verify(&pki.join("tam.cert.pem"), &["--alg", "ES256"], &jws).stdout,
        payload
    );

    // Compact.
    let compact = sign(&key, "ES256", &["--compact"], payload);
    assert_eq!(compact.trim().split('.').count(), 3);
    assert_eq!(
        verify(&pki.join("tam.cert.pem"), &[], &compact).stdout,
        payload
    );

    // General JSON input verifies too.
    let general = serde_json::json!({
        "payload": v["payload"],
        "signatures": [{"protected": v["protected"], "signature": v["signature"]}],
    })
    .to_string();
    assert_eq!(
        verify(&pki.join("tam.cert.pem"), &[], &general).stdout,
        payload
    );

    // Refusals: another key, another algorithm, a changed payload.
    let line = verify(&pki.join("tee.cert.pem"), &[], &jws).fails();
    assert!(line.contains("signature not verified"), "{line}");
    verify(&pki.join("tam.cert.pem"), &["--alg", "ES384"], &jws).fails();
    verify(&pki.join("tam.cert.pem"), &["--alg", "RS256"], &jws).fails();
    let mut forged = v.clone();
    forged["payload"] = otrp_core::jose::b64::encode_url(b"other").into();
    verify(&pki.join("tam.cert.pem"), &[], &forged.to_string()).fails();
    let line = verify(&pki.join("tam.cert.pem"), &[], "not a jws").fails();
    assert!(!line.is_empty());

    // A certificate cannot sign; an unknown algorithm is listed.
    let line = otrp_p(
        &[
            &"jose",
            &"sign",
            &"--key",
            &pki.join("tam.cert.pem"),
            &"--alg",
            &"ES256",
        ],
        b"x",
    )
    .fails();
    assert!(line.contains("cannot sign"), "{line}");
    let line = otrp_p(
        &[&"jose", &"sign", &"--key", &key, &"--alg", &"HS999"],
        b"x",
    )
    .fails();
    assert!(
        line.contains("unknown JWS algorithm") && line.contains("ES256"),
        "{line}"
    );
    // An EC key cannot make an RSA signature.
    otrp_p(
        &[&"jose", &"sign", &"--key", &key, &"--alg", &"RS256"],
        b"x",
    )
    .fails();
}

#[test]
fn rsa_fixture_keys_sign_and_encrypt() {
    let key = fixture("rsa/tam.key");
    let cert = fixture("rsa/tam.pem");
    for alg in ["RS256", "PS256"] {
        let jws = sign(&key, alg, &[], b"rsa payload");
        assert_eq!(verify(&cert, &[], &jws).stdout, b"rsa payload", "{alg}");
    }
    for alg in ["RSA1_5", "RSA-OAEP"] {
        let jwe = encrypt(&cert, alg, "A128CBC-HS256", &[], b"to the RSA key");
        assert_eq!(decrypt(&key, &jwe).ok(), "to the RSA key", "{alg}");
        decrypt(&fixture("ec/tee.key"), &jwe).fails();
    }
}

#[test]
fn jwk_and_jwk_set_keys() {
    let t = temp();
    let private = t.path().join("key.jwk");
    std::fs::write(
        &private,
        r#"{"kty":"EC","crv":"P-256",
            "x":"ucoVDqtWUomqTzrjIwZhQoYVyCoqiVeKLwZyJLPEv24",
            "y":"xR8-kjAjA0OgOPMIrjBTT4fF7jVF-NNCnD7VDCP_TQA",
            "d":"idGNPO2raTbNft9PNM5YNfbvxhvWi0_DwyeC0Rq9xFw"}"#,
    )
    .unwrap();
    let set = t.path().join("set.jwks");
    std::fs::write(
        &set,
        r#"{"keys":[
            {"kty":"EC","crv":"P-256","x":"gsfuI_UToy6SsxtF4KCI6058U0KnKb18NUDEcucjKsY","y":"AT4LeygYPDc-oa9gIE4j-oUiq6YE3FBgWk3yn9lrBq4"},
            {"kty":"EC","crv":"P-256",
             "x":"ucoVDqtWUomqTzrjIwZhQoYVyCoqiVeKLwZyJLPEv24",
             "y":"xR8-kjAjA0OgOPMIrjBTT4fF7jVF-NNCnD7VDCP_TQA"}]}"#,
    )
    .unwrap();
    let jws = sign(&private, "ES256", &[], b"jwk signed");
    // The second key of the set is the one.
    assert_eq!(verify(&set, &[], &jws).stdout, b"jwk signed");
    let jwe = encrypt(
        &set,
        "ECDH-ES+A128KW",
        "A128CBC-HS256",
        &[],
        b"first key of the set",
    );
    // Encrypted to the first key of the set, which the private JWK is not.
    decrypt(&private, &jwe).fails();
    let jwe = encrypt(
        &private,
        "ECDH-ES",
        "A128GCM",
        &["--flattened"],
        b"to the jwk",
    );
    assert_eq!(decrypt(&private, &jwe).ok(), "to the jwk");

    // A symmetric key wraps the CEK.
    let oct = t.path().join("oct.jwk");
    std::fs::write(&oct, r#"{"kty":"oct","k":"GawgguFyGrWKav7AX4VKUg"}"#).unwrap();
    for extra in [&[][..], &["--flattened"][..], &["--compact"][..]] {
        let jwe = encrypt(&oct, "A128KW", "A256GCM", extra, b"wrapped");
        assert_eq!(decrypt(&oct, &jwe).ok(), "wrapped", "{extra:?}");
    }
    // Direct encryption is not offered (docs/cli.md says so): a usage error.
    let run = otrp_p(
        &[
            &"jose", &"encrypt", &"--key", &oct, &"--alg", &"dir", &"--enc", &"A256GCM",
        ],
        b"x",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cli.md")).unwrap();
    assert!(doc.contains("direct encryption (`dir`) is not offered"));
    let bad = t.path().join("bad.jwk");
    std::fs::write(&bad, r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#).unwrap();
    let line = verify(&bad, &[], &jws).fails();
    assert!(line.contains("bad.jwk"), "{line}");
}

#[test]
fn encrypt_and_decrypt_in_every_serialization() {
    let t = temp();
    let pki = pki(t.path());
    let cert = pki.join("tee.cert.pem");
    let key = pki.join("tee.key.pem");
    let plaintext = b"secret \xff bytes";

    let general = encrypt(&cert, "ECDH-ES+A128KW", "A128CBC-HS256", &[], plaintext);
    let v: serde_json::Value = serde_json::from_str(&general).unwrap();
    assert!(
        v["recipients"].is_array(),
        "general JSON by default: {general}"
    );
    let flattened = encrypt(
        &cert,
        "ECDH-ES+A128KW",
        "A256CBC-HS512",
        &["--flattened"],
        plaintext,
    );
    let v: serde_json::Value = serde_json::from_str(&flattened).unwrap();
    assert!(
        v["recipients"].is_null() && v["encrypted_key"].is_string(),
        "{flattened}"
    );
    let compact = encrypt(
        &cert,
        "ECDH-ES+A256KW",
        "A256GCM",
        &["--compact"],
        plaintext,
    );
    assert_eq!(compact.trim().split('.').count(), 5);
    for jwe in [&general, &flattened, &compact] {
        let run = decrypt(&key, jwe);
        run.ok();
        assert_eq!(run.stdout, plaintext);
    }
    // Another key, a public key, a changed ciphertext.
    let line = decrypt(&pki.join("tam.key.pem"), &general).fails();
    assert!(line.contains("not decrypted"), "{line}");
    let line = decrypt(&cert, &general).fails();
    assert!(line.contains("no private key"), "{line}");
    let mut v: serde_json::Value = serde_json::from_str(&general).unwrap();
    v["ciphertext"] = otrp_core::jose::b64::encode_url(b"0123456789abcdef").into();
    decrypt(&key, &v.to_string()).fails();
    // Unknown algorithms; the two output flags together.
    let line = otrp_p(
        &[
            &"jose", &"encrypt", &"--key", &cert, &"--alg", &"ROT13", &"--enc", &"A256GCM",
        ],
        b"x",
    )
    .fails();
    assert!(line.contains("unknown key management algorithm"), "{line}");
    otrp_p(
        &[
            &"jose", &"encrypt", &"--key", &cert, &"--alg", &"ECDH-ES", &"--enc", &"A999",
        ],
        b"x",
    )
    .fails();
    let run = otrp_p(
        &[
            &"jose",
            &"encrypt",
            &"--key",
            &cert,
            &"--alg",
            &"ECDH-ES",
            &"--enc",
            &"A256GCM",
            &"--compact",
            &"--flattened",
        ],
        b"x",
    );
    assert_eq!(run.code, 2);
}
