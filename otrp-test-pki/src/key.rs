//! Private keys (RSA-2048 and P-256, RustCrypto) that sign certificates for
//! rcgen and OCSP responses.

use otrp_core::crypto::SecureRandom;
use otrp_crypto_rustcrypto::RngAdapter;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding, SecretDocument};
use rsa::traits::PublicKeyParts;
use signature::{SignatureEncoding, Signer};
use zeroize::Zeroizing;

use crate::Error;

/// The key types of the test hierarchies (the two the openssl fixtures in
/// `test-pki/` use; spec 4.4 asks for RSA >= 2048 bits or ECC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// RSA-2048, certificates signed with sha256WithRSAEncryption.
    Rsa2048,
    /// ECDSA P-256, certificates signed with ecdsa-with-SHA256.
    P256,
}

impl KeyType {
    /// The DER `AlgorithmIdentifier` of the signatures this key makes
    /// (sha256WithRSAEncryption with NULL parameters, or ecdsa-with-SHA256).
    pub fn signature_algorithm_der(self) -> &'static [u8] {
        match self {
            KeyType::Rsa2048 => &[
                0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05,
                0x00,
            ],
            KeyType::P256 => &[
                0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
            ],
        }
    }

    fn rcgen_algorithm(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            KeyType::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
            KeyType::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }
}

enum Inner {
    Rsa(Box<rsa::pkcs1v15::SigningKey<sha2::Sha256>>),
    P256(p256::ecdsa::SigningKey),
}

/// A software private key with its public half, able to sign X.509 data
/// (PKCS#1 v1.5 with SHA-256, or DER ECDSA with SHA-256; both
/// deterministic). Implements [`rcgen::SigningKey`], so rcgen signs
/// certificates with it without ring or aws-lc-rs. The secret is zeroized on
/// drop (the RustCrypto key types and the PKCS#8 copy both are).
pub struct Key {
    inner: Inner,
    key_type: KeyType,
    pkcs8: SecretDocument,
    spki: Vec<u8>,
    /// The subjectPublicKey BIT STRING contents (what rcgen calls der_bytes).
    public_bits: Vec<u8>,
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Key")
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// A fresh key of `key_type` from `rng`. RSA-2048 generation takes
    /// seconds in debug builds of the whole stack (the workspace optimises
    /// dependencies); tests pass existing keys instead
    /// ([`Key::from_pkcs8_der`]).
    pub fn generate(key_type: KeyType, rng: &dyn SecureRandom) -> Result<Key, Error> {
        match key_type {
            KeyType::Rsa2048 => {
                let key = rsa::PrivateKey::new(&mut RngAdapter(rng), 2048)
                    .map_err(|_| Error::KeyGeneration)?;
                Self::from_rsa(key)
            }
            KeyType::P256 => {
                // A uniformly random scalar: draw 32 bytes until they are a
                // valid non-zero scalar below the group order (nearly always
                // the first draw).
                for _ in 0..64 {
                    let mut bytes = Zeroizing::new([0u8; 32]);
                    rng.fill(bytes.as_mut()).map_err(|_| Error::Random)?;
                    if let Ok(key) = p256::ecdsa::SigningKey::from_slice(bytes.as_ref()) {
                        return Self::from_p256(key);
                    }
                }
                Err(Error::KeyGeneration)
            }
        }
    }

    /// Loads an RSA (>= 2048 bits) or P-256 private key from PKCS#8 DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Key, Error> {
        if let Ok(key) = rsa::PrivateKey::from_pkcs8_der(der) {
            return Self::from_rsa(key);
        }
        if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Self::from_p256(key);
        }
        Err(Error::Key("not an RSA or P-256 PKCS#8 private key"))
    }

    /// Loads an RSA or P-256 private key from PKCS#8 PEM
    /// (`-----BEGIN PRIVATE KEY-----`, such as the `*.key` fixtures of
    /// `test-pki/`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Key, Error> {
        let (label, doc) =
            SecretDocument::from_pem(pem).map_err(|_| Error::Key("not a PEM document"))?;
        if label != "PRIVATE KEY" {
            return Err(Error::Key("PEM label is not PRIVATE KEY (PKCS#8)"));
        }
        Self::from_pkcs8_der(doc.as_bytes())
    }

    fn from_rsa(key: rsa::PrivateKey) -> Result<Key, Error> {
        if key.size() * 8 < 2048 {
            return Err(Error::Key("RSA keys must have at least 2048 bits"));
        }
        let pkcs8 = key
            .to_pkcs8_der()
            .map_err(|_| Error::Key("PKCS#8 encoding"))?;
        let spki = key
            .to_public_key()
            .to_public_key_der()
            .map_err(|_| Error::Key("SPKI encoding"))?
            .into_vec();
        Self::assemble(
            Inner::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(key))),
            KeyType::Rsa2048,
            pkcs8,
            spki,
        )
    }

    fn from_p256(key: p256::ecdsa::SigningKey) -> Result<Key, Error> {
        let pkcs8 = key
            .to_pkcs8_der()
            .map_err(|_| Error::Key("PKCS#8 encoding"))?;
        let spki = key
            .verifying_key()
            .to_public_key_der()
            .map_err(|_| Error::Key("SPKI encoding"))?
            .into_vec();
        Self::assemble(Inner::P256(key), KeyType::P256, pkcs8, spki)
    }

    fn assemble(
        inner: Inner,
        key_type: KeyType,
        pkcs8: SecretDocument,
        spki: Vec<u8>,
    ) -> Result<Key, Error> {
        let public_bits = spki::SubjectPublicKeyInfoRef::try_from(spki.as_slice())
            .ok()
            .and_then(|s| s.subject_public_key.as_bytes().map(<[u8]>::to_vec))
            .ok_or(Error::Key("SPKI encoding"))?;
        Ok(Key {
            inner,
            key_type,
            pkcs8,
            spki,
            public_bits,
        })
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The private key as PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &[u8] {
        self.pkcs8.as_bytes()
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, LF line
    /// endings), zeroized on drop.
    pub fn pkcs8_pem(&self) -> Result<Zeroizing<String>, Error> {
        self.pkcs8
            .to_pem("PRIVATE KEY", LineEnding::LF)
            .map_err(|_| Error::Key("PEM encoding"))
    }

    /// The public key as a DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The contents of the SubjectPublicKeyInfo's BIT STRING (an RSAPublicKey
    /// or an uncompressed EC point): what an OCSP CertID's issuerKeyHash
    /// covers (RFC 6960 4.1.1).
    pub fn public_key_bits(&self) -> &[u8] {
        &self.public_bits
    }

    /// Signs `message` for X.509/OCSP use: a PKCS#1 v1.5 SHA-256 signature,
    /// or a DER-encoded ECDSA P-256 SHA-256 signature (RFC 6979
    /// deterministic nonces).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        match &self.inner {
            Inner::Rsa(k) => {
                let sig: rsa::pkcs1v15::Signature = k.try_sign(message).map_err(|_| Error::Sign)?;
                Ok(sig.to_vec())
            }
            Inner::P256(k) => {
                let sig: p256::ecdsa::Signature = k.try_sign(message).map_err(|_| Error::Sign)?;
                Ok(sig.to_der().to_vec())
            }
        }
    }
}

impl rcgen::PublicKeyData for Key {
    fn der_bytes(&self) -> &[u8] {
        &self.public_bits
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.key_type.rcgen_algorithm()
    }
}

impl rcgen::SigningKey for Key {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Key::sign(self, msg).map_err(|_| rcgen::Error::RemoteKeyError)
    }
}
