//! TA packaging for `encrypted_ta` (section 9.3.1.1): a fresh 256-bit key,
//! AES-CBC over the TA binary and its personalization data, the key wrapped
//! to the TEE SP AIK as a JWE, the IV in hex.

use alloc::vec::Vec;

use zeroize::Zeroizing;

use super::TamError;
use crate::crypto::{Cek, ContentAlg, Curve, EncryptionKey, KeyAlg, KeyKind, Provider, PublicKey};
use crate::jose::{Header, Jwe};
use crate::message::{Base64Bytes, InstallEncryptedTa, TaEncAlg, TaIv, TaKey, UpdateEncryptedTa};

/// Length of the TA data key: "a 256-bit symmetric key" (9.3.1.1).
pub const TA_KEY_LEN: usize = 32;

/// The content encryption of every JWE the TAM makes (section 11).
pub const CONTENT_ALG: ContentAlg = ContentAlg::A128CbcHs256;

/// The key management algorithm of the basic profile (section 11) for a
/// recipient key: RSA1_5 for RSA, ECDH-ES+A128KW for P-256. Any other key is
/// [`TamError::UnsupportedKey`].
pub fn key_alg_for(key: &PublicKey) -> Result<KeyAlg, TamError> {
    match key.kind() {
        KeyKind::Rsa => Ok(KeyAlg::Rsa1_5),
        KeyKind::Ec(Curve::P256) => Ok(KeyAlg::EcdhEsA128Kw),
        _ => Err(TamError::UnsupportedKey),
    }
}

/// Encrypts `plaintext` to `recipient` under `cek` (or a fresh CEK when
/// `None`) with the basic profile's algorithms.
pub(crate) fn encrypt_to(
    provider: &Provider,
    recipient: &PublicKey,
    cek: Option<Cek>,
    plaintext: &[u8],
) -> Result<Jwe, TamError> {
    let alg = key_alg_for(recipient)?;
    let mut builder = Jwe::builder(CONTENT_ALG);
    if let Some(cek) = cek {
        builder = builder.cek(cek);
    }
    Ok(builder
        .recipient(alg, EncryptionKey::Public(recipient), Header::new())
        .encrypt(plaintext, provider)?)
}

/// A TA (and/or its personalization data) encrypted for one TEE SP AIK:
/// the parts of `encrypted_ta` (9.3.1.1, 9.3.2.1).
#[derive(Clone, Debug, PartialEq)]
pub struct SealedTa {
    /// `key`: the TA data key as a JWE to the SP AIK.
    pub key: Jwe,
    /// `iv`: the 16-byte CBC IV.
    pub iv: TaIv,
    /// The encrypted TA binary, if one was given.
    pub ta: Option<Vec<u8>>,
    /// The encrypted personalization data, if any was given.
    pub pdata: Option<Vec<u8>>,
}

impl SealedTa {
    /// Encrypts `ta` and `pdata` for the TEE SP AIK `spaik`.
    ///
    /// Both buffers are encrypted in place and moved into the result: a TA
    /// of tens of MiB is never copied here. Random draws, in order: the TA
    /// data key (32 bytes), the IV (16), then the key's JWE (its CEK, the
    /// key management draw, its IV).
    ///
    /// The one `key`/`iv` pair of the format covers both buffers (9.3.1.1
    /// has a single `iv`); both are fresh for every package.
    ///
    /// AES-256-CBC with PKCS#7 padding is computed with the provider's
    /// A256CBC-HS512 cipher, whose ciphertext is by definition AES-256-CBC
    /// under the second half of its key (RFC 7518 section 5.2.2.1); its tag
    /// is discarded. This keeps all cryptography in the provider.
    pub fn seal(
        provider: &Provider,
        spaik: &PublicKey,
        ta: Option<Vec<u8>>,
        pdata: Option<Vec<u8>>,
    ) -> Result<Self, TamError> {
        let cipher = provider.content_cipher(ContentAlg::A256CbcHs512)?;
        let ta_key = Zeroizing::new(provider.random_bytes(TA_KEY_LEN)?);
        let iv_bytes = provider.random_bytes(16)?;
        let iv: [u8; 16] = iv_bytes
            .as_slice()
            .try_into()
            .map_err(|_| TamError::Crypto(crate::crypto::CryptoError::InvalidLength))?;
        // MAC key (unused: the tag is dropped) || AES-256 key.
        let mut cbc_key = Zeroizing::new(alloc::vec![0u8; 2 * TA_KEY_LEN]);
        cbc_key[TA_KEY_LEN..].copy_from_slice(&ta_key);
        let cbc_key = Cek::from_slice(&cbc_key);
        let seal_one = |data: Option<Vec<u8>>| -> Result<Option<Vec<u8>>, TamError> {
            match data {
                None => Ok(None),
                Some(mut buf) => {
                    cipher.encrypt(&cbc_key, &iv, &[], &mut buf)?;
                    Ok(Some(buf))
                }
            }
        };
        let ta = seal_one(ta)?;
        let pdata = seal_one(pdata)?;
        let key = encrypt_to(provider, spaik, None, &ta_key)?;
        Ok(SealedTa {
            key,
            iv: TaIv(iv),
            ta,
            pdata,
        })
    }

    /// The `encrypted_ta` of an InstallTA request (9.3.1.1); the TA binary
    /// is required.
    pub fn into_install(self) -> Result<InstallEncryptedTa, TamError> {
        let ta = self
            .ta
            .ok_or(TamError::InvalidRequest("InstallTA needs a TA binary"))?;
        Ok(InstallEncryptedTa {
            key: TaKey::Jwe(self.key),
            iv: self.iv,
            alg: TaEncAlg::AesCbc,
            ciphertadata: Base64Bytes(ta),
            cipherpdata: self.pdata.map(Base64Bytes),
        })
    }

    /// The `encrypted_ta` of an UpdateTA request (9.3.2.1); at least one of
    /// the TA binary and the personalization data is required.
    pub fn into_update(self) -> Result<UpdateEncryptedTa, TamError> {
        if self.ta.is_none() && self.pdata.is_none() {
            return Err(TamError::InvalidRequest(
                "UpdateTA needs a TA binary or personalization data",
            ));
        }
        Ok(UpdateEncryptedTa {
            key: TaKey::Jwe(self.key),
            iv: self.iv,
            alg: TaEncAlg::AesCbc,
            ciphernewtadata: self.ta.map(Base64Bytes),
            ciphernewpdata: self.pdata.map(Base64Bytes),
        })
    }
}
