//! Small value types of OTrP messages: binary members in the right alphabet,
//! SHA-256 values, identifiers, flags, and the tolerant readers for forms
//! the draft and its samples disagree on (see `docs/interop.md`).

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::MessageError;
use super::json::{FromJson, Path, impl_deserialize, invalid};
use crate::crypto::JwsAlg;
use crate::jose::b64;

/// Binary data in an OTrP-specific member, BASE64 (end of section 7.4):
/// emitted as padded standard base64; base64url is accepted on input
/// (Appendix A samples use it for `spcert`, `teespaik`, `did`, `dsihash`).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Base64Bytes(pub Vec<u8>);

/// Binary data in a JOSE-related member, BASE64URL without padding (end of
/// section 7.4). Strict on input.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Base64UrlBytes(pub Vec<u8>);

/// Decodes OTrP BASE64: padded standard base64, or unpadded base64url.
pub(crate) fn decode_otrp_b64(text: &str) -> Option<Vec<u8>> {
    b64::decode_std_public(text, "base64")
        .or_else(|_| b64::decode_url_public(text, "base64"))
        .ok()
}

impl Base64Bytes {
    /// The decoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Base64UrlBytes {
    /// The decoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Base64Bytes {
    fn from(v: Vec<u8>) -> Self {
        Base64Bytes(v)
    }
}

impl From<&[u8]> for Base64Bytes {
    fn from(v: &[u8]) -> Self {
        Base64Bytes(v.to_vec())
    }
}

impl From<Vec<u8>> for Base64UrlBytes {
    fn from(v: Vec<u8>) -> Self {
        Base64UrlBytes(v)
    }
}

impl fmt::Debug for Base64Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Base64Bytes({} bytes)", self.0.len())
    }
}

impl fmt::Debug for Base64UrlBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Base64UrlBytes({} bytes)", self.0.len())
    }
}

impl Serialize for Base64Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b64::encode_std_public(&self.0))
    }
}

impl Serialize for Base64UrlBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b64::encode_url(&self.0))
    }
}

impl FromJson for Base64Bytes {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let text = String::from_json(value, path)?;
        decode_otrp_b64(&text)
            .map(Base64Bytes)
            .ok_or_else(|| invalid(path, "not base64 or base64url"))
    }
}

impl FromJson for Base64UrlBytes {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let text = String::from_json(value, path)?;
        b64::decode_url_public(&text, "base64url")
            .map(Base64UrlBytes)
            .map_err(|_| invalid(path, "not unpadded base64url"))
    }
}

macro_rules! sha256_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The 32 hash bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), b64::encode_std(&self.0))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&b64::encode_std(&self.0))
            }
        }

        impl FromJson for $name {
            fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
                let text = String::from_json(value, path)?;
                let bytes = decode_otrp_b64(&text)
                    .ok_or_else(|| invalid(path, "not base64 or base64url"))?;
                let arr: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| invalid(path, "not a 32-byte SHA-256 value"))?;
                Ok($name(arr))
            }
        }

        impl TryFrom<&[u8]> for $name {
            type Error = MessageError;
            fn try_from(bytes: &[u8]) -> Result<Self, MessageError> {
                bytes.try_into().map($name).map_err(|_| MessageError::Invalid {
                    member: String::from(stringify!($name)),
                    reason: "not a 32-byte SHA-256 value",
                })
            }
        }
    };
}

sha256_type! {
    /// `did`: SHA-256 of the DER TEE certificate (section 9.2.1.1), BASE64.
    DeviceId
}

sha256_type! {
    /// `dsihash`: SHA-256 of the exact DSI bytes last returned (section
    /// 9.2.1.1), BASE64.
    DsiHash
}

/// An entry of `deloldspcert`: the SHA-256 of an SP certificate as hex
/// (section 9.2.2.1). Emitted in lowercase; either case accepted.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertFingerprint(pub [u8; 32]);

impl fmt::Debug for CertFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertFingerprint({})", hex_encode(&self.0, false))
    }
}

impl Serialize for CertFingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex_encode(&self.0, false))
    }
}

impl FromJson for CertFingerprint {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let text = String::from_json(value, path)?;
        hex_decode::<32>(&text)
            .map(CertFingerprint)
            .ok_or_else(|| invalid(path, "not 64 hex digits"))
    }
}

/// `encrypted_ta.iv`: 16 bytes, "hex of 16 random bytes" (section 9.3.1.1).
/// Emitted as uppercase hex (as in Appendix A.2.1.1); the base64url form of
/// Appendix A.2.2.1 is accepted.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaIv(pub [u8; 16]);

impl fmt::Debug for TaIv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaIv({})", hex_encode(&self.0, true))
    }
}

impl Serialize for TaIv {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex_encode(&self.0, true))
    }
}

impl FromJson for TaIv {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let text = String::from_json(value, path)?;
        if let Some(iv) = hex_decode::<16>(&text) {
            return Ok(TaIv(iv));
        }
        // 22 characters of base64url (or 24 of base64) cannot be 32 hex digits.
        decode_otrp_b64(&text)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(TaIv)
            .ok_or_else(|| invalid(path, "not 16 bytes as hex (or base64url)"))
    }
}

pub(crate) fn hex_encode(bytes: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(digits[usize::from(b >> 4)]));
        s.push(char::from(digits[usize::from(b & 0x0f)]));
    }
    s
}

fn hex_decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = char::from(*pair.first()?).to_digit(16)?;
        let lo = char::from(*pair.get(1)?).to_digit(16)?;
        *o = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// `rid` or `tid` (section 9.1.1): an opaque string, kept and echoed
/// exactly. [`MessageId::matches`] ignores one pair of enclosing braces,
/// since Appendix A.1.1 sends `8C6F...` and answers `{8C6F...}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

impl MessageId {
    /// A message id from its text.
    pub fn new(id: impl Into<String>) -> Self {
        MessageId(id.into())
    }

    /// The text without one pair of enclosing braces.
    pub fn unbraced(&self) -> &str {
        self.0
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .unwrap_or(&self.0)
    }

    /// Whether two ids name the same request or transaction, with or
    /// without enclosing braces.
    pub fn matches(&self, other: &MessageId) -> bool {
        self.unbraced() == other.unbraced()
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromJson for MessageId {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        String::from_json(value, path).map(MessageId)
    }
}

/// The message format version `ver` (section 9.1.1); only "1.0" exists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Version {
    /// "1.0", this draft.
    #[default]
    V1_0,
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("1.0")
    }
}

impl FromJson for Version {
    fn from_json(value: Value, _path: &Path<'_>) -> Result<Self, MessageError> {
        match value {
            Value::String(s) if s == "1.0" => Ok(Version::V1_0),
            Value::String(s) => Err(MessageError::UnsupportedVersion { found: s }),
            other => Err(MessageError::UnsupportedVersion {
                found: other.to_string(),
            }),
        }
    }
}

/// `status` of a response (section 7.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// "pass".
    Pass,
    /// "fail".
    Fail,
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
        })
    }
}

impl FromJson for Status {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        match value.as_str() {
            Some("pass") => Ok(Status::Pass),
            Some("fail") => Ok(Status::Fail),
            _ => Err(invalid(path, "expected \"pass\" or \"fail\"")),
        }
    }
}

/// A JWS signing algorithm name in `supportedsigalgs` (sections 9.1.1,
/// 9.1.6) or `tfwdata.sigalg` (9.1.3.1); names this library does not know
/// are kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SigAlg {
    /// A JWS algorithm this library knows.
    Known(JwsAlg),
    /// Any other name, verbatim.
    Other(String),
}

impl SigAlg {
    /// The name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            SigAlg::Known(a) => a.name(),
            SigAlg::Other(s) => s,
        }
    }
}

impl From<JwsAlg> for SigAlg {
    fn from(a: JwsAlg) -> Self {
        SigAlg::Known(a)
    }
}

impl Serialize for SigAlg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromJson for SigAlg {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let s = String::from_json(value, path)?;
        Ok(JwsAlg::from_name(&s).map_or(SigAlg::Other(s), SigAlg::Known))
    }
}

/// Key type of an SP AIK: `spaiktype`, `teespaiktype` (sections 9.1.5,
/// 9.2.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AikType {
    /// "RSA".
    Rsa,
    /// "ECC".
    Ecc,
}

impl Serialize for AikType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            AikType::Rsa => "RSA",
            AikType::Ecc => "ECC",
        })
    }
}

impl FromJson for AikType {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        match value.as_str() {
            Some("RSA") => Ok(AikType::Rsa),
            Some("ECC") => Ok(AikType::Ecc),
            _ => Err(invalid(path, "expected \"RSA\" or \"ECC\"")),
        }
    }
}

impl FromJson for super::ErrorCode {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        String::from_json(value, path).map(|s| super::ErrorCode::from_wire(&s))
    }
}

/// Reads a flag: JSON `true`/`false` (the body's form), or the strings
/// "true"/"false" (section 9.1.5's second listing, Appendix A) or "1"/"0"
/// (Appendix A.1.3.1, A.1.4.1).
pub(crate) fn flex_bool(value: Value, path: &Path<'_>) -> Result<bool, MessageError> {
    match value {
        Value::Bool(b) => Ok(b),
        Value::String(s) => match s.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(invalid(path, "expected true or false")),
        },
        _ => Err(invalid(path, "expected true or false")),
    }
}

/// Reads a list given either as an array (the body's form) or as a single
/// string value (Appendix A.1.1.1 `ocspdat`, `supportedsigalgs`; A.1.3.1
/// `spcert`).
pub(crate) fn one_or_many<T: FromJson>(
    value: Value,
    path: &Path<'_>,
) -> Result<Vec<T>, MessageError> {
    match value {
        Value::Array(_) => Vec::<T>::from_json(value, path),
        single @ Value::String(_) => Ok(vec![T::from_json(single, path)?]),
        _ => Err(invalid(path, "expected an array or a string")),
    }
}

/// Reads `cnt`: a string of decimal digits (the body's form) or a number.
pub(crate) fn flex_count(value: Value, path: &Path<'_>) -> Result<u64, MessageError> {
    match value {
        Value::Number(n) => n.as_u64().ok_or_else(|| invalid(path, "not a count")),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map_err(|_| invalid(path, "not a count"))
        }
        _ => Err(invalid(path, "not a count")),
    }
}

/// Serializes a count in the body's form, as a decimal string.
pub(crate) fn count_string(n: usize) -> String {
    n.to_string()
}

impl_deserialize!(
    Base64Bytes => "Base64Bytes",
    Base64UrlBytes => "Base64UrlBytes",
    DeviceId => "DeviceId",
    DsiHash => "DsiHash",
    CertFingerprint => "CertFingerprint",
    TaIv => "TaIv",
    MessageId => "MessageId",
    Version => "Version",
    Status => "Status",
    SigAlg => "SigAlg",
    AikType => "AikType",
    super::ErrorCode => "ErrorCode",
);
