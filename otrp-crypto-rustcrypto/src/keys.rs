//! Loading keys: PKCS#8 DER, JWK, SPKI DER and PEM.

use alloc::boxed::Box;
use alloc::vec::Vec;

use otrp_core::crypto::{CryptoError, KeyLoader, PrivateKey, PublicKey, SecretBytes};
use otrp_core::jose::Jwk;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::aeskw::SymmetricKey;
use crate::ec::{EcPrivateKey, ec_public_from_spki};
use crate::rsa::RsaPrivateKey;

/// Loads software keys of this backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCryptoKeyLoader;

/// The key loader of this backend.
pub static KEY_LOADER: RustCryptoKeyLoader = RustCryptoKeyLoader;

fn private_from_pkcs8(der: &[u8]) -> Result<Box<dyn PrivateKey>, CryptoError> {
    if let Ok(k) = RsaPrivateKey::from_pkcs8_der(der) {
        return Ok(Box::new(k));
    }
    if let Ok(k) = EcPrivateKey::from_pkcs8_der(der) {
        return Ok(Box::new(k));
    }
    Err(CryptoError::InvalidKey)
}

fn public_from_spki(der: &[u8]) -> Result<PublicKey, CryptoError> {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::traits::PublicKeyParts;
    if let Ok(k) = rsa::PublicKey::from_public_key_der(der) {
        let key = otrp_core::crypto::RsaPublicKey::new(&k.n_bytes(), &k.e_bytes())?;
        if key.bits() < crate::rsa::MIN_RSA_BITS {
            return Err(CryptoError::InvalidKey);
        }
        return Ok(PublicKey::Rsa(key));
    }
    ec_public_from_spki(der).map(PublicKey::Ec)
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

fn strip(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    v.get(start..).unwrap_or(&[])
}

fn rsa_from_jwk(jwk: &Jwk) -> Result<RsaPrivateKey, CryptoError> {
    let PublicKey::Rsa(public) = jwk.to_public_key().map_err(|_| CryptoError::InvalidKey)? else {
        return Err(CryptoError::InvalidKey);
    };
    let d = secret(&jwk.d)?;
    let key = match (&jwk.p, &jwk.q) {
        (Some(_), Some(_)) => {
            let p = secret(&jwk.p)?;
            let q = secret(&jwk.q)?;
            RsaPrivateKey::from_components(
                public.n(),
                public.e(),
                d.as_bytes(),
                Some((p.as_bytes(), q.as_bytes())),
            )?
        }
        (None, None) => RsaPrivateKey::from_components(public.n(), public.e(), d.as_bytes(), None)?,
        _ => return Err(CryptoError::InvalidKey),
    };
    // When given, the CRT members must be those of the key.
    if jwk.dp.is_some() || jwk.dq.is_some() || jwk.qi.is_some() {
        let [dp, dq, qi] = key.crt_values().ok_or(CryptoError::InvalidKey)?;
        for (member, value) in [(&jwk.dp, &dp), (&jwk.dq, &dq), (&jwk.qi, &qi)] {
            let given = secret(member)?;
            if !bool::from(strip(given.as_bytes()).ct_eq(strip(value))) {
                return Err(CryptoError::InvalidKey);
            }
        }
    }
    Ok(key)
}

fn ec_from_jwk(jwk: &Jwk) -> Result<EcPrivateKey, CryptoError> {
    let PublicKey::Ec(public) = jwk.to_public_key().map_err(|_| CryptoError::InvalidKey)? else {
        return Err(CryptoError::InvalidKey);
    };
    let d = secret(&jwk.d)?;
    EcPrivateKey::from_scalar(public.curve(), d.as_bytes(), Some(&public))
}

impl KeyLoader for RustCryptoKeyLoader {
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

fn pem_decode(pem: &str) -> Result<(&str, Zeroizing<Vec<u8>>), CryptoError> {
    let (label, der) =
        der::pem::decode_vec(pem.trim().as_bytes()).map_err(|_| CryptoError::InvalidKey)?;
    Ok((label, Zeroizing::new(der)))
}

/// A private key from PEM: PKCS#8 (`PRIVATE KEY`: RSA, P-256, P-384) or
/// PKCS#1 (`RSA PRIVATE KEY`).
pub fn private_key_from_pem(pem: &str) -> Result<Box<dyn PrivateKey>, CryptoError> {
    let (label, der) = pem_decode(pem)?;
    match label {
        "PRIVATE KEY" => private_from_pkcs8(&der),
        "RSA PRIVATE KEY" => Ok(Box::new(RsaPrivateKey::from_pkcs1_der(&der)?)),
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
