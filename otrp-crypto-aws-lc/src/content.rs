//! Content encryption: the AES-CBC and HMAC primitives under
//! AES-CBC-HMAC-SHA2 (RFC 7518 5.2, composed in otrp-core) on
//! `aws_lc_rs::cipher` and `aws_lc_rs::hmac`, and the AES-GCM primitive
//! under 5.3 on `aws_lc_rs::aead`.

use aws_lc_rs::cipher::{
    self, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey,
};
use aws_lc_rs::hmac;
use aws_lc_rs::iv::FixedLength;
use otrp_core::crypto::{AesCbc, CryptoError, HashAlg, Hmac, Secret};
use zeroize::Zeroizing;

/// AES-CBC with PKCS#7 padding on `aws_lc_rs::cipher` (16- or 32-byte
/// keys), the primitive under A128CBC-HS256 and A256CBC-HS512.
#[derive(Clone, Copy, Debug)]
pub struct AwsLcAesCbc;

/// The AES-CBC primitive of this backend.
pub static AES_CBC: AwsLcAesCbc = AwsLcAesCbc;

fn aes(key: &[u8]) -> Option<&'static cipher::Algorithm> {
    match key.len() {
        16 => Some(&cipher::AES_128),
        32 => Some(&cipher::AES_256),
        _ => None,
    }
}

/// The AES block length.
const BLOCK: usize = 16;

fn iv128(iv: &[u8]) -> Option<FixedLength<BLOCK>> {
    let iv: [u8; BLOCK] = iv.try_into().ok()?;
    Some(FixedLength::from(iv))
}

impl AesCbc for AwsLcAesCbc {
    fn encrypt(&self, key: &[u8], iv: &[u8], buf: &mut Vec<u8>) -> Result<(), CryptoError> {
        let aes = aes(key).ok_or(CryptoError::InvalidLength)?;
        let context = EncryptionContext::Iv128(iv128(iv).ok_or(CryptoError::InvalidLength)?);
        let key = UnboundCipherKey::new(aes, key).map_err(|_| CryptoError::InvalidLength)?;
        PaddedBlockEncryptingKey::cbc_pkcs7(key)
            .and_then(|k| k.less_safe_encrypt(buf, context))
            .map_err(|_| CryptoError::InvalidLength)?;
        Ok(())
    }

    fn decrypt(&self, key: &[u8], iv: &[u8], buf: &mut Vec<u8>) -> Result<(), CryptoError> {
        let aes = aes(key).ok_or(CryptoError::Decrypt)?;
        let iv = iv128(iv).ok_or(CryptoError::Decrypt)?;
        let key = UnboundCipherKey::new(aes, key).map_err(|_| CryptoError::Decrypt)?;
        let len = PaddedBlockDecryptingKey::cbc_pkcs7(key)
            .and_then(|k| {
                k.decrypt(buf, DecryptionContext::Iv128(iv))
                    .map(|pt| pt.len())
            })
            .map_err(|_| CryptoError::Decrypt)?;
        buf.truncate(len);
        Ok(())
    }
}

/// HMAC-SHA-256 and HMAC-SHA-512 on `aws_lc_rs::hmac`.
#[derive(Clone, Copy, Debug)]
pub struct AwsLcHmac;

/// The HMAC primitive of this backend.
pub static HMAC: AwsLcHmac = AwsLcHmac;

impl Hmac for AwsLcHmac {
    fn mac(&self, hash: HashAlg, key: &[u8], parts: &[&[u8]]) -> Secret {
        let alg = match hash {
            HashAlg::Sha256 => hmac::HMAC_SHA256,
            HashAlg::Sha512 => hmac::HMAC_SHA512,
            _ => return Err(CryptoError::Unsupported("HMAC hash")),
        };
        let key = hmac::Key::new(alg, key);
        let mut ctx = hmac::Context::with_key(&key);
        for part in parts {
            ctx.update(part);
        }
        Ok(Zeroizing::new(ctx.sign().as_ref().to_vec()))
    }
}

otrp_core::aead_aes_gcm! {
    /// AES-GCM on `aws_lc_rs::aead`, the primitive under A128GCM and
    /// A256GCM (composed in otrp-core).
    pub struct AwsLcAesGcm on aws_lc_rs;
    open(key, nonce, aad, tag, buf) => key.open_in_place_separate_tag(nonce, aad, tag, buf);
}

/// The AES-GCM primitive of this backend.
pub static AES_GCM: AwsLcAesGcm = AwsLcAesGcm;
