//! The signed TBS requests and responses of CreateSD, UpdateSD, DeleteSD
//! (section 9.2), InstallTA, UpdateTA and DeleteTA (section 9.3), and the
//! `encrypted_ta` member (section 9.3.1.1).

use alloc::string::String;
use alloc::vec::Vec;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::envelope::impl_tbs;
use super::failure::Failure;
use super::json::{FromJson, Obj, Path, impl_deserialize, invalid};
use super::ta_data::{self, Split};
use super::types::{Base64Bytes, DsiHash, MessageId, Status, TaIv, Version, flex_bool};
use super::{Limits, MessageError, TbsMessage};
use crate::jose::Jwe;

macro_rules! management_request {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:ident $(, $ta:ty)?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Serialize)]
        pub struct $name {
            /// `ver`.
            pub ver: Version,
            /// `rid`: unique request id.
            pub rid: MessageId,
            /// `tid`: transaction id (may come from an earlier message).
            pub tid: MessageId,
            /// `tee`: the TEE routing name from the DSI.
            pub tee: String,
            /// `nextdsi`: whether the response should carry an updated DSI.
            pub nextdsi: bool,
            /// `dsihash`: SHA-256 of the DSI last returned, BASE64.
            pub dsihash: DsiHash,
            /// `content`: the JWE over the command's content plaintext.
            pub content: Jwe,
            $(
            /// `encrypted_ta`: the TA binary and personalization data.
            pub encrypted_ta: $ta,
            )?
        }

        impl $name {
            /// A request with `nextdsi` false.
            pub fn new(
                rid: MessageId,
                tid: MessageId,
                tee: impl Into<String>,
                dsihash: DsiHash,
                content: Jwe,
                $(encrypted_ta: $ta,)?
            ) -> Self {
                $name {
                    ver: Version::V1_0,
                    rid,
                    tid,
                    tee: tee.into(),
                    nextdsi: false,
                    dsihash,
                    content,
                    $(encrypted_ta: { let v: $ta = encrypted_ta; v },)?
                }
            }

            /// Asks for an updated DSI in the response.
            pub fn with_nextdsi(mut self, nextdsi: bool) -> Self {
                self.nextdsi = nextdsi;
                self
            }
        }

        impl FromJson for $name {
            fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
                let mut o = Obj::new(value, path)?;
                let v = $name {
                    ver: o.req("ver")?,
                    rid: o.req("rid")?,
                    tid: o.req("tid")?,
                    tee: o.req("tee")?,
                    nextdsi: o.req_with("nextdsi", flex_bool)?,
                    dsihash: o.req("dsihash")?,
                    content: o.req("content")?,
                    $(encrypted_ta: o.req::<$ta>("encrypted_ta")?,)?
                };
                o.finish()?;
                Ok(v)
            }
        }

        impl_tbs!($name, $kind, Request);
    };
}

management_request! {
    /// `CreateSDTBSRequest` (section 9.2.1.1); `content` encrypts a
    /// [`CreateSdRequestContent`](super::CreateSdRequestContent).
    CreateSdTbsRequest, CreateSd
}

management_request! {
    /// `UpdateSDTBSRequest` (section 9.2.2.1); `content` encrypts an
    /// [`UpdateSdRequestContent`](super::UpdateSdRequestContent).
    UpdateSdTbsRequest, UpdateSd
}

management_request! {
    /// `DeleteSDTBSRequest` (section 9.2.3.1); `content` encrypts a
    /// [`DeleteSdRequestContent`](super::DeleteSdRequestContent).
    DeleteSdTbsRequest, DeleteSd
}

management_request! {
    /// `InstallTATBSRequest` (section 9.3.1.1); `content` encrypts an
    /// [`InstallTaRequestContent`](super::InstallTaRequestContent).
    InstallTaTbsRequest, InstallTa, InstallEncryptedTa
}

management_request! {
    /// `UpdateTATBSRequest` (section 9.3.2.1); `content` encrypts an
    /// [`UpdateTaRequestContent`](super::UpdateTaRequestContent).
    UpdateTaTbsRequest, UpdateTa, UpdateEncryptedTa
}

management_request! {
    /// `DeleteTATBSRequest` (section 9.3.3.1); `content` encrypts a
    /// [`DeleteTaRequestContent`](super::DeleteTaRequestContent).
    DeleteTaTbsRequest, DeleteTa
}

/// What a TEE answers to an SD or TA command (sections 9.2.1.3 to 9.3.3.3,
/// 9.1.6, 10).
#[derive(Clone, Debug, PartialEq)]
pub enum CommandOutcome {
    /// status "pass" with the encrypted content.
    Pass(Jwe),
    /// status "fail" with the encrypted content (its `reason` says why).
    FailEncrypted(Jwe),
    /// status "fail" with a signed, unencrypted `reason` (section 9.1.6
    /// form, for failures before a content key is available).
    Fail(Failure),
}

macro_rules! command_response {
    ($(#[$meta:meta])* $name:ident, $kind:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            /// `ver`.
            pub ver: Version,
            /// `rid` from the request.
            pub rid: MessageId,
            /// `tid` from the request.
            pub tid: MessageId,
            /// `status` with the members it implies.
            pub outcome: CommandOutcome,
        }

        impl $name {
            /// A response with this outcome.
            pub fn new(rid: MessageId, tid: MessageId, outcome: CommandOutcome) -> Self {
                $name {
                    ver: Version::V1_0,
                    rid,
                    tid,
                    outcome,
                }
            }

            /// The `status` value.
            pub fn status(&self) -> Status {
                match self.outcome {
                    CommandOutcome::Pass(_) => Status::Pass,
                    _ => Status::Fail,
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serialize_response(s, &self.ver, &self.rid, &self.tid, &self.outcome)
            }
        }

        impl FromJson for $name {
            fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
                let (ver, rid, tid, outcome) = parse_response(value, path)?;
                Ok($name {
                    ver,
                    rid,
                    tid,
                    outcome,
                })
            }
        }

        impl_tbs!($name, $kind, Response);

        impl CommandResponse for $name {
            fn into_parts(self) -> (MessageId, MessageId, CommandOutcome) {
                (self.rid, self.tid, self.outcome)
            }
        }
    };
}

/// What the six SD/TA command responses share (sections 9.2 and 9.3): the
/// echoed rid/tid and the outcome, so a TAM can check any of them alike.
pub trait CommandResponse: super::TbsMessage {
    /// The echoed `rid`, `tid` and the outcome.
    fn into_parts(self) -> (MessageId, MessageId, CommandOutcome);
}

fn serialize_response<S: Serializer>(
    s: S,
    ver: &Version,
    rid: &MessageId,
    tid: &MessageId,
    outcome: &CommandOutcome,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(None)?;
    m.serialize_entry("ver", ver)?;
    let status = match outcome {
        CommandOutcome::Pass(_) => Status::Pass,
        _ => Status::Fail,
    };
    m.serialize_entry("status", &status)?;
    m.serialize_entry("rid", rid)?;
    m.serialize_entry("tid", tid)?;
    match outcome {
        CommandOutcome::Pass(c) | CommandOutcome::FailEncrypted(c) => {
            m.serialize_entry("content", c)?;
        }
        CommandOutcome::Fail(f) => {
            m.serialize_entry("reason", &f.reason)?;
            if let Some(algs) = &f.supportedsigalgs {
                m.serialize_entry("supportedsigalgs", algs)?;
            }
        }
    }
    m.end()
}

fn parse_response(
    value: Value,
    path: &Path<'_>,
) -> Result<(Version, MessageId, MessageId, CommandOutcome), MessageError> {
    let mut o = Obj::new(value, path)?;
    let ver = o.req("ver")?;
    let status = o.req("status")?;
    let rid = o.req("rid")?;
    let tid = o.req("tid")?;
    let outcome = match status {
        Status::Pass => CommandOutcome::Pass(o.req("content")?),
        Status::Fail if o.has("content") => CommandOutcome::FailEncrypted(o.req("content")?),
        Status::Fail => CommandOutcome::Fail(Failure::take(&mut o)?),
    };
    o.finish()?;
    Ok((ver, rid, tid, outcome))
}

command_response! {
    /// `CreateSDTBSResponse` (section 9.2.1.3); `content` encrypts a
    /// [`CreateSdResponseContent`](super::CreateSdResponseContent).
    CreateSdTbsResponse, CreateSd
}

command_response! {
    /// `UpdateSDTBSResponse` (section 9.2.2.3); `content` encrypts an
    /// [`UpdateSdResponseContent`](super::UpdateSdResponseContent).
    UpdateSdTbsResponse, UpdateSd
}

command_response! {
    /// `DeleteSDTBSResponse` (section 9.2.3.3); `content` encrypts a
    /// [`ResponseContent`](super::ResponseContent).
    DeleteSdTbsResponse, DeleteSd
}

command_response! {
    /// `InstallTATBSResponse` (section 9.3.1.2); `content` encrypts a
    /// [`ResponseContent`](super::ResponseContent).
    InstallTaTbsResponse, InstallTa
}

command_response! {
    /// `UpdateTATBSResponse` (section 9.3.2.2); `content` encrypts a
    /// [`ResponseContent`](super::ResponseContent).
    UpdateTaTbsResponse, UpdateTa
}

command_response! {
    /// `DeleteTATBSResponse` (section 9.3.3.3); `content` encrypts a
    /// [`ResponseContent`](super::ResponseContent).
    DeleteTaTbsResponse, DeleteTa
}

/// `encrypted_ta.key` (section 9.3.1.1): the TA data key, wrapped for the
/// TEE SP AIK.
#[derive(Clone, Debug, PartialEq)]
pub enum TaKey {
    /// A JWE enveloping the 256-bit key (the body of section 9.3.1.1).
    Jwe(Jwe),
    /// The key encrypted directly with the SP AIK (RSA), BASE64 (Appendix
    /// A.2.1.1; A.2.2.1 uses base64url).
    Wrapped(Base64Bytes),
}

impl Serialize for TaKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TaKey::Jwe(j) => j.serialize(s),
            TaKey::Wrapped(b) => b.serialize(s),
        }
    }
}

impl FromJson for TaKey {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        match value {
            Value::String(_) => Base64Bytes::from_json(value, path).map(TaKey::Wrapped),
            other => Jwe::from_json(other, path).map(TaKey::Jwe),
        }
    }
}

/// `encrypted_ta.alg`: the TA data cipher (section 9.3.1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TaEncAlg {
    /// "AESCBC", the default.
    #[default]
    AesCbc,
}

impl Serialize for TaEncAlg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("AESCBC")
    }
}

impl FromJson for TaEncAlg {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        match value {
            Value::String(s) if s == "AESCBC" => Ok(TaEncAlg::AesCbc),
            Value::String(s) => Err(MessageError::UnsupportedAlgorithm {
                member: alloc::string::ToString::to_string(path),
                found: s,
            }),
            _ => Err(invalid(path, "expected a string")),
        }
    }
}

/// `encrypted_ta` of an InstallTA request (section 9.3.1.1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstallEncryptedTa {
    /// `key`: the wrapped TA data key.
    pub key: TaKey,
    /// `iv`: 16 bytes, hex.
    pub iv: TaIv,
    /// `alg`: the TA data cipher.
    pub alg: TaEncAlg,
    /// `ciphertadata`: the encrypted TA binary, BASE64.
    pub ciphertadata: Base64Bytes,
    /// `cipherpdata`: the encrypted personalization data, BASE64; optional
    /// since section 9.3.1 says "if there is any".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipherpdata: Option<Base64Bytes>,
}

impl InstallEncryptedTa {
    /// An encrypted TA without personalization data.
    pub fn new(key: TaKey, iv: TaIv, ciphertadata: Base64Bytes) -> Self {
        InstallEncryptedTa {
            key,
            iv,
            alg: TaEncAlg::AesCbc,
            ciphertadata,
            cipherpdata: None,
        }
    }

    /// Adds encrypted personalization data.
    pub fn with_cipherpdata(mut self, data: Base64Bytes) -> Self {
        self.cipherpdata = Some(data);
        self
    }
}

impl FromJson for InstallEncryptedTa {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = InstallEncryptedTa {
            key: o.req("key")?,
            iv: o.req("iv")?,
            alg: o.req("alg")?,
            ciphertadata: o.req("ciphertadata")?,
            cipherpdata: o.opt("cipherpdata")?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// `encrypted_ta` of an UpdateTA request (section 9.3.2.1): a new TA
/// binary, new personalization data, or both (at least one, section 9.3.2).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UpdateEncryptedTa {
    /// `key`: the wrapped TA data key.
    pub key: TaKey,
    /// `iv`: 16 bytes, hex.
    pub iv: TaIv,
    /// `alg`: the TA data cipher.
    pub alg: TaEncAlg,
    /// `ciphernewtadata`: the new encrypted TA binary, BASE64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciphernewtadata: Option<Base64Bytes>,
    /// `ciphernewpdata`: the new encrypted personalization data, BASE64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciphernewpdata: Option<Base64Bytes>,
}

impl UpdateEncryptedTa {
    /// An update of the TA binary only.
    pub fn new(key: TaKey, iv: TaIv, ciphernewtadata: Base64Bytes) -> Self {
        UpdateEncryptedTa {
            key,
            iv,
            alg: TaEncAlg::AesCbc,
            ciphernewtadata: Some(ciphernewtadata),
            ciphernewpdata: None,
        }
    }

    /// An update of the personalization data only.
    pub fn new_pdata(key: TaKey, iv: TaIv, ciphernewpdata: Base64Bytes) -> Self {
        UpdateEncryptedTa {
            key,
            iv,
            alg: TaEncAlg::AesCbc,
            ciphernewtadata: None,
            ciphernewpdata: Some(ciphernewpdata),
        }
    }

    /// Adds new personalization data.
    pub fn with_ciphernewpdata(mut self, data: Base64Bytes) -> Self {
        self.ciphernewpdata = Some(data);
        self
    }
}

impl FromJson for UpdateEncryptedTa {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = UpdateEncryptedTa {
            key: o.req("key")?,
            iv: o.req("iv")?,
            alg: o.req("alg")?,
            ciphernewtadata: o.opt("ciphernewtadata")?,
            ciphernewpdata: o.opt("ciphernewpdata")?,
        };
        o.finish()?;
        if v.ciphernewtadata.is_none() && v.ciphernewpdata.is_none() {
            return Err(MessageError::Missing {
                member: alloc::string::ToString::to_string(&path.member("ciphernewtadata")),
            });
        }
        Ok(v)
    }
}

impl_deserialize!(
    TaKey => "key",
    TaEncAlg => "alg",
    InstallEncryptedTa => "encrypted_ta",
    UpdateEncryptedTa => "encrypted_ta",
);

impl InstallTaTbsRequest {
    /// Parses a verified payload like [`TbsMessage::from_payload`], taking
    /// the buffer: `ciphertadata`, nearly all of the payload, is decoded in
    /// place and keeps the buffer, instead of being copied and decoded
    /// into another (a TEE's memory for a large TA).
    pub fn from_payload_vec(payload: Vec<u8>, limits: &Limits) -> Result<Self, TaPayloadError> {
        let (mut req, data) = read_ta_payload::<Self>(payload, "ciphertadata", limits)?;
        if let Some(data) = data {
            req.encrypted_ta.ciphertadata = Base64Bytes(data);
        }
        Ok(req)
    }
}

impl UpdateTaTbsRequest {
    /// [`InstallTaTbsRequest::from_payload_vec`] for `ciphernewtadata`.
    pub fn from_payload_vec(payload: Vec<u8>, limits: &Limits) -> Result<Self, TaPayloadError> {
        let (mut req, data) = read_ta_payload::<Self>(payload, "ciphernewtadata", limits)?;
        if let Some(data) = data {
            req.encrypted_ta.ciphernewtadata = Some(Base64Bytes(data));
        }
        Ok(req)
    }
}

/// A TA request payload that did not parse: the error, and the bytes of
/// the payload its `rid` and `tid` can still be read from (the payload
/// without its TA data where it was split off), so that the refusal echoes
/// them (13.1) without the TA data being scanned on the success path.
#[derive(Debug)]
pub struct TaPayloadError {
    /// Why the payload was refused.
    pub error: MessageError,
    /// The payload, or the part of it left after the TA data was split off.
    pub payload: Vec<u8>,
}

/// Parses a TA payload with `encrypted_ta.<member>` split off and decoded
/// in place (`None` when it was not a plain string, and so was parsed with
/// the rest).
fn read_ta_payload<T: TbsMessage>(
    payload: Vec<u8>,
    member: &'static str,
    limits: &Limits,
) -> Result<(T, Option<Vec<u8>>), TaPayloadError> {
    let limit = T::KIND.size_limit(limits);
    if payload.len() > limit {
        let error = MessageError::TooLarge {
            size: payload.len(),
            limit,
        };
        return Err(TaPayloadError { error, payload });
    }
    match ta_data::split(payload, T::tbs_name(), member) {
        Err(payload) => match T::from_payload(&payload, limits) {
            Ok(req) => Ok((req, None)),
            Err(error) => Err(TaPayloadError { error, payload }),
        },
        Ok(Split { rest, mut data }) => {
            let req = match T::from_payload(&rest, limits) {
                Ok(req) => req,
                Err(error) => {
                    return Err(TaPayloadError {
                        error,
                        payload: rest,
                    });
                }
            };
            let root = Path::Root(T::tbs_name());
            let eta = root.member("encrypted_ta");
            match ta_data::decode(&mut data, &eta.member(member)) {
                Ok(()) => Ok((req, Some(data))),
                Err(error) => Err(TaPayloadError {
                    error,
                    payload: rest,
                }),
            }
        }
    }
}
