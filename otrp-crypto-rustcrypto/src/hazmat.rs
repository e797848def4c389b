//! Raw primitives, for conformance tests (Wycheproof) and benchmarks ONLY.
//!
//! Nothing here is needed to speak OTrP, and nothing here is safe to use on
//! its own: PKCS#1 v1.5 decryption with explicit rejection is a padding
//! oracle (JWE uses the RFC 7516 section 11.5 countermeasure instead), raw
//! ECDH output is not a key, and so on. The protocol code goes through the
//! algorithm objects of this crate.

use alloc::vec::Vec;

use otrp_core::crypto::{ContentAlg, CryptoError, RsaDecryptingKey, SecureRandom};

use crate::RsaPrivateKey;

/// RSAES-PKCS1-v1_5 decryption with explicit rejection: the message, or
/// [`CryptoError::Decrypt`] for a bad padding or ciphertext. The padding
/// check itself runs in constant time. `rng` blinds the RSA operation.
pub fn rsa_pkcs1v15_decrypt(
    key: &RsaPrivateKey,
    ciphertext: &[u8],
    rng: &dyn SecureRandom,
) -> Result<Vec<u8>, CryptoError> {
    key.pkcs1v15_decrypt(ciphertext, rng).map(|m| m.to_vec())
}

/// The raw RSA private operation (`c^d mod n`, blinded with `rng`, with the
/// CRT fault check) to the k-byte encoded message, padding unchecked. For a
/// backend that lacks a raw operation of its own (aws-lc) and decodes with
/// `otrp_core::crypto::rsa1_5_decrypt_cek`; a ciphertext of the wrong length
/// or out of range is [`CryptoError::Decrypt`].
pub fn rsa_decrypt_raw(
    key: &RsaPrivateKey,
    ciphertext: &[u8],
    rng: &dyn SecureRandom,
) -> Result<zeroize::Zeroizing<Vec<u8>>, CryptoError> {
    key.decrypt_raw(ciphertext, rng)
}

/// AES key wrap (RFC 3394) of `key` (a multiple of 8 bytes, at least 16)
/// under a 16-, 24- or 32-byte `kek`.
pub fn aes_key_wrap(kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    otrp_core::crypto::AesKw::wrap(&crate::AES_KW, kek, key)
}

/// AES key unwrap (RFC 3394) under a 16-, 24- or 32-byte `kek`; any failure
/// is [`CryptoError::Decrypt`].
pub fn aes_key_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, CryptoError> {
    otrp_core::crypto::AesKw::unwrap(&crate::AES_KW, kek, wrapped).map(|k| k.to_vec())
}

/// The raw P-256 ECDH shared secret (x coordinate) of a 32-byte big-endian
/// private scalar and a SEC1 public point (compressed or uncompressed).
/// Points not on the curve and the identity are [`CryptoError::InvalidKey`].
pub fn ecdh_p256(private: &[u8], public_sec1: &[u8]) -> Result<Vec<u8>, CryptoError> {
    crate::ec::p256_ecdh_raw(private, public_sec1).map(|z| z.to_vec())
}

/// The Concat KDF of RFC 7518 section 4.6.2 (SHA-256).
pub fn concat_kdf(
    z: &[u8],
    algorithm_id: &str,
    apu: &[u8],
    apv: &[u8],
    key_len: usize,
) -> Result<Vec<u8>, CryptoError> {
    otrp_core::crypto::concat_kdf(&crate::SHA256, z, algorithm_id, apu, apv, key_len)
        .map(|k| k.to_vec())
}

/// AES-CBC-HMAC-SHA2 encryption (A128CBC-HS256 or A256CBC-HS512) with an
/// explicit key, IV and AAD: returns (ciphertext, tag).
pub fn cbc_hmac_encrypt(
    alg: ContentAlg,
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let cipher = crate::content::cbc_hmac(alg).ok_or(CryptoError::InvalidLength)?;
    let mut buf = plaintext.to_vec();
    let tag = cipher.encrypt_with_key(key, iv, aad, &mut buf)?;
    Ok((buf, tag))
}

/// AES-CBC-HMAC-SHA2 decryption with an explicit key, IV and AAD; the tag
/// is checked first, and every failure is [`CryptoError::Decrypt`].
pub fn cbc_hmac_decrypt(
    alg: ContentAlg,
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = crate::content::cbc_hmac(alg).ok_or(CryptoError::Decrypt)?;
    let mut buf = ciphertext.to_vec();
    cipher.decrypt_with_key(key, iv, aad, &mut buf, tag)?;
    Ok(buf)
}
