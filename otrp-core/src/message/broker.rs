//! `OTrPBrokerError` (section 10, Type 2): the broker's unsigned error when
//! the TEE cannot answer, and [`ResponseMessage`], anything a TAM may get
//! back.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::borrow::Borrow;

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::envelope::{
    Direction, Envelope, EnvelopeRef, GET_DEVICE_STATE_RESPONSE, Named, OTRP_BROKER_ERROR,
    parse_top,
};
use super::get_device_state::GetDeviceStateResponse;
use super::json::{FromJson, Obj, Path, impl_deserialize, invalid, single_member};
use super::types::{MessageId, Version};
use super::{ErrorCode, Limits, MessageError};

/// `OTrPBrokerError` (section 10): `ERR_AGENT_TEE_UNKNOWN` or
/// `ERR_AGENT_TEE_BUSY`, unsigned; `rid`/`tid` may be empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BrokerError {
    /// `ver`.
    pub ver: Version,
    /// `rid` (may be empty).
    pub rid: MessageId,
    /// `tid` (may be empty).
    pub tid: MessageId,
    /// `errcode`.
    pub errcode: ErrorCode,
}

impl BrokerError {
    /// A broker error with this code and the request's ids (or empty ones).
    pub fn new(rid: MessageId, tid: MessageId, errcode: ErrorCode) -> Self {
        BrokerError {
            ver: Version::V1_0,
            rid,
            tid,
            errcode,
        }
    }

    /// Parses `{"OTrPBrokerError": {...}}` under the limits.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError> {
        Self::from_top(parse_top(bytes, limits)?)
    }

    fn from_top(value: Value) -> Result<Self, MessageError> {
        let (name, inner) = single_member(value, OTRP_BROKER_ERROR)?;
        if name != OTRP_BROKER_ERROR {
            return Err(MessageError::UnknownMessage(name));
        }
        Self::from_json(inner, &Path::Root(OTRP_BROKER_ERROR))
    }

    /// `{"OTrPBrokerError": {...}}` as bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        crate::json_writer::to_vec(&Named(OTRP_BROKER_ERROR, self)).unwrap_or_default()
    }
}

impl FromJson for BrokerError {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = BrokerError {
            ver: o.req("ver")?,
            rid: o.req("rid")?,
            tid: o.req("tid")?,
            errcode: o.req("errcode")?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// Anything a TAM may receive back (section 10): a signed response, the
/// GetDeviceState array, or a broker error.
///
/// `J` holds a signed response's JWS text: owned (the default, from
/// [`ResponseMessage::parse`]) or borrowed from the bytes received (from
/// [`ResponseMessage::parse_borrowed`], which spares the copy).
#[derive(Clone, Debug)]
pub enum ResponseMessage<J: Borrow<RawValue> = Box<RawValue>> {
    /// A TEE-signed `<Name>Response` (Type 1).
    Signed(Envelope<J>),
    /// `GetDeviceStateResponse`, one signed answer per TEE (Type 1).
    DeviceState(GetDeviceStateResponse),
    /// `OTrPBrokerError` (Type 2).
    BrokerError(BrokerError),
}

/// Equal when the same message was received (a JWS compares by its text).
impl<J: Borrow<RawValue>> PartialEq for ResponseMessage<J> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ResponseMessage::Signed(a), ResponseMessage::Signed(b)) => a == b,
            (ResponseMessage::DeviceState(a), ResponseMessage::DeviceState(b)) => a == b,
            (ResponseMessage::BrokerError(a), ResponseMessage::BrokerError(b)) => a == b,
            _ => false,
        }
    }
}

impl ResponseMessage {
    /// Parses a response under the limits; request envelopes are refused.
    /// A signed response is read without building a JSON tree (its JWS is
    /// kept as text); the array and the broker error are parsed as values.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError> {
        Ok(match ResponseMessage::parse_borrowed(bytes, limits)? {
            ResponseMessage::Signed(env) => ResponseMessage::Signed(env.to_owned_envelope()),
            ResponseMessage::DeviceState(array) => ResponseMessage::DeviceState(array),
            ResponseMessage::BrokerError(err) => ResponseMessage::BrokerError(err),
        })
    }
}

impl<'a> ResponseMessage<&'a RawValue> {
    /// [`ResponseMessage::parse`] with a signed response's JWS text
    /// borrowed from `bytes`.
    pub fn parse_borrowed(bytes: &'a [u8], limits: &Limits) -> Result<Self, MessageError> {
        match super::json::first_key(bytes).as_deref() {
            Some(GET_DEVICE_STATE_RESPONSE) => {
                GetDeviceStateResponse::parse(bytes, limits).map(ResponseMessage::DeviceState)
            }
            Some(OTRP_BROKER_ERROR) => {
                BrokerError::parse(bytes, limits).map(ResponseMessage::BrokerError)
            }
            _ => {
                let env = EnvelopeRef::parse_borrowed(bytes, limits)?;
                if env.direction != Direction::Response {
                    return Err(invalid(
                        &Path::Root(env.name()),
                        "a request, not a response",
                    ));
                }
                Ok(ResponseMessage::Signed(env))
            }
        }
    }
}

/// Parses a request envelope under the limits; response envelopes are
/// refused.
/// The envelope borrows its JWS text from `bytes`
/// ([`Envelope::to_owned_envelope`] copies it).
pub fn parse_request<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<EnvelopeRef<'a>, MessageError> {
    let env = EnvelopeRef::parse_borrowed(bytes, limits)?;
    if env.direction != Direction::Request {
        return Err(invalid(
            &Path::Root(env.name()),
            "a response, not a request",
        ));
    }
    Ok(env)
}

impl_deserialize!(BrokerError => "OTrPBrokerError");
