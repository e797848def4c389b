//! The security properties that are the aws-lc backend's own: how its
//! RSA1_5 countermeasure sits over AWS-LC's explicit rejection, how it
//! draws ephemeral ECDH scalars, what it demands of RSA JWKs, and the key
//! formats it reads. The properties every complete provider shares run
//! from otrp-conformance (`tests/conformance.rs`).

mod common;

use common::{ScriptedRandom, fixture_str, rng};
use otrp_conformance::security::key_management::{
    cookbook, ecdh_es_to_the_cookbook_recipient, epk_of, jwk,
};
use otrp_core::crypto::KeyLoader;
use otrp_core::crypto::{
    AgreementParams, Cek, ContentAlg, CryptoError, EncryptionKey, KeyAlg, PublicKey,
};
use otrp_crypto_aws_lc::{KEY_LOADER, hazmat, private_key_from_pem, provider};

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
    let (v, wrapped, random) =
        ecdh_es_to_the_cookbook_recipient(provider(), vec![vec![0xff; 32], vec![0; 32]]);
    assert_eq!(*random.calls.lock().unwrap(), vec![32, 32, 32]);
    assert_eq!(
        wrapped.epk.as_ref(),
        Some(&epk_of(&v["encrypting_key"]["epk"]))
    );
    for d in [vec![0u8; 32], vec![0xff; 32], vec![1u8; 31]] {
        assert_eq!(
            otrp_crypto_aws_lc::EcPrivateKey::from_scalar(otrp_core::crypto::Curve::P256, &d).err(),
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
    assert!(full.load_private_key(&KEY_LOADER).is_ok());
    let mut no_primes = full.clone();
    (
        no_primes.p,
        no_primes.q,
        no_primes.dp,
        no_primes.dq,
        no_primes.qi,
    ) = (None, None, None, None, None);
    assert_eq!(
        no_primes.load_private_key(&KEY_LOADER).err(),
        Some(CryptoError::InvalidKey)
    );
    let mut bad_crt = full.clone();
    bad_crt.dp = full.dq.clone();
    assert_eq!(
        bad_crt.load_private_key(&KEY_LOADER).err(),
        Some(CryptoError::InvalidKey)
    );
    let mut swapped = full.clone();
    swapped.d = full.dp.clone();
    assert_eq!(
        swapped.load_private_key(&KEY_LOADER).err(),
        Some(CryptoError::InvalidKey)
    );
}

/// An RSA key under 2048 bits is refused by this backend's PEM loading
/// too (as a verification, encryption or SPKI key, by every provider:
/// `otrp_conformance::weak_keys`).
#[test]
fn rsa_keys_under_2048_bits_are_refused() {
    assert_eq!(
        private_key_from_pem(&fixture_str("rsa1024.pem")).err(),
        Some(CryptoError::InvalidKey)
    );
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

/// AES-GCM: a failed open leaves no unauthenticated plaintext behind (AWS-LC
/// empties the buffer; RustCrypto leaves the ciphertext untouched).
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
