//! RSA1_5, RSA-OAEP and RSA-OAEP-256 key encryption (RFC 7518 4.2, 4.3),
//! the sender's side, over a backend's [`RsaEncrypt`]: the key check and
//! the [`WrappedCek`] are written once, here.

use core::fmt;

use super::{
    AgreementParams, Cek, ContentAlg, CryptoError, EncryptionKey, KeyAlg, KeyEncrypter, RsaEncrypt,
    SecureRandom, WrappedCek, require_cek,
};

/// RSA1_5, RSA-OAEP or RSA-OAEP-256 encryption of the CEK to a public key.
pub struct RsaKeyEncryption {
    alg: KeyAlg,
    rsa: &'static dyn RsaEncrypt,
}

/// The smallest RSA key a CEK is encrypted to, in bits (spec 4.4 item 3).
const MIN_RSA_BITS: usize = 2048;

impl RsaKeyEncryption {
    /// The key encrypter for `alg` (RSA1_5, RSA-OAEP or RSA-OAEP-256) over
    /// `rsa`.
    pub const fn new(alg: KeyAlg, rsa: &'static dyn RsaEncrypt) -> Self {
        Self { alg, rsa }
    }
}

impl fmt::Debug for RsaKeyEncryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RsaKeyEncryption").field(&self.alg).finish()
    }
}

impl KeyEncrypter for RsaKeyEncryption {
    fn algorithm(&self) -> KeyAlg {
        self.alg
    }

    /// Encrypts the CEK; a symmetric or EC key is
    /// [`CryptoError::KeyMismatch`], an RSA key under 2048 bits (spec 4.4)
    /// [`CryptoError::InvalidKey`], a CEK that is absent or does not fit
    /// `enc` as [`require_cek`] says.
    fn encrypt_cek(
        &self,
        key: EncryptionKey<'_>,
        enc: ContentAlg,
        cek: Option<&Cek>,
        _params: &AgreementParams,
        rng: &dyn SecureRandom,
    ) -> Result<WrappedCek, CryptoError> {
        let EncryptionKey::Public(key) = key else {
            return Err(CryptoError::KeyMismatch);
        };
        let key = key.rsa_at_least(MIN_RSA_BITS)?;
        let cek = require_cek(cek, enc)?;
        let m = cek.as_bytes();
        let encrypted_key = match self.alg {
            KeyAlg::Rsa1_5 => self.rsa.pkcs1v15(key, m, rng),
            KeyAlg::RsaOaep => self.rsa.oaep_sha1(key, m, rng),
            KeyAlg::RsaOaep256 => self.rsa.oaep_sha256(key, m, rng),
            other => Err(CryptoError::Unsupported(other.name())),
        }?;
        Ok(WrappedCek {
            cek: cek.clone(),
            encrypted_key,
            epk: None,
        })
    }
}
