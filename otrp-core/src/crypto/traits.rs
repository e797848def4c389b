//! The small traits a crypto backend implements, one job each.
//!
//! Public-key algorithms are stateless objects (`&'static dyn`) collected in a
//! [`Provider`](super::Provider). Private keys are trait objects of their own
//! ([`JwsSigner`], [`CekDecrypter`]) so that a TEE can back them with a key
//! that never leaves its hardware.

use alloc::boxed::Box;
use alloc::vec::Vec;

use zeroize::Zeroizing;

use super::{
    AgreementParams, Cek, ContentAlg, CryptoError, EncryptionKey, HashAlg, JwsAlg, KeyAlg,
    KeyComponents, KeyKind, PublicKey, Verified, WrappedCek,
};

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
    /// A digest computed over data fed in pieces (a large signed message
    /// is hashed where it lies, never copied into one buffer). The default
    /// collects the pieces and calls [`Digest::digest`]; backends with an
    /// incremental hash override it.
    fn start(&self) -> Box<dyn DigestContext + '_> {
        Box::new(CollectingDigest {
            digest: self,
            data: Zeroizing::new(Vec::new()),
        })
    }
}

/// A digest in progress ([`Digest::start`]).
pub trait DigestContext {
    /// Hashes the next piece.
    fn update(&mut self, data: &[u8]);
    /// The digest of all the pieces.
    fn finish(self: Box<Self>) -> Vec<u8>;
}

/// [`Digest::start`] of a backend without an incremental hash.
struct CollectingDigest<'a, D: ?Sized> {
    digest: &'a D,
    data: Zeroizing<Vec<u8>>,
}

impl<D: Digest + ?Sized> DigestContext for CollectingDigest<'_, D> {
    fn update(&mut self, data: &[u8]) {
        self.data.extend_from_slice(data);
    }

    fn finish(self: Box<Self>) -> Vec<u8> {
        self.digest.digest(&self.data)
    }
}

/// Verification of one JWS algorithm with a public key.
pub trait SignatureVerifier: Send + Sync {
    /// The algorithm verified.
    fn algorithm(&self) -> JwsAlg;
    /// Checks `signature` (in JWS form: raw `r || s` for ECDSA) over `message`.
    /// A key of the wrong kind is [`CryptoError::KeyMismatch`]; any other
    /// failure is [`CryptoError::BadSignature`].
    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError>;
    /// Whether [`SignatureVerifier::verify_prehashed`] is implemented. The
    /// streamed verification ([`super::SignedMessage`]) hashes the message
    /// in pieces when it is, and collects it whole for
    /// [`SignatureVerifier::verify`] when not (ring has no prehashed
    /// verification).
    fn verifies_prehashed(&self) -> bool {
        false
    }
    /// With [`SignatureVerifier::verifies_prehashed`]: the message length
    /// from which the streamed verification hashes the pieces for
    /// [`SignatureVerifier::verify_prehashed`]; a shorter message is
    /// collected for [`SignatureVerifier::verify`]. 0 (the default) hashes
    /// every message; a verifier whose whole-message path is the faster
    /// one (ring's, composed with RustCrypto's prehashed verification)
    /// bounds by it the memory a message may take.
    fn prehashed_from(&self) -> usize {
        0
    }
    /// Checks `signature` over the message whose digest (with the
    /// algorithm's own hash, [`JwsAlg::hash`]) is `digest`. A digest of the
    /// wrong length is [`CryptoError::BadSignature`]. Not implemented by
    /// default ([`CryptoError::Unsupported`]).
    fn verify_prehashed(&self, key: &PublicKey, digest: &[u8], signature: &[u8]) -> Verified {
        let _ = (key, digest, signature);
        Err(CryptoError::Unsupported("prehashed signature verification"))
    }
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
    /// A private key from its components (RSA, EC or symmetric). A JWK
    /// converts into them (`Jwk::load_private_key` does both steps).
    fn private_key_from_components(
        &self,
        key: &KeyComponents,
    ) -> Result<Box<dyn PrivateKey>, CryptoError>;
    /// A public key from a DER SubjectPublicKeyInfo.
    fn public_key_from_spki_der(&self, der: &[u8]) -> Result<PublicKey, CryptoError>;
}
