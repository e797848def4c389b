//! AES-GCM content encryption (RFC 7518 section 5.3) with ring.

use otrp_core::crypto::{Cek, ContentAlg, ContentCipher, CryptoError};
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroize;

/// A128GCM or A256GCM with ring.
#[derive(Clone, Copy, Debug)]
pub struct RingGcm(ContentAlg);

/// A128GCM.
pub static A128GCM: RingGcm = RingGcm(ContentAlg::A128Gcm);
/// A256GCM.
pub static A256GCM: RingGcm = RingGcm(ContentAlg::A256Gcm);

impl RingGcm {
    fn key(&self, cek: &Cek) -> Option<LessSafeKey> {
        let alg = match self.0 {
            ContentAlg::A128Gcm => &aead::AES_128_GCM,
            ContentAlg::A256Gcm => &aead::AES_256_GCM,
            _ => return None,
        };
        if cek.len() != self.0.key_len() {
            return None;
        }
        UnboundKey::new(alg, cek.as_bytes())
            .ok()
            .map(LessSafeKey::new)
    }
}

impl ContentCipher for RingGcm {
    fn algorithm(&self) -> ContentAlg {
        self.0
    }

    fn encrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<Vec<u8>, CryptoError> {
        let key = self.key(cek).ok_or(CryptoError::InvalidLength)?;
        let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| CryptoError::InvalidLength)?;
        let tag = key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), buf.as_mut_slice())
            .map_err(|_| CryptoError::InvalidLength)?;
        Ok(tag.as_ref().to_vec())
    }

    fn decrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        let key = self.key(cek).ok_or(CryptoError::Decrypt)?;
        let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| CryptoError::Decrypt)?;
        if tag.len() != self.0.tag_len() {
            return Err(CryptoError::Decrypt);
        }
        let len = buf.len();
        buf.extend_from_slice(tag);
        match key.open_in_place(nonce, Aad::from(aad), buf.as_mut_slice()) {
            Ok(_) => {
                buf.truncate(len);
                Ok(())
            }
            Err(_) => {
                // Release nothing of a message that did not authenticate.
                buf.zeroize();
                Err(CryptoError::Decrypt)
            }
        }
    }
}
