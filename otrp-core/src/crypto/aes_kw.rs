//! A128KW and A256KW (RFC 7518 4.4) and the symmetric key type, over a
//! backend's [`AesKw`].

use alloc::vec::Vec;

use super::{
    AesKw, AgreementParams, Cek, CekDecrypter, ContentAlg, CryptoError, EncryptionKey, JwsAlg,
    JwsSigner, KeyAlg, KeyEncrypter, KeyKind, PublicKey, SecretBytes, SecureRandom, WrappedCek,
};

/// Unwraps a CEK for `enc`: integrity failure or a CEK of the wrong length
/// is [`CryptoError::Decrypt`].
pub(crate) fn unwrap_cek(
    kw: &dyn AesKw,
    kek: &[u8],
    wrapped: &[u8],
    enc: ContentAlg,
) -> Result<Cek, CryptoError> {
    let cek = kw.unwrap(kek, wrapped)?;
    if cek.len() != enc.key_len() {
        return Err(CryptoError::Decrypt);
    }
    Ok(SecretBytes::from(cek))
}

/// Checks that `cek` is given and fits `enc`.
pub fn require_cek(cek: Option<&Cek>, enc: ContentAlg) -> Result<&Cek, CryptoError> {
    match cek {
        Some(cek) if cek.len() == enc.key_len() => Ok(cek),
        _ => Err(CryptoError::InvalidLength),
    }
}

/// A128KW or A256KW with a shared symmetric key.
pub struct AesKeyWrap {
    alg: KeyAlg,
    kw: &'static dyn AesKw,
}

impl AesKeyWrap {
    /// The key encrypter for `alg` (A128KW or A256KW) over `kw`.
    pub const fn new(alg: KeyAlg, kw: &'static dyn AesKw) -> Self {
        Self { alg, kw }
    }
}

impl core::fmt::Debug for AesKeyWrap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("AesKeyWrap").field(&self.alg).finish()
    }
}

impl KeyEncrypter for AesKeyWrap {
    fn algorithm(&self) -> KeyAlg {
        self.alg
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
        if !self.alg.key_kind().admits(key.kind()) {
            return Err(CryptoError::KeyMismatch);
        }
        let cek = require_cek(cek, enc)?;
        let encrypted_key = self.kw.wrap(kek.as_bytes(), cek.as_bytes())?;
        Ok(WrappedCek {
            cek: cek.clone(),
            encrypted_key,
            epk: None,
        })
    }
}

/// A symmetric (`oct`) key: a key-encryption key for A128KW (16 bytes) or
/// A256KW (32 bytes), unwrapping with a backend's [`AesKw`]. It cannot
/// sign: OTrP signs with private keys only.
#[derive(Clone)]
pub struct SymmetricKey {
    key: SecretBytes,
    kw: &'static dyn AesKw,
}

impl core::fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("SymmetricKey").field(&self.key).finish()
    }
}

impl SymmetricKey {
    /// A key from its bytes (refused when empty), unwrapping with `kw`.
    pub fn new(key: SecretBytes, kw: &'static dyn AesKw) -> Result<Self, CryptoError> {
        if key.is_empty() {
            return Err(CryptoError::InvalidKey);
        }
        Ok(Self { key, kw })
    }

    /// The key bytes.
    pub fn as_secret(&self) -> &SecretBytes {
        &self.key
    }
}

impl JwsSigner for SymmetricKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Oct(self.key.len())
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
        KeyKind::Oct(self.key.len())
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
            || !alg.key_kind().admits(KeyKind::Oct(self.key.len()))
        {
            return Err(CryptoError::KeyMismatch);
        }
        unwrap_cek(self.kw, self.key.as_bytes(), encrypted_key, enc)
    }
}
