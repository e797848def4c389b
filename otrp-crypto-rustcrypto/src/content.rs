//! Content encryption: the AES-CBC and HMAC primitives under
//! AES-CBC-HMAC-SHA2 (RFC 7518 5.2) and AES-GCM (5.3), composed in
//! otrp-core.

use alloc::vec::Vec;

use aes_gcm::aead::{AeadInOut, KeyInit as _};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::Mac;
use otrp_core::crypto::{
    AesCbc, AesCbcHmac, AesGcm, ContentAlg, CryptoError, HashAlg, Hmac, Sealed, Secret, Verified,
};
use zeroize::Zeroizing;

/// AES-CBC with PKCS#7 padding on the `cbc` and `aes` crates (16- or
/// 32-byte keys), the primitive under A128CBC-HS256 and A256CBC-HS512.
#[derive(Clone, Copy, Debug)]
pub struct RustCryptoAesCbc;

/// The AES-CBC primitive of this backend.
pub static AES_CBC: RustCryptoAesCbc = RustCryptoAesCbc;

impl AesCbc for RustCryptoAesCbc {
    fn encrypt(&self, key: &[u8], iv: &[u8], buf: &mut Vec<u8>) -> Result<(), CryptoError> {
        let msg_len = buf.len();
        buf.resize((msg_len / BLOCK + 1) * BLOCK, 0);
        let res = match key.len() {
            16 => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(|_| CryptoError::InvalidLength)?
                .encrypt_padded::<Pkcs7>(buf, msg_len)
                .map(|ct| ct.len()),
            32 => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(|_| CryptoError::InvalidLength)?
                .encrypt_padded::<Pkcs7>(buf, msg_len)
                .map(|ct| ct.len()),
            _ => return Err(CryptoError::InvalidLength),
        };
        let ct_len = res.map_err(|_| CryptoError::InvalidLength)?;
        buf.truncate(ct_len);
        Ok(())
    }

    fn decrypt(&self, key: &[u8], iv: &[u8], buf: &mut Vec<u8>) -> Result<(), CryptoError> {
        let res = match key.len() {
            16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(|_| CryptoError::Decrypt)?
                .decrypt_padded::<Pkcs7>(buf)
                .map(|pt| pt.len()),
            32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(|_| CryptoError::Decrypt)?
                .decrypt_padded::<Pkcs7>(buf)
                .map(|pt| pt.len()),
            _ => return Err(CryptoError::Decrypt),
        };
        let len = res.map_err(|_| CryptoError::Decrypt)?;
        buf.truncate(len);
        Ok(())
    }
}

/// HMAC-SHA-256 and HMAC-SHA-512 on the `hmac` crate.
#[derive(Clone, Copy, Debug)]
pub struct RustCryptoHmac;

/// The HMAC primitive of this backend.
pub static HMAC: RustCryptoHmac = RustCryptoHmac;

impl Hmac for RustCryptoHmac {
    fn mac(&self, hash: HashAlg, key: &[u8], parts: &[&[u8]]) -> Secret {
        macro_rules! run {
            ($hash:ty) => {{
                let mut mac = <hmac::Hmac<$hash>>::new_from_slice(key)
                    .map_err(|_| CryptoError::InvalidLength)?;
                for part in parts {
                    mac.update(part);
                }
                Zeroizing::new(mac.finalize().into_bytes().to_vec())
            }};
        }
        Ok(match hash {
            HashAlg::Sha256 => run!(sha2::Sha256),
            HashAlg::Sha512 => run!(sha2::Sha512),
            _ => return Err(CryptoError::Unsupported("HMAC hash")),
        })
    }
}

const BLOCK: usize = 16;

/// The CBC-HMAC algorithm object for `alg`, for [`crate::hazmat`].
pub(crate) fn cbc_hmac(alg: ContentAlg) -> Option<&'static AesCbcHmac> {
    match alg {
        ContentAlg::A128CbcHs256 => Some(&crate::A128CBC_HS256),
        ContentAlg::A256CbcHs512 => Some(&crate::A256CBC_HS512),
        _ => None,
    }
}

/// AES-GCM on the `aes-gcm` crate, the primitive under A128GCM and
/// A256GCM (composed in otrp-core).
#[derive(Clone, Copy, Debug)]
pub struct RustCryptoAesGcm;

/// The AES-GCM primitive of this backend.
pub static AES_GCM: RustCryptoAesGcm = RustCryptoAesGcm;

type GcmNonce = aes_gcm::Nonce<aes_gcm::aead::consts::U12>;
type GcmTag = aes_gcm::Tag<aes_gcm::aead::consts::U16>;

impl AesGcm for RustCryptoAesGcm {
    fn seal(&self, key: &[u8], nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> Sealed {
        let nonce = GcmNonce::try_from(nonce).map_err(|_| CryptoError::InvalidLength)?;
        let tag = match key.len() {
            16 => aes_gcm::Aes128Gcm::new_from_slice(key)
                .map_err(|_| CryptoError::InvalidLength)?
                .encrypt_inout_detached(&nonce, aad, buf.into()),
            _ => aes_gcm::Aes256Gcm::new_from_slice(key)
                .map_err(|_| CryptoError::InvalidLength)?
                .encrypt_inout_detached(&nonce, aad, buf.into()),
        }
        .map_err(|_| CryptoError::InvalidLength)?;
        Ok(tag.into())
    }

    fn open(&self, key: &[u8], nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Verified {
        let nonce = GcmNonce::try_from(nonce).map_err(|_| CryptoError::Decrypt)?;
        let tag = GcmTag::try_from(tag).map_err(|_| CryptoError::Decrypt)?;
        match key.len() {
            16 => aes_gcm::Aes128Gcm::new_from_slice(key)
                .map_err(|_| CryptoError::Decrypt)?
                .decrypt_inout_detached(&nonce, aad, buf.into(), &tag),
            _ => aes_gcm::Aes256Gcm::new_from_slice(key)
                .map_err(|_| CryptoError::Decrypt)?
                .decrypt_inout_detached(&nonce, aad, buf.into(), &tag),
        }
        .map_err(|_| CryptoError::Decrypt)
    }
}
