//! RSA: RS*/PS* signatures, RSA1_5 and RSA-OAEP(-256) key encryption, on
//! `aws_lc_rs::signature` and `aws_lc_rs::rsa`.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    KeyPairComponents, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm,
    OaepPrivateDecryptingKey, OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey,
    Pkcs1PublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey, PublicKeyComponents,
};
use std::sync::{Mutex, PoisonError};

use aws_lc_rs::signature::{KeyPair as _, ParsedPublicKey, RsaKeyPair, RsaParameters};
use otrp_core::crypto::{
    Ciphertext, CryptoError, JwsAlg, JwsSignature, KeyAlg, PublicKey, RsaDecryptingKey, RsaEncrypt,
    RsaPublicKey, RsaSigningKey, Secret, SecureRandom, SignatureVerifier, Verified,
};
use otrp_crypto_rustcrypto::hazmat::rsa_decrypt_raw;
use zeroize::Zeroizing;

use crate::random::AWS_LC_RANDOM;
use crate::sig::{rsa_sign, rsa_verification};

/// The smallest RSA modulus accepted, in bits.
pub(crate) const MIN_RSA_BITS: usize = 2048;

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

    /// `key` parsed for this algorithm, if it is an RSA key of at least
    /// 2048 bits.
    fn key(&self, key: &PublicKey) -> Result<ParsedPublicKey, CryptoError> {
        let rsa = key.rsa_at_least(MIN_RSA_BITS)?;
        let params = rsa_verification(self.alg).ok_or(CryptoError::Unsupported(self.alg.name()))?;
        self.parsed(rsa, params).ok_or(CryptoError::InvalidKey)
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

impl SignatureVerifier for RsaVerifier {
    fn algorithm(&self) -> JwsAlg {
        self.alg
    }

    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        self.key(key)?
            .verify_sig(message, signature)
            .map_err(|_| CryptoError::BadSignature)
    }

    fn verifies_prehashed(&self) -> bool {
        true
    }

    fn verify_prehashed(&self, key: &PublicKey, digest: &[u8], signature: &[u8]) -> Verified {
        let rsa = key.rsa_at_least(MIN_RSA_BITS)?;
        let params = rsa_verification(self.alg).ok_or(CryptoError::Unsupported(self.alg.name()))?;
        let digest = crate::digest::import(self.alg.hash(), digest)?;
        let parsed = self.parsed(rsa, params).ok_or(CryptoError::InvalidKey)?;
        parsed
            .verify_digest_sig(&digest, signature)
            .map_err(|_| CryptoError::BadSignature)
    }
}

/// RSA encryption of a CEK on aws-lc-rs, the primitive under RSA1_5,
/// RSA-OAEP and RSA-OAEP-256 (composed in otrp-core). The padding's
/// randomness (PKCS#1 v1.5 filler, OAEP seed) comes from AWS-LC's own
/// random source, not `rng`: aws-lc-rs takes none.
#[derive(Clone, Copy, Debug)]
pub struct AwsLcRsaEncrypt;

/// The RSA encryption primitive of this backend.
pub static RSA_ENCRYPT: AwsLcRsaEncrypt = AwsLcRsaEncrypt;

/// `key` for aws-lc-rs encryption, and a buffer of its modulus size.
fn encrypting(key: &RsaPublicKey) -> Result<(PublicEncryptingKey, Vec<u8>), CryptoError> {
    let key: PublicEncryptingKey = PublicKeyComponents {
        n: key.n(),
        e: key.e(),
    }
    .try_into()
    .map_err(|_| CryptoError::InvalidKey)?;
    let out = vec![0u8; key.key_size_bytes()];
    Ok((key, out))
}

/// RSAES-OAEP encryption of `m` to `key` with `oaep`.
fn oaep(oaep: &'static OaepAlgorithm, key: &RsaPublicKey, m: &[u8]) -> Ciphertext {
    let (key, mut out) = encrypting(key)?;
    let len = OaepPublicEncryptingKey::new(key)
        .and_then(|k| k.encrypt(oaep, m, &mut out, None).map(|c| c.len()))
        .map_err(|_| CryptoError::Backend)?;
    out.truncate(len);
    Ok(out)
}

impl RsaEncrypt for AwsLcRsaEncrypt {
    fn pkcs1v15(&self, key: &RsaPublicKey, m: &[u8], _rng: &dyn SecureRandom) -> Ciphertext {
        let (key, mut out) = encrypting(key)?;
        let len = Pkcs1PublicEncryptingKey::new(key)
            .and_then(|k| k.encrypt(m, &mut out).map(|c| c.len()))
            .map_err(|_| CryptoError::Backend)?;
        out.truncate(len);
        Ok(out)
    }

    fn oaep_sha1(&self, key: &RsaPublicKey, m: &[u8], _rng: &dyn SecureRandom) -> Ciphertext {
        oaep(&OAEP_SHA1_MGF1SHA1, key, m)
    }

    fn oaep_sha256(&self, key: &RsaPublicKey, m: &[u8], _rng: &dyn SecureRandom) -> Ciphertext {
        oaep(&OAEP_SHA256_MGF1SHA256, key, m)
    }
}

/// An RSA private key (2048 to 8192 bits) held in AWS-LC. One key, seen
/// through the two aws-lc-rs types that sign and decrypt with OAEP, and
/// through RustCrypto's for RSA1_5.
///
/// RSA1_5 must not be decrypted with AWS-LC's PKCS#1 v1.5 mode: it reports
/// the padding check's outcome as a return code and an entry on its error
/// queue, which AWS-LC itself says cannot avoid Bleichenbacher's attack.
/// JWE needs the raw private operation followed by a constant-time
/// unpadding and a random-CEK substitution (RFC 7516 11.5, shared by every
/// backend in `otrp_core::crypto::rsa1_5_decrypt_cek`); aws-lc-rs exposes no
/// raw RSA operation without unsafe FFI, which this crate forbids, so the
/// raw operation runs on the `rsa` crate's constant-time, blinded big
/// integers through the RustCrypto backend's key. It is slower than AWS-LC's
/// (docs/security.md gives the numbers); signatures and OAEP stay in AWS-LC.
pub struct RsaPrivateKey {
    signing: RsaKeyPair,
    decrypting: PrivateDecryptingKey,
    constant_flow: otrp_crypto_rustcrypto::RsaPrivateKey,
    public: RsaPublicKey,
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
        let constant_flow = otrp_crypto_rustcrypto::RsaPrivateKey::from_pkcs8_der(pkcs8.as_ref())?;
        Ok(Self {
            signing,
            decrypting,
            constant_flow,
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
}

impl RsaSigningKey for RsaPrivateKey {
    fn rsa_public(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Signs; PSS salts come from AWS-LC's own random source (aws-lc-rs
    /// ignores the random source it is given).
    fn sign_rsa(&self, alg: JwsAlg, m: &[u8], _rng: &dyn SecureRandom) -> JwsSignature {
        rsa_sign(&self.signing, &self.public, alg, m)
    }
}

impl RsaDecryptingKey for RsaPrivateKey {
    /// On the RustCrypto key (see the type's documentation); the blinding,
    /// like every other randomness inside an RSA operation of this
    /// backend, comes from AWS-LC's own source, not `rng`.
    fn decrypt_raw(&self, c: &[u8], _rng: &dyn SecureRandom) -> Secret {
        rsa_decrypt_raw(&self.constant_flow, c, &AWS_LC_RANDOM)
    }

    fn decrypt_oaep(&self, alg: KeyAlg, c: &[u8], _rng: &dyn SecureRandom) -> Secret {
        let oaep = match alg {
            KeyAlg::RsaOaep => &OAEP_SHA1_MGF1SHA1,
            KeyAlg::RsaOaep256 => &OAEP_SHA256_MGF1SHA256,
            _ => return Err(CryptoError::KeyMismatch),
        };
        let key = OaepPrivateDecryptingKey::new(self.decrypting.clone())
            .map_err(|_| CryptoError::Backend)?;
        let mut out = Zeroizing::new(vec![0u8; self.k()]);
        let len = key
            .decrypt(oaep, c, &mut out, None)
            .map_err(|_| CryptoError::Decrypt)?
            .len();
        out.truncate(len);
        Ok(out)
    }
}

otrp_core::software_key!(rsa signer RsaPrivateKey);
otrp_core::software_key!(rsa decrypter RsaPrivateKey);
