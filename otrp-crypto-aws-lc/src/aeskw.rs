//! AES key wrap (RFC 3394) on `aws_lc_rs::key_wrap`, the primitive under
//! A128KW, A256KW and ECDH-ES+AxxxKW (the constructions are otrp-core's).

use aws_lc_rs::key_wrap::{AES_128, AES_256, AesKek, KeyWrap};
use otrp_core::crypto::{AesKw, CryptoError, Secret};
use zeroize::Zeroizing;

fn kek(key: &[u8]) -> Option<AesKek> {
    let cipher = match key.len() {
        16 => &AES_128,
        32 => &AES_256,
        _ => return None,
    };
    AesKek::new(cipher, key).ok()
}

/// RFC 3394 AES key wrap on `aws_lc_rs::key_wrap` (16- and 32-byte KEKs:
/// aws-lc-rs has no AES-192 key wrap, and OTrP no A192KW).
#[derive(Clone, Copy, Debug)]
pub struct AwsLcAesKw;

/// The AES key wrap primitive of this backend.
pub static AES_KW: AwsLcAesKw = AwsLcAesKw;

impl AesKw for AwsLcAesKw {
    fn wrap_key(&self, kek_bytes: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let kek = kek(kek_bytes).ok_or(CryptoError::InvalidKey)?;
        let mut out = vec![0u8; key.len() + 8];
        let len = kek
            .wrap(key, &mut out)
            .map_err(|_| CryptoError::InvalidLength)?
            .len();
        out.truncate(len);
        Ok(out)
    }

    fn unwrap_key(&self, kek_bytes: &[u8], wrapped: &[u8]) -> Secret {
        let kek = kek(kek_bytes).ok_or(CryptoError::Decrypt)?;
        let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
        let len = kek
            .unwrap(wrapped, &mut out)
            .map_err(|_| CryptoError::Decrypt)?
            .len();
        out.truncate(len);
        Ok(out)
    }
}
