//! RSAES-PKCS1-v1_5 decoding without a padding oracle: the constant-time
//! EME-PKCS1-v1_5 check (RFC 8017 section 7.2.2 step 3) and the random-CEK
//! substitution of RFC 7516 section 11.5, written once for every backend.
//!
//! A backend supplies only the raw RSA private operation (`c^d mod n`, with
//! blinding, to the k-byte encoded message); everything that looks at the
//! padding is here, branch-free over secret data. Bleichenbacher's attack
//! needs one bit (padding valid or not) per query; with RSA1_5 the TAM and
//! the TEE decrypt attacker-chosen CEKs, and in OTrP's RSA profile the same
//! key signs, so an oracle would be a path to forged signatures
//! (docs/security.md, "RSA1_5").

use alloc::vec;
use alloc::vec::Vec;

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater};
use zeroize::Zeroizing;

use super::{Cek, ContentAlg, CryptoError, SecretBytes, SecureRandom};

/// The decoded message of a k-byte encoded message `em`, as the index where
/// the message starts and whether the padding is `00 02 PS 00` with at least
/// 8 nonzero bytes of PS. Every byte is read, in order, whatever its value;
/// the result is a mask, never a branch.
fn unpad(em: &[u8]) -> (Choice, usize) {
    if em.len() < 11 {
        // The length is public (the modulus size).
        return (Choice::from(0), em.len());
    }
    let mut head = Choice::from(1);
    let mut found = Choice::from(0);
    let mut zero_index = 0u32;
    for (i, &b) in em.iter().enumerate() {
        let i32 = u32::try_from(i).unwrap_or(u32::MAX);
        match i {
            0 => head &= b.ct_eq(&0),
            1 => head &= b.ct_eq(&2),
            _ => {
                let is_zero = b.ct_eq(&0);
                let first = is_zero & !found;
                zero_index = u32::conditional_select(&zero_index, &i32, first);
                found |= is_zero;
            }
        }
    }
    // PS is em[2..zero_index]: at least 8 bytes, so zero_index >= 10.
    let valid = head & found & zero_index.ct_gt(&9);
    let start = usize::try_from(zero_index).unwrap_or(em.len()) + 1;
    (valid, start.min(em.len()))
}

/// RSA1_5 CEK recovery per RFC 7516 section 11.5. A random CEK of
/// `enc.key_len()` bytes is drawn first; then `raw_decrypt` runs the RSA
/// private operation and the decoded CEK replaces the random one, selected
/// in constant time, only when the padding is valid and the CEK has the
/// right length. A bad padding, a wrong length and a ciphertext the raw
/// operation refuses (wrong length or out of range, both public) all return
/// the random CEK, so that the failure shows only as the content's
/// authentication error.
pub fn rsa1_5_decrypt_cek(
    enc: ContentAlg,
    rng: &dyn SecureRandom,
    raw_decrypt: impl FnOnce() -> Result<Zeroizing<Vec<u8>>, CryptoError>,
) -> Result<Cek, CryptoError> {
    let key_len = enc.key_len();
    let mut cek = Zeroizing::new(vec![0u8; key_len]);
    rng.fill(&mut cek)?;
    let Ok(em) = raw_decrypt() else {
        return Ok(SecretBytes::from(cek));
    };
    let (valid, start) = unpad(&em);
    // The message has key_len bytes exactly when it starts at k - key_len.
    let Some(expected_start) = em.len().checked_sub(key_len) else {
        return Ok(SecretBytes::from(cek));
    };
    let start32 = u32::try_from(start).unwrap_or(u32::MAX);
    let expected32 = u32::try_from(expected_start).unwrap_or(u32::MAX);
    let valid = valid & start32.ct_eq(&expected32);
    if let Some(tail) = em.get(expected_start..) {
        for (out, &m) in cek.iter_mut().zip(tail) {
            *out = u8::conditional_select(out, &m, valid);
        }
    }
    Ok(SecretBytes::from(cek))
}

/// RSAES-PKCS1-v1_5 decoding with explicit rejection, of the k-byte encoded
/// message `em`: the message, or [`CryptoError::Decrypt`]. This reports the
/// padding's validity and so is a padding oracle when exposed; it exists for
/// conformance tests (Wycheproof) and backends' `hazmat` modules only. JWE
/// uses [`rsa1_5_decrypt_cek`].
pub fn pkcs1v15_decode_explicit(em: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (valid, start) = unpad(em);
    if !bool::from(valid) {
        return Err(CryptoError::Decrypt);
    }
    let msg = em.get(start..).ok_or(CryptoError::Decrypt)?;
    Ok(Zeroizing::new(msg.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u8);
    impl SecureRandom for Fixed {
        fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
            dest.fill(self.0);
            Ok(())
        }
    }

    /// A k-byte EM of `00 02 PS 00 M` with PS of `ps_len` bytes of 0xAA.
    fn em(k: usize, msg: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8, 2];
        out.resize(k - msg.len() - 1, 0xAA);
        out.push(0);
        out.extend_from_slice(msg);
        out
    }

    fn decrypt(em: Vec<u8>) -> Vec<u8> {
        let cek = rsa1_5_decrypt_cek(ContentAlg::A128CbcHs256, &Fixed(7), || {
            Ok(Zeroizing::new(em))
        });
        cek.unwrap().as_bytes().to_vec()
    }

    #[test]
    fn a_valid_padding_yields_the_cek() {
        assert_eq!(decrypt(em(256, &[1; 32])), [1; 32]);
        assert_eq!(
            pkcs1v15_decode_explicit(&em(256, b"abc"))
                .unwrap()
                .as_slice(),
            b"abc"
        );
    }

    #[test]
    fn every_failure_yields_the_random_cek() {
        let random = [7u8; 32];
        // Wrong length of the message.
        assert_eq!(decrypt(em(256, &[1; 16])), random);
        // Bad first and second bytes.
        let mut bad = em(256, &[1; 32]);
        bad[0] = 1;
        assert_eq!(decrypt(bad.clone()), random);
        assert!(pkcs1v15_decode_explicit(&bad).is_err());
        let mut bad = em(256, &[1; 32]);
        bad[1] = 1;
        assert_eq!(decrypt(bad), random);
        // PS shorter than 8 bytes, and no zero separator.
        let mut short = em(20, &[1; 9]);
        short[2..12].copy_from_slice(&[0xAA, 0xAA, 0, 1, 1, 1, 1, 1, 1, 1]);
        assert!(pkcs1v15_decode_explicit(&short).is_err());
        assert_eq!(
            decrypt(vec![0, 2].into_iter().chain([1; 254]).collect()),
            random
        );
        // The raw operation refused the ciphertext; a tiny EM.
        let refused = rsa1_5_decrypt_cek(ContentAlg::A128CbcHs256, &Fixed(7), || {
            Err(CryptoError::Decrypt)
        });
        assert_eq!(refused.unwrap().as_bytes(), random);
        assert_eq!(decrypt(vec![0, 2, 0]), random);
    }
}
