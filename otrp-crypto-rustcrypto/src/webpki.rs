//! X.509 signature verification for rustls-webpki (the
//! [`SignatureVerificationAlgorithm`] seam of rustls-pki-types), used by
//! `otrp_core::pki` for certificate chains (spec 4.2, 4.3) and OCSP responses
//! (spec 14.9) through `Provider::webpki_algorithms`.
//!
//! Offered: RSA PKCS#1 v1.5 and RSA-PSS with SHA-256/384/512 (RSA keys of at
//! least 2048 bits, spec 4.4 item 3), ECDSA P-256 with SHA-256 and P-384 with
//! SHA-384 (ASN.1 DER `Ecdsa-Sig-Value` signatures, as X.509 and OCSP carry).
//! SHA-1 is deliberately absent, so a SHA-1-signed certificate finds no
//! algorithm and is refused.

use core::fmt;

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use rustls_pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};

/// The smallest RSA modulus accepted, in bits (spec 4.4: RSA 2048-bit).
pub const MIN_RSA_BITS: u32 = 2048;

otrp_core::all_webpki_algorithms!();

/// RSASSA-PKCS1-v1_5 with SHA-256 (sha256WithRSAEncryption).
pub static RSA_PKCS1_SHA256: &dyn SignatureVerificationAlgorithm = &Rsa(RsaScheme::Pkcs1Sha256);
/// RSASSA-PKCS1-v1_5 with SHA-384 (sha384WithRSAEncryption).
pub static RSA_PKCS1_SHA384: &dyn SignatureVerificationAlgorithm = &Rsa(RsaScheme::Pkcs1Sha384);
/// RSASSA-PKCS1-v1_5 with SHA-512 (sha512WithRSAEncryption).
pub static RSA_PKCS1_SHA512: &dyn SignatureVerificationAlgorithm = &Rsa(RsaScheme::Pkcs1Sha512);
/// RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt, on an rsaEncryption key.
pub static RSA_PSS_SHA256: &dyn SignatureVerificationAlgorithm = &Rsa(RsaScheme::PssSha256);
/// RSASSA-PSS with SHA-384, MGF1-SHA-384, 48-byte salt, on an rsaEncryption key.
pub static RSA_PSS_SHA384: &dyn SignatureVerificationAlgorithm = &Rsa(RsaScheme::PssSha384);
/// RSASSA-PSS with SHA-512, MGF1-SHA-512, 64-byte salt, on an rsaEncryption key.
pub static RSA_PSS_SHA512: &dyn SignatureVerificationAlgorithm = &Rsa(RsaScheme::PssSha512);
/// ECDSA on P-256 with SHA-256 (ecdsa-with-SHA256), DER signature.
pub static ECDSA_P256_SHA256: &dyn SignatureVerificationAlgorithm = &EcdsaP256Sha256;
/// ECDSA on P-384 with SHA-384 (ecdsa-with-SHA384), DER signature.
pub static ECDSA_P384_SHA384: &dyn SignatureVerificationAlgorithm = &EcdsaP384Sha384;

#[derive(Clone, Copy, Debug)]
enum RsaScheme {
    Pkcs1Sha256,
    Pkcs1Sha384,
    Pkcs1Sha512,
    PssSha256,
    PssSha384,
    PssSha512,
}

#[derive(Debug)]
struct Rsa(RsaScheme);

impl SignatureVerificationAlgorithm for Rsa {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key = rsa::PublicKey::from_pkcs1_der(public_key).map_err(|_| InvalidSignature)?;
        if key.n().as_ref().bit_width_vartime() < MIN_RSA_BITS {
            return Err(InvalidSignature);
        }
        macro_rules! verify {
            ($module:ident, $hash:ty) => {{
                let sig =
                    rsa::$module::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                rsa::$module::VerifyingKey::<$hash>::new(key)
                    .verify(message, &sig)
                    .map_err(|_| InvalidSignature)
            }};
        }
        match self.0 {
            RsaScheme::Pkcs1Sha256 => verify!(pkcs1v15, sha2::Sha256),
            RsaScheme::Pkcs1Sha384 => verify!(pkcs1v15, sha2::Sha384),
            RsaScheme::Pkcs1Sha512 => verify!(pkcs1v15, sha2::Sha512),
            // `pss::VerifyingKey::new` fixes the salt length to the hash length,
            // as the RSA_PSS_SHA* algorithm identifiers require.
            RsaScheme::PssSha256 => verify!(pss, sha2::Sha256),
            RsaScheme::PssSha384 => verify!(pss, sha2::Sha384),
            RsaScheme::PssSha512 => verify!(pss, sha2::Sha512),
        }
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.0 {
            RsaScheme::Pkcs1Sha256 => alg_id::RSA_PKCS1_SHA256,
            RsaScheme::Pkcs1Sha384 => alg_id::RSA_PKCS1_SHA384,
            RsaScheme::Pkcs1Sha512 => alg_id::RSA_PKCS1_SHA512,
            RsaScheme::PssSha256 => alg_id::RSA_PSS_SHA256,
            RsaScheme::PssSha384 => alg_id::RSA_PSS_SHA384,
            RsaScheme::PssSha512 => alg_id::RSA_PSS_SHA512,
        }
    }
}

struct EcdsaP256Sha256;

impl SignatureVerificationAlgorithm for EcdsaP256Sha256 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key =
            p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let sig = p256::ecdsa::DerSignature::from_bytes(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &sig).map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P256
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA256
    }
}

impl fmt::Debug for EcdsaP256Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ECDSA_P256_SHA256")
    }
}

struct EcdsaP384Sha384;

impl SignatureVerificationAlgorithm for EcdsaP384Sha384 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key =
            p384::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let sig = p384::ecdsa::DerSignature::from_bytes(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &sig).map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P384
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA384
    }
}

impl fmt::Debug for EcdsaP384Sha384 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ECDSA_P384_SHA384")
    }
}
