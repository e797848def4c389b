//! ring's software keys: RSA (2048 to 4096 bits, e >= 65537) and ECDSA on
//! P-256 and P-384, loaded from PKCS#8 DER or a JWK. They sign; they cannot
//! recover a CEK (ring has no RSA decryption and no ECDH with a stored key),
//! so [`CekDecrypter::decrypt_cek`] answers [`CryptoError::Unsupported`].

use otrp_core::crypto::{
    AgreementParams, Cek, CekDecrypter, ContentAlg, CryptoError, Curve, EcPublicKey, JwsAlg,
    JwsSigner, KeyAlg, KeyKind, KeyLoader, PrivateKey, PublicKey, RsaPublicKey, SecretBytes,
    SecureRandom,
};
use otrp_core::jose::{Jwk, Secret};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};

use crate::sig::MIN_RSA_BITS;

/// An RSA private key held by ring.
pub struct RingRsaKey {
    pair: RsaKeyPair,
    public: PublicKey,
}

impl RingRsaKey {
    /// Loads a PKCS#8 `PrivateKeyInfo` holding an RSA key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        Self::new(RsaKeyPair::from_pkcs8(der).map_err(|_| CryptoError::InvalidKey)?)
    }

    fn new(pair: RsaKeyPair) -> Result<Self, CryptoError> {
        let parts: signature::RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
        let public = RsaPublicKey::new(&parts.n, &parts.e)?;
        // ring refuses smaller keys itself; this keeps the policy explicit.
        if public.bits() < MIN_RSA_BITS {
            return Err(CryptoError::InvalidKey);
        }
        Ok(Self {
            pair,
            public: PublicKey::Rsa(public),
        })
    }
}

impl core::fmt::Debug for RingRsaKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RingRsaKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// An ECDSA private key (P-256 or P-384) held by ring.
pub struct RingEcKey {
    pair: EcdsaKeyPair,
    public: EcPublicKey,
}

fn ecdsa_signing(curve: Curve) -> &'static signature::EcdsaSigningAlgorithm {
    match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
    }
}

impl RingEcKey {
    /// Loads a PKCS#8 `PrivateKeyInfo` holding a P-256 or P-384 key. ring
    /// needs the public key inside the `ECPrivateKey` (RFC 5915 `publicKey`,
    /// as openssl writes it); a document without it is refused.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        for curve in [Curve::P256, Curve::P384] {
            if let Ok(pair) = EcdsaKeyPair::from_pkcs8(ecdsa_signing(curve), der, &rng) {
                return Self::new(curve, pair);
            }
        }
        Err(CryptoError::InvalidKey)
    }

    /// A key from its private scalar (big-endian, the curve's field length)
    /// and its public key; ring checks that they belong together.
    pub fn from_scalar(d: &[u8], public: &EcPublicKey) -> Result<Self, CryptoError> {
        let curve = public.curve();
        if d.len() != curve.field_len() {
            return Err(CryptoError::InvalidKey);
        }
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            ecdsa_signing(curve),
            d,
            &public.to_sec1_uncompressed(),
            &SystemRandom::new(),
        )
        .map_err(|_| CryptoError::InvalidKey)?;
        Self::new(curve, pair)
    }

    fn new(curve: Curve, pair: EcdsaKeyPair) -> Result<Self, CryptoError> {
        let public = EcPublicKey::from_sec1_uncompressed(curve, pair.public_key().as_ref())?;
        Ok(Self { pair, public })
    }
}

impl core::fmt::Debug for RingEcKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RingEcKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

fn rsa_padding(alg: JwsAlg) -> Option<&'static dyn signature::RsaEncoding> {
    Some(match alg {
        JwsAlg::Rs256 => &signature::RSA_PKCS1_SHA256,
        JwsAlg::Rs384 => &signature::RSA_PKCS1_SHA384,
        JwsAlg::Rs512 => &signature::RSA_PKCS1_SHA512,
        JwsAlg::Ps256 => &signature::RSA_PSS_SHA256,
        JwsAlg::Ps384 => &signature::RSA_PSS_SHA384,
        JwsAlg::Ps512 => &signature::RSA_PSS_SHA512,
        JwsAlg::Es256 | JwsAlg::Es384 => return None,
    })
}

impl JwsSigner for RingRsaKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Rsa
    }

    fn public_key(&self) -> Option<PublicKey> {
        Some(self.public.clone())
    }

    /// Signs with ring. `rng` is not used: ring's random trait is sealed, so
    /// PSS salts come from ring's `SystemRandom` (PKCS#1 v1.5 needs none).
    fn sign(
        &self,
        alg: JwsAlg,
        message: &[u8],
        _rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, CryptoError> {
        let padding = rsa_padding(alg).ok_or(CryptoError::KeyMismatch)?;
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(padding, &SystemRandom::new(), message, &mut sig)
            .map_err(|_| CryptoError::Backend)?;
        Ok(sig)
    }
}

impl JwsSigner for RingEcKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Ec(self.public.curve())
    }

    fn public_key(&self) -> Option<PublicKey> {
        Some(PublicKey::Ec(self.public.clone()))
    }

    /// Signs with ring, returning `r || s`. `rng` is not used: ring's random
    /// trait is sealed, so the nonce is drawn from ring's `SystemRandom`
    /// (and hedged with the key and message, as ring always does).
    fn sign(
        &self,
        alg: JwsAlg,
        message: &[u8],
        _rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, CryptoError> {
        if alg.key_kind() != KeyKind::Ec(self.public.curve()) {
            return Err(CryptoError::KeyMismatch);
        }
        let sig = self
            .pair
            .sign(&SystemRandom::new(), message)
            .map_err(|_| CryptoError::Backend)?;
        Ok(sig.as_ref().to_vec())
    }
}

/// ring cannot recover a CEK: a key management algorithm that fits the key
/// is [`CryptoError::Unsupported`], one that does not is a key mismatch.
fn no_cek(kind: KeyKind, alg: KeyAlg) -> Result<Cek, CryptoError> {
    if alg.key_kind().admits(kind) {
        Err(CryptoError::Unsupported(alg.name()))
    } else {
        Err(CryptoError::KeyMismatch)
    }
}

impl CekDecrypter for RingRsaKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Rsa
    }

    /// Always refused: ring has neither RSAES-PKCS1-v1_5 nor RSAES-OAEP
    /// decryption.
    fn decrypt_cek(
        &self,
        alg: KeyAlg,
        _enc: ContentAlg,
        _params: &AgreementParams,
        _encrypted_key: &[u8],
        _rng: &dyn SecureRandom,
    ) -> Result<Cek, CryptoError> {
        no_cek(KeyKind::Rsa, alg)
    }
}

impl CekDecrypter for RingEcKey {
    fn key_kind(&self) -> KeyKind {
        KeyKind::Ec(self.public.curve())
    }

    /// Always refused: ring's ECDH works only with ephemeral private keys,
    /// never with a stored one.
    fn decrypt_cek(
        &self,
        alg: KeyAlg,
        _enc: ContentAlg,
        _params: &AgreementParams,
        _encrypted_key: &[u8],
        _rng: &dyn SecureRandom,
    ) -> Result<Cek, CryptoError> {
        no_cek(KeyKind::Ec(self.public.curve()), alg)
    }
}

/// Loads ring's software keys. Symmetric (`oct`) keys and RSA JWKs without
/// the CRT members are [`CryptoError::Unsupported`]: ring holds neither.
#[derive(Clone, Copy, Debug, Default)]
pub struct RingKeyLoader;

/// The key loader of this backend.
pub static KEY_LOADER: RingKeyLoader = RingKeyLoader;

fn secret(member: &Option<Secret>) -> Result<SecretBytes, CryptoError> {
    member
        .as_ref()
        .ok_or(CryptoError::InvalidKey)?
        .decode("jwk")
        .map_err(|_| CryptoError::InvalidKey)
}

fn rsa_from_jwk(jwk: &Jwk) -> Result<RingRsaKey, CryptoError> {
    let PublicKey::Rsa(public) = jwk.to_public_key().map_err(|_| CryptoError::InvalidKey)? else {
        return Err(CryptoError::InvalidKey);
    };
    let d = secret(&jwk.d)?;
    let crt = [&jwk.p, &jwk.q, &jwk.dp, &jwk.dq, &jwk.qi];
    if crt.iter().all(|m| m.is_none()) {
        // RFC 7518 6.3.2 allows `d` alone; ring needs the primes.
        return Err(CryptoError::Unsupported("RSA JWK without p, q, dp, dq, qi"));
    }
    let [p, q, dp, dq, qi] = [
        secret(&jwk.p)?,
        secret(&jwk.q)?,
        secret(&jwk.dp)?,
        secret(&jwk.dq)?,
        secret(&jwk.qi)?,
    ];
    let components = ring::rsa::KeyPairComponents {
        public_key: signature::RsaPublicKeyComponents {
            n: public.n(),
            e: public.e(),
        },
        d: d.as_bytes(),
        p: p.as_bytes(),
        q: q.as_bytes(),
        dP: dp.as_bytes(),
        dQ: dq.as_bytes(),
        qInv: qi.as_bytes(),
    };
    RingRsaKey::new(RsaKeyPair::from_components(&components).map_err(|_| CryptoError::InvalidKey)?)
}

fn ec_from_jwk(jwk: &Jwk) -> Result<RingEcKey, CryptoError> {
    let PublicKey::Ec(public) = jwk.to_public_key().map_err(|_| CryptoError::InvalidKey)? else {
        return Err(CryptoError::InvalidKey);
    };
    RingEcKey::from_scalar(secret(&jwk.d)?.as_bytes(), &public)
}

impl KeyLoader for RingKeyLoader {
    fn private_key_from_pkcs8_der(&self, der: &[u8]) -> Result<Box<dyn PrivateKey>, CryptoError> {
        if let Ok(k) = RingRsaKey::from_pkcs8_der(der) {
            return Ok(Box::new(k));
        }
        Ok(Box::new(RingEcKey::from_pkcs8_der(der)?))
    }

    fn private_key_from_jwk(&self, jwk: &Jwk) -> Result<Box<dyn PrivateKey>, CryptoError> {
        match jwk.kty.as_str() {
            "RSA" => Ok(Box::new(rsa_from_jwk(jwk)?)),
            "EC" => Ok(Box::new(ec_from_jwk(jwk)?)),
            "oct" => Err(CryptoError::Unsupported("oct keys (AES key wrap)")),
            _ => Err(CryptoError::InvalidKey),
        }
    }

    /// Parses with `otrp_core::pki::public_key_from_spki_der` and applies
    /// this backend's RSA floor; EC points are checked where ring uses them.
    fn public_key_from_spki_der(&self, der: &[u8]) -> Result<PublicKey, CryptoError> {
        let key = otrp_core::pki::public_key_from_spki_der(der)?;
        match &key {
            PublicKey::Rsa(k) if k.bits() < MIN_RSA_BITS => Err(CryptoError::InvalidKey),
            _ => Ok(key),
        }
    }
}
