//! Property tests: sign-then-verify and encrypt-then-decrypt for every
//! algorithm combination in every serialization, and a single flipped byte
//! anywhere in a compact JWS or JWE makes it fail.

use otrp_core::crypto::{ContentAlg, JwsAlg, KeyAlg, Provider};
use otrp_core::jose::{Header, Jwe, JwePolicy, Jws};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::keys::TestKeys;
use crate::{Tally, lacking};

/// What the provider (or its keys) lacks to encrypt to and decrypt as the
/// test recipient of `alg` with `enc`, found by trying once.
pub fn jwe_lacks(
    provider: &Provider,
    keys: &TestKeys,
    alg: KeyAlg,
    enc: ContentAlg,
) -> Option<&'static str> {
    let Some((recipient, decrypter)) = keys.try_recipient(alg) else {
        return Some("oct keys");
    };
    let jwe = Jwe::builder(enc)
        .recipient(alg, recipient, Header::new())
        .encrypt(b"probe", provider);
    if let Some(what) = lacking(&jwe) {
        return Some(what);
    }
    let jwe = jwe.ok()?;
    lacking(&jwe.decrypt(provider, decrypter, &JwePolicy::ANY))
}

/// What the provider (or the test key) lacks to sign and verify `alg`.
pub fn jws_lacks(provider: &Provider, keys: &TestKeys, alg: JwsAlg) -> Option<&'static str> {
    let jws = Jws::sign(
        b"probe",
        keys.signer(alg),
        alg,
        Header::new(),
        None,
        provider,
    );
    if let Some(what) = lacking(&jws) {
        return Some(what);
    }
    lacking(&jws.ok()?.verify(provider, keys.verifier(alg), &[alg]))
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn flip(bytes: &str, index: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.as_bytes().to_vec();
    let i = index % out.len();
    out[i] ^= mask;
    out
}

/// JWS round trips for every algorithm, and single-byte flips. The tally
/// counts algorithms; one the provider lacks is skipped.
pub fn jws(provider: Provider, cases: u32) -> Tally {
    let mut tally = Tally::new("JWS round trips");
    let keys = TestKeys::load(&provider);
    for &alg in JwsAlg::ALL {
        if let Some(what) = jws_lacks(&provider, &keys, alg) {
            tally.lacks(what);
            continue;
        }
        let (signer, public) = (keys.signer(alg), keys.verifier(alg));
        let strategy = (
            proptest::collection::vec(any::<u8>(), 0..200),
            any::<usize>(),
            1u8..=255,
        );
        runner(cases)
            .run(&strategy, |(payload, index, mask)| {
                let header = Header::new().with("kid", "k1");
                let jws = Jws::sign(&payload, signer, alg, header, None, &provider).expect("sign");
                for form in [
                    jws.to_compact().unwrap(),
                    jws.to_flattened_json().unwrap(),
                    jws.to_general_json(),
                ] {
                    let parsed = Jws::parse(form.as_bytes()).expect("parse");
                    prop_assert_eq!(
                        parsed.verify(&provider, public, &[alg]).expect("verify"),
                        payload.clone()
                    );
                }
                let compact = jws.to_compact().unwrap();
                let tampered = flip(&compact, index, mask);
                let outcome =
                    Jws::parse(&tampered).and_then(|j| j.verify(&provider, public, &[alg]));
                prop_assert!(
                    outcome.is_err(),
                    "{} flip at {} verified",
                    alg,
                    index % compact.len()
                );
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        tally.ran();
    }
    tally.finish()
}

/// JWE round trips for every key management and content algorithm pair,
/// single-byte flips, and a multi-recipient message. The tally counts the
/// pairs and the two composite checks; what the provider lacks is skipped.
pub fn jwe(provider: Provider, cases: u32) -> Tally {
    let mut tally = Tally::new("JWE round trips");
    let keys = TestKeys::load(&provider);
    for &alg in KeyAlg::ALL {
        for &enc in ContentAlg::ALL {
            if let Some(what) = jwe_lacks(&provider, &keys, alg, enc) {
                tally.lacks(what);
                continue;
            }
            let (recipient, decrypter) = keys.recipient(alg);
            let policy = JwePolicy {
                key_algs: &[alg],
                content_algs: &[enc],
            };
            let strategy = (
                proptest::collection::vec(any::<u8>(), 0..300),
                any::<usize>(),
                1u8..=255,
            );
            runner(cases)
                .run(&strategy, |(plaintext, index, mask)| {
                    let jwe = Jwe::builder(enc)
                        .recipient(alg, recipient, Header::new().with("kid", "r1"))
                        .protected_recipient()
                        .encrypt(&plaintext, &provider)
                        .expect("encrypt");
                    for form in [
                        jwe.to_compact().unwrap(),
                        jwe.to_flattened_json().unwrap(),
                        jwe.to_general_json(),
                    ] {
                        let parsed = Jwe::parse(form.as_bytes()).expect("parse");
                        prop_assert_eq!(
                            parsed
                                .decrypt(&provider, decrypter, &policy)
                                .expect("decrypt"),
                            plaintext.clone()
                        );
                    }
                    let compact = jwe.to_compact().unwrap();
                    let tampered = flip(&compact, index, mask);
                    let outcome = Jwe::parse(&tampered)
                        .and_then(|j| j.decrypt(&provider, decrypter, &policy));
                    prop_assert!(
                        outcome.is_err(),
                        "{}+{} flip at {} decrypted",
                        alg,
                        enc,
                        index % compact.len()
                    );
                    Ok(())
                })
                .unwrap_or_else(|e| panic!("{alg} + {enc}: {e}"));
            tally.ran();
        }
    }
    let needs = |pairs: &[(KeyAlg, ContentAlg)]| {
        pairs
            .iter()
            .find_map(|&(alg, enc)| jwe_lacks(&provider, &keys, alg, enc))
    };
    let cbc = ContentAlg::A128CbcHs256;
    let multi = [
        (KeyAlg::Rsa1_5, cbc),
        (KeyAlg::RsaOaep256, cbc),
        (KeyAlg::EcdhEsA128Kw, cbc),
        (KeyAlg::A256Kw, cbc),
        (KeyAlg::EcdhEsA256Kw, cbc),
        (KeyAlg::EcdhEs, ContentAlg::A128Gcm),
    ];
    match needs(&multi) {
        Some(what) => tally.lacks(what),
        None => {
            multi_recipient(&provider, &keys);
            tally.ran();
        }
    }
    let reply = [
        (KeyAlg::Rsa1_5, cbc),
        (KeyAlg::EcdhEsA128Kw, cbc),
        (KeyAlg::RsaOaep256, cbc),
        (KeyAlg::EcdhEs, ContentAlg::A128Gcm),
    ];
    match needs(&reply) {
        Some(what) => tally.lacks(what),
        None => {
            reply_under_request_cek(&provider, &keys);
            tally.ran();
        }
    }
    tally.finish()
}

/// The OTrP pattern of spec 9.2.1.2 step 3: the TEE decrypts a request,
/// answers under the same CEK wrapped to the TAM, and the TAM, which chose
/// that CEK, decrypts the answer with it directly.
fn reply_under_request_cek(provider: &Provider, keys: &TestKeys) {
    let enc = ContentAlg::A128CbcHs256;
    for alg in [KeyAlg::Rsa1_5, KeyAlg::EcdhEsA128Kw] {
        let (tee_key, tee) = keys.recipient(alg);
        let (tam_key, tam) = keys.recipient(KeyAlg::RsaOaep256);
        let request_cek =
            otrp_core::crypto::Cek::new(provider.random_bytes(enc.key_len()).unwrap());
        let request = Jwe::builder(enc)
            .cek(request_cek.clone())
            .recipient(alg, tee_key, Header::new())
            .encrypt(b"request", provider)
            .expect("request");
        let opened = request
            .decrypt_detailed(provider, tee, &JwePolicy::ANY)
            .expect("TEE decrypts");
        assert_eq!(
            (opened.plaintext.as_slice(), opened.enc, opened.key_alg),
            (&b"request"[..], enc, alg)
        );
        assert_eq!(opened.cek, request_cek);
        let reply = Jwe::builder(opened.enc)
            .cek(opened.cek)
            .recipient(KeyAlg::RsaOaep256, tam_key, Header::new())
            .encrypt(b"reply", provider)
            .expect("reply");
        assert_eq!(
            reply.decrypt_with_cek(provider, &request_cek, enc).unwrap(),
            b"reply"
        );
        assert_eq!(
            reply.decrypt(provider, tam, &JwePolicy::ANY).unwrap(),
            b"reply"
        );
        assert!(
            reply
                .decrypt_with_cek(provider, &request_cek, ContentAlg::A256Gcm)
                .is_err()
        );
        let wrong = otrp_core::crypto::Cek::new(vec![0; enc.key_len()]);
        assert_eq!(
            reply.decrypt_with_cek(provider, &wrong, enc),
            Err(otrp_core::jose::JoseError::Decrypt)
        );
    }
    // A given CEK of the wrong length, or with direct agreement, is refused.
    let short = otrp_core::crypto::Cek::new(vec![1; 16]);
    let (rsa, _) = keys.recipient(KeyAlg::Rsa1_5);
    assert!(
        Jwe::builder(enc)
            .cek(short.clone())
            .recipient(KeyAlg::Rsa1_5, rsa, Header::new())
            .encrypt(b"x", provider)
            .is_err()
    );
    let (p256, _) = keys.recipient(KeyAlg::EcdhEs);
    let direct =
        Jwe::builder(ContentAlg::A128Gcm)
            .cek(short)
            .recipient(KeyAlg::EcdhEs, p256, Header::new());
    assert!(direct.encrypt(b"x", provider).is_err());
}

fn multi_recipient(provider: &Provider, keys: &TestKeys) {
    let algs = [
        KeyAlg::Rsa1_5,
        KeyAlg::RsaOaep256,
        KeyAlg::EcdhEsA128Kw,
        KeyAlg::A256Kw,
    ];
    let mut builder = Jwe::builder(ContentAlg::A128CbcHs256).aad(b"otrp");
    for (i, &alg) in algs.iter().enumerate() {
        builder = builder.recipient(
            alg,
            keys.recipient(alg).0,
            Header::new().with("kid", format!("r{i}")),
        );
    }
    let (p384, p384_key) = keys.recipient_p384();
    builder = builder.recipient(KeyAlg::EcdhEsA256Kw, p384, Header::new());
    let jwe = builder.encrypt(b"to everyone", provider).expect("encrypt");
    assert!(
        jwe.to_compact().is_err(),
        "several recipients have no compact form"
    );
    let parsed = Jwe::parse(jwe.to_general_json().as_bytes()).expect("parse");
    for &alg in &algs {
        let plaintext = parsed
            .decrypt(provider, keys.recipient(alg).1, &JwePolicy::ANY)
            .expect("decrypt");
        assert_eq!(plaintext, b"to everyone", "{alg}");
    }
    assert_eq!(
        parsed
            .decrypt(provider, p384_key, &JwePolicy::ANY)
            .expect("P-384"),
        b"to everyone"
    );
    // ECDH-ES direct agreement cannot serve several recipients.
    let direct = Jwe::builder(ContentAlg::A128Gcm)
        .recipient(
            KeyAlg::EcdhEs,
            keys.recipient(KeyAlg::EcdhEs).0,
            Header::new(),
        )
        .recipient(
            KeyAlg::Rsa1_5,
            keys.recipient(KeyAlg::Rsa1_5).0,
            Header::new(),
        )
        .encrypt(b"x", provider);
    assert!(direct.is_err());
}
