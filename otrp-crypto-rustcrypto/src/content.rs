//! Content encryption: AES-CBC-HMAC-SHA2 (RFC 7518 5.2) and AES-GCM (5.3).

use alloc::vec::Vec;

use aes_gcm::aead::{AeadInOut, KeyInit as _};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::Mac;
use otrp_core::crypto::{Cek, ContentAlg, ContentCipher, CryptoError};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// AES-CBC with HMAC-SHA2 (A128CBC-HS256 or A256CBC-HS512).
#[derive(Clone, Copy, Debug)]
pub struct AesCbcHmac(ContentAlg);

/// AES-128-CBC with HMAC-SHA-256 truncated to 128 bits.
pub static A128CBC_HS256: AesCbcHmac = AesCbcHmac(ContentAlg::A128CbcHs256);
/// AES-256-CBC with HMAC-SHA-512 truncated to 256 bits.
pub static A256CBC_HS512: AesCbcHmac = AesCbcHmac(ContentAlg::A256CbcHs512);

/// AES-GCM (A128GCM or A256GCM).
#[derive(Clone, Copy, Debug)]
pub struct AesGcm(ContentAlg);

/// AES-128-GCM.
pub static A128GCM: AesGcm = AesGcm(ContentAlg::A128Gcm);
/// AES-256-GCM.
pub static A256GCM: AesGcm = AesGcm(ContentAlg::A256Gcm);

const BLOCK: usize = 16;

/// Whether `alg` is one of the CBC-HMAC algorithms.
fn is_cbc(alg: ContentAlg) -> bool {
    matches!(alg, ContentAlg::A128CbcHs256 | ContentAlg::A256CbcHs512)
}

/// The full HMAC of `AAD || IV || ciphertext || AL` with `mac_key`, where AL
/// is the bit length of the AAD as a 64-bit big-endian integer.
fn cbc_mac(
    alg: ContentAlg,
    mac_key: &[u8],
    aad: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let al = u64::try_from(aad.len())
        .ok()
        .and_then(|n| n.checked_mul(8))
        .ok_or(CryptoError::InvalidLength)?
        .to_be_bytes();
    macro_rules! run {
        ($hash:ty) => {{
            let mut mac = <hmac::Hmac<$hash>>::new_from_slice(mac_key)
                .map_err(|_| CryptoError::InvalidLength)?;
            mac.update(aad);
            mac.update(iv);
            mac.update(ciphertext);
            mac.update(&al);
            Zeroizing::new(mac.finalize().into_bytes().to_vec())
        }};
    }
    Ok(match alg {
        ContentAlg::A128CbcHs256 => run!(sha2::Sha256),
        _ => run!(sha2::Sha512),
    })
}

/// Splits a CBC-HMAC key into (MAC key, encryption key), checking its length.
fn split_key(alg: ContentAlg, key: &[u8]) -> Option<(&[u8], &[u8])> {
    if !is_cbc(alg) || key.len() != alg.key_len() {
        return None;
    }
    Some(key.split_at(key.len() / 2))
}

/// AES-CBC-HMAC encryption in place; returns the tag.
pub(crate) fn cbc_hmac_encrypt(
    alg: ContentAlg,
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    buf: &mut Vec<u8>,
) -> Result<Vec<u8>, CryptoError> {
    let (mac_key, enc_key) = split_key(alg, key).ok_or(CryptoError::InvalidLength)?;
    if iv.len() != BLOCK {
        return Err(CryptoError::InvalidLength);
    }
    let msg_len = buf.len();
    let padded = (msg_len / BLOCK + 1) * BLOCK;
    buf.resize(padded, 0);
    let res = match alg {
        ContentAlg::A128CbcHs256 => cbc::Encryptor::<aes::Aes128>::new_from_slices(enc_key, iv)
            .map_err(|_| CryptoError::InvalidLength)?
            .encrypt_padded::<Pkcs7>(buf, msg_len)
            .map(|ct| ct.len()),
        _ => cbc::Encryptor::<aes::Aes256>::new_from_slices(enc_key, iv)
            .map_err(|_| CryptoError::InvalidLength)?
            .encrypt_padded::<Pkcs7>(buf, msg_len)
            .map(|ct| ct.len()),
    };
    let ct_len = res.map_err(|_| CryptoError::InvalidLength)?;
    buf.truncate(ct_len);
    let mac = cbc_mac(alg, mac_key, aad, iv, buf)?;
    let tag = mac.get(..alg.tag_len()).ok_or(CryptoError::Backend)?;
    Ok(tag.to_vec())
}

/// AES-CBC-HMAC decryption in place. The tag is checked, in constant time,
/// before anything is decrypted; every failure is [`CryptoError::Decrypt`].
pub(crate) fn cbc_hmac_decrypt(
    alg: ContentAlg,
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    buf: &mut Vec<u8>,
    tag: &[u8],
) -> Result<(), CryptoError> {
    let (mac_key, enc_key) = split_key(alg, key).ok_or(CryptoError::Decrypt)?;
    if iv.len() != BLOCK
        || tag.len() != alg.tag_len()
        || buf.is_empty()
        || !buf.len().is_multiple_of(BLOCK)
    {
        return Err(CryptoError::Decrypt);
    }
    // 1. Authenticate. Nothing is decrypted unless the tag matches.
    let mac = cbc_mac(alg, mac_key, aad, iv, buf).map_err(|_| CryptoError::Decrypt)?;
    let expected = mac.get(..alg.tag_len()).ok_or(CryptoError::Decrypt)?;
    if !bool::from(expected.ct_eq(tag)) {
        return Err(CryptoError::Decrypt);
    }
    // 2. Decrypt and remove the padding.
    let res = match alg {
        ContentAlg::A128CbcHs256 => cbc::Decryptor::<aes::Aes128>::new_from_slices(enc_key, iv)
            .map_err(|_| CryptoError::Decrypt)?
            .decrypt_padded::<Pkcs7>(buf)
            .map(|pt| pt.len()),
        _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(enc_key, iv)
            .map_err(|_| CryptoError::Decrypt)?
            .decrypt_padded::<Pkcs7>(buf)
            .map(|pt| pt.len()),
    };
    match res {
        Ok(len) => {
            buf.truncate(len);
            Ok(())
        }
        Err(_) => {
            zeroize::Zeroize::zeroize(buf);
            buf.clear();
            Err(CryptoError::Decrypt)
        }
    }
}

impl ContentCipher for AesCbcHmac {
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
        cbc_hmac_encrypt(self.0, cek.as_bytes(), iv, aad, buf)
    }

    fn decrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        cbc_hmac_decrypt(self.0, cek.as_bytes(), iv, aad, buf, tag)
    }
}

type Aes128Gcm = aes_gcm::Aes128Gcm;
type Aes256Gcm = aes_gcm::Aes256Gcm;

impl ContentCipher for AesGcm {
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
        let key = cek.as_bytes();
        if key.len() != self.0.key_len() {
            return Err(CryptoError::InvalidLength);
        }
        let nonce = aes_gcm::Nonce::<aes_gcm::aead::consts::U12>::try_from(iv)
            .map_err(|_| CryptoError::InvalidLength)?;
        let tag = match self.0 {
            ContentAlg::A128Gcm => Aes128Gcm::new_from_slice(key)
                .map_err(|_| CryptoError::InvalidLength)?
                .encrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into()),
            _ => Aes256Gcm::new_from_slice(key)
                .map_err(|_| CryptoError::InvalidLength)?
                .encrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into()),
        }
        .map_err(|_| CryptoError::InvalidLength)?;
        Ok(tag.to_vec())
    }

    fn decrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        let key = cek.as_bytes();
        if key.len() != self.0.key_len() {
            return Err(CryptoError::Decrypt);
        }
        let nonce = aes_gcm::Nonce::<aes_gcm::aead::consts::U12>::try_from(iv)
            .map_err(|_| CryptoError::Decrypt)?;
        let tag = aes_gcm::Tag::<aes_gcm::aead::consts::U16>::try_from(tag)
            .map_err(|_| CryptoError::Decrypt)?;
        match self.0 {
            ContentAlg::A128Gcm => Aes128Gcm::new_from_slice(key)
                .map_err(|_| CryptoError::Decrypt)?
                .decrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into(), &tag),
            _ => Aes256Gcm::new_from_slice(key)
                .map_err(|_| CryptoError::Decrypt)?
                .decrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into(), &tag),
        }
        .map_err(|_| CryptoError::Decrypt)
    }
}
