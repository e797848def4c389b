//! Elliptic curves (P-256, P-384): ES256/ES384 signatures and ECDH-ES key
//! agreement with the Concat KDF (RFC 7518 4.6).

use alloc::vec::Vec;

use elliptic_curve::sec1::ToSec1Point;
use otrp_core::crypto::{
    CryptoError, Curve, EcPublicKey, EcScalar, EcSigningKey, JwsAlg, JwsSignature, PublicKey,
    SecureRandom, SharedSecret, SignatureVerifier, Verified,
};
use signature::Signer as _;
use zeroize::Zeroizing;

use crate::aeskw::AES_KW;
use crate::digest::SHA256;
use crate::digest::hash;

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

impl EcScalar for EcSecret {
    fn from_scalar(curve: Curve, d: &[u8]) -> Result<Self, CryptoError> {
        if d.len() != curve.field_len() {
            return Err(CryptoError::InvalidKey);
        }
        match curve {
            Curve::P256 => p256::ecdsa::SigningKey::from_slice(d).map(EcSecret::P256),
            Curve::P384 => p384::ecdsa::SigningKey::from_slice(d).map(EcSecret::P384),
        }
        .map_err(|_| CryptoError::InvalidKey)
    }

    fn curve(&self) -> Curve {
        match self {
            EcSecret::P256(_) => Curve::P256,
            EcSecret::P384(_) => Curve::P384,
        }
    }

    fn public(&self) -> Result<EcPublicKey, CryptoError> {
        match self {
            EcSecret::P256(k) => sec1_of!(k.verifying_key(), Curve::P256),
            EcSecret::P384(k) => sec1_of!(k.verifying_key(), Curve::P384),
        }
    }

    fn diffie_hellman(&self, peer: &EcPublicKey) -> Result<SharedSecret, CryptoError> {
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
    let sk = EcSecret::from_scalar(Curve::P256, private)?;
    let pk = p256::PublicKey::from_sec1_bytes(public_sec1).map_err(|_| CryptoError::InvalidKey)?;
    let point = pk.to_sec1_point(false);
    let peer = EcPublicKey::from_sec1_uncompressed(Curve::P256, point.as_bytes())?;
    sk.ecdh(&peer)
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
        self.verify_prehashed(key, &hash(self.0.hash(), message), signature)
    }

    fn verifies_prehashed(&self) -> bool {
        true
    }

    /// ECDSA verifies a digest: [`SignatureVerifier::verify`] is this over
    /// the message's SHA-256 (ES256) or SHA-384 (ES384).
    fn verify_prehashed(&self, key: &PublicKey, digest: &[u8], signature: &[u8]) -> Verified {
        use ecdsa::signature::hazmat::PrehashVerifier;
        let key = key.ec_for(self.0)?;
        if digest.len() != self.0.hash().output_len() {
            return Err(CryptoError::BadSignature);
        }
        let point = key.to_sec1_uncompressed();
        match key.curve() {
            Curve::P256 => {
                let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .map_err(|_| CryptoError::InvalidKey)?;
                let sig = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| CryptoError::BadSignature)?;
                vk.verify_prehash(digest, &sig)
            }
            Curve::P384 => {
                let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .map_err(|_| CryptoError::InvalidKey)?;
                let sig = p384::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| CryptoError::BadSignature)?;
                vk.verify_prehash(digest, &sig)
            }
        }
        .map_err(|_| CryptoError::BadSignature)
    }
}

otrp_core::ephemeral_ecdh! {
    /// Ephemeral-static ECDH on the `p256`/`p384` crates, the primitive
    /// under ECDH-ES (composed in otrp-core).
    pub struct RustCryptoEcdh over EcSecret;
}

/// The ECDH primitive of this backend.
pub static ECDH: RustCryptoEcdh = RustCryptoEcdh;

/// An elliptic-curve private key (P-256 or P-384) held in software.
#[derive(Clone)]
pub struct EcPrivateKey {
    secret: EcSecret,
    public: EcPublicKey,
}

impl EcPrivateKey {
    fn from_secret(secret: EcSecret) -> Result<Self, CryptoError> {
        let public = secret.public()?;
        Ok(Self { secret, public })
    }

    /// A key from its private scalar `d` (exactly the curve's field length,
    /// big-endian).
    pub fn from_scalar(curve: Curve, d: &[u8]) -> Result<Self, CryptoError> {
        Self::from_secret(EcSecret::from_scalar(curve, d)?)
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

impl EcSigningKey for EcPrivateKey {
    fn ec_public(&self) -> &EcPublicKey {
        &self.public
    }

    /// RFC 6979 deterministic nonces: no randomness needed.
    fn sign_ecdsa(&self, m: &[u8]) -> JwsSignature {
        let sig = match &self.secret {
            EcSecret::P256(k) => k
                .try_sign(m)
                .map(|s: p256::ecdsa::Signature| s.to_bytes().to_vec()),
            EcSecret::P384(k) => k
                .try_sign(m)
                .map(|s: p384::ecdsa::Signature| s.to_bytes().to_vec()),
        };
        sig.map_err(|_| CryptoError::Backend)
    }
}

otrp_core::software_key!(ec signer EcPrivateKey);
otrp_core::software_key!(ecdh_es decrypter EcPrivateKey, secret, &AES_KW, &SHA256);
