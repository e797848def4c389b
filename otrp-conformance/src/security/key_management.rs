//! JWE key management (RFC 7518 4): RSA1_5's random-CEK countermeasure
//! (RFC 7516 11.5), RSA-OAEP, ECDH-ES against the JOSE cookbook (RFC 7520
//! 5.4, 5.5) and its refusal of invalid ephemeral keys, AES key wrap
//! failures, and keys of the wrong kind.

use otrp_core::crypto::{
    AgreementParams, Cek, ContentAlg, CryptoError, EcPublicKey, EncryptionKey, KeyAlg, Provider,
    PublicKey, SecretBytes, WrappedCek,
};
use otrp_core::jose::Jwk;

use crate::keys::TestKeys;
use crate::support::{ScriptedRandom, b64u};

/// RFC 7516 11.5: RSA1_5 never reports a padding failure. Garbage gives a
/// fresh random CEK of the right length (different each time); a
/// well-formed CEK of the wrong length is not returned either.
pub fn rsa1_5_returns_a_random_cek_instead_of_an_error(provider: Provider) {
    let keys = TestKeys::load(&provider);
    let key = &keys.rsa;
    let params = AgreementParams::default();
    let enc = ContentAlg::A128CbcHs256;
    for garbage in [
        vec![0x42u8; 256],
        vec![0u8; 256],
        vec![1u8; 10],
        vec![0xffu8; 256],
        vec![],
    ] {
        let a = key
            .decrypt_cek(
                KeyAlg::Rsa1_5,
                enc,
                &params,
                &garbage,
                provider.secure_random,
            )
            .unwrap();
        let b = key
            .decrypt_cek(
                KeyAlg::Rsa1_5,
                enc,
                &params,
                &garbage,
                provider.secure_random,
            )
            .unwrap();
        assert_eq!(a.len(), enc.key_len());
        assert_eq!(b.len(), enc.key_len());
        assert_ne!(a, b, "the CEK must be fresh randomness");
    }
    // A valid encryption of a 16-byte CEK, decrypted for a 32-byte enc.
    let pk = key.public_key().unwrap();
    let sixteen = Cek::new(vec![9u8; 16]);
    let wrapped = provider
        .key_encrypter(KeyAlg::Rsa1_5)
        .unwrap()
        .encrypt_cek(
            EncryptionKey::Public(&pk),
            ContentAlg::A128Gcm,
            Some(&sixteen),
            &params,
            provider.secure_random,
        )
        .unwrap();
    let got = key
        .decrypt_cek(
            KeyAlg::Rsa1_5,
            enc,
            &params,
            &wrapped.encrypted_key,
            provider.secure_random,
        )
        .unwrap();
    assert_eq!(got.len(), 32);
    assert_ne!(&got.as_bytes()[..16], sixteen.as_bytes());
    // And the right length decrypts to the real CEK.
    let right = key
        .decrypt_cek(
            KeyAlg::Rsa1_5,
            ContentAlg::A128Gcm,
            &params,
            &wrapped.encrypted_key,
            provider.secure_random,
        )
        .unwrap();
    assert_eq!(right, sixteen);
    // The random CEK is drawn before decrypting: with a random source that
    // fails, even a valid ciphertext is an error rather than a CEK.
    let failing = ScriptedRandom::new(vec![]);
    assert_eq!(
        key.decrypt_cek(
            KeyAlg::Rsa1_5,
            ContentAlg::A128Gcm,
            &params,
            &wrapped.encrypted_key,
            &failing
        )
        .err(),
        Some(CryptoError::Random)
    );
    assert_eq!(failing.calls.lock().unwrap().first(), Some(&16));
}

/// RSA-OAEP and RSA-OAEP-256 failures are Decrypt.
pub fn rsa_oaep_failure_is_decrypt(provider: Provider) {
    let keys = TestKeys::load(&provider);
    let key = &keys.rsa;
    let pk = key.public_key().unwrap();
    let params = AgreementParams::default();
    for alg in [KeyAlg::RsaOaep, KeyAlg::RsaOaep256] {
        let cek = Cek::new(vec![5u8; 16]);
        let wrapped = provider
            .key_encrypter(alg)
            .unwrap()
            .encrypt_cek(
                EncryptionKey::Public(&pk),
                ContentAlg::A128Gcm,
                Some(&cek),
                &params,
                provider.secure_random,
            )
            .unwrap();
        let mut bad = wrapped.encrypted_key.clone();
        bad[100] ^= 1;
        for input in [bad, vec![0u8; 256], vec![1u8; 3], vec![]] {
            assert_eq!(
                key.decrypt_cek(
                    alg,
                    ContentAlg::A128Gcm,
                    &params,
                    &input,
                    provider.secure_random
                )
                .err(),
                Some(CryptoError::Decrypt),
                "{alg}"
            );
        }
        // The right CEK for the wrong enc is Decrypt too.
        assert_eq!(
            key.decrypt_cek(
                alg,
                ContentAlg::A256Gcm,
                &params,
                &wrapped.encrypted_key,
                provider.secure_random
            )
            .err(),
            Some(CryptoError::Decrypt)
        );
        // The other OAEP variant cannot decrypt it.
        let other = if alg == KeyAlg::RsaOaep {
            KeyAlg::RsaOaep256
        } else {
            KeyAlg::RsaOaep
        };
        assert_eq!(
            key.decrypt_cek(
                other,
                ContentAlg::A128Gcm,
                &params,
                &wrapped.encrypted_key,
                provider.secure_random
            )
            .err(),
            Some(CryptoError::Decrypt)
        );
    }
}

/// A JWE vector of the JOSE cookbook (RFC 7520 section 5), by file name.
pub fn cookbook(name: &str) -> serde_json::Value {
    crate::load(&format!("jose-cookbook/jwe/{name}"))
}

/// A JWK from its JSON.
pub fn jwk(v: &serde_json::Value) -> Jwk {
    serde_json::from_value(v.clone()).unwrap()
}

/// The EC public key of a JWK in JSON (an `epk`).
pub fn epk_of(v: &serde_json::Value) -> EcPublicKey {
    match jwk(v).to_public_key().unwrap() {
        PublicKey::Ec(k) => k,
        PublicKey::Rsa(_) => panic!("not EC"),
    }
}

/// ECDH-ES (direct, A128CBC-HS256) to the recipient of the JOSE cookbook's
/// 5.5 with `provider`, its random source answering `first` and then the
/// cookbook's ephemeral scalar: the vector, the wrapped CEK, and the random
/// source (to read its draws).
pub fn ecdh_es_to_the_cookbook_recipient(
    provider: Provider,
    first: Vec<Vec<u8>>,
) -> (serde_json::Value, WrappedCek, ScriptedRandom) {
    let v = cookbook("5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json");
    let recipient = jwk(&v["input"]["key"]).to_public_key().unwrap();
    let eph_d = b64u(v["encrypting_key"]["epk"]["d"].as_str().unwrap());
    let mut script = first;
    script.push(eph_d);
    let random = ScriptedRandom::new(script);
    let wrapped = provider
        .key_encrypter(KeyAlg::EcdhEs)
        .unwrap()
        .encrypt_cek(
            EncryptionKey::Public(&recipient),
            ContentAlg::A128CbcHs256,
            None,
            &AgreementParams::default(),
            &random,
        )
        .unwrap();
    (v, wrapped, random)
}

/// RFC 7518 4.6 against the JOSE cookbook (5.5, ECDH-ES direct, P-256): the
/// ephemeral key is exactly one `fill` of 32 bytes, and the Concat KDF
/// (AlgorithmID = enc) gives the cookbook's CEK.
pub fn ecdh_es_direct_matches_the_cookbook(provider: Provider) {
    let (v, wrapped, random) = ecdh_es_to_the_cookbook_recipient(provider, vec![]);
    assert_eq!(*random.calls.lock().unwrap(), vec![32]);
    let expected_cek = b64u(v["encrypting_key"]["cek"].as_str().unwrap());
    assert_eq!(wrapped.cek.as_bytes(), &expected_cek[..]);
    assert_eq!(
        wrapped.epk.as_ref(),
        Some(&epk_of(&v["encrypting_key"]["epk"]))
    );
    assert!(wrapped.encrypted_key.is_empty());

    // The recipient derives the same CEK and decrypts the cookbook content.
    let key = jwk(&v["input"]["key"])
        .load_private_key(provider.key_loader)
        .unwrap();
    let params = AgreementParams {
        epk: wrapped.epk.clone(),
        ..AgreementParams::default()
    };
    let cek = key
        .decrypt_cek(
            KeyAlg::EcdhEs,
            ContentAlg::A128CbcHs256,
            &params,
            &[],
            provider.secure_random,
        )
        .unwrap();
    assert_eq!(cek.as_bytes(), &expected_cek[..]);
    let content = &v["encrypting_content"];
    let mut buf = b64u(content["ciphertext"].as_str().unwrap());
    provider
        .content_cipher(ContentAlg::A128CbcHs256)
        .unwrap()
        .decrypt(
            &cek,
            &b64u(v["generated"]["iv"].as_str().unwrap()),
            content["protected_b64u"].as_str().unwrap().as_bytes(),
            &mut buf,
            &b64u(content["tag"].as_str().unwrap()),
        )
        .unwrap();
    assert_eq!(buf, v["input"]["plaintext"].as_str().unwrap().as_bytes());
}

/// Cookbook 5.4 (ECDH-ES+A128KW, P-384): AlgorithmID is the alg name, the
/// ephemeral key is one `fill` of 48 bytes, and the wrapped CEK matches.
pub fn ecdh_es_a128kw_matches_the_cookbook(provider: Provider) {
    let v = cookbook(
        "5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json",
    );
    let recipient = jwk(&v["input"]["key"]).to_public_key().unwrap();
    let eph_d = b64u(v["encrypting_key"]["epk"]["d"].as_str().unwrap());
    let cek = Cek::new(b64u(v["generated"]["cek"].as_str().unwrap()));
    let random = ScriptedRandom::new(vec![eph_d]);
    let wrapped = provider
        .key_encrypter(KeyAlg::EcdhEsA128Kw)
        .unwrap()
        .encrypt_cek(
            EncryptionKey::Public(&recipient),
            ContentAlg::A128Gcm,
            Some(&cek),
            &AgreementParams::default(),
            &random,
        )
        .unwrap();
    assert_eq!(*random.calls.lock().unwrap(), vec![48]);
    let expected = b64u(v["encrypting_key"]["encrypted_key"].as_str().unwrap());
    assert_eq!(wrapped.encrypted_key, expected);
    let key = jwk(&v["input"]["key"])
        .load_private_key(provider.key_loader)
        .unwrap();
    let params = AgreementParams {
        epk: Some(epk_of(&v["encrypting_key"]["epk"])),
        ..AgreementParams::default()
    };
    let got = key
        .decrypt_cek(
            KeyAlg::EcdhEsA128Kw,
            ContentAlg::A128Gcm,
            &params,
            &expected,
            provider.secure_random,
        )
        .unwrap();
    assert_eq!(got, cek);
    // Integrity failure of the unwrap is Decrypt.
    let mut bad = expected.clone();
    bad[0] ^= 1;
    assert_eq!(
        key.decrypt_cek(
            KeyAlg::EcdhEsA128Kw,
            ContentAlg::A128Gcm,
            &params,
            &bad,
            provider.secure_random
        )
        .err(),
        Some(CryptoError::Decrypt)
    );
    // A CEK of the wrong length for enc is Decrypt.
    assert_eq!(
        key.decrypt_cek(
            KeyAlg::EcdhEsA128Kw,
            ContentAlg::A256Gcm,
            &params,
            &expected,
            provider.secure_random
        )
        .err(),
        Some(CryptoError::Decrypt)
    );
}

/// An `epk` off the curve, on another curve, or missing is InvalidKey.
pub fn ecdh_es_refuses_invalid_ephemeral_keys(provider: Provider) {
    let v = cookbook("5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json");
    let key = jwk(&v["input"]["key"])
        .load_private_key(provider.key_loader)
        .unwrap();
    let good = epk_of(&v["encrypting_key"]["epk"]);
    let mut y = good.y().to_vec();
    y[31] ^= 1;
    let off_curve = EcPublicKey::new(good.curve(), good.x(), &y).unwrap();
    let zero = EcPublicKey::new(good.curve(), &[0; 32], &[0; 32]).unwrap();
    let p384_epk = epk_of(
        &cookbook(
            "5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json",
        )["encrypting_key"]["epk"],
    );
    for alg in [KeyAlg::EcdhEs, KeyAlg::EcdhEsA128Kw, KeyAlg::EcdhEsA256Kw] {
        for epk in [
            Some(off_curve.clone()),
            Some(zero.clone()),
            Some(p384_epk.clone()),
            None,
        ] {
            let params = AgreementParams {
                epk,
                ..AgreementParams::default()
            };
            assert_eq!(
                key.decrypt_cek(
                    alg,
                    ContentAlg::A128Gcm,
                    &params,
                    &[0; 24],
                    provider.secure_random
                )
                .err(),
                Some(CryptoError::InvalidKey),
                "{alg}"
            );
        }
    }
    // The sender refuses a recipient key off the curve too.
    let recipient = PublicKey::Ec(off_curve);
    assert_eq!(
        provider
            .key_encrypter(KeyAlg::EcdhEs)
            .unwrap()
            .encrypt_cek(
                EncryptionKey::Public(&recipient),
                ContentAlg::A128Gcm,
                None,
                &AgreementParams::default(),
                provider.secure_random,
            )
            .err(),
        Some(CryptoError::InvalidKey)
    );
}

/// ECDH-ES uses apu/apv: a different apv derives a different key.
pub fn ecdh_es_binds_party_info(provider: Provider) {
    let v = cookbook("5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json");
    let key = jwk(&v["input"]["key"])
        .load_private_key(provider.key_loader)
        .unwrap();
    let epk = Some(epk_of(&v["encrypting_key"]["epk"]));
    let plain = AgreementParams {
        epk: epk.clone(),
        ..Default::default()
    };
    let with_apv = AgreementParams {
        epk,
        apv: Some(b"Bob".to_vec()),
        ..Default::default()
    };
    let a = key
        .decrypt_cek(
            KeyAlg::EcdhEs,
            ContentAlg::A128Gcm,
            &plain,
            &[],
            provider.secure_random,
        )
        .unwrap();
    let b = key
        .decrypt_cek(
            KeyAlg::EcdhEs,
            ContentAlg::A128Gcm,
            &with_apv,
            &[],
            provider.secure_random,
        )
        .unwrap();
    assert_ne!(a, b);
    let sha256 = provider
        .digest(otrp_core::crypto::HashAlg::Sha256)
        .expect("SHA-256");
    let kdf = || otrp_core::crypto::concat_kdf(sha256, &[1; 32], "A128GCM", b"", b"", 16);
    assert_eq!(kdf().unwrap(), kdf().unwrap());
}

/// A128KW / A256KW: integrity failure and a CEK of the wrong length are
/// Decrypt.
pub fn aes_kw_unwrap_failures_are_decrypt(provider: Provider) {
    let p = provider;
    for (alg, len) in [(KeyAlg::A128Kw, 16), (KeyAlg::A256Kw, 32)] {
        let kek = SecretBytes::new(p.random_bytes(len).unwrap());
        let key = Jwk {
            kty: "oct".into(),
            k: Some(otrp_core::jose::Secret::encode(kek.as_bytes())),
            ..Jwk::default()
        }
        .load_private_key(provider.key_loader)
        .unwrap();
        let cek = Cek::new(p.random_bytes(16).unwrap());
        let wrapped = p
            .key_encrypter(alg)
            .unwrap()
            .encrypt_cek(
                EncryptionKey::Symmetric(&kek),
                ContentAlg::A128Gcm,
                Some(&cek),
                &AgreementParams::default(),
                provider.secure_random,
            )
            .unwrap();
        let params = AgreementParams::default();
        assert_eq!(
            key.decrypt_cek(
                alg,
                ContentAlg::A128Gcm,
                &params,
                &wrapped.encrypted_key,
                provider.secure_random
            )
            .unwrap(),
            cek
        );
        let mut bad = wrapped.encrypted_key.clone();
        bad[10] ^= 1;
        for input in [bad, vec![0u8; 24], vec![0u8; 23], vec![0u8; 16], vec![]] {
            assert_eq!(
                key.decrypt_cek(
                    alg,
                    ContentAlg::A128Gcm,
                    &params,
                    &input,
                    provider.secure_random
                )
                .err(),
                Some(CryptoError::Decrypt)
            );
        }
        // 16-byte CEK unwrapped for a 32-byte enc.
        assert_eq!(
            key.decrypt_cek(
                alg,
                ContentAlg::A128CbcHs256,
                &params,
                &wrapped.encrypted_key,
                provider.secure_random
            )
            .err(),
            Some(CryptoError::Decrypt)
        );
        // A KEK of the wrong size for the algorithm is a key mismatch.
        let other = if alg == KeyAlg::A128Kw {
            KeyAlg::A256Kw
        } else {
            KeyAlg::A128Kw
        };
        assert_eq!(
            p.key_encrypter(other)
                .unwrap()
                .encrypt_cek(
                    EncryptionKey::Symmetric(&kek),
                    ContentAlg::A128Gcm,
                    Some(&cek),
                    &params,
                    provider.secure_random
                )
                .err(),
            Some(CryptoError::KeyMismatch)
        );
    }
}

/// Keys of the wrong kind are refused before any cryptography.
pub fn key_kind_mismatches(provider: Provider) {
    let p = provider;
    let keys = TestKeys::load(&provider);
    let rsa = &keys.rsa;
    let params = AgreementParams::default();
    for alg in [KeyAlg::EcdhEs, KeyAlg::A128Kw, KeyAlg::A256Kw] {
        assert_eq!(
            rsa.decrypt_cek(
                alg,
                ContentAlg::A128Gcm,
                &params,
                &[0; 24],
                provider.secure_random
            )
            .err(),
            Some(CryptoError::KeyMismatch)
        );
    }
    let rsa_pub = rsa.public_key().unwrap();
    let kek = SecretBytes::new(vec![0; 16]);
    assert_eq!(
        p.key_encrypter(KeyAlg::EcdhEs)
            .unwrap()
            .encrypt_cek(
                EncryptionKey::Public(&rsa_pub),
                ContentAlg::A128Gcm,
                None,
                &params,
                provider.secure_random
            )
            .err(),
        Some(CryptoError::KeyMismatch)
    );
    assert_eq!(
        p.key_encrypter(KeyAlg::RsaOaep)
            .unwrap()
            .encrypt_cek(
                EncryptionKey::Symmetric(&kek),
                ContentAlg::A128Gcm,
                Some(&kek),
                &params,
                provider.secure_random
            )
            .err(),
        Some(CryptoError::KeyMismatch)
    );
}
