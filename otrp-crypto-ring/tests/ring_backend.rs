//! ring-specific behaviour: key loading (PKCS#8, JWK, SPKI) and its limits,
//! interoperability with the RustCrypto backend, every path ring cannot take
//! answering `Unsupported` (never a panic), AES-GCM and digest details, chain
//! and OCSP validation with ring's webpki algorithms, and the composed key
//! loader's split of roles.

use std::time::Duration;

use otrp_core::crypto::{
    AgreementParams, Cek, ContentAlg, CryptoError, JwsAlg, KeyAlg, KeyKind, PrivateKey, Provider,
    PublicKey, SecureRandom,
};
use otrp_core::jose::{Header, JoseError, Jwe, JwePolicy, Jwk, Jws};
use otrp_core::pki::{
    CertError, OcspPolicy, PkiError, Role, TrustAnchors, UnixTime, spki_of_certificate,
    validate_tam_chain, verify_ocsp_response,
};

const RSA: &[u8] = include_bytes!("../../otrp-conformance/data/rsa2048.pk8.der");
const P256: &[u8] = include_bytes!("../../otrp-conformance/data/p256.pk8.der");
const P384: &[u8] = include_bytes!("../../otrp-conformance/data/p384.pk8.der");

fn ring() -> Provider {
    otrp_crypto_ring::provider()
}

fn rustcrypto() -> Provider {
    otrp_crypto_rustcrypto::provider()
}

fn load(provider: &Provider, der: &[u8]) -> Box<dyn PrivateKey> {
    provider.key_loader.private_key_from_pkcs8_der(der).unwrap()
}

fn key_for(alg: JwsAlg) -> &'static [u8] {
    match alg {
        JwsAlg::Es256 => P256,
        JwsAlg::Es384 => P384,
        _ => RSA,
    }
}

/// A random source that always fails: a signer that uses it cannot sign.
struct BrokenRandom;

impl SecureRandom for BrokenRandom {
    fn fill(&self, _: &mut [u8]) -> Result<(), CryptoError> {
        Err(CryptoError::Random)
    }
}

fn cookbook_jwk(file: &str) -> Jwk {
    let path = otrp_conformance::vectors_dir()
        .join("jose-cookbook/jwk")
        .join(file);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

#[test]
fn pkcs8_keys_load_with_the_same_public_key_as_rustcrypto() {
    for der in [RSA, P256, P384] {
        let ours = load(&ring(), der).public_key().unwrap();
        let theirs = load(&rustcrypto(), der).public_key().unwrap();
        assert_eq!(ours, theirs);
    }
    assert_eq!(
        ring()
            .key_loader
            .private_key_from_pkcs8_der(b"not a key")
            .err(),
        Some(CryptoError::InvalidKey)
    );
}

#[test]
fn signatures_interoperate_with_rustcrypto_both_ways() {
    for &alg in JwsAlg::ALL {
        let der = key_for(alg);
        for (signer, verifier) in [(ring(), rustcrypto()), (rustcrypto(), ring())] {
            let key = load(&signer, der);
            let public = key.public_key().unwrap();
            let jws = Jws::sign(b"otrp", key.as_ref(), alg, Header::new(), None, &signer).unwrap();
            let parsed = Jws::parse(jws.to_compact().unwrap().as_bytes()).unwrap();
            assert_eq!(
                parsed.verify(&verifier, &public, &[alg]).unwrap(),
                b"otrp",
                "{alg}"
            );
            let mut sig = jws.signatures()[0].signature().to_vec();
            sig[0] ^= 1;
            assert_eq!(
                verifier
                    .signature_verifier(alg)
                    .unwrap()
                    .verify(&public, b"otrp", &sig),
                Err(CryptoError::BadSignature),
                "{alg}"
            );
        }
    }
}

#[test]
fn rs256_signing_is_deterministic_and_needs_no_random_source() {
    let key = load(&ring(), RSA);
    let a = key.sign(JwsAlg::Rs256, b"m", &BrokenRandom).unwrap();
    let b = key.sign(JwsAlg::Rs256, b"m", &BrokenRandom).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a,
        load(&rustcrypto(), RSA)
            .sign(JwsAlg::Rs256, b"m", rustcrypto().secure_random)
            .unwrap()
    );
    // PSS salts and ECDSA nonces come from ring's SystemRandom, not `rng`.
    assert!(key.sign(JwsAlg::Ps256, b"m", &BrokenRandom).is_ok());
    assert!(
        load(&ring(), P256)
            .sign(JwsAlg::Es256, b"m", &BrokenRandom)
            .is_ok()
    );
}

#[test]
fn signing_with_a_key_that_does_not_fit_is_a_key_mismatch() {
    let rsa = load(&ring(), RSA);
    let p256 = load(&ring(), P256);
    assert_eq!(
        rsa.sign(JwsAlg::Es256, b"m", &BrokenRandom),
        Err(CryptoError::KeyMismatch)
    );
    assert_eq!(
        p256.sign(JwsAlg::Rs256, b"m", &BrokenRandom),
        Err(CryptoError::KeyMismatch)
    );
    assert_eq!(
        p256.sign(JwsAlg::Es384, b"m", &BrokenRandom),
        Err(CryptoError::KeyMismatch)
    );
}

#[test]
fn verification_refuses_wrong_kinds_and_small_rsa_keys() {
    let p256 = load(&ring(), P256).public_key().unwrap();
    let p384 = load(&ring(), P384).public_key().unwrap();
    let rsa = load(&ring(), RSA).public_key().unwrap();
    let v = |alg| ring().signature_verifier(alg).unwrap();
    assert_eq!(
        v(JwsAlg::Es256).verify(&p384, b"m", &[0; 96]),
        Err(CryptoError::KeyMismatch)
    );
    assert_eq!(
        v(JwsAlg::Es256).verify(&rsa, b"m", &[0; 64]),
        Err(CryptoError::KeyMismatch)
    );
    assert_eq!(
        v(JwsAlg::Rs256).verify(&p256, b"m", &[0; 256]),
        Err(CryptoError::KeyMismatch)
    );
    // A 1024-bit key (test-pki's weak root) is refused before any arithmetic.
    let weak = std::fs::read("../test-pki/rsa/weak-root.der").unwrap();
    let spki = spki_of_certificate(&weak).unwrap();
    let PublicKey::Rsa(k) = otrp_core::pki::public_key_from_spki_der(&spki).unwrap() else {
        panic!("RSA")
    };
    assert_eq!(k.bits(), 1024);
    let weak = PublicKey::Rsa(k);
    assert_eq!(
        v(JwsAlg::Rs256).verify(&weak, b"m", &[1; 128]),
        Err(CryptoError::InvalidKey)
    );
    assert_eq!(
        ring().key_loader.public_key_from_spki_der(&spki),
        Err(CryptoError::InvalidKey)
    );
}

#[test]
fn spki_loading_matches_rustcrypto() {
    for h in ["rsa", "ec"] {
        for name in ["tam", "tee", "sp"] {
            let cert = std::fs::read(format!("../test-pki/{h}/{name}.der")).unwrap();
            let spki = spki_of_certificate(&cert).unwrap();
            assert_eq!(
                ring().key_loader.public_key_from_spki_der(&spki).unwrap(),
                rustcrypto()
                    .key_loader
                    .public_key_from_spki_der(&spki)
                    .unwrap(),
                "{h}/{name}"
            );
        }
    }
}

#[test]
fn jwk_keys_load_and_refuse_what_ring_cannot_hold() {
    let rsa = cookbook_jwk("3_4.rsa_private_key.json");
    let key = rsa.load_private_key(ring().key_loader).unwrap();
    assert_eq!(key.public_key().unwrap(), rsa.to_public_key().unwrap());
    // RFC 7518 6.3.2 allows `d` alone; ring needs the primes.
    let bare = Jwk {
        p: None,
        q: None,
        dp: None,
        dq: None,
        qi: None,
        ..rsa.clone()
    };
    assert!(matches!(
        bare.load_private_key(ring().key_loader).err(),
        Some(CryptoError::Unsupported(_))
    ));
    // ... but RustCrypto loads it, so the composed loader does too.
    assert!(
        bare.load_private_key(otrp_crypto_ring::composed_provider().key_loader)
            .is_ok()
    );
    // Some CRT members but not all: invalid.
    let partial = Jwk {
        qi: None,
        ..rsa.clone()
    };
    assert_eq!(
        partial.load_private_key(ring().key_loader).err(),
        Some(CryptoError::InvalidKey)
    );
    // A prime that does not belong to the modulus: invalid.
    let wrong = Jwk {
        p: rsa.q.clone(),
        ..rsa
    };
    assert_eq!(
        wrong.load_private_key(ring().key_loader).err(),
        Some(CryptoError::InvalidKey)
    );

    let ec = cookbook_jwk("3_2.ec_private_key.json");
    // The cookbook's EC key is P-521, outside OTrP: refused, not a panic.
    assert!(ec.load_private_key(ring().key_loader).is_err());
    let p256 = load(&rustcrypto(), P256).public_key().unwrap();
    let mut jwk = Jwk::from_public_key(&p256);
    jwk.d = Some(otrp_core::jose::Secret::encode(&[7; 32]));
    // A scalar that is not the public key's: refused.
    assert_eq!(
        jwk.load_private_key(ring().key_loader).err(),
        Some(CryptoError::InvalidKey)
    );
    jwk.d = Some(otrp_core::jose::Secret::encode(&[7; 31]));
    assert_eq!(
        jwk.load_private_key(ring().key_loader).err(),
        Some(CryptoError::InvalidKey)
    );

    let oct = Jwk {
        kty: "oct".into(),
        k: Some(otrp_core::jose::Secret::encode(&[1; 16])),
        ..Jwk::default()
    };
    assert!(matches!(
        oct.load_private_key(ring().key_loader).err(),
        Some(CryptoError::Unsupported(_))
    ));
}

#[test]
fn an_ec_pkcs8_document_without_its_public_key_is_refused_by_ring_and_loaded_when_composed() {
    // RFC 5915 makes `publicKey` optional; ring requires it.
    let d = [0x5a; 32];
    let mut der = otrp_conformance::hex(
        "3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420",
    );
    der.extend_from_slice(&d);
    assert_eq!(
        ring().key_loader.private_key_from_pkcs8_der(&der).err(),
        Some(CryptoError::InvalidKey)
    );
    let composed = otrp_crypto_ring::composed_provider();
    let key = composed
        .key_loader
        .private_key_from_pkcs8_der(&der)
        .unwrap();
    let sig = key
        .sign(JwsAlg::Es256, b"m", composed.secure_random)
        .unwrap();
    ring()
        .signature_verifier(JwsAlg::Es256)
        .unwrap()
        .verify(&key.public_key().unwrap(), b"m", &sig)
        .unwrap();
}

#[test]
fn every_jwe_key_management_path_is_unsupported_never_a_panic() {
    let provider = ring();
    let rsa = load(&provider, RSA);
    let p256 = load(&provider, P256);
    let none = AgreementParams::default();
    for &alg in KeyAlg::ALL {
        assert_eq!(
            provider.key_encrypter(alg).err(),
            Some(CryptoError::Unsupported(alg.name()))
        );
        for key in [&rsa, &p256] {
            let outcome = key.decrypt_cek(
                alg,
                ContentAlg::A128Gcm,
                &none,
                &[0; 256],
                provider.secure_random,
            );
            let expected = if alg
                .key_kind()
                .admits(otrp_core::crypto::CekDecrypter::key_kind(key.as_ref()))
            {
                CryptoError::Unsupported(alg.name())
            } else {
                CryptoError::KeyMismatch
            };
            assert_eq!(outcome.err(), Some(expected), "{alg}");
        }
    }
    for enc in [ContentAlg::A128CbcHs256, ContentAlg::A256CbcHs512] {
        assert_eq!(
            provider.content_cipher(enc).err(),
            Some(CryptoError::Unsupported(enc.name()))
        );
    }
    // Encrypting with the ring provider: Unsupported through the JOSE layer.
    let public = rsa.public_key().unwrap();
    let outcome = Jwe::builder(ContentAlg::A128Gcm)
        .recipient(
            KeyAlg::RsaOaep256,
            otrp_core::crypto::EncryptionKey::Public(&public),
            Header::new(),
        )
        .encrypt(b"x", &provider);
    assert_eq!(
        outcome.err(),
        Some(JoseError::Crypto(CryptoError::Unsupported("RSA-OAEP-256")))
    );
    // Decrypting a real JWE (made by RustCrypto) with a ring key: the same.
    for (alg, key) in [(KeyAlg::Rsa1_5, &rsa), (KeyAlg::EcdhEsA128Kw, &p256)] {
        let public = key.public_key().unwrap();
        let jwe = Jwe::builder(ContentAlg::A128Gcm)
            .recipient(
                alg,
                otrp_core::crypto::EncryptionKey::Public(&public),
                Header::new(),
            )
            .encrypt(b"secret", &rustcrypto())
            .unwrap();
        assert_eq!(
            jwe.decrypt(&provider, key.as_ref(), &JwePolicy::ANY),
            Err(JoseError::Crypto(CryptoError::Unsupported(alg.name())))
        );
    }
}

#[test]
fn aes_gcm_matches_rustcrypto_and_refuses_bad_lengths() {
    let ours = ring();
    for enc in [ContentAlg::A128Gcm, ContentAlg::A256Gcm] {
        let (r, c) = (
            ours.content_cipher(enc).unwrap(),
            rustcrypto().content_cipher(enc).unwrap(),
        );
        let cek = Cek::new((0..enc.key_len() as u8).collect());
        let iv = [9u8; 12];
        let mut a = b"the TA binary".to_vec();
        let mut b = a.clone();
        let tag_a = r.encrypt(&cek, &iv, b"aad", &mut a).unwrap();
        let tag_b = c.encrypt(&cek, &iv, b"aad", &mut b).unwrap();
        assert_eq!((&a, &tag_a), (&b, &tag_b), "{enc}");
        let mut opened = a.clone();
        r.decrypt(&cek, &iv, b"aad", &mut opened, &tag_a).unwrap();
        assert_eq!(opened, b"the TA binary");
        // A wrong AAD fails, and nothing of the ciphertext is left behind.
        let mut failed = a.clone();
        assert_eq!(
            r.decrypt(&cek, &iv, b"AAD", &mut failed, &tag_a),
            Err(CryptoError::Decrypt)
        );
        assert!(failed.iter().all(|&b| b == 0));
        // Wrong CEK, IV and tag lengths are refused, not panics.
        let short = Cek::new(vec![1; enc.key_len() - 1]);
        let mut buf = a.clone();
        assert_eq!(
            r.decrypt(&short, &iv, b"", &mut buf, &tag_a),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            r.decrypt(&cek, &iv[..11], b"", &mut buf, &tag_a),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            r.decrypt(&cek, &iv, b"", &mut buf, &tag_a[..15]),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            r.encrypt(&short, &iv, b"", &mut buf),
            Err(CryptoError::InvalidLength)
        );
        assert_eq!(
            r.encrypt(&cek, &[0; 16], b"", &mut buf),
            Err(CryptoError::InvalidLength)
        );
    }
}

#[test]
fn digests_known_answers() {
    use otrp_core::crypto::HashAlg;
    let expected = [
        (HashAlg::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            HashAlg::Sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            HashAlg::Sha384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            HashAlg::Sha512,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ];
    for (alg, hex) in expected {
        assert_eq!(
            ring().digest(alg).unwrap().digest(b"abc"),
            otrp_conformance::hex(hex),
            "{alg}"
        );
    }
}

#[test]
fn random_source_fills() {
    let a = ring().random_bytes(32).unwrap();
    let b = ring().random_bytes(32).unwrap();
    assert_ne!(a, b);
}

fn cert(h: &str, name: &str) -> Vec<u8> {
    std::fs::read(format!("../test-pki/{h}/{name}.der")).unwrap()
}

fn now() -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(2_082_758_400))
}

#[test]
fn chains_validate_with_ring_webpki_algorithms() {
    let provider = ring();
    let anchors =
        |h: &str, root: &str| TrustAnchors::from_certificates([cert(h, root).as_slice()]).unwrap();
    for h in ["rsa", "ec"] {
        let leaf = cert(h, "tam");
        validate_tam_chain(&provider, &anchors(h, "tam-root"), &[&leaf], now())
            .unwrap_or_else(|e| panic!("{h}: {e:?}"));
        let mut bad = leaf.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(
            validate_tam_chain(&provider, &anchors(h, "tam-root"), &[&bad], now()).unwrap_err(),
            PkiError::Certificate {
                role: Role::Tam,
                error: CertError::BadSignature
            },
            "{h}"
        );
        // SHA-1 is not offered.
        let sha1 = cert(h, "tam-sha1");
        assert_eq!(
            validate_tam_chain(&provider, &anchors(h, "tam-root"), &[&sha1], now()).unwrap_err(),
            PkiError::Certificate {
                role: Role::Tam,
                error: CertError::UnsupportedSignatureAlgorithm
            },
            "{h}"
        );
    }
    for leaf in [
        "tam-sha384",
        "tam-sha512",
        "tam-pss256",
        "tam-pss384",
        "tam-pss512",
    ] {
        validate_tam_chain(
            &provider,
            &anchors("rsa", "tam-root"),
            &[&cert("rsa", leaf)],
            now(),
        )
        .unwrap_or_else(|e| panic!("{leaf}: {e:?}"));
    }
    validate_tam_chain(
        &provider,
        &anchors("ec", "p384-root"),
        &[&cert("ec", "tam-p384")],
        now(),
    )
    .expect("P-384");
}

#[test]
fn ocsp_responses_verify_with_ring() {
    let provider = ring();
    for h in ["rsa", "ec"] {
        for response in [
            "tam-good-by-ca",
            "tam-good-by-responder",
            "tam-good-sha1-certid",
        ] {
            let der = std::fs::read(format!("../test-pki/{h}/ocsp/{response}.der")).unwrap();
            verify_ocsp_response(
                &provider,
                &cert(h, "tam"),
                &cert(h, "tam-root"),
                &der,
                now(),
                &OcspPolicy::default(),
            )
            .unwrap_or_else(|e| panic!("{h}/{response}: {e:?}"));
        }
    }
}

#[test]
fn composed_keys_sign_with_ring_and_decrypt_with_rustcrypto() {
    let composed = otrp_crypto_ring::composed_provider();
    let key = load(&composed, RSA);
    // RustCrypto's PSS needs the random source it is given; ring's does not:
    // with a broken source, only a ring signer can sign.
    assert!(
        load(&rustcrypto(), RSA)
            .sign(JwsAlg::Ps256, b"m", &BrokenRandom)
            .is_err()
    );
    assert!(key.sign(JwsAlg::Ps256, b"m", &BrokenRandom).is_ok());
    // ... and RSA1_5 decryption, which ring lacks, works.
    let public = key.public_key().unwrap();
    let jwe = Jwe::builder(ContentAlg::A128CbcHs256)
        .recipient(
            KeyAlg::Rsa1_5,
            otrp_core::crypto::EncryptionKey::Public(&public),
            Header::new(),
        )
        .encrypt(b"secret", &composed)
        .unwrap();
    assert_eq!(
        jwe.decrypt(&composed, key.as_ref(), &JwePolicy::ANY)
            .unwrap(),
        b"secret"
    );
    assert_eq!(
        otrp_core::crypto::JwsSigner::key_kind(key.as_ref()),
        KeyKind::Rsa
    );
    // The composed provider's lists: ring's verifiers and GCM, RustCrypto's rest.
    assert_eq!(composed.signature_verifiers.len(), 8);
    assert!(composed.key_encrypter(KeyAlg::A128Kw).is_ok());
    assert!(composed.content_cipher(ContentAlg::A128CbcHs256).is_ok());
}
