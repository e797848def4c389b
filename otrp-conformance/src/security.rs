//! The JOSE layer's security properties, each as a check that fails if the
//! property is broken (listed in docs/security.md). This module holds the
//! JOSE layer's refusals; the algorithm objects' own properties are in
//! [`content`], [`key_management`] and [`signatures`]. Each check takes a
//! [`Provider`] and panics on the first property that does not hold.

pub mod content;
pub mod key_management;
pub mod signatures;

use otrp_core::crypto::{ContentAlg, CryptoError, JwsAlg, KeyAlg, Provider};
use otrp_core::jose::{Header, JoseError, Jwe, JwePolicy, Jws, b64};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::Tally;
use crate::keys::TestKeys;
use crate::roundtrip::{jwe_lacks, jws_lacks};

fn compact(header: &str, payload: &[u8], signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64::encode_url(header.as_bytes()),
        b64::encode_url(payload),
        b64::encode_url(signature)
    )
}

/// JWS: "none", HS256 against a public key, an `alg` that does not fit the
/// key or is not allowed, `crit`, and duplicate header names never verify.
/// Needs RS256 and ES256 (skipped, as one check, if the provider lacks one).
pub fn jws_refusals(provider: Provider) -> Tally {
    let mut tally = Tally::new("JWS refusals");
    let keys = TestKeys::load(&provider);
    if let Some(what) = [JwsAlg::Rs256, JwsAlg::Es256]
        .into_iter()
        .find_map(|alg| jws_lacks(&provider, &keys, alg))
    {
        tally.lacks(what);
        return tally.finish();
    }
    let rsa = keys.verifier(JwsAlg::Rs256);
    let p256 = keys.verifier(JwsAlg::Es256);
    let all = JwsAlg::ALL;

    let none = Jws::parse(compact(r#"{"alg":"none"}"#, b"x", b"").as_bytes()).unwrap();
    assert_eq!(none.verify(&provider, rsa, all), Err(JoseError::AlgNone));

    // The classic confusion: HS256 "signed" with the RSA public key as secret.
    let hs = Jws::parse(compact(r#"{"alg":"HS256"}"#, b"x", &[0u8; 32]).as_bytes()).unwrap();
    assert_eq!(
        hs.verify(&provider, rsa, all),
        Err(JoseError::UnknownAlgorithm("HS256".into()))
    );

    let es256 = Jws::sign(
        b"x",
        keys.signer(JwsAlg::Es256),
        JwsAlg::Es256,
        Header::new(),
        None,
        &provider,
    )
    .unwrap();
    assert_eq!(
        es256.verify(&provider, rsa, all),
        Err(JoseError::KeyMismatch("ES256"))
    );
    assert_eq!(
        es256.verify(&provider, keys.verifier(JwsAlg::Es384), all),
        Err(JoseError::KeyMismatch("ES256"))
    );
    assert_eq!(
        es256.verify(&provider, p256, &[JwsAlg::Es384]),
        Err(JoseError::AlgorithmNotAllowed("ES256"))
    );
    assert!(es256.verify(&provider, p256, &[JwsAlg::Es256]).is_ok());
    let rs256 = Jws::sign(
        b"x",
        keys.signer(JwsAlg::Rs256),
        JwsAlg::Rs256,
        Header::new(),
        None,
        &provider,
    )
    .unwrap();
    assert_eq!(
        rs256.verify(&provider, p256, all),
        Err(JoseError::KeyMismatch("RS256"))
    );
    // Signing refuses a key that does not fit, too.
    let mismatch = Jws::sign(
        b"x",
        keys.signer(JwsAlg::Rs256),
        JwsAlg::Es256,
        Header::new(),
        None,
        &provider,
    );
    assert_eq!(mismatch, Err(JoseError::KeyMismatch("ES256")));

    let crit = compact(r#"{"alg":"ES256","crit":["exp"],"exp":1}"#, b"x", &[0; 64]);
    assert_eq!(
        Jws::parse(crit.as_bytes()),
        Err(JoseError::CriticalUnsupported("exp".into()))
    );
    let dup = compact(r#"{"alg":"ES256","alg":"none"}"#, b"x", &[0; 64]);
    assert_eq!(
        Jws::parse(dup.as_bytes()),
        Err(JoseError::DuplicateHeader("alg".into()))
    );
    let split = format!(
        r#"{{"payload":"eA","protected":"{}","header":{{"alg":"RS256"}},"signature":"AA"}}"#,
        b64::encode_url(br#"{"alg":"ES256"}"#)
    );
    assert_eq!(
        Jws::parse(split.as_bytes()),
        Err(JoseError::DuplicateHeader("alg".into()))
    );
    tally.ran();
    tally.finish()
}

/// JWE: a bad tag and an RSA1_5 padding failure are the same error; an
/// `epk` off the curve, on another curve, or at coordinates (0, 0) is
/// refused; `crit`, `zip` and disallowed algorithms are refused. Two
/// checks: RSA1_5 with A128CBC-HS256, and ECDH-ES+A128KW with A128GCM
/// (each skipped if the provider lacks it).
pub fn jwe_refusals(provider: Provider) -> Tally {
    let mut tally = Tally::new("JWE refusals");
    let keys = TestKeys::load(&provider);
    match jwe_lacks(&provider, &keys, KeyAlg::Rsa1_5, ContentAlg::A128CbcHs256) {
        Some(what) => tally.lacks(what),
        None => {
            rsa1_5_refusals(&provider, &keys);
            tally.ran();
        }
    }
    match jwe_lacks(&provider, &keys, KeyAlg::EcdhEsA128Kw, ContentAlg::A128Gcm) {
        Some(what) => tally.lacks(what),
        None => {
            ecdh_refusals(&provider, &keys);
            tally.ran();
        }
    }
    tally.finish()
}

fn rsa1_5_refusals(provider: &Provider, keys: &TestKeys) {
    let provider = *provider;
    let (rsa, rsa_key) = keys.recipient(KeyAlg::Rsa1_5);
    let jwe = Jwe::builder(ContentAlg::A128CbcHs256)
        .recipient(KeyAlg::Rsa1_5, rsa, Header::new())
        .protected_recipient()
        .encrypt(b"secret", &provider)
        .unwrap();
    let compact = jwe.to_compact().unwrap();
    let parts: Vec<&str> = compact.split('.').collect();

    // Tag flipped vs. encrypted key replaced by garbage: one error.
    let mut tag = b64::decode_url(parts[4], "tag").unwrap();
    tag[0] ^= 1;
    let bad_tag = [
        parts[0],
        parts[1],
        parts[2],
        parts[3],
        &b64::encode_url(&tag),
    ]
    .join(".");
    let garbage_key = b64::encode_url(&[0x42; 256]);
    let bad_padding = [parts[0], &garbage_key, parts[2], parts[3], parts[4]].join(".");
    let policy = JwePolicy::ANY;
    for text in [&bad_tag, &bad_padding] {
        let outcome = Jwe::parse(text.as_bytes())
            .unwrap()
            .decrypt(&provider, rsa_key, &policy);
        assert_eq!(outcome, Err(JoseError::Decrypt));
    }
    let only_oaep = JwePolicy {
        key_algs: &[KeyAlg::RsaOaep256],
        content_algs: ContentAlg::ALL,
    };
    assert_eq!(
        jwe.decrypt(&provider, rsa_key, &only_oaep),
        Err(JoseError::AlgorithmNotAllowed("RSA1_5"))
    );
}

fn ecdh_refusals(provider: &Provider, keys: &TestKeys) {
    let provider = *provider;
    let policy = JwePolicy::ANY;
    // ECDH-ES with a tampered ephemeral key.
    let (p256, p256_key) = keys.recipient(KeyAlg::EcdhEs);
    let jwe = Jwe::builder(ContentAlg::A128Gcm)
        .recipient(KeyAlg::EcdhEsA128Kw, p256, Header::new())
        .protected_recipient()
        .encrypt(b"secret", &provider)
        .unwrap();
    let epk = jwe.protected().get("epk").unwrap().clone();
    let off_curve = {
        let mut e = epk.clone();
        let y = b64::decode_url(e["y"].as_str().unwrap(), "y").unwrap();
        let mut y2 = y.clone();
        y2[31] ^= 1;
        e["y"] = b64::encode_url(&y2).into();
        e
    };
    let zero = {
        let mut e = epk.clone();
        e["x"] = b64::encode_url(&[0; 32]).into();
        e["y"] = b64::encode_url(&[0; 32]).into();
        e
    };
    let other_curve = serde_json::json!({
        "kty": "EC", "crv": "P-384",
        "x": b64::encode_url(&[1; 48]), "y": b64::encode_url(&[2; 48])
    });
    for bad in [off_curve, zero, other_curve] {
        let mut header = jwe.protected().clone();
        header.set("epk", bad);
        let text = compact_jwe(&header, &jwe.to_compact().unwrap());
        let outcome = Jwe::parse(text.as_bytes())
            .unwrap()
            .decrypt(&provider, p256_key, &policy);
        assert!(
            matches!(
                outcome,
                Err(JoseError::Crypto(CryptoError::InvalidKey))
                    | Err(JoseError::InvalidHeader("epk"))
            ),
            "{outcome:?}"
        );
    }

    // A per-recipient `enc`, and more recipients than the cap, are refused.
    let general: serde_json::Value = serde_json::from_str(&jwe.to_general_json()).unwrap();
    let mut per_recipient = general.clone();
    per_recipient["recipients"][0]["header"] = serde_json::json!({"enc": "A256GCM"});
    assert_eq!(
        Jwe::parse(per_recipient.to_string().as_bytes()),
        Err(JoseError::InvalidHeader("enc"))
    );
    let mut crowded = general;
    let one = crowded["recipients"][0].clone();
    crowded["recipients"] =
        serde_json::Value::Array(vec![one; otrp_core::jose::MAX_RECIPIENTS + 1]);
    assert_eq!(
        Jwe::parse(crowded.to_string().as_bytes()),
        Err(JoseError::TooMany("recipients"))
    );

    let mut crit = jwe.protected().clone();
    crit.set("crit", serde_json::json!(["exp"]));
    let text = compact_jwe(&crit, &jwe.to_compact().unwrap());
    assert_eq!(
        Jwe::parse(text.as_bytes()),
        Err(JoseError::CriticalUnsupported("exp".into()))
    );
    let mut zip = jwe.protected().clone();
    zip.set("zip", "DEF");
    let text = compact_jwe(&zip, &jwe.to_compact().unwrap());
    assert_eq!(
        Jwe::parse(text.as_bytes())
            .unwrap()
            .decrypt(&provider, p256_key, &policy),
        Err(JoseError::CompressionUnsupported)
    );
}

/// Replaces the protected header of a compact JWE.
fn compact_jwe(header: &Header, compact: &str) -> String {
    let rest = compact.split_once('.').map(|(_, r)| r).unwrap_or("");
    format!("{}.{rest}", b64::encode_url(&header.to_json()))
}

/// No input panics the parsers: arbitrary text, and arbitrary bytes in each
/// part of a compact JWS/JWE (truncated, oversized, non-canonical base64url).
pub fn no_panics(cases: u32) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let part = || proptest::string::string_regex("[A-Za-z0-9_\\-=+/.{}\":,\\[\\] ]{0,64}").unwrap();
    let raw = proptest::collection::vec(any::<u8>(), 0..256);
    runner
        .run(&(part(), part(), part(), raw), |(a, b, c, raw)| {
            for text in [
                format!("{a}.{b}.{c}"),
                format!("{a}.{b}.{c}.{a}.{b}"),
                format!("{{{a}}}"),
            ] {
                let _ = Jws::parse(text.as_bytes());
                let _ = Jwe::parse(text.as_bytes());
            }
            let _ = Jws::parse(&raw);
            let _ = Jwe::parse(&raw);
            let _ = Header::from_json(&raw);
            Ok(())
        })
        .unwrap();
    // Non-canonical base64url: a final character with stray low bits.
    let jws = format!("{}.eB.AA", b64::encode_url(br#"{"alg":"RS256"}"#));
    assert_eq!(
        Jws::parse(jws.as_bytes()),
        Err(JoseError::Base64("payload"))
    );
}

/// RFC 7518 appendix C: the Concat KDF example, through otrp-core's one
/// Concat KDF over the provider's SHA-256.
pub fn concat_kdf_rfc7518_appendix_c(provider: Provider) {
    let z = [
        158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110,
        163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
    ];
    let sha256 = provider
        .digest(otrp_core::crypto::HashAlg::Sha256)
        .expect("SHA-256");
    let out = otrp_core::crypto::concat_kdf(sha256, &z, "A128GCM", b"Alice", b"Bob", 16).unwrap();
    assert_eq!(
        &out[..],
        &[
            86, 170, 141, 234, 248, 35, 109, 32, 92, 34, 40, 205, 113, 167, 16, 26
        ]
    );
    let sha384 = provider
        .digest(otrp_core::crypto::HashAlg::Sha384)
        .expect("SHA-384");
    assert!(otrp_core::crypto::concat_kdf(sha384, &z, "A128GCM", b"", b"", 16).is_err());
}
