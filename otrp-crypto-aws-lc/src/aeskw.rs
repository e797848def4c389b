//! AES key wrap (RFC 3394) on `aws_lc_rs::key_wrap`: A128KW, A256KW and the
//! symmetric key type.

use aws_lc_rs::key_wrap::{AES_128, AES_256, AesKek, KeyWrap};
use otrp_core::crypto::{
    AgreementParams, Cek, CekDecrypter, ContentAlg, CryptoError, EncryptionKey, JwsAlg, JwsSigner,
    KeyAlg, KeyEncrypter, KeyKind, PublicKey, SecretBytes, SecureRandom, WrappedCek,
};
use zeroize::Zeroizing;

fn kek(key: &[u8]) -> Option<AesKek> {
    let cipher = match key.len() {
        16 => &AES_128,
        32 => &AES_256,
        _ => return None,
    };
    AesKek::new(cipher, key).ok()
}

/// Wraps `key` (a multiple of 8 bytes, at least 16) under `kek` (16 or 32
/// bytes: aws-lc-rs has no AES-192 key wrap, and OTrP no A192KW).
pub(crate) fn wrap(kek_bytes: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if key.len() < 16 || !key.len().is_multiple_of(8) {
        return Err(CryptoError::InvalidLength);
    }
    let kek = kek(kek_bytes).ok_or(CryptoError::InvalidKey)?;
    let mut out = vec![0u8; key.len() + 8];
    let len = kek
        .wrap(key, &mut out)
        .map_err(|_| CryptoError::InvalidLength)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Unwraps `wrapped` under `kek` (16 or 32 bytes). Any failure (length,
/// integrity) is [`CryptoError::Decrypt`].
pub(crate) fn unwrap(kek_bytes: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
        return Err(CryptoError::Decrypt);
    }
    let kek = kek(kek_bytes).ok_or(CryptoError::Decrypt)?;
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let len = kek
        .unwrap(wrapped, &mut out)
        .map_err(|_| CryptoError::Decrypt)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Unwraps a CEK for `enc`: integrity failure or a CEK of the wrong length
/// is [`CryptoError::Decrypt`].
pub(crate) fn unwrap_cek(kek: &[u8], wrapped: &[u8], enc: ContentAlg) -> Result<Cek, CryptoError> {
    let cek = unwrap(kek, wrapped)?;
    if cek.len() != enc.key_len() {
        return Err(CryptoError::Decrypt);
    }
    Ok(SecretBytes::from(cek))
}

/// Checks that `cek` is given and fits `enc`.
pub(crate) fn require_cek(cek: Option<&Cek>, enc: ContentAlg) -> Result<&Cek, CryptoError> {
    match cek {
        Some(cek) if cek.len() == enc.key_len() => Ok(cek),
        _ => Err(CryptoError::InvalidLength),
    }
}

/// A128KW or A256KW with a shared symmetric key.
#[derive(Clone, Copy, Debug)]
pub struct AesKeyWrap(KeyAlg);

/// AES-128 key wrap.
pub static A128KW: AesKeyWrap = AesKeyWrap(KeyAlg::A128Kw);
/// AES-256 key wrap.
pub static A256KW: AesKeyWrap = AesKeyWrap(KeyAlg::A256Kw);

impl KeyEncrypter for AesKeyWrap {
    fn algorithm(&self) -> KeyAlg {
        self.0
    }

    fn encrypt_cek(
        &self,
        key: EncryptionKey<'_>,
        enc: ContentAlg,
        cek: Option<&Cek>,
        _params: &AgreementParams,
        _rng: &dyn SecureRandom,
    ) -> Result<WrappedCek, CryptoError> {
        let EncryptionKey::Symmetric(kek) = key else {
            return Err(CryptoError::KeyMismatch);
        };
        if !self.0.key_kind().admits(key.kind()) {
            return Err(CryptoError::KeyMismatch);
        }
        let cek = require_cek(cek, enc)?;
        let encrypted_key = wrap(kek.as_bytes(), cek.as_bytes())?;
        Ok(WrappedCek {
            cek: cek.clone(),
            encrypted_key,
            epk: None,
        })
    }
}

/// A symmetric (`oct`) key: a key-encryption key for A128KW (16 bytes) or
/// A256KW (32 bytes). It cannot sign: OTrP signs with private keys only.
#[derive(Clone, Debug)]
pub struct SymmetricKey(SecretBytes);

impl SymmetricKey {
    /// A key from its bytes (refused when empty).
    pub fn new(key: SecretBytes) -> Result<Self, CryptoError> {
        if key.is_empty() {
            return Err(CryptoError::InvalidKey);
        }
        Ok(Self(key))
    }

    /// The key bytes.
    pub fn as_secret(&self) -> &SecretBytes {
        &self.0
    }
}

impl JwsSigner for SymmetricKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Oct(self.0.len())
    }

    fn public_key(&self) -> Option<PublicKey> {
        None
    }

    fn sign(
        &self,
        _alg: JwsAlg,
        _message: &[u8],
        _rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, CryptoError> {
        Err(CryptoError::KeyMismatch)
    }
}

impl CekDecrypter for SymmetricKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Oct(self.0.len())
    }

    fn decrypt_cek(
        &self,
        alg: KeyAlg,
        enc: ContentAlg,
        _params: &AgreementParams,
        encrypted_key: &[u8],
        _rng: &dyn SecureRandom,
    ) -> Result<Cek, CryptoError> {
        if !matches!(alg, KeyAlg::A128Kw | KeyAlg::A256Kw)
            || !alg.key_kind().admits(KeyKind::Oct(self.0.len()))
        {
            return Err(CryptoError::KeyMismatch);
        }
        unwrap_cek(self.0.as_bytes(), encrypted_key, enc)
    }
}
