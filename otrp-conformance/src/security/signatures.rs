//! Signature verification: SHA-1 is never a signature hash (JWS or X.509),
//! and a verifier that caches the last parsed key never lets one key's
//! signature verify under another.

use otrp_core::crypto::{CryptoError, Provider};

use crate::keys::TestKeys;

/// SHA-1 is a digest (OCSP CertIDs) but never a signature hash, in JWS or
/// in X.509.
pub fn sha1_is_never_a_signature_hash(provider: Provider) {
    let p = provider;
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

/// The RSA verifiers keep the last parsed key: alternating keys must never
/// let one key's signature verify under another.
pub fn rsa_verifier_key_cache_never_confuses_keys(provider: Provider) {
    use otrp_core::crypto::JwsAlg;
    // Two RSA-2048 keys: the suite's, and the JOSE cookbook's (RFC 7520 3.4).
    let keys = TestKeys::load(&provider);
    let a = &keys.rsa;
    let cookbook =
        crate::load("jose-cookbook/jwe/5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json");
    let b = serde_json::from_value::<otrp_core::jose::Jwk>(cookbook["input"]["key"].clone())
        .unwrap()
        .load_private_key(provider.key_loader)
        .unwrap();
    let (pa, pb) = (a.public_key().unwrap(), b.public_key().unwrap());
    assert_ne!(pa, pb);
    let p = provider;
    for alg in [JwsAlg::Rs256, JwsAlg::Ps256] {
        let v = p.signature_verifier(alg).unwrap();
        let sa = a.sign(alg, b"message", provider.secure_random).unwrap();
        let sb = b.sign(alg, b"message", provider.secure_random).unwrap();
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
