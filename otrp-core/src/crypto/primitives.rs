//! The small primitives a backend supplies so that the JOSE constructions
//! built on them (AES-CBC-HMAC, AES key wrap, ECDH-ES with the Concat KDF)
//! are written once, here, like rustls's `PrfUsingHmac` over a backend's
//! HMAC. Each primitive is a stateless object (`&'static dyn`); keys are
//! passed per call.

use alloc::vec::Vec;

use zeroize::Zeroizing;

use super::{CryptoError, EcPublicKey, HashAlg, RsaPublicKey, Secret, SecureRandom, Verified};

/// AES key wrap (RFC 3394) with a 16- or 32-byte key-encryption key (and
/// 24 where the backend has it; OTrP has no A192KW). A backend supplies
/// [`AesKw::wrap_key`] and [`AesKw::unwrap_key`]; callers use
/// [`AesKw::wrap`] and [`AesKw::unwrap`], which check the lengths first.
pub trait AesKw: Send + Sync {
    /// Wraps `key` (checked: a multiple of 8 bytes, at least 16) under
    /// `kek`. A `kek` of a length the backend lacks is
    /// [`CryptoError::InvalidKey`].
    fn wrap_key(&self, kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError>;

    /// Unwraps `wrapped` (checked: a multiple of 8 bytes, at least 24)
    /// under `kek`, checking its integrity; every failure is
    /// [`CryptoError::Decrypt`].
    fn unwrap_key(&self, kek: &[u8], wrapped: &[u8]) -> Secret;

    /// Wraps `key` (a multiple of 8 bytes, at least 16, else
    /// [`CryptoError::InvalidLength`]) under `kek`.
    fn wrap(&self, kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if key.len() < 16 || !key.len().is_multiple_of(8) {
            return Err(CryptoError::InvalidLength);
        }
        self.wrap_key(kek, key)
    }

    /// Unwraps `wrapped` under `kek`, checking its integrity; every failure
    /// (a length that is not a multiple of 8 or under 24 included) is
    /// [`CryptoError::Decrypt`].
    fn unwrap(&self, kek: &[u8], wrapped: &[u8]) -> Secret {
        if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
            return Err(CryptoError::Decrypt);
        }
        self.unwrap_key(kek, wrapped)
    }
}

/// AES in CBC mode with PKCS#7 padding, with a 16- or 32-byte key and a
/// 16-byte IV.
pub trait AesCbc: Send + Sync {
    /// Encrypts `buf` in place; it grows by the padding.
    fn encrypt(&self, key: &[u8], iv: &[u8], buf: &mut Vec<u8>) -> Result<(), CryptoError>;
    /// Decrypts `buf` in place and removes the padding; a bad padding or
    /// length is [`CryptoError::Decrypt`] (the caller wipes `buf`).
    fn decrypt(&self, key: &[u8], iv: &[u8], buf: &mut Vec<u8>) -> Result<(), CryptoError>;
}

/// AES in GCM mode with a 16- or 32-byte key, a 12-byte nonce and a
/// 16-byte tag (the lengths are checked by [`AesGcmCipher`](super::AesGcmCipher)
/// before it is called).
pub trait AesGcm: Send + Sync {
    /// Encrypts `buf` in place; returns the tag.
    fn seal(&self, key: &[u8], nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> Sealed;
    /// Checks `tag` and decrypts `buf` in place; any failure is
    /// [`CryptoError::Decrypt`] (the caller wipes `buf`).
    fn open(&self, key: &[u8], nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Verified;
}

/// An AES-GCM tag, or why not.
pub type Sealed = Result<[u8; 16], CryptoError>;

/// HMAC with SHA-256 or SHA-512.
pub trait Hmac: Send + Sync {
    /// The HMAC with `hash` under `key` of the concatenation of `parts`.
    fn mac(&self, hash: HashAlg, key: &[u8], parts: &[&[u8]]) -> Secret;
}

/// A raw ECDH shared secret (the x coordinate), wiped on drop.
pub type SharedSecret = Zeroizing<Vec<u8>>;

/// Ephemeral-static ECDH on P-256 and P-384 (the sender's half of ECDH-ES).
pub trait Ecdh: Send + Sync {
    /// Generates an ephemeral key on `peer`'s curve from `rng` and agrees
    /// with `peer`, refusing a point off the curve: the ephemeral public key
    /// and the shared secret (the x coordinate).
    fn ephemeral_agree(
        &self,
        peer: &EcPublicKey,
        rng: &dyn SecureRandom,
    ) -> Result<(EcPublicKey, SharedSecret), CryptoError>;
}

/// RSA encryption, the sender's half of RSA1_5 (RSAES-PKCS1-v1_5) and
/// RSA-OAEP / RSA-OAEP-256 (RSAES-OAEP with SHA-1 / SHA-256 and MGF1 of the
/// same hash, RFC 7518 4.2, 4.3). [`RsaKeyEncryption`](super::RsaKeyEncryption)
/// checks the key (RSA, 2048 bits and up) and the CEK before it calls one.
/// `m` is the CEK; a key the backend refuses is [`CryptoError::InvalidKey`].
pub trait RsaEncrypt: Send + Sync {
    /// RSAES-PKCS1-v1_5 encryption of `m` to `key`.
    fn pkcs1v15(&self, key: &RsaPublicKey, m: &[u8], rng: &dyn SecureRandom) -> Ciphertext;
    /// RSAES-OAEP encryption of `m` to `key`, SHA-1 (RSA-OAEP).
    fn oaep_sha1(&self, key: &RsaPublicKey, m: &[u8], rng: &dyn SecureRandom) -> Ciphertext;
    /// RSAES-OAEP encryption of `m` to `key`, SHA-256 (RSA-OAEP-256).
    fn oaep_sha256(&self, key: &RsaPublicKey, m: &[u8], rng: &dyn SecureRandom) -> Ciphertext;
}

/// A ciphertext, or why not.
pub type Ciphertext = Result<Vec<u8>, CryptoError>;
