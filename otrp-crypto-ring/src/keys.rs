//! ring's software keys: RSA (2048 to 4096 bits, e >= 65537) and ECDSA on
//! P-256 and P-384, loaded from PKCS#8 DER or a JWK. They sign; they cannot
//! recover a CEK (ring has no RSA decryption and no ECDH with a stored key),
//! so [`CekDecrypter::decrypt_cek`] answers [`CryptoError::Unsupported`].

use otrp_core::crypto::{
    AgreementParams, Cek, CekDecrypter, ContentAlg, CryptoError, Curve, EcPublicKey, EcSigningKey,
    JwsAlg, JwsSignature, KeyAlg, KeyKind, PublicKey, RsaKeyComponents, RsaPublicKey,
    RsaSigningKey, SecureRandom,
};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};

use crate::sig::{MIN_RSA_BITS, ecdsa_sign, ecdsa_signing, rsa_sign};

/// An RSA private key held by ring.
pub struct RingRsaKey {
    pair: RsaKeyPair,
    public: RsaPublicKey,
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
        Ok(Self { pair, public })
    }
}

/// An ECDSA private key (P-256 or P-384) held by ring.
pub struct RingEcKey {
    pair: EcdsaKeyPair,
    public: EcPublicKey,
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

impl RsaSigningKey for RingRsaKey {
    fn rsa_public(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Signs with ring. `rng` is not used: ring's random trait is sealed,
    /// so PSS salts come from ring's `SystemRandom` (PKCS#1 v1.5 needs
    /// none).
    fn sign_rsa(&self, alg: JwsAlg, m: &[u8], _rng: &dyn SecureRandom) -> JwsSignature {
        rsa_sign(&self.pair, &self.public, alg, m)
    }
}

impl EcSigningKey for RingEcKey {
    fn ec_public(&self) -> &EcPublicKey {
        &self.public
    }

    /// Signs with ring, returning `r || s`. The nonce is drawn from ring's
    /// `SystemRandom` (ring's random trait is sealed) and hedged with the
    /// key and message, as ring always does.
    fn sign_ecdsa(&self, m: &[u8]) -> JwsSignature {
        ecdsa_sign(&self.pair, m)
    }
}

otrp_core::software_key!(rsa signer RingRsaKey);
otrp_core::software_key!(ec signer RingEcKey);

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

otrp_core::software_key_loader!(RingRsaKey, RingEcKey, None);

/// ring needs the public key with the scalar (and checks they belong
/// together).
fn ec_from_components(public: &EcPublicKey, d: &[u8]) -> Result<RingEcKey, CryptoError> {
    RingEcKey::from_scalar(d, public)
}

/// Parses with `otrp_core::pki::public_key_from_spki_der` and applies this
/// backend's RSA floor; EC points are checked where ring uses them.
fn public_from_spki(der: &[u8]) -> Result<PublicKey, CryptoError> {
    let key = otrp_core::pki::public_key_from_spki_der(der)?;
    match &key {
        PublicKey::Rsa(k) if k.bits() < MIN_RSA_BITS => Err(CryptoError::InvalidKey),
        _ => Ok(key),
    }
}

fn rsa_from_components(c: &RsaKeyComponents) -> Result<RingRsaKey, CryptoError> {
    let members = [&c.p, &c.q, &c.dp, &c.dq, &c.qi];
    if members.iter().all(|m| m.is_none()) {
        // RFC 7518 6.3.2 allows `d` alone; ring needs the primes.
        return Err(CryptoError::Unsupported("RSA JWK without p, q, dp, dq, qi"));
    }
    let [p, q, dp, dq, qi] = c.crt().ok_or(CryptoError::InvalidKey)?;
    let components = ring::rsa::KeyPairComponents {
        public_key: signature::RsaPublicKeyComponents {
            n: c.public.n(),
            e: c.public.e(),
        },
        d: c.d.as_bytes(),
        p: p.as_bytes(),
        q: q.as_bytes(),
        dP: dp.as_bytes(),
        dQ: dq.as_bytes(),
        qInv: qi.as_bytes(),
    };
    RingRsaKey::new(RsaKeyPair::from_components(&components).map_err(|_| CryptoError::InvalidKey)?)
}
