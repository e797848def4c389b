//! The one error type every backend reports.

/// Why a cryptographic operation did not succeed. Deliberately coarse where
/// detail would help an attacker: every decryption failure is [`Decrypt`].
///
/// Non-exhaustive: a backend may need a new reason (a hardware token, a
/// policy refusal) without breaking callers' matches.
///
/// [`Decrypt`]: CryptoError::Decrypt
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The provider or key does not implement this algorithm (the protocol
    /// answers ERR_UNSUPPORTED_CRYPTO_ALG).
    #[error("algorithm {0} is not supported by this provider")]
    Unsupported(&'static str),
    /// The key is of the wrong kind for the algorithm (RSA for ES256, a
    /// P-384 key for ES256, a 16-byte key for A256KW, ...).
    #[error("the key does not fit the algorithm")]
    KeyMismatch,
    /// The key material is malformed or not a valid key.
    #[error("invalid key")]
    InvalidKey,
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// Decryption or unwrapping failed (tag, padding or integrity check).
    #[error("decryption failed")]
    Decrypt,
    /// An IV, tag, CEK or input has a length the algorithm does not allow.
    #[error("invalid length")]
    InvalidLength,
    /// The random source failed.
    #[error("random source failed")]
    Random,
    /// The backend failed for a reason of its own (a hardware key, say).
    #[error("crypto backend failure")]
    Backend,
}
