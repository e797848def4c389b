//! Elliptic curves (P-256, P-384): ES256/ES384 signatures and ECDH-ES key
//! agreement with the Concat KDF (RFC 7518 4.6).

use alloc::vec::Vec;

use elliptic_curve::sec1::ToSec1Point;
use otrp_core::crypto::{
    AgreementParams, Cek, CekDecrypter, ContentAlg, CryptoError, Curve, EcPublicKey, EncryptionKey,
    JwsAlg, JwsSigner, KeyAlg, KeyEncrypter, KeyKind, PublicKey, SecretBytes, SecureRandom,
    SignatureVerifier, WrappedCek,
};
use sha2::Digest as _;
use signature::{Signer as _, Verifier as _};
use zeroize::Zeroizing;

use crate::aeskw::{require_cek, unwrap_cek, wrap};

/// How many times key generation draws again after an invalid scalar
/// (probability about 2^-32 per draw on P-256, far less on P-384).
const KEYGEN_ATTEMPTS: usize = 16;

/// A P-256 or P-384 secret scalar, held as an ECDSA signing key (which is
/// zeroized on drop).
#[derive(Clone)]
enum EcSecret {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

macro_rules! sec1_of {
    ($vk:expr, $curve:expr) => {{
        let point = $vk.as_affine().to_sec1_point(false);
        EcPublicKey::from_sec1_uncompressed($curve, point.as_bytes())
    }};
}

impl EcSecret {
    fn curve(&self) -> Curve {
        match self {
            EcSecret::P256(_) => Curve::P256,
            EcSecret::P384(_) => Curve::P384,
        }
    }

    /// A scalar of exactly the curve's field length, in `[1, n-1]`.
    fn from_scalar_bytes(curve: Curve, d: &[u8]) -> Result<Self, CryptoError> {
        if d.len() != curve.field_len() {
            return Err(CryptoError::InvalidKey);
        }
        match curve {
            Curve::P256 => p256::ecdsa::SigningKey::from_slice(d).map(EcSecret::P256),
            Curve::P384 => p384::ecdsa::SigningKey::from_slice(d).map(EcSecret::P384),
        }
        .map_err(|_| CryptoError::InvalidKey)
    }

    /// A fresh key: exactly `curve.field_len()` bytes drawn from `rng` in one
    /// `fill` call become the scalar; only an invalid scalar draws again.
    fn generate(curve: Curve, rng: &dyn SecureRandom) -> Result<Self, CryptoError> {
        let mut buf = Zeroizing::new([0u8; 48]);
        let d = buf
            .get_mut(..curve.field_len())
            .ok_or(CryptoError::Backend)?;
        for _ in 0..KEYGEN_ATTEMPTS {
            rng.fill(d)?;
            if let Ok(key) = Self::from_scalar_bytes(curve, d) {
                return Ok(key);
            }
        }
        Err(CryptoError::Random)
    }

    fn public(&self) -> Result<EcPublicKey, CryptoError> {
        match self {
            EcSecret::P256(k) => sec1_of!(k.verifying_key(), Curve::P256),
            EcSecret::P384(k) => sec1_of!(k.verifying_key(), Curve::P384),
        }
    }

    /// The raw ECDH shared secret (the x coordinate) with `peer`, refusing a
    /// peer on another curve or off the curve.
    fn ecdh(&self, peer: &EcPublicKey) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if peer.curve() != self.curve() {
            return Err(CryptoError::InvalidKey);
        }
        let point = peer.to_sec1_uncompressed();
        Ok(match self {
            EcSecret::P256(k) => {
                let pk = p256::PublicKey::from_sec1_bytes(&point)
                    .map_err(|_| CryptoError::InvalidKey)?;
                let z = elliptic_curve::ecdh::diffie_hellman(k.as_nonzero_scalar(), pk.as_affine());
                Zeroizing::new(z.raw_secret_bytes().to_vec())
            }
            EcSecret::P384(k) => {
                let pk = p384::PublicKey::from_sec1_bytes(&point)
                    .map_err(|_| CryptoError::InvalidKey)?;
                let z = elliptic_curve::ecdh::diffie_hellman(k.as_nonzero_scalar(), pk.as_affine());
                Zeroizing::new(z.raw_secret_bytes().to_vec())
            }
        })
    }
}

/// The raw P-256 ECDH shared secret of a private scalar (32 bytes) and a
/// SEC1-encoded public point (compressed or uncompressed; invalid points
/// and the identity are refused).
pub(crate) fn p256_ecdh_raw(
    private: &[u8],
    public_sec1: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let sk = EcSecret::from_scalar_bytes(Curve::P256, private)?;
    let pk = p256::PublicKey::from_sec1_bytes(public_sec1).map_err(|_| CryptoError::InvalidKey)?;
    let point = pk.to_sec1_point(false);
    let peer = EcPublicKey::from_sec1_uncompressed(Curve::P256, point.as_bytes())?;
    sk.ecdh(&peer)
}

/// Concat KDF (NIST SP 800-56A, single-step, SHA-256) as RFC 7518 4.6.2
/// profiles it: `AlgorithmID`, `PartyUInfo` and `PartyVInfo` length-prefixed
/// (32-bit big-endian), `SuppPubInfo` the key length in bits.
pub(crate) fn concat_kdf(
    z: &[u8],
    algorithm_id: &str,
    apu: &[u8],
    apv: &[u8],
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut sha256 = |parts: &[&[u8]]| {
        let mut h = sha2::Sha256::new();
        for part in parts {
            h.update(part);
        }
        let mut block = Zeroizing::new([0u8; 32]);
        block.copy_from_slice(&h.finalize());
        block
    };
    otrp_core::crypto::concat_kdf(&mut sha256, z, algorithm_id, apu, apv, key_len)
}

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

fn derive(
    alg: KeyAlg,
    enc: ContentAlg,
    z: &[u8],
    params: &AgreementParams,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let apu = params.apu.as_deref().unwrap_or(&[]);
    let apv = params.apv.as_deref().unwrap_or(&[]);
    match kw_len(alg)? {
        None => concat_kdf(z, enc.name(), apu, apv, enc.key_len()),
        Some(len) => concat_kdf(z, alg.name(), apu, apv, len),
    }
}

/// ECDSA verification (ES256 on P-256, ES384 on P-384), signatures in JWS
/// form (raw `r || s`, fixed length).
#[derive(Clone, Copy, Debug)]
pub struct EcdsaVerifier(JwsAlg);

/// ECDSA on P-256 with SHA-256.
pub static ES256: EcdsaVerifier = EcdsaVerifier(JwsAlg::Es256);
/// ECDSA on P-384 with SHA-384.
pub static ES384: EcdsaVerifier = EcdsaVerifier(JwsAlg::Es384);

impl SignatureVerifier for EcdsaVerifier {
    fn algorithm(&self) -> JwsAlg {
        self.0
    }

    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let PublicKey::Ec(key) = key else {
            return Err(CryptoError::KeyMismatch);
        };
        if !self.0.key_kind().admits(KeyKind::Ec(key.curve())) {
            return Err(CryptoError::KeyMismatch);
        }
        let point = key.to_sec1_uncompressed();
        match key.curve() {
            Curve::P256 => {
                let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .map_err(|_| CryptoError::InvalidKey)?;
                let sig = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| CryptoError::BadSignature)?;
                vk.verify(message, &sig)
            }
            Curve::P384 => {
                let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .map_err(|_| CryptoError::InvalidKey)?;
                let sig = p384::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| CryptoError::BadSignature)?;
                vk.verify(message, &sig)
            }
        }
        .map_err(|_| CryptoError::BadSignature)
    }
}

/// ECDH-ES key agreement, direct or with AES key wrap.
#[derive(Clone, Copy, Debug)]
pub struct EcdhEs(KeyAlg);

/// ECDH-ES direct key agreement.
pub static ECDH_ES: EcdhEs = EcdhEs(KeyAlg::EcdhEs);
/// ECDH-ES with AES-128 key wrap.
pub static ECDH_ES_A128KW: EcdhEs = EcdhEs(KeyAlg::EcdhEsA128Kw);
/// ECDH-ES with AES-256 key wrap.
pub static ECDH_ES_A256KW: EcdhEs = EcdhEs(KeyAlg::EcdhEsA256Kw);

impl KeyEncrypter for EcdhEs {
    fn algorithm(&self) -> KeyAlg {
        self.0
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
        let wrap_len = kw_len(self.0)?;
        let cek = match wrap_len {
            None if cek.is_some() => return Err(CryptoError::InvalidLength),
            None => None,
            Some(_) => Some(require_cek(cek, enc)?),
        };
        let ephemeral = EcSecret::generate(recipient.curve(), rng)?;
        let z = ephemeral.ecdh(recipient)?;
        let derived = derive(self.0, enc, &z, params)?;
        let epk = Some(ephemeral.public()?);
        match cek {
            None => Ok(WrappedCek {
                cek: SecretBytes::from(derived),
                encrypted_key: Vec::new(),
                epk,
            }),
            Some(cek) => Ok(WrappedCek {
                cek: cek.clone(),
                encrypted_key: wrap(&derived, cek.as_bytes())?,
                epk,
            }),
        }
    }
}

/// An elliptic-curve private key (P-256 or P-384) held in software.
#[derive(Clone)]
pub struct EcPrivateKey {
    secret: EcSecret,
    public: EcPublicKey,
}

impl core::fmt::Debug for EcPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EcPrivateKey")
            .field("curve", &self.public.curve())
            .finish_non_exhaustive()
    }
}

impl EcPrivateKey {
    fn from_secret(secret: EcSecret) -> Result<Self, CryptoError> {
        let public = secret.public()?;
        Ok(Self { secret, public })
    }

    /// A key from its private scalar `d` (exactly the curve's field length,
    /// big-endian). When `public` is given it must match the scalar.
    pub fn from_scalar(
        curve: Curve,
        d: &[u8],
        public: Option<&EcPublicKey>,
    ) -> Result<Self, CryptoError> {
        let key = Self::from_secret(EcSecret::from_scalar_bytes(curve, d)?)?;
        match public {
            Some(p) if *p != key.public => Err(CryptoError::InvalidKey),
            _ => Ok(key),
        }
    }

    /// A key from PKCS#8 DER (P-256 or P-384).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        use pkcs8::DecodePrivateKey;
        if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
            return Self::from_secret(EcSecret::P256(k.into()));
        }
        if let Ok(k) = p384::SecretKey::from_pkcs8_der(der) {
            return Self::from_secret(EcSecret::P384(k.into()));
        }
        Err(CryptoError::InvalidKey)
    }

    /// Generates a key on `curve`, drawing its scalar from `rng`.
    pub fn generate(curve: Curve, rng: &dyn SecureRandom) -> Result<Self, CryptoError> {
        Self::from_secret(EcSecret::generate(curve, rng)?)
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.public.curve()
    }

    /// The public key.
    pub fn ec_public_key(&self) -> &EcPublicKey {
        &self.public
    }
}

/// A public key from SPKI DER on P-256 or P-384.
pub(crate) fn ec_public_from_spki(der: &[u8]) -> Result<EcPublicKey, CryptoError> {
    use pkcs8::DecodePublicKey;
    if let Ok(k) = p256::PublicKey::from_public_key_der(der) {
        let point = k.to_sec1_point(false);
        return EcPublicKey::from_sec1_uncompressed(Curve::P256, point.as_bytes());
    }
    if let Ok(k) = p384::PublicKey::from_public_key_der(der) {
        let point = k.to_sec1_point(false);
        return EcPublicKey::from_sec1_uncompressed(Curve::P384, point.as_bytes());
    }
    Err(CryptoError::InvalidKey)
}

impl JwsSigner for EcPrivateKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Ec(self.curve())
    }

    fn public_key(&self) -> Option<PublicKey> {
        Some(PublicKey::Ec(self.public.clone()))
    }

    fn sign(
        &self,
        alg: JwsAlg,
        message: &[u8],
        _rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, CryptoError> {
        // RFC 6979 deterministic nonces: no randomness needed.
        match (alg, &self.secret) {
            (JwsAlg::Es256, EcSecret::P256(k)) => {
                let sig: p256::ecdsa::Signature =
                    k.try_sign(message).map_err(|_| CryptoError::Backend)?;
                Ok(sig.to_bytes().to_vec())
            }
            (JwsAlg::Es384, EcSecret::P384(k)) => {
                let sig: p384::ecdsa::Signature =
                    k.try_sign(message).map_err(|_| CryptoError::Backend)?;
                Ok(sig.to_bytes().to_vec())
            }
            _ => Err(CryptoError::KeyMismatch),
        }
    }
}

impl CekDecrypter for EcPrivateKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Ec(self.curve())
    }

    fn decrypt_cek(
        &self,
        alg: KeyAlg,
        enc: ContentAlg,
        params: &AgreementParams,
        encrypted_key: &[u8],
        _rng: &dyn SecureRandom,
    ) -> Result<Cek, CryptoError> {
        let wrap_len = kw_len(alg)?;
        let epk = params.epk.as_ref().ok_or(CryptoError::InvalidKey)?;
        let z = self.secret.ecdh(epk)?;
        let derived = derive(alg, enc, &z, params)?;
        match wrap_len {
            None if !encrypted_key.is_empty() => Err(CryptoError::InvalidLength),
            None => Ok(SecretBytes::from(derived)),
            Some(_) => unwrap_cek(&derived, encrypted_key, enc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7518 appendix C: the Concat KDF example.
    #[test]
    fn concat_kdf_rfc7518_appendix_c() {
        let z = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
            110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        let out = concat_kdf(&z, "A128GCM", b"Alice", b"Bob", 16).unwrap();
        assert_eq!(
            &out[..],
            &[
                86, 170, 141, 234, 248, 35, 109, 32, 92, 34, 40, 205, 113, 167, 16, 26
            ]
        );
    }
}
