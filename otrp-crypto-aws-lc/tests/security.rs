//! One test per security property the aws-lc backend promises (the same
//! properties as the RustCrypto backend's, docs/security.md), checked
//! against independent RustCrypto constructions where a test builds its
//! own ciphertext.

mod common;

use common::{ScriptedRandom, b64u, fixture_str, rng, vector};
use hmac::{KeyInit, Mac};
use otrp_core::crypto::KeyLoader;
use otrp_core::crypto::{
    AgreementParams, Cek, ContentAlg, CryptoError, EcPublicKey, EncryptionKey, KeyAlg, PrivateKey,
    PublicKey, SecretBytes,
};
use otrp_core::jose::Jwk;
use otrp_crypto_aws_lc::{KEY_LOADER, hazmat, private_key_from_pem, provider};

fn rsa_key() -> Box<dyn PrivateKey> {
    private_key_from_pem(&fixture_str("rsa2048.pem")).unwrap()
}

/// AES-128-CBC without padding, built from raw AES (so the test controls
/// every byte of the ciphertext).
fn raw_cbc_encrypt(key: &[u8], iv: &[u8], blocks: &[u8]) -> Vec<u8> {
    use aes::cipher::{BlockCipherEncrypt, KeyInit as _};
    let aes = aes::Aes128::new_from_slice(key).unwrap();
    let mut prev: [u8; 16] = iv.try_into().unwrap();
    let mut out = Vec::new();
    for chunk in blocks.chunks(16) {
        let mut block = [0u8; 16];
        for i in 0..16 {
            block[i] = chunk[i] ^ prev[i];
        }
        let mut b = aes::Block::from(block);
        aes.encrypt_block(&mut b);
        prev = b.into();
        out.extend_from_slice(&prev);
    }
    out
}

fn a128cbc_hs256_tag(mac_key: &[u8], aad: &[u8], iv: &[u8], ct: &[u8]) -> Vec<u8> {
    let mut mac = <hmac::Hmac<sha2::Sha256>>::new_from_slice(mac_key).unwrap();
    mac.update(aad);
    mac.update(iv);
    mac.update(ct);
    mac.update(&((aad.len() as u64) * 8).to_be_bytes());
    mac.finalize().into_bytes()[..16].to_vec()
}

/// RFC 7518 5.2: the MAC covers AAD || IV || ciphertext || AL; a valid tag
/// over a ciphertext whose padding is invalid still gives Decrypt.
#[test]
fn cbc_hmac_valid_tag_with_bad_padding_is_decrypt() {
    let cek = Cek::new((0u8..32).collect());
    let (mac_key, enc_key) = cek.as_bytes().split_at(16);
    let iv = [7u8; 16];
    let aad = b"protected header";
    let cipher = provider().content_cipher(ContentAlg::A128CbcHs256).unwrap();
    // Sanity: our own MAC matches the cipher's for a well-formed message.
    let mut good = b"sixteen byte msg".to_vec();
    let tag = cipher.encrypt(&cek, &iv, aad, &mut good).unwrap();
    assert_eq!(tag, a128cbc_hs256_tag(mac_key, aad, &iv, &good));

    for bad_padding in [[0u8; 16], [17u8; 16], {
        let mut b = [3u8; 16];
        b[15] = 2;
        b[14] = 1;
        b
    }] {
        let mut plaintext = b"sixteen byte msg".to_vec();
        plaintext.extend_from_slice(&bad_padding);
        let ct = raw_cbc_encrypt(enc_key, &iv, &plaintext);
        let tag = a128cbc_hs256_tag(mac_key, aad, &iv, &ct);
        let mut buf = ct.clone();
        assert_eq!(
            cipher.decrypt(&cek, &iv, aad, &mut buf, &tag),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            hazmat::cbc_hmac_decrypt(
                ContentAlg::A128CbcHs256,
                cek.as_bytes(),
                &iv,
                aad,
                &ct,
                &tag
            ),
            Err(CryptoError::Decrypt)
        );
    }
    // The same construction with valid padding decrypts: the test above
    // failed on the padding, not on the MAC.
    let mut plaintext = b"sixteen byte msg".to_vec();
    plaintext.extend_from_slice(&[16u8; 16]);
    let ct = raw_cbc_encrypt(enc_key, &iv, &plaintext);
    let tag = a128cbc_hs256_tag(mac_key, aad, &iv, &ct);
    let mut buf = ct;
    cipher.decrypt(&cek, &iv, aad, &mut buf, &tag).unwrap();
    assert_eq!(buf, b"sixteen byte msg");
}

/// A flipped tag, AAD, IV or ciphertext bit is Decrypt, and the buffer is
/// untouched: decryption (which works in place) never ran before the MAC
/// check.
#[test]
fn cbc_hmac_tag_is_checked_before_decryption() {
    for enc in [ContentAlg::A128CbcHs256, ContentAlg::A256CbcHs512] {
        let p = provider();
        let cek = Cek::new(p.random_bytes(enc.key_len()).unwrap());
        let iv = p.random_bytes(16).unwrap();
        let cipher = p.content_cipher(enc).unwrap();
        let mut ct = b"payload".to_vec();
        let tag = cipher.encrypt(&cek, &iv, b"aad", &mut ct).unwrap();
        for bit in [0, 7, 8 * tag.len() - 1] {
            let mut bad = tag.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let mut buf = ct.clone();
            assert_eq!(
                cipher.decrypt(&cek, &iv, b"aad", &mut buf, &bad),
                Err(CryptoError::Decrypt)
            );
            assert_eq!(buf, ct, "ciphertext was touched before the tag check");
        }
        let mut buf = ct.clone();
        assert_eq!(
            cipher.decrypt(&cek, &iv, b"aaD", &mut buf, &tag),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(buf, ct);
        let mut bad_iv = iv.clone();
        bad_iv[0] ^= 1;
        assert_eq!(
            cipher.decrypt(&cek, &bad_iv, b"aad", &mut buf, &tag),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(buf, ct);
        let mut bad_ct = ct.clone();
        bad_ct[3] ^= 0x80;
        let mut buf = bad_ct.clone();
        assert_eq!(
            cipher.decrypt(&cek, &iv, b"aad", &mut buf, &tag),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(buf, bad_ct);
    }
}

/// Wrong lengths never panic: every one is Decrypt on the way in (and an
/// error on the way out).
#[test]
fn wrong_lengths_are_errors_not_panics() {
    let p = provider();
    for &enc in ContentAlg::ALL {
        let cipher = p.content_cipher(enc).unwrap();
        let cek = Cek::new(p.random_bytes(enc.key_len()).unwrap());
        let iv = p.random_bytes(enc.iv_len()).unwrap();
        let mut ct = b"payload".to_vec();
        let tag = cipher.encrypt(&cek, &iv, b"", &mut ct).unwrap();
        let short_cek = Cek::new(vec![1; enc.key_len() - 1]);
        let long_cek = Cek::new(vec![1; enc.key_len() + 1]);
        for (cek_, iv_, tag_, ct_) in [
            (&cek, &iv[1..], &tag[..], &ct[..]),
            (&cek, &[][..], &tag[..], &ct[..]),
            (&cek, &iv[..], &tag[1..], &ct[..]),
            (&cek, &iv[..], &[][..], &ct[..]),
            (&short_cek, &iv[..], &tag[..], &ct[..]),
            (&long_cek, &iv[..], &tag[..], &ct[..]),
            (&cek, &iv[..], &tag[..], &ct[1..]),
            (&cek, &iv[..], &tag[..], &[][..]),
        ] {
            let mut buf = ct_.to_vec();
            assert_eq!(
                cipher.decrypt(cek_, iv_, b"", &mut buf, tag_),
                Err(CryptoError::Decrypt),
                "{enc}"
            );
        }
        let mut buf = b"x".to_vec();
        assert!(cipher.encrypt(&short_cek, &iv, b"", &mut buf).is_err());
        assert!(cipher.encrypt(&cek, &iv[1..], b"", &mut buf).is_err());
    }
    // Key management with wrong CEK lengths.
    let rsa = rsa_key();
    let pk = rsa.public_key().unwrap();
    let short = Cek::new(vec![0; 5]);
    for &alg in &[KeyAlg::Rsa1_5, KeyAlg::RsaOaep, KeyAlg::RsaOaep256] {
        let e = p.key_encrypter(alg).unwrap();
        let r = e.encrypt_cek(
            EncryptionKey::Public(&pk),
            ContentAlg::A128Gcm,
            Some(&short),
            &AgreementParams::default(),
            rng(),
        );
        assert_eq!(r.err(), Some(CryptoError::InvalidLength));
    }
}

/// RFC 7516 11.5: RSA1_5 never reports a padding failure. Garbage gives a
/// fresh random CEK of the right length (different each time); a
/// well-formed CEK of the wrong length is not returned either.
#[test]
fn rsa1_5_returns_a_random_cek_instead_of_an_error() {
    let key = rsa_key();
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
            .decrypt_cek(KeyAlg::Rsa1_5, enc, &params, &garbage, rng())
            .unwrap();
        let b = key
            .decrypt_cek(KeyAlg::Rsa1_5, enc, &params, &garbage, rng())
            .unwrap();
        assert_eq!(a.len(), enc.key_len());
        assert_eq!(b.len(), enc.key_len());
        assert_ne!(a, b, "the CEK must be fresh randomness");
    }
    // A valid encryption of a 16-byte CEK, decrypted for a 32-byte enc.
    let pk = key.public_key().unwrap();
    let sixteen = Cek::new(vec![9u8; 16]);
    let wrapped = provider()
        .key_encrypter(KeyAlg::Rsa1_5)
        .unwrap()
        .encrypt_cek(
            EncryptionKey::Public(&pk),
            ContentAlg::A128Gcm,
            Some(&sixteen),
            &params,
            rng(),
        )
        .unwrap();
    let got = key
        .decrypt_cek(KeyAlg::Rsa1_5, enc, &params, &wrapped.encrypted_key, rng())
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
            rng(),
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
#[test]
fn rsa_oaep_failure_is_decrypt() {
    let key = rsa_key();
    let pk = key.public_key().unwrap();
    let params = AgreementParams::default();
    for alg in [KeyAlg::RsaOaep, KeyAlg::RsaOaep256] {
        let cek = Cek::new(vec![5u8; 16]);
        let wrapped = provider()
            .key_encrypter(alg)
            .unwrap()
            .encrypt_cek(
                EncryptionKey::Public(&pk),
                ContentAlg::A128Gcm,
                Some(&cek),
                &params,
                rng(),
            )
            .unwrap();
        let mut bad = wrapped.encrypted_key.clone();
        bad[100] ^= 1;
        for input in [bad, vec![0u8; 256], vec![1u8; 3], vec![]] {
            assert_eq!(
                key.decrypt_cek(alg, ContentAlg::A128Gcm, &params, &input, rng())
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
                rng()
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
                rng()
            )
            .err(),
            Some(CryptoError::Decrypt)
        );
    }
}

fn cookbook(name: &str) -> serde_json::Value {
    vector(&format!("jose-cookbook/jwe/{name}"))
}

fn jwk(v: &serde_json::Value) -> Jwk {
    serde_json::from_value(v.clone()).unwrap()
}

fn epk_of(v: &serde_json::Value) -> EcPublicKey {
    match jwk(v).to_public_key().unwrap() {
        PublicKey::Ec(k) => k,
        PublicKey::Rsa(_) => panic!("not EC"),
    }
}

/// RFC 7518 4.6 against the JOSE cookbook (5.5, ECDH-ES direct, P-256): the
/// ephemeral key is exactly one `fill` of 32 bytes, and the Concat KDF
/// (AlgorithmID = enc) gives the cookbook's CEK.
#[test]
fn ecdh_es_direct_matches_the_cookbook() {
    let v = cookbook("5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json");
    let recipient = jwk(&v["input"]["key"]).to_public_key().unwrap();
    let eph_d = b64u(v["encrypting_key"]["epk"]["d"].as_str().unwrap());
    let random = ScriptedRandom::new(vec![eph_d]);
    let wrapped = provider()
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
    assert_eq!(*random.calls.lock().unwrap(), vec![32]);
    let expected_cek = b64u(v["encrypting_key"]["cek"].as_str().unwrap());
    assert_eq!(wrapped.cek.as_bytes(), &expected_cek[..]);
    assert_eq!(
        wrapped.epk.as_ref(),
        Some(&epk_of(&v["encrypting_key"]["epk"]))
    );
    assert!(wrapped.encrypted_key.is_empty());

    // The recipient derives the same CEK and decrypts the cookbook content.
    let key = KEY_LOADER
        .private_key_from_jwk(&jwk(&v["input"]["key"]))
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
            rng(),
        )
        .unwrap();
    assert_eq!(cek.as_bytes(), &expected_cek[..]);
    let content = &v["encrypting_content"];
    let mut buf = b64u(content["ciphertext"].as_str().unwrap());
    provider()
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
#[test]
fn ecdh_es_a128kw_matches_the_cookbook() {
    let v = cookbook(
        "5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json",
    );
    let recipient = jwk(&v["input"]["key"]).to_public_key().unwrap();
    let eph_d = b64u(v["encrypting_key"]["epk"]["d"].as_str().unwrap());
    let cek = Cek::new(b64u(v["generated"]["cek"].as_str().unwrap()));
    let random = ScriptedRandom::new(vec![eph_d]);
    let wrapped = provider()
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
    let key = KEY_LOADER
        .private_key_from_jwk(&jwk(&v["input"]["key"]))
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
            rng(),
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
            rng()
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
            rng()
        )
        .err(),
        Some(CryptoError::Decrypt)
    );
}

/// An `epk` off the curve, on another curve, or missing is InvalidKey.
#[test]
fn ecdh_es_refuses_invalid_ephemeral_keys() {
    let v = cookbook("5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json");
    let key = KEY_LOADER
        .private_key_from_jwk(&jwk(&v["input"]["key"]))
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
                key.decrypt_cek(alg, ContentAlg::A128Gcm, &params, &[0; 24], rng())
                    .err(),
                Some(CryptoError::InvalidKey),
                "{alg}"
            );
        }
    }
    // The sender refuses a recipient key off the curve too.
    let recipient = PublicKey::Ec(off_curve);
    assert_eq!(
        provider()
            .key_encrypter(KeyAlg::EcdhEs)
            .unwrap()
            .encrypt_cek(
                EncryptionKey::Public(&recipient),
                ContentAlg::A128Gcm,
                None,
                &AgreementParams::default(),
                rng(),
            )
            .err(),
        Some(CryptoError::InvalidKey)
    );
}

/// ECDH-ES uses apu/apv: a different apv derives a different key.
#[test]
fn ecdh_es_binds_party_info() {
    let v = cookbook("5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json");
    let key = KEY_LOADER
        .private_key_from_jwk(&jwk(&v["input"]["key"]))
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
        .decrypt_cek(KeyAlg::EcdhEs, ContentAlg::A128Gcm, &plain, &[], rng())
        .unwrap();
    let b = key
        .decrypt_cek(KeyAlg::EcdhEs, ContentAlg::A128Gcm, &with_apv, &[], rng())
        .unwrap();
    assert_ne!(a, b);
    assert_eq!(
        hazmat::concat_kdf(&[1; 32], "A128GCM", b"", b"", 16).unwrap(),
        hazmat::concat_kdf(&[1; 32], "A128GCM", b"", b"", 16).unwrap()
    );
}

/// A128KW / A256KW: integrity failure and a CEK of the wrong length are
/// Decrypt.
#[test]
fn aes_kw_unwrap_failures_are_decrypt() {
    let p = provider();
    for (alg, len) in [(KeyAlg::A128Kw, 16), (KeyAlg::A256Kw, 32)] {
        let kek = SecretBytes::new(p.random_bytes(len).unwrap());
        let key = KEY_LOADER
            .private_key_from_jwk(&Jwk {
                kty: "oct".into(),
                k: Some(otrp_core::jose::Secret::encode(kek.as_bytes())),
                ..Jwk::default()
            })
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
                rng(),
            )
            .unwrap();
        let params = AgreementParams::default();
        assert_eq!(
            key.decrypt_cek(
                alg,
                ContentAlg::A128Gcm,
                &params,
                &wrapped.encrypted_key,
                rng()
            )
            .unwrap(),
            cek
        );
        let mut bad = wrapped.encrypted_key.clone();
        bad[10] ^= 1;
        for input in [bad, vec![0u8; 24], vec![0u8; 23], vec![0u8; 16], vec![]] {
            assert_eq!(
                key.decrypt_cek(alg, ContentAlg::A128Gcm, &params, &input, rng())
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
                rng()
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
                    rng()
                )
                .err(),
            Some(CryptoError::KeyMismatch)
        );
    }
}

/// Keys of the wrong kind are refused before any cryptography.
#[test]
fn key_kind_mismatches() {
    let p = provider();
    let rsa = rsa_key();
    let params = AgreementParams::default();
    for alg in [KeyAlg::EcdhEs, KeyAlg::A128Kw, KeyAlg::A256Kw] {
        assert_eq!(
            rsa.decrypt_cek(alg, ContentAlg::A128Gcm, &params, &[0; 24], rng())
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
                rng()
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
                rng()
            )
            .err(),
        Some(CryptoError::KeyMismatch)
    );
}

// ---- What is specific to the aws-lc backend ----

/// AWS-LC reports a PKCS#1 v1.5 padding failure as an error (its raw
/// decryption, in `hazmat`, says so); the RFC 7516 11.5 substitution that
/// turns it into a random CEK is ours, and it also hides a valid padding
/// around a message of the wrong length.
#[test]
fn rsa1_5_substitution_is_ours_over_aws_lc_explicit_rejection() {
    let key =
        otrp_crypto_aws_lc::RsaPrivateKey::from_pkcs8_der(&common::fixture("rsa2048.der")).unwrap();
    let garbage = vec![0x42u8; 256];
    assert_eq!(
        hazmat::rsa_pkcs1v15_decrypt(&key, &garbage),
        Err(CryptoError::Decrypt)
    );
    let params = AgreementParams::default();
    let enc = ContentAlg::A128Gcm;
    let cek = otrp_core::crypto::CekDecrypter::decrypt_cek(
        &key,
        KeyAlg::Rsa1_5,
        enc,
        &params,
        &garbage,
        rng(),
    )
    .unwrap();
    assert_eq!(cek.len(), 16);
    // A valid 32-byte message: hazmat returns it, RSA1_5 for a 16-byte enc
    // returns exactly the scripted random CEK instead.
    let pk = PublicKey::Rsa(key.rsa_public_key().clone());
    let wrapped = provider()
        .key_encrypter(KeyAlg::Rsa1_5)
        .unwrap()
        .encrypt_cek(
            EncryptionKey::Public(&pk),
            ContentAlg::A128CbcHs256,
            Some(&Cek::new(vec![7u8; 32])),
            &params,
            rng(),
        )
        .unwrap();
    assert_eq!(
        hazmat::rsa_pkcs1v15_decrypt(&key, &wrapped.encrypted_key).unwrap(),
        vec![7u8; 32]
    );
    let scripted = ScriptedRandom::new(vec![vec![0xA5; 16]]);
    let got = otrp_core::crypto::CekDecrypter::decrypt_cek(
        &key,
        KeyAlg::Rsa1_5,
        enc,
        &params,
        &wrapped.encrypted_key,
        &scripted,
    )
    .unwrap();
    assert_eq!(got.as_bytes(), &[0xA5; 16]);
    // And with the right enc, the scripted CEK is replaced by the real one.
    let scripted = ScriptedRandom::new(vec![vec![0xA5; 32]]);
    let got = otrp_core::crypto::CekDecrypter::decrypt_cek(
        &key,
        KeyAlg::Rsa1_5,
        ContentAlg::A128CbcHs256,
        &params,
        &wrapped.encrypted_key,
        &scripted,
    )
    .unwrap();
    assert_eq!(got.as_bytes(), &[7u8; 32]);
}

/// The ephemeral ECDH key is exactly `field_len` bytes from one `fill`; a
/// scalar AWS-LC refuses (zero, or at least the group order) is drawn again.
#[test]
fn ecdh_ephemeral_scalar_is_one_fill_and_invalid_scalars_are_redrawn() {
    let v = cookbook("5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json");
    let recipient = jwk(&v["input"]["key"]).to_public_key().unwrap();
    let eph_d = b64u(v["encrypting_key"]["epk"]["d"].as_str().unwrap());
    let random = ScriptedRandom::new(vec![vec![0xff; 32], vec![0; 32], eph_d]);
    let wrapped = provider()
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
    assert_eq!(*random.calls.lock().unwrap(), vec![32, 32, 32]);
    assert_eq!(
        wrapped.epk.as_ref(),
        Some(&epk_of(&v["encrypting_key"]["epk"]))
    );
    for d in [vec![0u8; 32], vec![0xff; 32], vec![1u8; 31]] {
        assert_eq!(
            otrp_crypto_aws_lc::EcPrivateKey::from_scalar(otrp_core::crypto::Curve::P256, &d, None)
                .err(),
            Some(CryptoError::InvalidKey)
        );
    }
}

/// aws-lc-rs cannot recover RSA primes from `d`: a JWK without them is
/// refused, and AWS-LC checks that the CRT members belong to the key.
#[test]
fn rsa_jwk_needs_every_member_and_consistent_crt_values() {
    let v = cookbook("5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json");
    let full = jwk(&v["input"]["key"]);
    assert!(KEY_LOADER.private_key_from_jwk(&full).is_ok());
    let mut no_primes = full.clone();
    (
        no_primes.p,
        no_primes.q,
        no_primes.dp,
        no_primes.dq,
        no_primes.qi,
    ) = (None, None, None, None, None);
    assert_eq!(
        KEY_LOADER.private_key_from_jwk(&no_primes).err(),
        Some(CryptoError::InvalidKey)
    );
    let mut bad_crt = full.clone();
    bad_crt.dp = full.dq.clone();
    assert_eq!(
        KEY_LOADER.private_key_from_jwk(&bad_crt).err(),
        Some(CryptoError::InvalidKey)
    );
    let mut swapped = full.clone();
    swapped.d = full.dp.clone();
    assert_eq!(
        KEY_LOADER.private_key_from_jwk(&swapped).err(),
        Some(CryptoError::InvalidKey)
    );
}

/// RSA keys under 2048 bits are refused everywhere: loading, SPKI, and as
/// verification or encryption keys.
#[test]
fn rsa_keys_under_2048_bits_are_refused() {
    assert_eq!(
        private_key_from_pem(&fixture_str("rsa1024.pem")).err(),
        Some(CryptoError::InvalidKey)
    );
    assert_eq!(
        KEY_LOADER
            .public_key_from_spki_der(&common::fixture("rsa1024.pub.der"))
            .err(),
        Some(CryptoError::InvalidKey)
    );
    // The 1024-bit key's n and e, taken from the DER by hand.
    let der = common::fixture("rsa1024.pub.der");
    let n_at = der
        .windows(3)
        .position(|w| w == [0x02, 0x81, 0x81])
        .unwrap()
        + 3;
    let n = &der[n_at..n_at + 129];
    let small = PublicKey::Rsa(otrp_core::crypto::RsaPublicKey::new(n, &[1, 0, 1]).unwrap());
    let p = provider();
    assert_eq!(
        p.signature_verifier(otrp_core::crypto::JwsAlg::Rs256)
            .unwrap()
            .verify(&small, b"m", &[0; 128]),
        Err(CryptoError::InvalidKey)
    );
    assert_eq!(
        p.key_encrypter(KeyAlg::RsaOaep)
            .unwrap()
            .encrypt_cek(
                EncryptionKey::Public(&small),
                ContentAlg::A128Gcm,
                Some(&Cek::new(vec![0; 16])),
                &AgreementParams::default(),
                rng()
            )
            .err(),
        Some(CryptoError::InvalidKey)
    );
}

/// AES-GCM: a failed open leaves no unauthenticated plaintext behind.
#[test]
fn gcm_failure_leaves_no_plaintext() {
    let p = provider();
    for enc in [ContentAlg::A128Gcm, ContentAlg::A256Gcm] {
        let cipher = p.content_cipher(enc).unwrap();
        let cek = Cek::new(p.random_bytes(enc.key_len()).unwrap());
        let iv = p.random_bytes(12).unwrap();
        let mut ct = b"secret payload".to_vec();
        let mut tag = cipher.encrypt(&cek, &iv, b"aad", &mut ct).unwrap();
        tag[0] ^= 1;
        let mut buf = ct.clone();
        assert_eq!(
            cipher.decrypt(&cek, &iv, b"aad", &mut buf, &tag),
            Err(CryptoError::Decrypt)
        );
        assert!(buf.is_empty(), "{enc}");
    }
}

/// SHA-1 is a digest (OCSP CertIDs) but never a signature hash, in JWS or
/// in X.509.
#[test]
fn sha1_is_never_a_signature_hash() {
    let p = provider();
    assert!(p.digest(otrp_core::crypto::HashAlg::Sha1).is_ok());
    for v in p.signature_verifiers {
        assert_ne!(v.algorithm().hash(), otrp_core::crypto::HashAlg::Sha1);
    }
    // sha1WithRSAEncryption (1.2.840.113549.1.1.5), ecdsa-with-SHA1
    // (1.2.840.10045.4.1): DER contents of the OIDs.
    let sha1_sigs: [&[u8]; 2] = [
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05],
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01],
    ];
    for alg in p.webpki_algorithms {
        let id = alg.signature_alg_id();
        let id: &[u8] = id.as_ref();
        for oid in sha1_sigs {
            assert!(!id.windows(oid.len()).any(|w| w == oid), "{alg:?}");
        }
    }
}

/// Keys load from PKCS#8 (DER, PEM), PKCS#1 and SEC1 PEM, SPKI (DER, PEM),
/// and a compressed SPKI point comes back uncompressed (AWS-LC re-encodes
/// it); an SPKI with trailing bytes is refused.
#[test]
fn keys_load_from_every_format() {
    use otrp_core::crypto::{Curve, JwsSigner, KeyKind};
    for (name, kind) in [
        ("rsa2048", KeyKind::Rsa),
        ("p256", KeyKind::Ec(Curve::P256)),
        ("p384", KeyKind::Ec(Curve::P384)),
    ] {
        let der = common::fixture(&format!("{name}.der"));
        let from_der = KEY_LOADER.private_key_from_pkcs8_der(&der).unwrap();
        let from_pem = private_key_from_pem(&fixture_str(&format!("{name}.pem"))).unwrap();
        assert_eq!(JwsSigner::key_kind(from_der.as_ref()), kind);
        let spki = KEY_LOADER
            .public_key_from_spki_der(&common::fixture(&format!("{name}.pub.der")))
            .unwrap();
        let spki_pem =
            otrp_crypto_aws_lc::public_key_from_pem(&fixture_str(&format!("{name}.pub.pem")))
                .unwrap();
        assert_eq!(from_der.public_key().unwrap(), spki);
        assert_eq!(from_pem.public_key().unwrap(), spki);
        assert_eq!(spki_pem, spki);
        let mut trailing = common::fixture(&format!("{name}.pub.der"));
        trailing.push(0);
        assert!(KEY_LOADER.public_key_from_spki_der(&trailing).is_err());
    }
    let PublicKey::Ec(p256) = KEY_LOADER
        .public_key_from_spki_der(&common::fixture("p256.pub.der"))
        .unwrap()
    else {
        panic!("EC key expected")
    };
    let mut compressed = common::hex("3039301306072a8648ce3d020106082a8648ce3d030107032200");
    compressed.push(2 | (p256.y()[31] & 1));
    compressed.extend_from_slice(p256.x());
    assert_eq!(
        KEY_LOADER.public_key_from_spki_der(&compressed),
        Ok(PublicKey::Ec(p256.clone()))
    );
    // The same point with the wrong parity is another (valid) point, not ours.
    let last = compressed.len() - 33;
    compressed[last] ^= 1;
    assert_ne!(
        KEY_LOADER.public_key_from_spki_der(&compressed),
        Ok(PublicKey::Ec(p256))
    );
}

/// The RSA verifiers keep the last parsed key: alternating keys must never
/// let one key's signature verify under another.
#[test]
fn rsa_verifier_key_cache_never_confuses_keys() {
    use otrp_core::crypto::JwsAlg;
    let a = rsa_key();
    let b = KEY_LOADER
        .private_key_from_pkcs8_der(include_bytes!(
            "../../otrp-conformance/data/rsa2048.pk8.der"
        ))
        .unwrap();
    let (pa, pb) = (a.public_key().unwrap(), b.public_key().unwrap());
    assert_ne!(pa, pb);
    let p = provider();
    for alg in [JwsAlg::Rs256, JwsAlg::Ps256] {
        let v = p.signature_verifier(alg).unwrap();
        let sa = a.sign(alg, b"message", rng()).unwrap();
        let sb = b.sign(alg, b"message", rng()).unwrap();
        for _ in 0..2 {
            assert_eq!(v.verify(&pa, b"message", &sa), Ok(()));
            assert_eq!(
                v.verify(&pb, b"message", &sa),
                Err(CryptoError::BadSignature)
            );
            assert_eq!(v.verify(&pb, b"message", &sb), Ok(()));
            assert_eq!(
                v.verify(&pa, b"message", &sb),
                Err(CryptoError::BadSignature)
            );
            assert_eq!(v.verify(&pa, b"other", &sa), Err(CryptoError::BadSignature));
        }
    }
}
