//! Content encryption: AES-CBC-HMAC-SHA2 (RFC 7518 5.2) and AES-GCM (5.3),
//! on `aws_lc_rs::cipher`, `aws_lc_rs::hmac` and `aws_lc_rs::aead`.

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{
    self, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey,
};
use aws_lc_rs::hmac;
use aws_lc_rs::iv::FixedLength;
use otrp_core::crypto::{Cek, ContentAlg, ContentCipher, CryptoError};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

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

/// The AES algorithm and HMAC for a CBC-HMAC algorithm, if it is one.
fn cbc_parts(alg: ContentAlg) -> Option<(&'static cipher::Algorithm, hmac::Algorithm)> {
    match alg {
        ContentAlg::A128CbcHs256 => Some((&cipher::AES_128, hmac::HMAC_SHA256)),
        ContentAlg::A256CbcHs512 => Some((&cipher::AES_256, hmac::HMAC_SHA512)),
        _ => None,
    }
}

/// The full HMAC of `AAD || IV || ciphertext || AL` with `mac_key`, where AL
/// is the bit length of the AAD as a 64-bit big-endian integer.
fn cbc_mac(
    mac: hmac::Algorithm,
    mac_key: &[u8],
    aad: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<hmac::Tag, CryptoError> {
    let al = u64::try_from(aad.len())
        .ok()
        .and_then(|n| n.checked_mul(8))
        .ok_or(CryptoError::InvalidLength)?
        .to_be_bytes();
    let key = hmac::Key::new(mac, mac_key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(aad);
    ctx.update(iv);
    ctx.update(ciphertext);
    ctx.update(&al);
    Ok(ctx.sign())
}

/// Splits a CBC-HMAC key into (MAC key, encryption key), checking its length.
fn split_key(alg: ContentAlg, key: &[u8]) -> Option<(&[u8], &[u8])> {
    if cbc_parts(alg).is_none() || key.len() != alg.key_len() {
        return None;
    }
    Some(key.split_at(key.len() / 2))
}

fn iv128(iv: &[u8]) -> Option<FixedLength<BLOCK>> {
    let iv: [u8; BLOCK] = iv.try_into().ok()?;
    Some(FixedLength::from(iv))
}

/// AES-CBC-HMAC encryption in place; returns the tag.
pub(crate) fn cbc_hmac_encrypt(
    alg: ContentAlg,
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    buf: &mut Vec<u8>,
) -> Result<Vec<u8>, CryptoError> {
    let (aes, mac) = cbc_parts(alg).ok_or(CryptoError::InvalidLength)?;
    let (mac_key, enc_key) = split_key(alg, key).ok_or(CryptoError::InvalidLength)?;
    let context = EncryptionContext::Iv128(iv128(iv).ok_or(CryptoError::InvalidLength)?);
    let key = UnboundCipherKey::new(aes, enc_key).map_err(|_| CryptoError::InvalidLength)?;
    PaddedBlockEncryptingKey::cbc_pkcs7(key)
        .and_then(|k| k.less_safe_encrypt(buf, context))
        .map_err(|_| CryptoError::InvalidLength)?;
    let tag = cbc_mac(mac, mac_key, aad, iv, buf)?;
    let tag = tag
        .as_ref()
        .get(..alg.tag_len())
        .ok_or(CryptoError::Backend)?;
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
    let (aes, mac) = cbc_parts(alg).ok_or(CryptoError::Decrypt)?;
    let (mac_key, enc_key) = split_key(alg, key).ok_or(CryptoError::Decrypt)?;
    let iv_fixed = iv128(iv).ok_or(CryptoError::Decrypt)?;
    if tag.len() != alg.tag_len() || buf.is_empty() || !buf.len().is_multiple_of(BLOCK) {
        return Err(CryptoError::Decrypt);
    }
    // 1. Authenticate. Nothing is decrypted unless the tag matches.
    let expected = cbc_mac(mac, mac_key, aad, iv, buf).map_err(|_| CryptoError::Decrypt)?;
    let expected = expected
        .as_ref()
        .get(..alg.tag_len())
        .ok_or(CryptoError::Decrypt)?;
    if !bool::from(expected.ct_eq(tag)) {
        return Err(CryptoError::Decrypt);
    }
    // 2. Decrypt and remove the padding.
    let key = UnboundCipherKey::new(aes, enc_key).map_err(|_| CryptoError::Decrypt)?;
    let res = PaddedBlockDecryptingKey::cbc_pkcs7(key).and_then(|k| {
        k.decrypt(buf, DecryptionContext::Iv128(iv_fixed))
            .map(|pt| pt.len())
    });
    match res {
        Ok(len) => {
            buf.truncate(len);
            Ok(())
        }
        Err(_) => {
            buf.zeroize();
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

impl AesGcm {
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
        let key = self.key(cek).ok_or(CryptoError::InvalidLength)?;
        let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| CryptoError::InvalidLength)?;
        let tag = key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), buf)
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
        match key.open_in_place_separate_tag(nonce, Aad::from(aad), tag, buf) {
            Ok(_) => Ok(()),
            Err(_) => {
                // The buffer may hold unauthenticated output: wipe it.
                buf.zeroize();
                buf.clear();
                Err(CryptoError::Decrypt)
            }
        }
    }
}
