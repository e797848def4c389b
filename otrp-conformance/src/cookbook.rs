//! RFC 7520 (JOSE cookbook) cases: every case whose algorithms OTrP has is
//! verified or decrypted in every serialization given, and reproduced byte
//! for byte where the algorithm is deterministic once the random source is
//! scripted.

use otrp_core::crypto::{
    Cek, ContentAlg, CryptoError, EncryptionKey, JwsAlg, KeyAlg, PrivateKey, Provider,
};
use otrp_core::jose::{Header, JoseError, Jwe, JwePolicy, Jwk, Jws, KeyUse, b64};
use serde_json::Value;

use crate::{QueueRandom, Tally, lacking, lacking_crypto, load};

const JWS_CASES: &[&str] = &[
    "jws/4_1.rsa_v15_signature.json",
    "jws/4_2.rsa-pss_signature.json",
    "jws/4_3.ecdsa_signature.json",
    "jws/4_4.hmac-sha2_integrity_protection.json",
    "jws/4_5.signature_with_detached_content.json",
    "jws/4_6.protecting_specific_header_fields.json",
    "jws/4_7.protecting_content_only.json",
    "jws/4_8.multiple_signatures.json",
];

const JWE_CASES: &[&str] = &[
    "jwe/5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json",
    "jwe/5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json",
    "jwe/5_3.key_wrap_using_pbes2-aes-keywrap_with-aes-cbc-hmac-sha2.json",
    "jwe/5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json",
    "jwe/5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json",
    "jwe/5_6.direct_encryption_using_aes-gcm.json",
    "jwe/5_7.key_wrap_using_aes-gcm_keywrap_with_aes-cbc-hmac-sha2.json",
    "jwe/5_8.key_wrap_using_aes-keywrap_with_aes-gcm.json",
    "jwe/5_9.compressed_content.json",
    "jwe/5_10.including_additional_authentication_data.json",
    "jwe/5_11.protecting_specific_header_fields.json",
    "jwe/5_12.protecting_content_only.json",
    "jwe/5_13.encrypting_to_multiple_recipients.json",
];

fn jwk(value: &Value) -> Jwk {
    serde_json::from_value(value.clone()).expect("cookbook JWK")
}

fn text(v: &Value, path: &str) -> String {
    v.pointer(path)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("missing {path}"))
        .to_owned()
}

/// The serialized forms a case's `output` holds.
fn outputs(case: &Value) -> Vec<(String, Vec<u8>)> {
    let out = case
        .get("output")
        .and_then(Value::as_object)
        .expect("output");
    out.iter()
        .map(|(form, v)| {
            let bytes = match v {
                Value::String(s) => s.as_bytes().to_vec(),
                other => serde_json::to_vec(other).expect("json"),
            };
            (form.clone(), bytes)
        })
        .collect()
}

/// Runs every JWS case: verification of each output, byte-exact RS* signing.
pub fn jws(provider: Provider) -> Tally {
    let mut tally = Tally::new("cookbook JWS (RFC 7520 section 4)");
    for file in JWS_CASES {
        let case = load(&format!("jose-cookbook/{file}"));
        let keys: Vec<Jwk> = match &case["input"]["key"] {
            Value::Array(list) => list.iter().map(jwk).collect(),
            one => vec![jwk(one)],
        };
        let algs: Vec<String> = match &case["input"]["alg"] {
            Value::Array(list) => list
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
            one => vec![one.as_str().expect("alg").to_owned()],
        };
        let mut any = false;
        for (key, alg_name) in keys.iter().zip(&algs) {
            let Some(alg) = JwsAlg::from_name(alg_name) else {
                tally.skip(format!(
                    "{file}: {alg_name} is outside OTrP's algorithm set"
                ));
                continue;
            };
            if let Some(what) = lacking_crypto(&provider.signature_verifier(alg)) {
                tally.lacks(what);
                continue;
            }
            any = true;
            let public = key.to_public_key().expect("public key");
            for (form, bytes) in outputs(&case) {
                let jws = Jws::parse(&bytes).unwrap_or_else(|e| panic!("{file} {form}: {e}"));
                let payload = jws
                    .verify(&provider, &public, &[alg])
                    .unwrap_or_else(|e| panic!("{file} {form}: {e}"));
                assert_eq!(
                    payload,
                    case["input"]["payload"]
                        .as_str()
                        .expect("payload")
                        .as_bytes()
                );
                // The same JWS must not verify under an algorithm set without it.
                let others: Vec<JwsAlg> =
                    JwsAlg::ALL.iter().copied().filter(|a| *a != alg).collect();
                assert!(
                    jws.verify(&provider, &public, &others).is_err(),
                    "{file} {form}"
                );
            }
            if matches!(alg, JwsAlg::Rs256 | JwsAlg::Rs384 | JwsAlg::Rs512) && algs.len() == 1 {
                reproduce_jws(&provider, &mut tally, file, &case, key, alg);
            }
        }
        if any {
            tally.ran();
        }
    }
    tally.finish()
}

fn reproduce_jws(
    provider: &Provider,
    tally: &mut Tally,
    file: &str,
    case: &Value,
    key: &Jwk,
    alg: JwsAlg,
) {
    let signer = key.load_private_key(provider.key_loader);
    if let Some(what) = lacking_crypto(&signer) {
        tally.lacks(&format!("{what} (signing {file})"));
        return;
    }
    let signer = signer.expect("private key");
    let protected =
        Header::from_json(&b64::decode_url(&text(case, "/signing/protected_b64u"), "p").unwrap())
            .unwrap();
    let payload = case["input"]["payload"]
        .as_str()
        .expect("payload")
        .as_bytes();
    let jws = Jws::sign(payload, signer.as_ref(), alg, protected, None, provider).expect("sign");
    assert_eq!(
        jws.to_compact().unwrap(),
        text(case, "/output/compact"),
        "{file}: compact not reproduced"
    );
}

/// Runs every JWE case: decryption of each output as each supported
/// recipient, byte-exact encryption for AES-KW and ECDH-ES cases, and the
/// refusal of compressed content.
pub fn jwe(provider: Provider) -> Tally {
    let mut tally = Tally::new("cookbook JWE (RFC 7520 section 5)");
    for file in JWE_CASES {
        let case = load(&format!("jose-cookbook/{file}"));
        let keys: Vec<Jwk> = match &case["input"]["key"] {
            Value::Array(list) => list.iter().map(jwk).collect(),
            Value::Null => Vec::new(),
            one => vec![jwk(one)],
        };
        let algs: Vec<String> = match &case["input"]["alg"] {
            Value::Array(list) => list
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
            one => vec![one.as_str().expect("alg").to_owned()],
        };
        let plaintext = case["input"]["plaintext"]
            .as_str()
            .expect("plaintext")
            .as_bytes();
        let mut any = false;
        for (key, alg_name) in keys.iter().zip(&algs) {
            let Some(alg) = KeyAlg::from_name(alg_name) else {
                tally.skip(format!(
                    "{file}: {alg_name} is outside OTrP's algorithm set"
                ));
                continue;
            };
            let enc = ContentAlg::from_name(case["input"]["enc"].as_str().expect("enc"));
            let needs = [
                lacking_crypto(&provider.key_encrypter(alg)),
                enc.and_then(|enc| lacking_crypto(&provider.content_cipher(enc))),
            ];
            if let Some(what) = needs.into_iter().flatten().next() {
                tally.lacks(what);
                continue;
            }
            let private = key.load_private_key(provider.key_loader);
            if let Some(what) = lacking_crypto(&private) {
                tally.lacks(what);
                continue;
            }
            let private = private.expect("private key");
            let policy_algs = key.permitted_key_algs(KeyUse::Decrypt);
            let policy = JwePolicy {
                key_algs: &policy_algs,
                content_algs: ContentAlg::ALL,
            };
            let mut lacks = None;
            for (form, bytes) in outputs(&case) {
                let jwe = Jwe::parse(&bytes).unwrap_or_else(|e| panic!("{file} {form}: {e}"));
                let result = jwe.decrypt(&provider, private.as_ref(), &policy);
                if let Some(what) = lacking(&result) {
                    lacks = Some(what);
                    break;
                }
                if case["input"].get("zip").is_some() {
                    assert_eq!(
                        result,
                        Err(JoseError::CompressionUnsupported),
                        "{file} {form}"
                    );
                    continue;
                }
                assert_eq!(
                    result.unwrap_or_else(|e| panic!("{file} {form}: {e}")),
                    plaintext,
                    "{file} {form}"
                );
            }
            if let Some(what) = lacks {
                tally.lacks(what);
                continue;
            }
            any = true;
            if algs.len() == 1 && case["input"].get("zip").is_none() {
                reproduce_jwe(&provider, file, &case, key, private.as_ref(), alg);
            }
        }
        if any {
            tally.ran();
        }
    }
    tally.finish()
}

/// Re-encrypts a case with its CEK, IV and ephemeral key scripted, and
/// compares the result byte for byte (compact) or as JSON (JSON forms).
fn reproduce_jwe(
    provider: &Provider,
    file: &str,
    case: &Value,
    key: &Jwk,
    private: &dyn PrivateKey,
    alg: KeyAlg,
) {
    let deterministic = matches!(
        alg,
        KeyAlg::A128Kw
            | KeyAlg::A256Kw
            | KeyAlg::EcdhEs
            | KeyAlg::EcdhEsA128Kw
            | KeyAlg::EcdhEsA256Kw
    );
    let protected_json = case.pointer("/encrypting_content/protected").cloned();
    // Only cases whose whole header is protected can be reproduced: the
    // builder places a single recipient's parameters in the protected header.
    let reproducible = deterministic
        && protected_json.is_some()
        && case.pointer("/encrypting_content/unprotected").is_none()
        && case.pointer("/encrypting_key/header").is_none();
    if !reproducible {
        return;
    }
    let enc = ContentAlg::from_name(case["input"]["enc"].as_str().expect("enc")).expect("enc");
    let mut draws = Vec::new();
    if !alg.is_direct_agreement() {
        draws.push(b64::decode_url(&text(case, "/generated/cek"), "cek").unwrap());
    }
    if alg.uses_epk() {
        draws.push(b64::decode_url(&text(case, "/encrypting_key/epk/d"), "epk").unwrap());
    }
    draws.push(b64::decode_url(&text(case, "/generated/iv"), "iv").unwrap());
    let scripted = QueueRandom::new(draws).install(*provider);
    let protected = Header::from_json(
        &b64::decode_url(&text(case, "/encrypting_content/protected_b64u"), "p").unwrap(),
    )
    .unwrap();
    let public;
    let symmetric;
    let recipient = match key.kty.as_str() {
        "oct" => {
            symmetric = key.symmetric_key().unwrap();
            EncryptionKey::Symmetric(&symmetric)
        }
        _ => {
            public = key.to_public_key().unwrap();
            EncryptionKey::Public(&public)
        }
    };
    // RFC 7520's examples keep every parameter in the protected header.
    let mut builder = Jwe::builder(enc)
        .protected(protected)
        .recipient(alg, recipient, Header::new())
        .protected_recipient();
    if let Some(aad) = case["input"].get("aad").and_then(Value::as_str) {
        builder = builder.aad(aad.as_bytes());
    }
    let plaintext = case["input"]["plaintext"]
        .as_str()
        .expect("plaintext")
        .as_bytes();
    let jwe = builder
        .encrypt(plaintext, &scripted)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    match case.pointer("/output/compact").and_then(Value::as_str) {
        Some(compact) => assert_eq!(
            jwe.to_compact().unwrap(),
            compact,
            "{file}: compact not reproduced"
        ),
        None => {
            let ours: Value = serde_json::from_str(&jwe.to_flattened_json().unwrap()).unwrap();
            assert_eq!(
                &ours,
                case.pointer("/output/json_flat").expect("json_flat"),
                "{file}: JSON not reproduced"
            );
        }
    }
    let policy = JwePolicy::ANY;
    assert_eq!(jwe.decrypt(provider, private, &policy).unwrap(), plaintext);
}

/// Every case's content encryption through the provider's content cipher
/// alone, independent of key management (so that a provider with content
/// ciphers but no key management, ring, is checked as well): the published
/// CEK decrypts each output (`Jwe::decrypt_with_cek`), and encrypting the
/// plaintext with that CEK and IV reproduces the published ciphertext and
/// tag. Cases without a published CEK (ECDH-ES direct agreement) and with
/// compressed content are skipped.
pub fn jwe_content(provider: Provider) -> Tally {
    let mut tally = Tally::new("cookbook JWE content encryption (RFC 7520 section 5)");
    for file in JWE_CASES {
        let case = load(&format!("jose-cookbook/{file}"));
        // 5.13 misspells `enc` in its input; the headers are authoritative.
        let enc_name = case
            .pointer("/encrypting_content/protected/enc")
            .or_else(|| case.pointer("/encrypting_content/unprotected/enc"))
            .and_then(Value::as_str)
            .expect("enc");
        let Some(enc) = ContentAlg::from_name(enc_name) else {
            tally.skip(format!(
                "{file}: {enc_name} is outside OTrP's algorithm set"
            ));
            continue;
        };
        if case["input"].get("zip").is_some() {
            tally.skip("compressed content (zip is refused by design)");
            continue;
        }
        let cek = match case["input"]["alg"].as_str() {
            Some("dir") => case.pointer("/input/key/k"),
            _ => case.pointer("/generated/cek"),
        };
        let Some(cek) = cek.and_then(Value::as_str) else {
            tally.skip(format!("{file}: no published CEK (direct key agreement)"));
            continue;
        };
        let cipher = match provider.content_cipher(enc) {
            Ok(cipher) => cipher,
            Err(CryptoError::Unsupported(what)) => {
                tally.lacks(what);
                continue;
            }
            Err(e) => panic!("{file}: {e}"),
        };
        let cek = Cek::new(b64::decode_url(cek, "cek").unwrap());
        let plaintext = case["input"]["plaintext"]
            .as_str()
            .expect("plaintext")
            .as_bytes();
        for (form, bytes) in outputs(&case) {
            let jwe = Jwe::parse(&bytes).unwrap_or_else(|e| panic!("{file} {form}: {e}"));
            let opened = jwe
                .decrypt_with_cek(&provider, &cek, enc)
                .unwrap_or_else(|e| panic!("{file} {form}: {e}"));
            assert_eq!(opened, plaintext, "{file} {form}");
        }
        // RFC 7516 5.1 step 14: ASCII(protected) [ "." BASE64URL(aad) ].
        let mut aad = case
            .pointer("/encrypting_content/protected_b64u")
            .and_then(Value::as_str)
            .unwrap_or("")
            .as_bytes()
            .to_vec();
        if let Some(extra) = case["input"].get("aad").and_then(Value::as_str) {
            aad.push(b'.');
            aad.extend_from_slice(b64::encode_url(extra.as_bytes()).as_bytes());
        }
        let iv = b64::decode_url(&text(&case, "/generated/iv"), "iv").unwrap();
        let mut buf = plaintext.to_vec();
        let tag = cipher
            .encrypt(&cek, &iv, &aad, &mut buf)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            (b64::encode_url(&buf), b64::encode_url(&tag)),
            (
                text(&case, "/encrypting_content/ciphertext"),
                text(&case, "/encrypting_content/tag")
            ),
            "{file}: ciphertext and tag not reproduced"
        );
        let mut wrong = tag.clone();
        wrong[0] ^= 1;
        assert!(
            cipher.decrypt(&cek, &iv, &aad, &mut buf, &wrong).is_err(),
            "{file}: a flipped tag must not decrypt"
        );
        tally.ran();
    }
    tally.finish()
}
