//! RSA: RS*/PS* signatures, RSA1_5 and RSA-OAEP(-256) key encryption, on
//! `aws_lc_rs::signature` and `aws_lc_rs::rsa`.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    KeyPairComponents, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey,
    OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey, Pkcs1PublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey, PublicKeyComponents,
};
use std::sync::{Mutex, PoisonError};

use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey, RsaKeyPair, RsaParameters};
use otrp_core::crypto::{
    AgreementParams, Cek, CekDecrypter, ContentAlg, CryptoError, EncryptionKey, JwsAlg, JwsSigner,
    KeyAlg, KeyKind, PublicKey, RsaPublicKey, SecretBytes, SecureRandom, SignatureVerifier,
    WrappedCek,
};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::aeskw::require_cek;

/// The smallest RSA modulus accepted, in bits.
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// Our public key as aws-lc-rs components, refusing keys under 2048 bits.
fn components(key: &PublicKey) -> Result<PublicKeyComponents<&[u8]>, CryptoError> {
    match key {
        PublicKey::Rsa(k) if k.bits() < MIN_RSA_BITS => Err(CryptoError::InvalidKey),
        PublicKey::Rsa(k) => Ok(PublicKeyComponents { n: k.n(), e: k.e() }),
        PublicKey::Ec(_) => Err(CryptoError::KeyMismatch),
    }
}

/// Verification of RS256/384/512 and PS256/384/512.
///
/// Building AWS-LC's RSA key from (n, e) costs about a third of a 2048-bit
/// verification, and a TEE verifies the same TAM key again and again, so
/// each verifier keeps the last key it parsed (public data only).
pub struct RsaVerifier {
    alg: JwsAlg,
    last: Mutex<Option<(RsaPublicKey, ParsedPublicKey)>>,
}

impl core::fmt::Debug for RsaVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("RsaVerifier").field(&self.alg).finish()
    }
}

impl RsaVerifier {
    const fn new(alg: JwsAlg) -> Self {
        Self {
            alg,
            last: Mutex::new(None),
        }
    }

    /// The parsed key for `key`, from the one-entry cache or parsed now.
    fn parsed(
        &self,
        key: &RsaPublicKey,
        params: &'static RsaParameters,
    ) -> Option<ParsedPublicKey> {
        // A poisoned lock only means another thread panicked mid-update of
        // public data: take the inner value.
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((cached, parsed)) = last.as_ref() {
            if cached == key {
                return Some(parsed.clone());
            }
        }
        let parsed = PublicKeyComponents {
            n: key.n(),
            e: key.e(),
        }
        .to_parsed_public_key(params)
        .ok()?;
        *last = Some((key.clone(), parsed.clone()));
        Some(parsed)
    }
}

/// RSASSA-PKCS1-v1_5 with SHA-256.
pub static RS256: RsaVerifier = RsaVerifier::new(JwsAlg::Rs256);
/// RSASSA-PKCS1-v1_5 with SHA-384.
pub static RS384: RsaVerifier = RsaVerifier::new(JwsAlg::Rs384);
/// RSASSA-PKCS1-v1_5 with SHA-512.
pub static RS512: RsaVerifier = RsaVerifier::new(JwsAlg::Rs512);
/// RSASSA-PSS with SHA-256.
pub static PS256: RsaVerifier = RsaVerifier::new(JwsAlg::Ps256);
/// RSASSA-PSS with SHA-384.
pub static PS384: RsaVerifier = RsaVerifier::new(JwsAlg::Ps384);
/// RSASSA-PSS with SHA-512.
pub static PS512: RsaVerifier = RsaVerifier::new(JwsAlg::Ps512);

/// aws-lc-rs verification parameters for an RSA JWS algorithm (2048 to
/// 8192 bits; PSS with MGF1 of the same hash and a salt of the hash length,
/// RFC 7518 3.5).
fn verify_params(alg: JwsAlg) -> Option<&'static RsaParameters> {
    Some(match alg {
        JwsAlg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        JwsAlg::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        JwsAlg::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        JwsAlg::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
        JwsAlg::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
        JwsAlg::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// aws-lc-rs signing encoding for an RSA JWS algorithm.
fn sign_encoding(alg: JwsAlg) -> Option<&'static dyn signature::RsaEncoding> {
    Some(match alg {
        JwsAlg::Rs256 => &signature::RSA_PKCS1_SHA256,
        JwsAlg::Rs384 => &signature::RSA_PKCS1_SHA384,
        JwsAlg::Rs512 => &signature::RSA_PKCS1_SHA512,
        JwsAlg::Ps256 => &signature::RSA_PSS_SHA256,
        JwsAlg::Ps384 => &signature::RSA_PSS_SHA384,
        JwsAlg::Ps512 => &signature::RSA_PSS_SHA512,
        _ => return None,
    })
}

impl SignatureVerifier for RsaVerifier {
    fn algorithm(&self) -> JwsAlg {
        self.alg
    }

    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let rsa = match key {
            PublicKey::Rsa(k) if k.bits() < MIN_RSA_BITS => return Err(CryptoError::InvalidKey),
            PublicKey::Rsa(k) => k,
            PublicKey::Ec(_) => return Err(CryptoError::KeyMismatch),
        };
        let params = verify_params(self.alg).ok_or(CryptoError::Unsupported(self.alg.name()))?;
        let parsed = self.parsed(rsa, params).ok_or(CryptoError::InvalidKey)?;
        parsed
            .verify_sig(message, signature)
            .map_err(|_| CryptoError::BadSignature)
    }
}

/// RSA1_5, RSA-OAEP and RSA-OAEP-256 key encryption.
#[derive(Clone, Copy, Debug)]
pub struct RsaKeyEncrypter(KeyAlg);

/// RSAES-PKCS1-v1_5.
pub static RSA1_5: RsaKeyEncrypter = RsaKeyEncrypter(KeyAlg::Rsa1_5);
/// RSAES-OAEP with SHA-1.
pub static RSA_OAEP: RsaKeyEncrypter = RsaKeyEncrypter(KeyAlg::RsaOaep);
/// RSAES-OAEP with SHA-256.
pub static RSA_OAEP_256: RsaKeyEncrypter = RsaKeyEncrypter(KeyAlg::RsaOaep256);

impl KeyEncrypter for RsaKeyEncrypter {
    fn algorithm(&self) -> KeyAlg {
        self.0
    }

    /// Encrypts the CEK. The padding's randomness (PKCS#1 v1.5 filler, OAEP
    /// seed) comes from AWS-LC's own random source, not `rng`: aws-lc-rs
    /// takes none.
    fn encrypt_cek(
        &self,
        key: EncryptionKey<'_>,
        enc: ContentAlg,
        cek: Option<&Cek>,
        _params: &AgreementParams,
        _rng: &dyn SecureRandom,
    ) -> Result<WrappedCek, CryptoError> {
        let EncryptionKey::Public(key) = key else {
            return Err(CryptoError::KeyMismatch);
        };
        let public: PublicEncryptingKey = components(key)?
            .try_into()
            .map_err(|_| CryptoError::InvalidKey)?;
        let cek = require_cek(cek, enc)?;
        let mut out = vec![0u8; public.key_size_bytes()];
        let len = match self.0 {
            KeyAlg::Rsa1_5 => Pkcs1PublicEncryptingKey::new(public)
                .and_then(|k| k.encrypt(cek.as_bytes(), &mut out).map(|c| c.len())),
            KeyAlg::RsaOaep => OaepPublicEncryptingKey::new(public).and_then(|k| {
                k.encrypt(&OAEP_SHA1_MGF1SHA1, cek.as_bytes(), &mut out, None)
                    .map(|c| c.len())
            }),
            KeyAlg::RsaOaep256 => OaepPublicEncryptingKey::new(public).and_then(|k| {
                k.encrypt(&OAEP_SHA256_MGF1SHA256, cek.as_bytes(), &mut out, None)
                    .map(|c| c.len())
            }),
            _ => return Err(CryptoError::Unsupported(self.0.name())),
        }
        .map_err(|_| CryptoError::Backend)?;
        out.truncate(len);
        Ok(WrappedCek {
            cek: cek.clone(),
            encrypted_key: out,
            epk: None,
        })
    }
}

use otrp_core::crypto::KeyEncrypter;

/// An RSA private key (2048 to 8192 bits) held in AWS-LC. One key, seen
/// through the two aws-lc-rs types that sign and decrypt.
pub struct RsaPrivateKey {
    signing: RsaKeyPair,
    decrypting: PrivateDecryptingKey,
    public: RsaPublicKey,
}

impl core::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("bits", &self.public.bits())
            .finish_non_exhaustive()
    }
}

impl RsaPrivateKey {
    fn from_key_pair(signing: RsaKeyPair) -> Result<Self, CryptoError> {
        let public = signing.public_key();
        let public = RsaPublicKey::new(
            public.modulus().big_endian_without_leading_zero(),
            public.exponent().big_endian_without_leading_zero(),
        )?;
        if public.bits() < MIN_RSA_BITS {
            return Err(CryptoError::InvalidKey);
        }
        // aws-lc-rs builds a decrypting key from PKCS#8 only; the DER is
        // wiped on drop (aws-lc-rs' buffers zeroize).
        let pkcs8 = signing.as_der().map_err(|_| CryptoError::InvalidKey)?;
        let decrypting = PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref())
            .map_err(|_| CryptoError::InvalidKey)?;
        Ok(Self {
            signing,
            decrypting,
            public,
        })
    }

    /// A key from PKCS#8 DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        Self::from_key_pair(RsaKeyPair::from_pkcs8(der).map_err(|_| CryptoError::InvalidKey)?)
    }

    /// A key from PKCS#1 DER (`RSAPrivateKey`).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        Self::from_key_pair(RsaKeyPair::from_der(der).map_err(|_| CryptoError::InvalidKey)?)
    }

    /// A key from big-endian components, all eight of them: AWS-LC checks
    /// that they are consistent (`RSA_check_key`). aws-lc-rs cannot recover
    /// the primes from `d`, so a JWK without `p`, `q`, `dp`, `dq`, `qi` is
    /// refused by this backend.
    #[allow(clippy::too_many_arguments, clippy::many_single_char_names)]
    pub fn from_components(
        n: &[u8],
        e: &[u8],
        d: &[u8],
        p: &[u8],
        q: &[u8],
        dp: &[u8],
        dq: &[u8],
        qi: &[u8],
    ) -> Result<Self, CryptoError> {
        let components = KeyPairComponents {
            public_key: PublicKeyComponents { n, e },
            d,
            p,
            q,
            dP: dp,
            dQ: dq,
            qInv: qi,
        };
        Self::from_key_pair(
            RsaKeyPair::from_components(&components).map_err(|_| CryptoError::InvalidKey)?,
        )
    }

    /// The public key.
    pub fn rsa_public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Modulus length in bytes.
    fn k(&self) -> usize {
        self.decrypting.key_size_bytes()
    }

    /// PKCS#1 v1.5 decryption with explicit rejection (for [`crate::hazmat`]).
    pub(crate) fn pkcs1v15_decrypt(
        &self,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let key = Pkcs1PrivateDecryptingKey::new(self.decrypting.clone())
            .map_err(|_| CryptoError::Backend)?;
        let mut out = Zeroizing::new(vec![0u8; self.k()]);
        let len = key
            .decrypt(ciphertext, &mut out)
            .map_err(|_| CryptoError::Decrypt)?
            .len();
        out.truncate(len);
        Ok(out)
    }

    /// RSA1_5 CEK decryption per RFC 7516 section 11.5: a random CEK is
    /// drawn first and returned, selected in constant time, whenever the
    /// padding is bad or the CEK has the wrong length.
    ///
    /// AWS-LC checks the padding in constant time but reports the outcome
    /// as a return code; it becomes a mask at once, and the copy of either
    /// CEK runs over the same bytes in the same order. What remains
    /// observable is AWS-LC's own error path (it records an error on its
    /// error queue), see docs/security.md.
    fn rsa1_5_decrypt_cek(
        &self,
        enc: ContentAlg,
        ciphertext: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Cek, CryptoError> {
        let key_len = enc.key_len();
        let mut cek = Zeroizing::new(vec![0u8; key_len]);
        rng.fill(&mut cek)?;
        let Ok(key) = Pkcs1PrivateDecryptingKey::new(self.decrypting.clone()) else {
            return Err(CryptoError::Backend);
        };
        let k = self.k();
        let mut out = Zeroizing::new(vec![0u8; k]);
        let (ok, len) = match key.decrypt(ciphertext, &mut out) {
            Ok(m) => (Choice::from(1), m.len()),
            Err(_) => (Choice::from(0), 0),
        };
        let len32 = u32::try_from(len).unwrap_or(u32::MAX);
        let want32 = u32::try_from(key_len).unwrap_or(0);
        let valid = ok & len32.ct_eq(&want32);
        for (dst, &m) in cek.iter_mut().zip(out.iter()) {
            *dst = u8::conditional_select(dst, &m, valid);
        }
        Ok(SecretBytes::from(cek))
    }
}

impl JwsSigner for RsaPrivateKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Rsa
    }

    fn public_key(&self) -> Option<PublicKey> {
        Some(PublicKey::Rsa(self.public.clone()))
    }

    /// Signs; PSS salts come from AWS-LC's own random source (aws-lc-rs
    /// ignores the random source it is given).
    fn sign(
        &self,
        alg: JwsAlg,
        message: &[u8],
        _rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, CryptoError> {
        if alg.key_kind() != KeyKind::Rsa {
            return Err(CryptoError::KeyMismatch);
        }
        let encoding = sign_encoding(alg).ok_or(CryptoError::KeyMismatch)?;
        let mut sig = vec![0u8; self.signing.public_modulus_len()];
        self.signing
            .sign(
                encoding,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|_| CryptoError::Backend)?;
        Ok(sig)
    }
}

impl CekDecrypter for RsaPrivateKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Rsa
    }

    fn decrypt_cek(
        &self,
        alg: KeyAlg,
        enc: ContentAlg,
        _params: &AgreementParams,
        encrypted_key: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Cek, CryptoError> {
        let oaep = match alg {
            KeyAlg::Rsa1_5 => return self.rsa1_5_decrypt_cek(enc, encrypted_key, rng),
            KeyAlg::RsaOaep => &OAEP_SHA1_MGF1SHA1,
            KeyAlg::RsaOaep256 => &OAEP_SHA256_MGF1SHA256,
            _ => return Err(CryptoError::KeyMismatch),
        };
        let key = OaepPrivateDecryptingKey::new(self.decrypting.clone())
            .map_err(|_| CryptoError::Backend)?;
        let mut out = Zeroizing::new(vec![0u8; self.k()]);
        let len = key
            .decrypt(oaep, encrypted_key, &mut out, None)
            .map_err(|_| CryptoError::Decrypt)?
            .len();
        if len != enc.key_len() {
            return Err(CryptoError::Decrypt);
        }
        out.truncate(len);
        Ok(SecretBytes::from(out))
    }
}
