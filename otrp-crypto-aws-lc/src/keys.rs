//! Loading keys: PKCS#8 DER, JWK, SPKI DER and PEM.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::ParsedPublicKey;
use otrp_core::crypto::{
    CryptoError, Curve, EcPublicKey, PublicKey, RsaKeyComponents, RsaPublicKey,
};
use zeroize::Zeroizing;

use crate::aeskw::AES_KW;
use crate::der;
use crate::ec::EcPrivateKey;
use crate::rsa::{MIN_RSA_BITS, RsaPrivateKey};
use crate::sig::ecdsa_verification;

otrp_core::software_key_loader!(RsaPrivateKey, EcPrivateKey, Some(&AES_KW));

/// An EC key from its scalar (the loader checks it against `public`).
fn ec_from_components(public: &EcPublicKey, d: &[u8]) -> Result<EcPrivateKey, CryptoError> {
    EcPrivateKey::from_scalar(public.curve(), d)
}

/// An EC public key from an SPKI, validated (on the curve, named curve) by
/// AWS-LC and re-encoded by it, so that a compressed point comes back
/// uncompressed.
fn ec_public_from_spki(spki: &[u8], curve: Curve) -> Result<EcPublicKey, CryptoError> {
    let parsed = ParsedPublicKey::new(ecdsa_verification(curve), spki)
        .map_err(|_| CryptoError::InvalidKey)?;
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

/// An RSA key with every private member (RFC 7518 6.3.2): aws-lc-rs cannot
/// recover the primes from `d` alone, so a key without them is refused.
fn rsa_from_components(c: &RsaKeyComponents) -> Result<RsaPrivateKey, CryptoError> {
    let [p, q, dp, dq, qi] = c.crt().ok_or(CryptoError::InvalidKey)?;
    RsaPrivateKey::from_components(
        c.public.n(),
        c.public.e(),
        c.d.as_bytes(),
        p.as_bytes(),
        q.as_bytes(),
        dp.as_bytes(),
        dq.as_bytes(),
        qi.as_bytes(),
    )
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

otrp_core::pem_key_loading!(pem_decode, RsaPrivateKey, sec1 EcPrivateKey);
