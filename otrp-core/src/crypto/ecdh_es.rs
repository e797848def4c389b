//! ECDH-ES key agreement, direct and with AES key wrap (RFC 7518 4.6), over
//! a backend's [`Ecdh`], [`AesKw`] and SHA-256 [`Digest`]: the sender's
//! half as a [`KeyEncrypter`], the recipient's as [`ecdh_es_decrypt_cek`]
//! over the recipient key's own agreement.

use alloc::vec::Vec;

use zeroize::Zeroizing;

use super::aes_kw::{require_cek, unwrap_cek};
use super::{
    AesKw, AgreementParams, Cek, ContentAlg, CryptoError, Digest, EcPublicKey, Ecdh, EncryptionKey,
    KeyAlg, KeyEncrypter, PublicKey, SecretBytes, SecureRandom, WrappedCek, concat_kdf,
};

/// The key-wrapping key length for an ECDH-ES+AxxxKW algorithm, or `None`
/// for direct agreement.
fn kw_len(alg: KeyAlg) -> Result<Option<usize>, CryptoError> {
    match alg {
        KeyAlg::EcdhEs => Ok(None),
        KeyAlg::EcdhEsA128Kw => Ok(Some(16)),
        KeyAlg::EcdhEsA256Kw => Ok(Some(32)),
        _ => Err(CryptoError::KeyMismatch),
    }
}

/// The Concat KDF output for `alg`: the CEK itself (direct; `AlgorithmID`
/// is `enc`) or the key-wrapping key (`AlgorithmID` is `alg`), 4.6.2.
fn derive(
    sha256: &dyn Digest,
    alg: KeyAlg,
    enc: ContentAlg,
    z: &[u8],
    params: &AgreementParams,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let apu = params.apu.as_deref().unwrap_or(&[]);
    let apv = params.apv.as_deref().unwrap_or(&[]);
    match kw_len(alg)? {
        None => concat_kdf(sha256, z, enc.name(), apu, apv, enc.key_len()),
        Some(len) => concat_kdf(sha256, z, alg.name(), apu, apv, len),
    }
}

/// ECDH-ES, ECDH-ES+A128KW or ECDH-ES+A256KW, the sender's half.
pub struct EcdhEs {
    alg: KeyAlg,
    ecdh: &'static dyn Ecdh,
    kw: &'static dyn AesKw,
    sha256: &'static dyn Digest,
}

impl EcdhEs {
    /// The key encrypter for `alg` over a backend's primitives (`sha256`
    /// must be SHA-256).
    pub const fn new(
        alg: KeyAlg,
        ecdh: &'static dyn Ecdh,
        kw: &'static dyn AesKw,
        sha256: &'static dyn Digest,
    ) -> Self {
        Self {
            alg,
            ecdh,
            kw,
            sha256,
        }
    }
}

impl core::fmt::Debug for EcdhEs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("EcdhEs").field(&self.alg).finish()
    }
}

impl KeyEncrypter for EcdhEs {
    fn algorithm(&self) -> KeyAlg {
        self.alg
    }

    fn encrypt_cek(
        &self,
        key: EncryptionKey<'_>,
        enc: ContentAlg,
        cek: Option<&Cek>,
        params: &AgreementParams,
        rng: &dyn SecureRandom,
    ) -> Result<WrappedCek, CryptoError> {
        let EncryptionKey::Public(PublicKey::Ec(recipient)) = key else {
            return Err(CryptoError::KeyMismatch);
        };
        let wrap_len = kw_len(self.alg)?;
        let cek = match wrap_len {
            None if cek.is_some() => return Err(CryptoError::InvalidLength),
            None => None,
            Some(_) => Some(require_cek(cek, enc)?),
        };
        let (epk, z) = self.ecdh.ephemeral_agree(recipient, rng)?;
        let derived = derive(self.sha256, self.alg, enc, &z, params)?;
        let epk = Some(epk);
        match cek {
            None => Ok(WrappedCek {
                cek: SecretBytes::from(derived),
                encrypted_key: Vec::new(),
                epk,
            }),
            Some(cek) => Ok(WrappedCek {
                cek: cek.clone(),
                encrypted_key: self.kw.wrap(&derived, cek.as_bytes())?,
                epk,
            }),
        }
    }
}

/// The recipient's half of ECDH-ES: `agree` is the recipient key's ECDH
/// with the sender's `epk` (refusing a point off the curve or on another
/// curve); the agreed secret derives the CEK or the key that unwraps it.
pub fn ecdh_es_decrypt_cek(
    alg: KeyAlg,
    enc: ContentAlg,
    params: &AgreementParams,
    encrypted_key: &[u8],
    agree: impl FnOnce(&EcPublicKey) -> Result<Zeroizing<Vec<u8>>, CryptoError>,
    kw: &dyn AesKw,
    sha256: &dyn Digest,
) -> Result<Cek, CryptoError> {
    let wrap_len = kw_len(alg)?;
    let epk = params.epk.as_ref().ok_or(CryptoError::InvalidKey)?;
    let z = agree(epk)?;
    let derived = derive(sha256, alg, enc, &z, params)?;
    match wrap_len {
        None if !encrypted_key.is_empty() => Err(CryptoError::InvalidLength),
        None => Ok(SecretBytes::from(derived)),
        Some(_) => unwrap_cek(kw, &derived, encrypted_key, enc),
    }
}
