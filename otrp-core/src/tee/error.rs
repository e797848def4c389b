//! Errors of the TEE agent: [`TeeFault`] (no signed answer possible),
//! [`TeeError`] (opening the agent, local operations), and the internal
//! refusal that becomes a signed "fail" response.

use crate::crypto::CryptoError;
use crate::jose::JoseError;
use crate::message::{ErrorCode, MessageError};
use crate::pki::PkiError;

use super::hooks::StorageError;
use super::state::StateError;

/// A request the TEE cannot answer with a signed response. The broker then
/// answers with `OTrPBrokerError` (section 10: "If a TEE isn't able to sign
/// a response, the TEE returns an error to the OTrP Broker without giving
/// any other internal information").
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TeeFault {
    /// The input is not an OTrP request envelope (no command to answer).
    #[error("not an OTrP request: {0}")]
    NotARequest(MessageError),
    /// Signing the response failed.
    #[error("the TEE cannot sign: {0}")]
    CannotSign(JoseError),
    /// [`super::Tee::handle_now`] without a clock hook.
    #[error("no clock configured")]
    NoClock,
}

/// Why the agent could not open or carry out a local operation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TeeError {
    /// Secure storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The stored state does not parse.
    #[error(transparent)]
    State(#[from] StateError),
    /// The provider lacks SHA-256.
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// The SD or TA named does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A rollback found no previous version.
    #[error("the TA has no previous version")]
    NoPreviousVersion,
    /// The commit failed with this code.
    #[error("commit failed: {0}")]
    Commit(ErrorCode),
}

/// A refused request: the error code of the signed "fail" response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: ErrorCode,
    pub(crate) message: &'static str,
    pub(crate) replay: bool,
}

impl Refusal {
    pub(crate) fn new(code: ErrorCode, message: &'static str) -> Self {
        Refusal {
            code,
            message,
            replay: false,
        }
    }

    pub(crate) fn tee_fail(message: &'static str) -> Self {
        Refusal::new(ErrorCode::TeeFail, message)
    }

    pub(crate) fn replay() -> Self {
        Refusal {
            code: ErrorCode::RequestInvalid,
            message: "rid/tid already used",
            replay: true,
        }
    }

    pub(crate) fn message(e: &MessageError) -> Self {
        Refusal::new(e.error_code(), "request structure")
    }
}

/// A JOSE refusal: an algorithm the TEE lacks is `ERR_UNSUPPORTED_CRYPTO_ALG`,
/// anything else (structure, signature, decryption) `ERR_REQUEST_INVALID`
/// (9.1.6).
pub(crate) fn jose_refusal(e: &JoseError) -> Refusal {
    match e {
        JoseError::UnknownAlgorithm(_)
        | JoseError::AlgNone
        | JoseError::AlgorithmNotAllowed(_)
        | JoseError::CompressionUnsupported
        | JoseError::Crypto(CryptoError::Unsupported(_)) => {
            Refusal::new(ErrorCode::UnsupportedCryptoAlg, "algorithm not supported")
        }
        JoseError::BadSignature => Refusal::new(ErrorCode::RequestInvalid, "bad signature"),
        JoseError::Decrypt => Refusal::new(ErrorCode::RequestInvalid, "content does not decrypt"),
        _ => Refusal::new(ErrorCode::RequestInvalid, "JOSE structure"),
    }
}

/// A PKI refusal with the code `PkiError::code` assigns.
pub(crate) fn pki_refusal(e: &PkiError) -> Refusal {
    Refusal::new(ErrorCode::from_wire(e.code()), "certificate")
}
