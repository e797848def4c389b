//! [`ErrorCode`] (spec sections 9, 10 and 13.1) and [`MessageError`], the
//! reason a message was refused, each mapped to the code a TEE answers with.

use alloc::string::String;
use core::fmt;

macro_rules! error_codes {
    ($($(#[$meta:meta])* $variant:ident = $wire:literal,)+) => {
        /// An OTrP error code with its exact wire string (sections 9.x.x
        /// "Error Conditions", 10 and 13.1). Unknown codes keep their text.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$meta])* $variant,)+
            /// A code this library does not know, kept verbatim.
            Other(String),
        }

        impl ErrorCode {
            /// Every known code, in declaration order.
            pub const KNOWN: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The exact wire string (section 13.1 spelling).
            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$variant => $wire,)+
                    ErrorCode::Other(s) => s,
                }
            }

            /// Parses a wire string; `ERR_SD_ALREADY_EXIST` (section 9.2.1.4)
            /// is read as [`ErrorCode::SdAlreadyExists`] (section 13.1).
            pub fn from_wire(s: &str) -> ErrorCode {
                match s {
                    $($wire => ErrorCode::$variant,)+
                    "ERR_SD_ALREADY_EXIST" => ErrorCode::SdAlreadyExists,
                    other => ErrorCode::Other(String::from(other)),
                }
            }
        }
    };
}

error_codes! {
    /// Invalid structure, missing or undefined member, bad signature or
    /// failed decryption (sections 9.1.6, 13.1).
    RequestInvalid = "ERR_REQUEST_INVALID",
    /// A message version the TEE cannot handle (sections 9.1.6, 13.1).
    UnsupportedMsgVersion = "ERR_UNSUPPORTED_MSG_VERSION",
    /// A cryptographic algorithm the TEE does not support (sections 9.1.6, 13.1).
    UnsupportedCryptoAlg = "ERR_UNSUPPORTED_CRYPTO_ALG",
    /// The dsihash does not match the current DSI (section 13.1).
    DevStateMismatch = "ERR_DEV_STATE_MISMATCH",
    /// The SD to create already exists (section 13.1; 9.2.1.4 spells it
    /// `ERR_SD_ALREADY_EXIST`).
    SdAlreadyExists = "ERR_SD_ALREADY_EXISTS",
    /// The target SD does not exist (sections 9.2.1.4 to 9.3.3.4).
    SdNotFound = "ERR_SD_NOT_FOUND",
    /// The SD still holds TAs (sections 9.2.3, 13.1).
    SdNotEmpty = "ERR_SD_NOT_EMPTY",
    /// The new SD name is already in use (sections 9.2.2.4, 13.1).
    SdNameAlreadyUsed = "ERR_SDNAME_ALREADY_USED",
    /// The SP certificate is not valid (section 13.1).
    SpCertInvalid = "ERR_SPCERT_INVALID",
    /// The TA is already installed in the SD (section 13.1).
    TaAlreadyInstalled = "ERR_TA_ALREADY_INSTALLED",
    /// The TA binary or its encryption is not valid (section 13.1).
    TaInvalid = "ERR_TA_INVALID",
    /// The target TA does not exist in the SD (section 13.1).
    TaNotFound = "ERR_TA_NOT_FOUND",
    /// An internal TEE error, still able to sign (sections 9.1.6, 13.1).
    TeeFail = "ERR_TEE_FAIL",
    /// A device resource such as storage is exhausted (section 13.1).
    TeeResourceFull = "ERR_TEE_RESOURCE_FULL",
    /// The device firmware is not trusted (sections 9.1.6, 13.1).
    TfwNotTrusted = "ERR_TFW_NOT_TRUSTED",
    /// The TAM certificate or OCSP data is not trusted (sections 9.1.6, 13.1).
    TamNotTrusted = "ERR_TAM_NOT_TRUSTED",
    /// The TAM does not own the SD (sections 9.2.1.4 to 9.3.3.4).
    TamNotAuthorized = "ERR_TAM_NOT_AUTHORIZED",
    /// OTrP Broker: the TEE is unknown (section 10).
    AgentTeeUnknown = "ERR_AGENT_TEE_UNKNOWN",
    /// OTrP Broker: the TEE is busy (section 10).
    AgentTeeBusy = "ERR_AGENT_TEE_BUSY",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Why an OTrP message was refused. Each variant names the member (as a
/// path such as `CreateSDTBSRequest.content.spid`) and maps to the error
/// code a TEE answers with ([`MessageError::error_code`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The input exceeds [`Limits`](super::Limits) (checked before parsing).
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The applicable limit.
        limit: usize,
    },
    /// JSON nesting exceeds [`Limits::max_depth`](super::Limits::max_depth).
    #[error("JSON nesting deeper than {limit}")]
    TooDeep {
        /// The applicable limit.
        limit: usize,
    },
    /// The input is not well-formed JSON (or repeats a member name).
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A mandatory member is absent (section 9: all members are mandatory
    /// unless marked optional).
    #[error("missing member {member}")]
    Missing {
        /// Path of the absent member.
        member: String,
    },
    /// A member the spec does not define (section 9.1.6).
    #[error("undefined member {member}")]
    Undefined {
        /// Path of the undefined member.
        member: String,
    },
    /// A member has the wrong type or value.
    #[error("invalid member {member}: {reason}")]
    Invalid {
        /// Path of the member.
        member: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// `ver` is not "1.0" (section 9.1.6).
    #[error("unsupported message version {found:?}")]
    UnsupportedVersion {
        /// The version found.
        found: String,
    },
    /// An algorithm this library does not support (e.g. `encrypted_ta.alg`).
    #[error("unsupported algorithm {found:?} in {member}")]
    UnsupportedAlgorithm {
        /// Path of the member.
        member: String,
        /// The algorithm found.
        found: String,
    },
    /// The envelope or payload names no OTrP message this library knows.
    #[error("unknown message {0:?}")]
    UnknownMessage(String),
    /// The signed payload's TBS name does not match the message expected
    /// (section 7.4: the outer name is not signed).
    #[error("payload is {found:?}, expected {expected:?}")]
    NameMismatch {
        /// The TBS name expected.
        expected: &'static str,
        /// The TBS name found.
        found: String,
    },
}

impl MessageError {
    /// The error code a TEE answers with (sections 9.1.6 and 13.1).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            MessageError::UnsupportedVersion { .. } => ErrorCode::UnsupportedMsgVersion,
            MessageError::UnsupportedAlgorithm { .. } => ErrorCode::UnsupportedCryptoAlg,
            _ => ErrorCode::RequestInvalid,
        }
    }
}
