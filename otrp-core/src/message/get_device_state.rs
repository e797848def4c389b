//! GetDeviceState (section 9.1): the TAM's request, each TEE's signed
//! answer, and the broker's array that wraps them.

use alloc::vec::Vec;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::envelope::{
    Direction, Envelope, GET_DEVICE_STATE_RESPONSE, MessageKind, impl_tbs, parse_top,
};
use super::failure::Failure;
use super::json::{FromJson, Obj, Path, invalid, single_member};
use super::types::{Base64Bytes, MessageId, SigAlg, Status, Version, flex_bool, one_or_many};
use super::{Limits, MessageError};
use crate::jose::Jwe;

/// `GetDeviceStateTBSRequest` (section 9.1.1): the TAM's signed query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GetDeviceStateTbsRequest {
    /// `ver`.
    pub ver: Version,
    /// `rid`: unique request id.
    pub rid: MessageId,
    /// `tid`: transaction id.
    pub tid: MessageId,
    /// `ocspdat`: OCSP stapling data for the TAM certificate and its CAs,
    /// BASE64 each. A string is accepted for a one-element list, and
    /// Appendix A.1.1.1's `icaocspdat` is appended to the list.
    pub ocspdat: Vec<Base64Bytes>,
    /// `supportedsigalgs`: the TAM's signing algorithms (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supportedsigalgs: Option<Vec<SigAlg>>,
}

impl GetDeviceStateTbsRequest {
    /// A request with these ids and OCSP data.
    pub fn new(rid: MessageId, tid: MessageId, ocspdat: Vec<Base64Bytes>) -> Self {
        GetDeviceStateTbsRequest {
            ver: Version::V1_0,
            rid,
            tid,
            ocspdat,
            supportedsigalgs: None,
        }
    }

    /// Lists the TAM's signing algorithms.
    pub fn with_supportedsigalgs(mut self, algs: impl IntoIterator<Item = SigAlg>) -> Self {
        self.supportedsigalgs = Some(algs.into_iter().collect());
        self
    }
}

impl FromJson for GetDeviceStateTbsRequest {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let ver = o.req("ver")?;
        let rid = o.req("rid")?;
        let tid = o.req("tid")?;
        let mut ocspdat: Vec<Base64Bytes> = o.req_with("ocspdat", one_or_many)?;
        if let Some(ica) = o.opt_with("icaocspdat", one_or_many::<Base64Bytes>)? {
            ocspdat.extend(ica);
        }
        let supportedsigalgs = o.opt_with("supportedsigalgs", one_or_many)?;
        o.finish()?;
        Ok(GetDeviceStateTbsRequest {
            ver,
            rid,
            tid,
            ocspdat,
            supportedsigalgs,
        })
    }
}

impl_tbs!(GetDeviceStateTbsRequest, GetDeviceState, Request);

/// What a TEE answers to GetDeviceState: the encrypted DSI, or a failure.
#[derive(Clone, Debug, PartialEq)]
pub enum TeeStateOutcome {
    /// status "pass" (section 9.1.5).
    Pass {
        /// `signerreq`: whether the TAM must send its certificate and OCSP
        /// data again in later requests.
        signerreq: bool,
        /// `edsi`: the JWE over the [`DsiDocument`](super::DsiDocument).
        edsi: Jwe,
    },
    /// status "fail" (section 9.1.6).
    Fail(Failure),
}

/// `GetDeviceTEEStateTBSResponse` (sections 9.1.5, 9.1.6): one TEE's signed
/// answer.
#[derive(Clone, Debug, PartialEq)]
pub struct GetDeviceTeeStateTbsResponse {
    /// `ver`.
    pub ver: Version,
    /// `rid` from the request.
    pub rid: MessageId,
    /// `tid` from the request.
    pub tid: MessageId,
    /// `status` with the members it implies.
    pub outcome: TeeStateOutcome,
}

impl GetDeviceTeeStateTbsResponse {
    /// A "pass" answer.
    pub fn pass(rid: MessageId, tid: MessageId, signerreq: bool, edsi: Jwe) -> Self {
        GetDeviceTeeStateTbsResponse {
            ver: Version::V1_0,
            rid,
            tid,
            outcome: TeeStateOutcome::Pass { signerreq, edsi },
        }
    }

    /// A "fail" answer.
    pub fn fail(rid: MessageId, tid: MessageId, failure: Failure) -> Self {
        GetDeviceTeeStateTbsResponse {
            ver: Version::V1_0,
            rid,
            tid,
            outcome: TeeStateOutcome::Fail(failure),
        }
    }

    /// The `status` value.
    pub fn status(&self) -> Status {
        match self.outcome {
            TeeStateOutcome::Pass { .. } => Status::Pass,
            TeeStateOutcome::Fail(_) => Status::Fail,
        }
    }
}

impl Serialize for GetDeviceTeeStateTbsResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("ver", &self.ver)?;
        m.serialize_entry("status", &self.status())?;
        m.serialize_entry("rid", &self.rid)?;
        m.serialize_entry("tid", &self.tid)?;
        match &self.outcome {
            TeeStateOutcome::Pass { signerreq, edsi } => {
                m.serialize_entry("signerreq", signerreq)?;
                m.serialize_entry("edsi", edsi)?;
            }
            TeeStateOutcome::Fail(f) => {
                m.serialize_entry("reason", &f.reason)?;
                if let Some(algs) = &f.supportedsigalgs {
                    m.serialize_entry("supportedsigalgs", algs)?;
                }
            }
        }
        m.end()
    }
}

impl FromJson for GetDeviceTeeStateTbsResponse {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let ver = o.req("ver")?;
        let status = o.req("status")?;
        let rid = o.req("rid")?;
        let tid = o.req("tid")?;
        let outcome = match status {
            Status::Pass => TeeStateOutcome::Pass {
                signerreq: o.req_with("signerreq", flex_bool)?,
                edsi: o.req("edsi")?,
            },
            Status::Fail => TeeStateOutcome::Fail(Failure::take(&mut o)?),
        };
        o.finish()?;
        Ok(GetDeviceTeeStateTbsResponse {
            ver,
            rid,
            tid,
            outcome,
        })
    }
}

impl_tbs!(GetDeviceTeeStateTbsResponse, GetDeviceState, Response);

/// `GetDeviceStateResponse` (section 9.1.5): the broker's array of one
/// signed `GetDeviceTEEStateResponse` envelope per TEE.
#[derive(Clone, Debug, PartialEq)]
pub struct GetDeviceStateResponse {
    /// The per-TEE envelopes, each a `GetDeviceTEEStateResponse`.
    pub tees: Vec<Envelope>,
}

impl GetDeviceStateResponse {
    /// Parses the array message under the limits.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError> {
        Self::from_value(parse_top(bytes, limits)?)
    }

    pub(crate) fn from_value(value: Value) -> Result<Self, MessageError> {
        let (name, list) = single_member(value, GET_DEVICE_STATE_RESPONSE)?;
        if name != GET_DEVICE_STATE_RESPONSE {
            return Err(MessageError::UnknownMessage(name));
        }
        let root = Path::Root(GET_DEVICE_STATE_RESPONSE);
        let Value::Array(items) = list else {
            return Err(invalid(&root, "expected an array"));
        };
        let mut tees = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let env = Envelope::from_value(item)?;
            if env.kind != MessageKind::GetDeviceState || env.direction != Direction::Response {
                return Err(invalid(
                    &Path::Index(&root, i),
                    "expected a GetDeviceTEEStateResponse",
                ));
            }
            tees.push(env);
        }
        Ok(GetDeviceStateResponse { tees })
    }

    /// The message as JSON bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        crate::json_writer::to_vec(self).unwrap_or_default()
    }
}

impl Serialize for GetDeviceStateResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(GET_DEVICE_STATE_RESPONSE, &self.tees)?;
        m.end()
    }
}
