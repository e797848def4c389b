//! Loading keys: PKCS#8 DER, JWK, SPKI DER and PEM.

use alloc::vec::Vec;

use otrp_core::crypto::{CryptoError, EcPublicKey, PublicKey, RsaKeyComponents};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::aeskw::AES_KW;
use crate::ec::{EcPrivateKey, ec_public_from_spki};
use crate::rsa::RsaPrivateKey;

otrp_core::software_key_loader!(RsaPrivateKey, EcPrivateKey, Some(&AES_KW));

/// An EC key from its scalar (the loader checks it against `public`).
fn ec_from_components(public: &EcPublicKey, d: &[u8]) -> Result<EcPrivateKey, CryptoError> {
    EcPrivateKey::from_scalar(public.curve(), d)
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

fn strip(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    v.get(start..).unwrap_or(&[])
}

/// An RSA key from its components: `d` with both primes or neither (they
/// are then recovered), and any CRT value given must be the key's.
fn rsa_from_components(c: &RsaKeyComponents) -> Result<RsaPrivateKey, CryptoError> {
    let (n, e, d) = (c.public.n(), c.public.e(), c.d.as_bytes());
    let key = match (&c.p, &c.q) {
        (Some(p), Some(q)) => {
            RsaPrivateKey::from_components(n, e, d, Some((p.as_bytes(), q.as_bytes())))?
        }
        (None, None) => RsaPrivateKey::from_components(n, e, d, None)?,
        _ => return Err(CryptoError::InvalidKey),
    };
    // When given, the CRT members must be those of the key.
    if c.dp.is_some() || c.dq.is_some() || c.qi.is_some() {
        let [dp, dq, qi] = key.crt_values().ok_or(CryptoError::InvalidKey)?;
        for (member, value) in [(&c.dp, &dp), (&c.dq, &dq), (&c.qi, &qi)] {
            let given = member.as_ref().ok_or(CryptoError::InvalidKey)?;
            if !bool::from(strip(given.as_bytes()).ct_eq(strip(value))) {
                return Err(CryptoError::InvalidKey);
            }
        }
    }
    Ok(key)
}

fn pem_decode(pem: &str) -> Result<(&str, Zeroizing<Vec<u8>>), CryptoError> {
    let (label, der) =
        der::pem::decode_vec(pem.trim().as_bytes()).map_err(|_| CryptoError::InvalidKey)?;
    Ok((label, Zeroizing::new(der)))
}

otrp_core::pem_key_loading!(pem_decode, RsaPrivateKey);
