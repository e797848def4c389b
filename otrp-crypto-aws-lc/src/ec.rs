//! Elliptic curves (P-256, P-384): ES256/ES384 signatures and ECDH-ES key
//! agreement with the Concat KDF (RFC 7518 4.6), on `aws_lc_rs::signature`
//! and `aws_lc_rs::agreement`.

use aws_lc_rs::agreement::{self, ECDH_P256, ECDH_P384};
use aws_lc_rs::encoding::{AsBigEndian, EcPrivateKeyBin};
use aws_lc_rs::signature::{EcdsaKeyPair, UnparsedPublicKey};
use otrp_core::crypto::{
    CryptoError, Curve, EcPublicKey, EcScalar, EcSigningKey, JwsAlg, JwsSignature, PublicKey,
    SecureRandom, SharedSecret, SignatureVerifier, Verified,
};
use zeroize::Zeroizing;

use crate::aeskw::AES_KW;
use crate::digest::SHA256;
use crate::sig::{ecdsa_sign, ecdsa_signing, ecdsa_verification};

fn agreement_alg(curve: Curve) -> &'static agreement::Algorithm {
    match curve {
        Curve::P256 => &ECDH_P256,
        Curve::P384 => &ECDH_P384,
    }
}

/// A P-256 or P-384 secret scalar, held by AWS-LC twice: as an ECDH key and
/// as an ECDSA key pair (both freed with `EC_KEY_free`, which wipes them).
struct EcSecret {
    curve: Curve,
    agreement: agreement::PrivateKey,
    public: EcPublicKey,
}

impl EcSecret {
    fn from_agreement(curve: Curve, agreement: agreement::PrivateKey) -> Result<Self, CryptoError> {
        let point = agreement
            .compute_public_key()
            .map_err(|_| CryptoError::InvalidKey)?;
        let public = EcPublicKey::from_sec1_uncompressed(curve, point.as_ref())?;
        Ok(Self {
            curve,
            agreement,
            public,
        })
    }

    /// The scalar, big-endian, full length (wiped on drop).
    fn scalar(&self) -> Result<EcPrivateKeyBin<'static>, CryptoError> {
        self.agreement
            .as_be_bytes()
            .map_err(|_| CryptoError::Backend)
    }
}

impl EcScalar for EcSecret {
    /// AWS-LC refuses zero and values of at least the order.
    fn from_scalar(curve: Curve, d: &[u8]) -> Result<Self, CryptoError> {
        if d.len() != curve.field_len() {
            return Err(CryptoError::InvalidKey);
        }
        let agreement = agreement::PrivateKey::from_private_key(agreement_alg(curve), d)
            .map_err(|_| CryptoError::InvalidKey)?;
        Self::from_agreement(curve, agreement)
    }

    fn curve(&self) -> Curve {
        self.curve
    }

    fn public(&self) -> Result<EcPublicKey, CryptoError> {
        Ok(self.public.clone())
    }

    /// AWS-LC refuses points off the curve and the identity.
    fn diffie_hellman(&self, peer: &EcPublicKey) -> Result<SharedSecret, CryptoError> {
        let point = peer.to_sec1_uncompressed();
        let peer = agreement::UnparsedPublicKey::new(agreement_alg(self.curve), &point);
        agreement::agree(&self.agreement, peer, CryptoError::InvalidKey, |z| {
            Ok(Zeroizing::new(z.to_vec()))
        })
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

impl EcdsaVerifier {
    /// `key` for AWS-LC, if it is on this algorithm's curve.
    fn key(&self, key: &PublicKey) -> Result<UnparsedPublicKey<Vec<u8>>, CryptoError> {
        let key = key.ec_for(self.0)?;
        let alg = ecdsa_verification(key.curve());
        Ok(UnparsedPublicKey::new(alg, key.to_sec1_uncompressed()))
    }
}

impl SignatureVerifier for EcdsaVerifier {
    fn algorithm(&self) -> JwsAlg {
        self.0
    }

    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        self.key(key)?
            .verify(message, signature)
            .map_err(|_| CryptoError::BadSignature)
    }

    fn verifies_prehashed(&self) -> bool {
        true
    }

    fn verify_prehashed(&self, key: &PublicKey, digest: &[u8], signature: &[u8]) -> Verified {
        let key = self.key(key)?;
        let digest = crate::digest::import(self.0.hash(), digest)?;
        key.verify_digest(&digest, signature)
            .map_err(|_| CryptoError::BadSignature)
    }
}

otrp_core::ephemeral_ecdh! {
    /// Ephemeral-static ECDH on `aws_lc_rs::agreement`, the primitive under
    /// ECDH-ES (composed in otrp-core).
    pub struct AwsLcEcdh over EcSecret;
}

/// The ECDH primitive of this backend.
pub static ECDH: AwsLcEcdh = AwsLcEcdh;

/// An elliptic-curve private key (P-256 or P-384) held in AWS-LC.
pub struct EcPrivateKey {
    secret: EcSecret,
    signing: EcdsaKeyPair,
}

impl EcPrivateKey {
    fn from_secret(secret: EcSecret) -> Result<Self, CryptoError> {
        let d = secret.scalar()?;
        let signing = EcdsaKeyPair::from_private_key_and_public_key(
            ecdsa_signing(secret.curve),
            d.as_ref(),
            &secret.public.to_sec1_uncompressed(),
        )
        .map_err(|_| CryptoError::InvalidKey)?;
        Ok(Self { secret, signing })
    }

    /// A key from its private scalar `d` (exactly the curve's field length,
    /// big-endian).
    pub fn from_scalar(curve: Curve, d: &[u8]) -> Result<Self, CryptoError> {
        Self::from_secret(EcSecret::from_scalar(curve, d)?)
    }

    /// A key from PKCS#8 DER (P-256 or P-384; the public key member may be
    /// absent) or from an RFC 5915 `ECPrivateKey`.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        for curve in [Curve::P256, Curve::P384] {
            if let Ok(k) = agreement::PrivateKey::from_private_key_der(agreement_alg(curve), der) {
                return Self::from_secret(EcSecret::from_agreement(curve, k)?);
            }
        }
        Err(CryptoError::InvalidKey)
    }

    /// Generates a key on `curve`, drawing its scalar from `rng`.
    pub fn generate(curve: Curve, rng: &dyn SecureRandom) -> Result<Self, CryptoError> {
        Self::from_secret(EcSecret::generate(curve, rng)?)
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.secret.curve
    }

    /// The public key.
    pub fn ec_public_key(&self) -> &EcPublicKey {
        &self.secret.public
    }
}

impl EcSigningKey for EcPrivateKey {
    fn ec_public(&self) -> &EcPublicKey {
        &self.secret.public
    }

    /// Signs with a nonce from AWS-LC's own random source (aws-lc-rs
    /// ignores the random source it is given).
    fn sign_ecdsa(&self, m: &[u8]) -> JwsSignature {
        ecdsa_sign(&self.signing, m)
    }
}

otrp_core::software_key!(ec signer EcPrivateKey);
otrp_core::software_key!(ecdh_es decrypter EcPrivateKey, secret, &AES_KW, &SHA256);
