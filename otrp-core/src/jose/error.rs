//! Errors of the JOSE layer, each naming exactly what was wrong.

use alloc::string::String;

use crate::crypto::CryptoError;

/// Why a JWS or JWE was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JoseError {
    /// A member is not valid base64url (or base64, for `x5c`).
    #[error("invalid base64 in {0}")]
    Base64(&'static str),
    /// The input is not the JSON this object needs.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// The serialization's structure is wrong.
    #[error("malformed JOSE object: {0}")]
    Malformed(&'static str),
    /// A required member or header parameter is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// A header parameter appears twice (in one object, or in both the
    /// protected and an unprotected header).
    #[error("duplicate header parameter {0:?}")]
    DuplicateHeader(String),
    /// A header parameter has the wrong type or value.
    #[error("invalid header parameter {0}")]
    InvalidHeader(&'static str),
    /// A JWS `alg` outside the protected header (spec 7.4 requires it there).
    #[error("alg must be in the protected header")]
    AlgNotProtected,
    /// More signatures or recipients than this library processes.
    #[error("too many {0}")]
    TooMany(&'static str),
    /// `alg` is "none": unsecured JWS is never accepted.
    #[error("alg \"none\" is refused")]
    AlgNone,
    /// `alg` or `enc` names an algorithm this library does not know.
    #[error("unknown algorithm {0:?}")]
    UnknownAlgorithm(String),
    /// The algorithm is known but not in the caller's allowed set.
    #[error("algorithm {0} is not allowed here")]
    AlgorithmNotAllowed(&'static str),
    /// The key is of the wrong kind for the algorithm in the header.
    #[error("the key does not fit algorithm {0}")]
    KeyMismatch(&'static str),
    /// `crit` names extensions this library does not understand.
    #[error("critical header parameter {0:?} is not understood")]
    CriticalUnsupported(String),
    /// `zip` (compression) is not supported.
    #[error("compressed JWE (zip) is not supported")]
    CompressionUnsupported,
    /// No signature verified with the given key.
    #[error("signature verification failed")]
    BadSignature,
    /// Decryption failed: tag, padding or key unwrap (one error for all).
    #[error("decryption failed")]
    Decrypt,
    /// The serialization asked for cannot express this object.
    #[error("cannot serialize as {0}")]
    NotSerializable(&'static str),
    /// A building rule was broken (ECDH-ES direct with several recipients, ...).
    #[error("invalid construction: {0}")]
    InvalidConstruction(&'static str),
    /// The crypto provider or key refused the operation.
    #[error(transparent)]
    Crypto(CryptoError),
}

impl From<CryptoError> for JoseError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::BadSignature => JoseError::BadSignature,
            CryptoError::Decrypt => JoseError::Decrypt,
            other => JoseError::Crypto(other),
        }
    }
}

impl From<serde_json::Error> for JoseError {
    fn from(e: serde_json::Error) -> Self {
        use alloc::string::ToString;
        let msg = e.to_string();
        // serde carries our duplicate-name refusal as text; recover the name.
        // Only a message that *starts* with our marker is ours: serde echoes
        // input strings in other messages.
        match msg.strip_prefix(super::header::DUPLICATE_PREFIX) {
            Some(rest) => {
                let name = rest.rsplit_once(" at line").map_or(rest, |(name, _)| name);
                JoseError::DuplicateHeader(name.to_string())
            }
            None => JoseError::Json(msg),
        }
    }
}
