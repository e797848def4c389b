//! AES key wrap (RFC 3394), the primitive under A128KW, A256KW and
//! ECDH-ES+AxxxKW (the constructions are otrp-core's).

use alloc::vec;
use alloc::vec::Vec;

use aes_kw::KeyInit;
use otrp_core::crypto::{AesKw, CryptoError, Secret};
use zeroize::Zeroizing;

/// RFC 3394 AES key wrap on the `aes-kw` crate (16-, 24- and 32-byte KEKs).
#[derive(Clone, Copy, Debug)]
pub struct RustCryptoAesKw;

/// The AES key wrap primitive of this backend.
pub static AES_KW: RustCryptoAesKw = RustCryptoAesKw;

impl AesKw for RustCryptoAesKw {
    fn wrap_key(&self, kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; key.len() + 8];
        let res = match kek.len() {
            16 => aes_kw::KwAes128::new_from_slice(kek)
                .map_err(|_| CryptoError::InvalidKey)?
                .wrap_key(key, &mut out)
                .map(|_| ()),
            24 => aes_kw::KwAes192::new_from_slice(kek)
                .map_err(|_| CryptoError::InvalidKey)?
                .wrap_key(key, &mut out)
                .map(|_| ()),
            32 => aes_kw::KwAes256::new_from_slice(kek)
                .map_err(|_| CryptoError::InvalidKey)?
                .wrap_key(key, &mut out)
                .map(|_| ()),
            _ => return Err(CryptoError::InvalidKey),
        };
        res.map_err(|_| CryptoError::InvalidLength)?;
        Ok(out)
    }

    fn unwrap_key(&self, kek: &[u8], wrapped: &[u8]) -> Secret {
        let len = wrapped.len().checked_sub(8).ok_or(CryptoError::Decrypt)?;
        let mut out = Zeroizing::new(vec![0u8; len]);
        let res = match kek.len() {
            16 => aes_kw::KwAes128::new_from_slice(kek)
                .map_err(|_| CryptoError::Decrypt)?
                .unwrap_key(wrapped, &mut out)
                .map(|_| ()),
            24 => aes_kw::KwAes192::new_from_slice(kek)
                .map_err(|_| CryptoError::Decrypt)?
                .unwrap_key(wrapped, &mut out)
                .map(|_| ()),
            32 => aes_kw::KwAes256::new_from_slice(kek)
                .map_err(|_| CryptoError::Decrypt)?
                .unwrap_key(wrapped, &mut out)
                .map(|_| ()),
            _ => return Err(CryptoError::Decrypt),
        };
        res.map_err(|_| CryptoError::Decrypt)?;
        Ok(out)
    }
}
