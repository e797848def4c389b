//! Round trips through the provider: every signer/verifier, every key
//! management algorithm with every content algorithm, and key loading.

mod common;

use common::{b64u, fixture, fixture_str, rng, vector};
use otrp_core::crypto::KeyLoader;
use otrp_core::crypto::{
    AgreementParams, ContentAlg, CryptoError, Curve, EncryptionKey, JwsAlg, KeyAlg, PrivateKey,
    PublicKey, SecretBytes,
};
use otrp_core::jose::Jwk;
use otrp_crypto_rustcrypto::{KEY_LOADER, private_key_from_pem, provider, public_key_from_pem};

fn rsa_key() -> Box<dyn PrivateKey> {
    private_key_from_pem(&fixture_str("rsa2048.pem")).unwrap()
}
fn p256_key() -> Box<dyn PrivateKey> {
    private_key_from_pem(&fixture_str("p256.pem")).unwrap()
}
fn p384_key() -> Box<dyn PrivateKey> {
    private_key_from_pem(&fixture_str("p384.pem")).unwrap()
}

#[test]
fn every_signature_algorithm_round_trips() {
    let p = provider();
    let keys = [rsa_key(), p256_key(), p384_key()];
    let mut checked = 0;
    for key in &keys {
        let public = key.public_key().unwrap();
        for &alg in JwsAlg::ALL {
            let verifier = p.signature_verifier(alg).unwrap();
            if !alg
                .key_kind()
                .admits(otrp_core::crypto::JwsSigner::key_kind(key.as_ref()))
            {
                assert_eq!(
                    key.sign(alg, b"m", rng()),
                    Err(CryptoError::KeyMismatch),
                    "{alg}"
                );
                assert_eq!(
                    verifier.verify(&public, b"m", &[0; 64]),
                    Err(CryptoError::KeyMismatch),
                    "{alg}"
                );
                continue;
            }
            let msg = b"eyJhbGciOiJFUzI1NiJ9.payload";
            let sig = key.sign(alg, msg, rng()).unwrap();
            verifier.verify(&public, msg, &sig).unwrap();
            assert_eq!(
                verifier.verify(&public, b"other", &sig),
                Err(CryptoError::BadSignature)
            );
            let mut bad = sig.clone();
            bad[5] ^= 1;
            assert_eq!(
                verifier.verify(&public, msg, &bad),
                Err(CryptoError::BadSignature)
            );
            assert_eq!(
                verifier.verify(&public, msg, &sig[..sig.len() - 1]),
                Err(CryptoError::BadSignature)
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 8);
}

#[test]
fn ecdsa_signatures_are_raw_fixed_length() {
    let key = p256_key();
    let sig = key.sign(JwsAlg::Es256, b"m", rng()).unwrap();
    assert_eq!(sig.len(), 64);
    assert_eq!(
        p384_key().sign(JwsAlg::Es384, b"m", rng()).unwrap().len(),
        96
    );
    // A DER-encoded signature is refused.
    let mut der = vec![0x30, 0x44, 0x02, 0x20];
    der.extend_from_slice(&sig[..32]);
    der.extend_from_slice(&[0x02, 0x20]);
    der.extend_from_slice(&sig[32..]);
    let public = key.public_key().unwrap();
    let es256 = provider().signature_verifier(JwsAlg::Es256).unwrap();
    assert_eq!(
        es256.verify(&public, b"m", &der),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn rsa_verification_refuses_small_and_non_rsa_keys() {
    let rs256 = provider().signature_verifier(JwsAlg::Rs256).unwrap();
    let small = public_key_from_pem(&fixture_str("rsa1024.pub.pem"));
    assert_eq!(small, Err(CryptoError::InvalidKey));
    // Build the 1024-bit public key by hand, as a JWK or certificate would.
    let der = fixture("rsa1024.pub.der");
    let n = &der[der.len() - 136 + 3..der.len() - 5];
    let small = PublicKey::Rsa(otrp_core::crypto::RsaPublicKey::new(n, &[1, 0, 1]).unwrap());
    assert_eq!(
        rs256.verify(&small, b"m", &[0; 128]),
        Err(CryptoError::InvalidKey)
    );
    let ec = p256_key().public_key().unwrap();
    assert_eq!(
        rs256.verify(&ec, b"m", &[0; 256]),
        Err(CryptoError::KeyMismatch)
    );
    assert!(private_key_from_pem(&fixture_str("rsa1024.pem")).is_err());
}

/// The recipient key for `alg`: (private key, encryption key).
fn recipient(alg: KeyAlg, curve: Curve) -> (Box<dyn PrivateKey>, Option<PublicKey>, SecretBytes) {
    match alg.key_kind() {
        otrp_core::crypto::KeyKind::Rsa => {
            let k = rsa_key();
            let p = k.public_key();
            (k, p, SecretBytes::new(vec![]))
        }
        otrp_core::crypto::KeyKind::Oct(len) => {
            let secret = SecretBytes::new(provider().random_bytes(len).unwrap());
            let jwk = Jwk {
                kty: "oct".into(),
                k: Some(otrp_core::jose::Secret::encode(secret.as_bytes())),
                ..Jwk::default()
            };
            (jwk.load_private_key(&KEY_LOADER).unwrap(), None, secret)
        }
        _ => {
            let k = if curve == Curve::P256 {
                p256_key()
            } else {
                p384_key()
            };
            let p = k.public_key();
            (k, p, SecretBytes::new(vec![]))
        }
    }
}

#[test]
fn every_key_and_content_algorithm_combination_round_trips() {
    let p = provider();
    let mut combos = 0;
    for &alg in KeyAlg::ALL {
        for curve in [Curve::P256, Curve::P384] {
            if !alg.uses_epk() && curve == Curve::P384 {
                continue;
            }
            let (private, public, secret) = recipient(alg, curve);
            let key = match &public {
                Some(pk) => EncryptionKey::Public(pk),
                None => EncryptionKey::Symmetric(&secret),
            };
            for &enc in ContentAlg::ALL {
                let params = AgreementParams {
                    epk: None,
                    apu: Some(b"Alice".to_vec()),
                    apv: Some(b"Bob".to_vec()),
                };
                let cek = (!alg.is_direct_agreement())
                    .then(|| SecretBytes::new(p.random_bytes(enc.key_len()).unwrap()));
                let wrapped = p
                    .key_encrypter(alg)
                    .unwrap()
                    .encrypt_cek(key, enc, cek.as_ref(), &params, p.secure_random)
                    .unwrap();
                assert_eq!(wrapped.cek.len(), enc.key_len());
                if let Some(cek) = &cek {
                    assert_eq!(&wrapped.cek, cek);
                }
                assert_eq!(wrapped.epk.is_some(), alg.uses_epk());
                assert_eq!(wrapped.encrypted_key.is_empty(), alg.is_direct_agreement());

                let recv_params = AgreementParams {
                    epk: wrapped.epk.clone(),
                    ..params.clone()
                };
                let cek2 = private
                    .decrypt_cek(
                        alg,
                        enc,
                        &recv_params,
                        &wrapped.encrypted_key,
                        p.secure_random,
                    )
                    .unwrap();
                assert_eq!(cek2, wrapped.cek, "{alg} {enc}");

                let cipher = p.content_cipher(enc).unwrap();
                let iv = p.random_bytes(enc.iv_len()).unwrap();
                let plaintext = b"a trusted application binary".to_vec();
                let mut buf = plaintext.clone();
                let tag = cipher.encrypt(&wrapped.cek, &iv, b"aad", &mut buf).unwrap();
                assert_eq!(tag.len(), enc.tag_len());
                assert_ne!(buf, plaintext);
                cipher.decrypt(&cek2, &iv, b"aad", &mut buf, &tag).unwrap();
                assert_eq!(buf, plaintext);
                combos += 1;
            }
        }
    }
    // 5 non-EC algorithms x 4 + 3 ECDH variants x 2 curves x 4.
    assert_eq!(combos, 5 * 4 + 3 * 2 * 4);
}

#[test]
fn content_ciphers_handle_empty_and_block_sized_plaintexts() {
    let p = provider();
    for &enc in ContentAlg::ALL {
        let cek = SecretBytes::new(p.random_bytes(enc.key_len()).unwrap());
        let iv = p.random_bytes(enc.iv_len()).unwrap();
        for len in [0, 1, 15, 16, 17, 32, 1000] {
            let plaintext = vec![0x5a; len];
            let mut buf = plaintext.clone();
            let cipher = p.content_cipher(enc).unwrap();
            let tag = cipher.encrypt(&cek, &iv, b"", &mut buf).unwrap();
            cipher.decrypt(&cek, &iv, b"", &mut buf, &tag).unwrap();
            assert_eq!(buf, plaintext);
        }
    }
}

#[test]
fn digests() {
    let p = provider();
    let d = p
        .digest(otrp_core::crypto::HashAlg::Sha256)
        .unwrap()
        .digest(b"abc");
    assert_eq!(
        d,
        common::hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        p.digest(otrp_core::crypto::HashAlg::Sha384)
            .unwrap()
            .digest(b"")
            .len(),
        48
    );
    assert_eq!(
        p.digest(otrp_core::crypto::HashAlg::Sha512)
            .unwrap()
            .digest(b"")
            .len(),
        64
    );
    // SHA-1 is there for OCSP CertIDs (FIPS 180-4 "abc" vector).
    assert_eq!(
        p.digest(otrp_core::crypto::HashAlg::Sha1)
            .unwrap()
            .digest(b"abc"),
        common::hex("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
}

#[test]
fn keys_load_from_pkcs8_pem_spki_and_jwk() {
    for (name, kind) in [
        ("rsa2048", otrp_core::crypto::KeyKind::Rsa),
        ("p256", otrp_core::crypto::KeyKind::Ec(Curve::P256)),
        ("p384", otrp_core::crypto::KeyKind::Ec(Curve::P384)),
    ] {
        let der = fixture(&format!("{name}.der"));
        let from_der = KEY_LOADER.private_key_from_pkcs8_der(&der).unwrap();
        let from_pem = private_key_from_pem(&fixture_str(&format!("{name}.pem"))).unwrap();
        assert_eq!(
            otrp_core::crypto::JwsSigner::key_kind(from_der.as_ref()),
            kind
        );
        let spki = KEY_LOADER
            .public_key_from_spki_der(&fixture(&format!("{name}.pub.der")))
            .unwrap();
        let spki_pem = public_key_from_pem(&fixture_str(&format!("{name}.pub.pem"))).unwrap();
        assert_eq!(from_der.public_key().unwrap(), spki);
        assert_eq!(from_pem.public_key().unwrap(), spki);
        assert_eq!(spki_pem, spki);
    }
    assert_eq!(
        KEY_LOADER
            .private_key_from_pkcs8_der(b"\x30\x03\x02\x01\x00")
            .err(),
        Some(CryptoError::InvalidKey)
    );
    assert!(public_key_from_pem(&fixture_str("p256.pem")).is_err());
    assert!(private_key_from_pem("not pem").is_err());
}

#[test]
fn rsa_jwk_with_crt_members_or_only_n_e_d() {
    let v = vector("wycheproof/rsa_pkcs1_2048_test.json");
    let jwk_json = v["testGroups"][0]["privateKeyJwk"].clone();
    let jwk: Jwk = serde_json::from_value(jwk_json).unwrap();
    let full = jwk.load_private_key(&KEY_LOADER).unwrap();
    let minimal = Jwk {
        p: None,
        q: None,
        dp: None,
        dq: None,
        qi: None,
        ..jwk.clone()
    };
    let minimal = minimal.load_private_key(&KEY_LOADER).unwrap();
    assert_eq!(full.public_key(), minimal.public_key());
    let sig = minimal.sign(JwsAlg::Rs256, b"m", rng()).unwrap();
    assert_eq!(sig, full.sign(JwsAlg::Rs256, b"m", rng()).unwrap());
    // A CRT member that does not belong to the key is refused.
    let mut wrong = jwk.clone();
    wrong.dp = jwk.dq.clone();
    assert_eq!(
        wrong.load_private_key(&KEY_LOADER).err(),
        Some(CryptoError::InvalidKey)
    );
    // Only one prime is refused.
    let mut one = jwk.clone();
    one.q = None;
    assert_eq!(
        one.load_private_key(&KEY_LOADER).err(),
        Some(CryptoError::InvalidKey)
    );
}

#[test]
fn ec_jwk_loads_and_mismatched_public_part_is_refused() {
    let v = vector("jose-cookbook/jwe/5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json");
    let jwk: Jwk = serde_json::from_value(v["input"]["key"].clone()).unwrap();
    let key = jwk.load_private_key(&KEY_LOADER).unwrap();
    assert_eq!(key.public_key().unwrap(), jwk.to_public_key().unwrap());
    let mut wrong = jwk.clone();
    wrong.x = v["encrypting_key"]["epk"]["x"].as_str().map(Into::into);
    wrong.y = v["encrypting_key"]["epk"]["y"].as_str().map(Into::into);
    assert_eq!(
        wrong.load_private_key(&KEY_LOADER).err(),
        Some(CryptoError::InvalidKey)
    );
    let mut short = jwk.clone();
    short.d = Some(otrp_core::jose::Secret::encode(
        &b64u("r_kHyZ-a06rmxM3yESK84r1otSg-aQcVStkRhA-iCM8")[1..],
    ));
    assert_eq!(
        short.load_private_key(&KEY_LOADER).err(),
        Some(CryptoError::InvalidKey)
    );
}

#[test]
fn symmetric_keys_cannot_sign() {
    let jwk = Jwk::from_json(br#"{"kty":"oct","k":"GawgguFyGrWKav7AX4VKUg"}"#).unwrap();
    let key = jwk.load_private_key(&KEY_LOADER).unwrap();
    assert_eq!(
        key.sign(JwsAlg::Rs256, b"m", rng()),
        Err(CryptoError::KeyMismatch)
    );
    assert_eq!(key.public_key(), None);
    // A 16-byte key is not an A256KW key.
    assert_eq!(
        key.decrypt_cek(
            KeyAlg::A256Kw,
            ContentAlg::A128Gcm,
            &AgreementParams::default(),
            &[0; 24],
            rng()
        )
        .err(),
        Some(CryptoError::KeyMismatch)
    );
}

#[test]
fn no_std_provider_with_own_random() {
    static P: otrp_core::crypto::Provider =
        otrp_crypto_rustcrypto::provider_with_random(&otrp_crypto_rustcrypto::OS_RANDOM);
    assert_eq!(P.supported_jws_algs().count(), 8);
    assert_eq!(P.key_encrypters.len(), 8);
    assert_eq!(P.content_ciphers.len(), 4);
    assert_eq!(P.digests.len(), 4); // SHA-256/384/512, SHA-1 (OCSP CertIDs)
}
