//! A raw primitive, for benchmarks and tests ONLY: AWS-LC's own PKCS#1 v1.5
//! decryption with explicit rejection (the RSA1_5 timing benchmark measures
//! it against the RFC 7516 section 11.5 countermeasure).
//!
//! Nothing here is needed to speak OTrP, and it is not safe to use on its
//! own: it is a padding oracle. The protocol code goes through the
//! algorithm objects of this crate; the other raw primitives the Wycheproof
//! vectors need are reached through the [`Provider`](otrp_core::crypto::Provider)
//! by otrp-conformance.

use otrp_core::crypto::CryptoError;

use crate::RsaPrivateKey;

/// RSAES-PKCS1-v1_5 decryption with explicit rejection (AWS-LC's own): the
/// message, or [`CryptoError::Decrypt`] for a bad padding or ciphertext.
pub fn rsa_pkcs1v15_decrypt(
    key: &RsaPrivateKey,
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    key.pkcs1v15_decrypt(ciphertext).map(|m| m.to_vec())
}
