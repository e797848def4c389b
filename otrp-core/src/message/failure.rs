//! Failure reporting shared by all responses (sections 7.6, 9.1.6).

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;
use serde_json::Value;

use super::json::{FromJson, Obj, Path, impl_deserialize};
use super::types::{SigAlg, one_or_many};
use super::{ErrorCode, MessageError};

/// `reason` of a failed response: `{"error-code": ..., "error-message": ...}`
/// (section 7.6; 9.1.6 shows only the code, so the message is optional).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `error-code`.
    #[serde(rename = "error-code")]
    pub error_code: ErrorCode,
    /// `error-message` (optional).
    #[serde(rename = "error-message", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl Reason {
    /// A reason with a code and no message.
    pub fn new(error_code: ErrorCode) -> Self {
        Reason {
            error_code,
            error_message: None,
        }
    }

    /// Adds a human-readable message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.error_message = Some(message.into());
        self
    }
}

impl FromJson for Reason {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = Reason {
            error_code: o.req("error-code")?,
            error_message: o.opt("error-message")?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// The signed, unencrypted failure of a response with status "fail"
/// (section 9.1.6): the reason, and optionally the TEE's signing algorithms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// `reason`.
    pub reason: Reason,
    /// `supportedsigalgs`: JWS algorithms the TEE can verify (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supportedsigalgs: Option<Vec<SigAlg>>,
}

impl Failure {
    /// A failure with this error code.
    pub fn new(code: ErrorCode) -> Self {
        Failure {
            reason: Reason::new(code),
            supportedsigalgs: None,
        }
    }

    /// Lists the signing algorithms the TEE supports (section 9.1.6).
    pub fn with_supportedsigalgs(mut self, algs: impl IntoIterator<Item = SigAlg>) -> Self {
        self.supportedsigalgs = Some(algs.into_iter().collect());
        self
    }

    /// Reads `reason` and `supportedsigalgs` from a response object.
    pub(crate) fn take(o: &mut Obj<'_>) -> Result<Self, MessageError> {
        Ok(Failure {
            reason: o.req("reason")?,
            supportedsigalgs: o.opt_with("supportedsigalgs", one_or_many)?,
        })
    }
}

/// `reason` inside an encrypted response content: "failure reason detail"
/// (section 9.2.1.3) as text, or the section 7.6 object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ContentReason {
    /// Free text, the body's form.
    Text(String),
    /// The section 7.6 object.
    Code(Reason),
}

impl FromJson for ContentReason {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        match value {
            Value::String(s) => Ok(ContentReason::Text(s)),
            other => Reason::from_json(other, path).map(ContentReason::Code),
        }
    }
}

impl_deserialize!(
    Reason => "reason",
    ContentReason => "reason",
);
