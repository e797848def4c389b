//! The small traits a crypto backend implements, one job each.
//!
//! Public-key algorithms are stateless objects (`&'static dyn`) collected in a
//! [`Provider`](super::Provider). Private keys are trait objects of their own
//! ([`JwsSigner`], [`CekDecrypter`]) so that a TEE can back them with a key
//! that never leaves its hardware.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::{
    AgreementParams, Cek, ContentAlg, CryptoError, EncryptionKey, HashAlg, JwsAlg, KeyAlg, KeyKind,
    PublicKey, WrappedCek,
};
use crate::jose::Jwk;

/// A cryptographically secure random source.
pub trait SecureRandom: Send + Sync {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError>;
}

/// A digest function (SHA-2; SHA-1 only for matching OCSP CertIDs).
pub trait Digest: Send + Sync {
    /// Which digest this is.
    fn algorithm(&self) -> HashAlg;
    /// The digest of `data`.
    fn digest(&self, data: &[u8]) -> Vec<u8>;
}

/// Verification of one JWS algorithm with a public key.
pub trait SignatureVerifier: Send + Sync {
    /// The algorithm verified.
    fn algorithm(&self) -> JwsAlg;
    /// Checks `signature` (in JWS form: raw `r || s` for ECDSA) over `message`.
    /// A key of the wrong kind is [`CryptoError::KeyMismatch`]; any other
    /// failure is [`CryptoError::BadSignature`].
    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError>;
}

/// Signing with a private key. Implemented by a backend's software keys and,
/// on a device, by the TEE over a key that stays in hardware.
pub trait JwsSigner: Send + Sync {
    /// The kind of key (decides which algorithms can be asked for).
    fn key_kind(&self) -> KeyKind;
    /// The matching public key, when the implementation can export it.
    fn public_key(&self) -> Option<PublicKey>;
    /// Signs `message`, returning the signature in JWS form. `rng` serves
    /// randomized schemes (PSS salts); deterministic ones ignore it.
    fn sign(
        &self,
        alg: JwsAlg,
        message: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, CryptoError>;
}

/// Encrypting (wrapping or agreeing) a CEK for one recipient: one key
/// management algorithm.
pub trait KeyEncrypter: Send + Sync {
    /// The algorithm implemented.
    fn algorithm(&self) -> KeyAlg;
    /// Wraps `cek` to `key`. For ECDH-ES direct agreement `cek` must be
    /// `None` and the agreed key is returned; for every other algorithm a CEK
    /// of `enc`'s length must be given. `params` supplies `apu`/`apv`.
    fn encrypt_cek(
        &self,
        key: EncryptionKey<'_>,
        enc: ContentAlg,
        cek: Option<&Cek>,
        params: &AgreementParams,
        rng: &dyn SecureRandom,
    ) -> Result<WrappedCek, CryptoError>;
}

/// Recovering a CEK with a private or symmetric key. Hardware-backable like
/// [`JwsSigner`].
///
/// Implementations of RSA1_5 must follow RFC 7516 section 11.5: on any padding
/// failure or a CEK of the wrong length they return a random CEK of
/// `enc.key_len()` bytes instead of an error, so that the failure shows only
/// as the content's authentication error.
pub trait CekDecrypter: Send + Sync {
    /// The kind of key (decides which algorithms can be asked for).
    fn key_kind(&self) -> KeyKind;
    /// Recovers the CEK for content algorithm `enc` from the JWE Encrypted Key.
    fn decrypt_cek(
        &self,
        alg: KeyAlg,
        enc: ContentAlg,
        params: &AgreementParams,
        encrypted_key: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Cek, CryptoError>;
}

/// A key a backend holds in software: it can sign and decrypt CEKs.
/// Operations that do not fit the key answer [`CryptoError::KeyMismatch`].
pub trait PrivateKey: JwsSigner + CekDecrypter {}

impl<T: JwsSigner + CekDecrypter> PrivateKey for T {}

/// One content encryption algorithm (authenticated encryption).
pub trait ContentCipher: Send + Sync {
    /// The algorithm implemented.
    fn algorithm(&self) -> ContentAlg;
    /// Encrypts `buf` in place (it may grow by the padding) and returns the
    /// authentication tag.
    fn encrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<Vec<u8>, CryptoError>;
    /// Checks `tag` and then decrypts `buf` in place. A bad tag, bad padding
    /// and a wrong length are one and the same [`CryptoError::Decrypt`].
    fn decrypt(
        &self,
        cek: &Cek,
        iv: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
        tag: &[u8],
    ) -> Result<(), CryptoError>;
}

/// Loading keys into a backend's software implementations.
pub trait KeyLoader: Send + Sync {
    /// A private key from PKCS#8 DER (RSA, P-256 or P-384).
    fn private_key_from_pkcs8_der(&self, der: &[u8]) -> Result<Box<dyn PrivateKey>, CryptoError>;
    /// A private key from a JWK (`kty` RSA or EC with `d`, or `oct`).
    fn private_key_from_jwk(&self, jwk: &Jwk) -> Result<Box<dyn PrivateKey>, CryptoError>;
    /// A public key from a DER SubjectPublicKeyInfo.
    fn public_key_from_spki_der(&self, der: &[u8]) -> Result<PublicKey, CryptoError>;
}
