//! AES-CBC-HMAC-SHA2 content encryption (RFC 7518 5.2: A128CBC-HS256,
//! A256CBC-HS512), over a backend's [`AesCbc`] and [`Hmac`].

use alloc::vec::Vec;

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::{AesCbc, Cek, ContentAlg, ContentCipher, CryptoError, HashAlg, Hmac};

const BLOCK: usize = 16;

/// A128CBC-HS256 or A256CBC-HS512 over a backend's AES-CBC and HMAC.
pub struct AesCbcHmac {
    alg: ContentAlg,
    aes: &'static dyn AesCbc,
    hmac: &'static dyn Hmac,
}

impl core::fmt::Debug for AesCbcHmac {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("AesCbcHmac").field(&self.alg).finish()
    }
}

impl AesCbcHmac {
    /// The content cipher for `alg` (A128CBC-HS256 or A256CBC-HS512).
    pub const fn new(alg: ContentAlg, aes: &'static dyn AesCbc, hmac: &'static dyn Hmac) -> Self {
        Self { alg, aes, hmac }
    }

    /// The HMAC's hash and the split of `key` into (MAC key, encryption
    /// key), if `key` fits the algorithm (5.2.2.1).
    fn split<'k>(&self, key: &'k [u8]) -> Option<(HashAlg, &'k [u8], &'k [u8])> {
        let hash = match self.alg {
            ContentAlg::A128CbcHs256 => HashAlg::Sha256,
            ContentAlg::A256CbcHs512 => HashAlg::Sha512,
            _ => return None,
        };
        if key.len() != self.alg.key_len() {
            return None;
        }
        let (mac_key, enc_key) = key.split_at(key.len() / 2);
        Some((hash, mac_key, enc_key))
    }

    /// The tag: the HMAC of `AAD || IV || ciphertext || AL` (AL the AAD's
    /// bit length, 64-bit big-endian), truncated to half (5.2.2.1).
    fn tag(
        &self,
        hash: HashAlg,
        mac_key: &[u8],
        aad: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let al = u64::try_from(aad.len())
            .ok()
            .and_then(|n| n.checked_mul(8))
            .ok_or(CryptoError::InvalidLength)?
            .to_be_bytes();
        let mac = self.hmac.mac(hash, mac_key, &[aad, iv, ciphertext, &al])?;
        let tag = mac.get(..self.alg.tag_len()).ok_or(CryptoError::Backend)?;
        Ok(tag.to_vec())
    }

    /// Encrypts `buf` in place with an explicit key; returns the tag.
    pub fn encrypt_with_key(
        &self,
        key: &[u8],
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<Vec<u8>, CryptoError> {
        let (hash, mac_key, enc_key) = self.split(key).ok_or(CryptoError::InvalidLength)?;
        if iv.len() != BLOCK {
            return Err(CryptoError::InvalidLength);
        }
        self.aes
            .encrypt(enc_key, iv, buf)
            .map_err(|_| CryptoError::InvalidLength)?;
        self.tag(hash, mac_key, aad, iv, buf)
    }

    /// Decrypts `buf` in place with an explicit key. The tag is checked, in
    /// constant time, before anything is decrypted; every failure is
    /// [`CryptoError::Decrypt`], and a bad padding leaves `buf` wiped.
    pub fn decrypt_with_key(
        &self,
        key: &[u8],
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        let (hash, mac_key, enc_key) = self.split(key).ok_or(CryptoError::Decrypt)?;
        if iv.len() != BLOCK
            || tag.len() != self.alg.tag_len()
            || buf.is_empty()
            || !buf.len().is_multiple_of(BLOCK)
        {
            return Err(CryptoError::Decrypt);
        }
        // 1. Authenticate. Nothing is decrypted unless the tag matches.
        let expected = self
            .tag(hash, mac_key, aad, iv, buf)
            .map_err(|_| CryptoError::Decrypt)?;
        if !bool::from(expected.ct_eq(tag)) {
            return Err(CryptoError::Decrypt);
        }
        // 2. Decrypt and remove the padding.
        if self.aes.decrypt(enc_key, iv, buf).is_err() {
            buf.zeroize();
            buf.clear();
            return Err(CryptoError::Decrypt);
        }
        Ok(())
    }
}

impl ContentCipher for AesCbcHmac {
    fn algorithm(&self) -> ContentAlg {
        self.alg
    }

    fn encrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<Vec<u8>, CryptoError> {
        self.encrypt_with_key(cek.as_bytes(), iv, aad, buf)
    }

    fn decrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        self.decrypt_with_key(cek.as_bytes(), iv, aad, buf, tag)
    }
}
