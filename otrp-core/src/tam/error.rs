//! [`TamError`]: why the TAM refused to build a request or to accept a
//! response. A refused response never changes the session's state.

use alloc::string::String;

use crate::crypto::CryptoError;
use crate::jose::JoseError;
use crate::message::{MessageError, MessageKind};
use crate::pki::PkiError;

/// Why a request could not be built or a response was refused.
///
/// Every refusal of a response leaves the [`DeviceState`](super::DeviceState)
/// exactly as it was, so the genuine answer can still be handled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TamError {
    /// A response arrived while no request was outstanding (a replay, or a
    /// second answer to the same request).
    #[error("no request is outstanding")]
    NoOutstandingRequest,
    /// A request was asked for while another one awaits its answer: one
    /// conversation carries one request at a time.
    #[error("a {} is still outstanding", .0.envelope_name(crate::message::Direction::Request))]
    RequestOutstanding(MessageKind),
    /// The response is for another command than the outstanding request
    /// (re-ordered or mis-routed).
    #[error(
        "expected a {}, got a {}",
        .expected.envelope_name(crate::message::Direction::Response),
        .found.envelope_name(crate::message::Direction::Response)
    )]
    UnexpectedResponse {
        /// The command of the outstanding request.
        expected: MessageKind,
        /// The command the response answers.
        found: MessageKind,
    },
    /// The response's `rid` or `tid` is not the outstanding request's
    /// (a replayed or re-ordered response, section 9.1.1).
    #[error("response {member} does not match the outstanding request")]
    IdMismatch {
        /// `rid` or `tid`.
        member: &'static str,
    },
    /// The response is not what a TEE or broker sends (syntax, members).
    #[error("malformed response: {0}")]
    Message(#[from] MessageError),
    /// Signature verification or decryption failed (tampered, or sent by or
    /// for someone else).
    #[error("JOSE: {0}")]
    Jose(#[from] JoseError),
    /// A certificate (TEE, TFW, TAM configuration) was refused.
    #[error("PKI: {0}")]
    Pki(#[from] PkiError),
    /// The crypto provider failed or lacks an algorithm.
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// The response's `did` is not the hash of the TEE certificate the
    /// request was encrypted to (9.2.1.3).
    #[error("response did is not the target TEE's")]
    DidMismatch,
    /// The CreateSD response names another SD than the one requested.
    #[error("response sdname is not the requested one")]
    SdNameMismatch,
    /// The firmware signed data does not sign this request's `tid` (9.1.3):
    /// stale or copied from another exchange.
    #[error("TfwData does not sign this request's tid")]
    TfwNotFresh,
    /// The TEE acceptance policy refused the TEE (9.1.7).
    #[error("TEE not accepted: {0}")]
    NotAccepted(String),
    /// No GetDeviceState has been answered for the TEE named (a command
    /// needs its certificate and DSI).
    #[error("unknown TEE {0:?}: run GetDeviceState first")]
    UnknownTee(String),
    /// The last command changed the device without returning a DSI, so the
    /// `dsihash` would be stale: run GetDeviceState (or ask for `nextdsi`).
    #[error("the DSI of TEE {0:?} is stale: run GetDeviceState first")]
    StaleDsi(String),
    /// The DSI lists no TEE SP AIK for this SP, so a TA cannot be encrypted
    /// to it (9.3.1.1).
    #[error("no TEE SP AIK for SP {0:?}")]
    NoSpAik(String),
    /// A key in a certificate or DSI is of a type the basic profile does
    /// not encrypt to (section 11: RSA or P-256).
    #[error("unsupported key for encryption")]
    UnsupportedKey,
    /// The request is not well formed (an UpdateTA with neither TA nor
    /// personalization data, a TAM chain without a certificate, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// Stored device state could not be read back.
    #[error("invalid stored state: {0}")]
    InvalidState(&'static str),
}
