//! Loading keys: PKCS#8 DER, JWK, SPKI DER and PEM.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, ParsedPublicKey};
use otrp_core::crypto::{
    CryptoError, Curve, EcPublicKey, KeyLoader, PrivateKey, PublicKey, RsaPublicKey, SecretBytes,
};
use otrp_core::jose::Jwk;
use zeroize::Zeroizing;

use crate::aeskw::SymmetricKey;
use crate::der;
use crate::ec::EcPrivateKey;
use crate::rsa::{MIN_RSA_BITS, RsaPrivateKey};

/// Loads software keys of this backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct AwsLcKeyLoader;

/// The key loader of this backend.
pub static KEY_LOADER: AwsLcKeyLoader = AwsLcKeyLoader;

fn private_from_pkcs8(der: &[u8]) -> Result<Box<dyn PrivateKey>, CryptoError> {
    if let Ok(k) = RsaPrivateKey::from_pkcs8_der(der) {
        return Ok(Box::new(k));
    }
    if let Ok(k) = EcPrivateKey::from_pkcs8_der(der) {
        return Ok(Box::new(k));
    }
    Err(CryptoError::InvalidKey)
}

/// An EC public key from an SPKI, validated (on the curve, named curve) by
/// AWS-LC and re-encoded by it, so that a compressed point comes back
/// uncompressed.
fn ec_public_from_spki(spki: &[u8], curve: Curve) -> Result<EcPublicKey, CryptoError> {
    let alg = match curve {
        Curve::P256 => &ECDSA_P256_SHA256_FIXED,
        Curve::P384 => &ECDSA_P384_SHA384_FIXED,
    };
    let parsed = ParsedPublicKey::new(alg, spki).map_err(|_| CryptoError::InvalidKey)?;
    let canonical = parsed.as_der().map_err(|_| CryptoError::InvalidKey)?;
    let (oid, params, point) = der::spki(canonical.as_ref()).ok_or(CryptoError::InvalidKey)?;
    let curve_oid = match curve {
        Curve::P256 => der::OID_P256,
        Curve::P384 => der::OID_P384,
    };
    if oid != der::OID_EC || der::read(params, der::OID) != Some((curve_oid, &[][..])) {
        return Err(CryptoError::InvalidKey);
    }
    EcPublicKey::from_sec1_uncompressed(curve, point)
}

fn public_from_spki(spki: &[u8]) -> Result<PublicKey, CryptoError> {
    let (oid, params, key) = der::spki(spki).ok_or(CryptoError::InvalidKey)?;
    if oid == der::OID_RSA {
        let key = aws_lc_rs::rsa::PublicKey::from_der(key).map_err(|_| CryptoError::InvalidKey)?;
        let key = RsaPublicKey::new(
            key.modulus().big_endian_without_leading_zero(),
            key.exponent().big_endian_without_leading_zero(),
        )?;
        if key.bits() < MIN_RSA_BITS {
            return Err(CryptoError::InvalidKey);
        }
        return Ok(PublicKey::Rsa(key));
    }
    if oid != der::OID_EC {
        return Err(CryptoError::InvalidKey);
    }
    let curve = match der::read(params, der::OID) {
        Some((c, [])) if c == der::OID_P256 => Curve::P256,
        Some((c, [])) if c == der::OID_P384 => Curve::P384,
        _ => return Err(CryptoError::InvalidKey),
    };
    ec_public_from_spki(spki, curve).map(PublicKey::Ec)
}

/// Decodes a JWK member into secret bytes (an absent or malformed member
/// is an invalid key).
fn secret(member: &Option<otrp_core::jose::Secret>) -> Result<SecretBytes, CryptoError> {
    member
        .as_ref()
        .ok_or(CryptoError::InvalidKey)?
        .decode("jwk")
        .map_err(|_| CryptoError::InvalidKey)
}

/// An RSA JWK with every private member (RFC 7518 6.3.2): aws-lc-rs cannot
/// recover the primes from `d` alone, so a JWK without them is refused.
fn rsa_from_jwk(jwk: &Jwk) -> Result<RsaPrivateKey, CryptoError> {
    let PublicKey::Rsa(public) = jwk.to_public_key().map_err(|_| CryptoError::InvalidKey)? else {
        return Err(CryptoError::InvalidKey);
    };
    let d = secret(&jwk.d)?;
    let p = secret(&jwk.p)?;
    let q = secret(&jwk.q)?;
    let dp = secret(&jwk.dp)?;
    let dq = secret(&jwk.dq)?;
    let qi = secret(&jwk.qi)?;
    RsaPrivateKey::from_components(
        public.n(),
        public.e(),
        d.as_bytes(),
        p.as_bytes(),
        q.as_bytes(),
        dp.as_bytes(),
        dq.as_bytes(),
        qi.as_bytes(),
    )
}

fn ec_from_jwk(jwk: &Jwk) -> Result<EcPrivateKey, CryptoError> {
    let PublicKey::Ec(public) = jwk.to_public_key().map_err(|_| CryptoError::InvalidKey)? else {
        return Err(CryptoError::InvalidKey);
    };
    let d = secret(&jwk.d)?;
    EcPrivateKey::from_scalar(public.curve(), d.as_bytes(), Some(&public))
}

impl KeyLoader for AwsLcKeyLoader {
    fn private_key_from_pkcs8_der(&self, der: &[u8]) -> Result<Box<dyn PrivateKey>, CryptoError> {
        private_from_pkcs8(der)
    }

    fn private_key_from_jwk(&self, jwk: &Jwk) -> Result<Box<dyn PrivateKey>, CryptoError> {
        match jwk.kty.as_str() {
            "RSA" => Ok(Box::new(rsa_from_jwk(jwk)?)),
            "EC" => Ok(Box::new(ec_from_jwk(jwk)?)),
            "oct" => {
                let k = jwk.symmetric_key().map_err(|_| CryptoError::InvalidKey)?;
                Ok(Box::new(SymmetricKey::new(k)?))
            }
            _ => Err(CryptoError::InvalidKey),
        }
    }

    fn public_key_from_spki_der(&self, der: &[u8]) -> Result<PublicKey, CryptoError> {
        public_from_spki(der)
    }
}

/// The label and DER of a PEM document (RFC 7468).
fn pem_decode(pem: &str) -> Result<(&str, Zeroizing<Vec<u8>>), CryptoError> {
    let pem = pem.trim();
    let first = pem.lines().next().ok_or(CryptoError::InvalidKey)?;
    let label = first
        .strip_prefix("-----BEGIN ")
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or(CryptoError::InvalidKey)?;
    let end = format!("-----END {label}-----");
    if pem.lines().last() != Some(end.as_str()) {
        return Err(CryptoError::InvalidKey);
    }
    let body = Zeroizing::new(
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::trim)
            .collect::<String>(),
    );
    let der =
        otrp_core::jose::b64::decode_std(&body, "pem").map_err(|_| CryptoError::InvalidKey)?;
    Ok((label, Zeroizing::new(der)))
}

/// A private key from PEM: PKCS#8 (`PRIVATE KEY`: RSA, P-256, P-384),
/// PKCS#1 (`RSA PRIVATE KEY`) or RFC 5915 (`EC PRIVATE KEY`).
pub fn private_key_from_pem(pem: &str) -> Result<Box<dyn PrivateKey>, CryptoError> {
    let (label, der) = pem_decode(pem)?;
    match label {
        "PRIVATE KEY" => private_from_pkcs8(&der),
        "RSA PRIVATE KEY" => Ok(Box::new(RsaPrivateKey::from_pkcs1_der(&der)?)),
        "EC PRIVATE KEY" => Ok(Box::new(EcPrivateKey::from_pkcs8_der(&der)?)),
        _ => Err(CryptoError::InvalidKey),
    }
}

/// A public key from a PEM SubjectPublicKeyInfo (`PUBLIC KEY`).
pub fn public_key_from_pem(pem: &str) -> Result<PublicKey, CryptoError> {
    let (label, der) = pem_decode(pem)?;
    match label {
        "PUBLIC KEY" => public_from_spki(&der),
        _ => Err(CryptoError::InvalidKey),
    }
}
