//! Message kinds and names (section 7.2), the signed envelope
//! `{"<Name>Request": <JWS>}` (section 7.4), and [`TbsMessage`]: parsing a
//! verified payload and checking that its signed TBS name is the one
//! expected, since the envelope name is not signed.

use alloc::borrow::{Cow, ToOwned};
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::fmt;
use core::marker::PhantomData;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::jose::JwsJson;
use crate::jose::{JoseError, Jws, JwsRef};

use super::json::{self, Path, single_member};
use super::{Limits, MessageError};

/// One of the seven OTrP commands (section 7.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// GetDeviceState (section 9.1).
    GetDeviceState,
    /// CreateSD (section 9.2.1).
    CreateSd,
    /// UpdateSD (section 9.2.2).
    UpdateSd,
    /// DeleteSD (section 9.2.3).
    DeleteSd,
    /// InstallTA (section 9.3.1).
    InstallTa,
    /// UpdateTA (section 9.3.2).
    UpdateTa,
    /// DeleteTA (section 9.3.3).
    DeleteTa,
}

/// Whether a message is a TAM request or a TEE response (section 7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A request from the TAM.
    Request,
    /// A response from a TEE.
    Response,
}

struct Names {
    kind: MessageKind,
    request: &'static str,
    response: &'static str,
    tbs_request: &'static str,
    tbs_response: &'static str,
}

const NAMES: &[Names] = &[
    Names {
        kind: MessageKind::GetDeviceState,
        request: "GetDeviceStateRequest",
        response: "GetDeviceTEEStateResponse",
        tbs_request: "GetDeviceStateTBSRequest",
        tbs_response: "GetDeviceTEEStateTBSResponse",
    },
    Names {
        kind: MessageKind::CreateSd,
        request: "CreateSDRequest",
        response: "CreateSDResponse",
        tbs_request: "CreateSDTBSRequest",
        tbs_response: "CreateSDTBSResponse",
    },
    Names {
        kind: MessageKind::UpdateSd,
        request: "UpdateSDRequest",
        response: "UpdateSDResponse",
        tbs_request: "UpdateSDTBSRequest",
        tbs_response: "UpdateSDTBSResponse",
    },
    Names {
        kind: MessageKind::DeleteSd,
        request: "DeleteSDRequest",
        response: "DeleteSDResponse",
        tbs_request: "DeleteSDTBSRequest",
        tbs_response: "DeleteSDTBSResponse",
    },
    Names {
        kind: MessageKind::InstallTa,
        request: "InstallTARequest",
        response: "InstallTAResponse",
        tbs_request: "InstallTATBSRequest",
        tbs_response: "InstallTATBSResponse",
    },
    Names {
        kind: MessageKind::UpdateTa,
        request: "UpdateTARequest",
        response: "UpdateTAResponse",
        tbs_request: "UpdateTATBSRequest",
        tbs_response: "UpdateTATBSResponse",
    },
    Names {
        kind: MessageKind::DeleteTa,
        request: "DeleteTARequest",
        response: "DeleteTAResponse",
        tbs_request: "DeleteTATBSRequest",
        tbs_response: "DeleteTATBSResponse",
    },
];

/// The name of the array a broker wraps TEE responses in (section 9.1.5).
pub const GET_DEVICE_STATE_RESPONSE: &str = "GetDeviceStateResponse";
/// The name of the broker's unsigned error message (section 10).
pub const OTRP_BROKER_ERROR: &str = "OTrPBrokerError";

impl MessageKind {
    /// All seven kinds.
    pub const ALL: &'static [MessageKind] = &[
        MessageKind::GetDeviceState,
        MessageKind::CreateSd,
        MessageKind::UpdateSd,
        MessageKind::DeleteSd,
        MessageKind::InstallTa,
        MessageKind::UpdateTa,
        MessageKind::DeleteTa,
    ];

    fn names(self) -> &'static Names {
        // NAMES lists every kind; the fallback is never taken.
        NAMES.iter().find(|n| n.kind == self).unwrap_or(&NAMES[0])
    }

    /// The signed envelope name, e.g. `CreateSDRequest` or, for the
    /// per-TEE GetDeviceState answer, `GetDeviceTEEStateResponse`.
    pub fn envelope_name(self, direction: Direction) -> &'static str {
        match direction {
            Direction::Request => self.names().request,
            Direction::Response => self.names().response,
        }
    }

    /// The signed payload's name, e.g. `CreateSDTBSRequest`.
    pub fn tbs_name(self, direction: Direction) -> &'static str {
        match direction {
            Direction::Request => self.names().tbs_request,
            Direction::Response => self.names().tbs_response,
        }
    }

    /// Whether messages of this kind carry a TA binary (InstallTA, UpdateTA),
    /// and so fall under [`Limits::max_ta_message_size`].
    pub fn carries_ta(self) -> bool {
        matches!(self, MessageKind::InstallTa | MessageKind::UpdateTa)
    }

    /// The size limit for a message of this kind.
    pub fn size_limit(self, limits: &Limits) -> usize {
        if self.carries_ta() {
            limits.max_ta_message_size
        } else {
            limits.max_message_size
        }
    }

    /// Looks up an envelope name.
    pub fn from_envelope_name(name: &str) -> Option<(MessageKind, Direction)> {
        NAMES.iter().find_map(|n| {
            if n.request == name {
                Some((n.kind, Direction::Request))
            } else if n.response == name {
                Some((n.kind, Direction::Response))
            } else {
                None
            }
        })
    }

    /// Looks up a TBS payload name.
    pub fn from_tbs_name(name: &str) -> Option<(MessageKind, Direction)> {
        NAMES.iter().find_map(|n| {
            if n.tbs_request == name {
                Some((n.kind, Direction::Request))
            } else if n.tbs_response == name {
                Some((n.kind, Direction::Response))
            } else {
                None
            }
        })
    }
}

/// The size limit for a top-level object named `name`: the TA limit only if
/// the name is one of the InstallTA/UpdateTA messages.
fn limit_for(name: Option<&str>, limits: &Limits) -> usize {
    let kind = name.and_then(|n| {
        MessageKind::from_envelope_name(n)
            .or_else(|| MessageKind::from_tbs_name(n))
            .map(|(k, _)| k)
    });
    match kind {
        Some(k) => k.size_limit(limits),
        None => limits.max_message_size,
    }
}

/// The size limit for `bytes` from its first member name, checked: O(1)
/// plus the length of that name, before anything is parsed.
fn check_size(bytes: &[u8], limits: &Limits) -> Result<(), MessageError> {
    let max = limit_for(json::first_key(bytes).as_deref(), limits);
    if bytes.len() > max {
        return Err(MessageError::TooLarge {
            size: bytes.len(),
            limit: max,
        });
    }
    Ok(())
}

/// Parses untrusted top-level bytes under the limits: the size limit is
/// chosen from the first member name before parsing.
pub(crate) fn parse_top(bytes: &[u8], limits: &Limits) -> Result<Value, MessageError> {
    check_size(bytes, limits)?;
    json::parse_value(bytes, bytes.len(), limits)
}

/// A signed OTrP message `{"<Name>Request" | "<Name>Response": <JWS>}`
/// (section 7.4). The JWS (flattened JSON) is kept as the exact JSON text
/// it arrived as, for the JOSE layer ([`Envelope::parse_jws`]); the name is
/// a routing hint only and is checked against the signed payload by
/// [`Envelope::parse_payload`].
///
/// `J` holds that text: owned (`Box<RawValue>`, the default) or borrowed
/// from the message bytes ([`EnvelopeRef`], from
/// [`EnvelopeRef::parse_borrowed`]), so that a TEE reads a large InstallTA
/// request without copying it.
#[derive(Clone, Debug)]
pub struct Envelope<J = Box<RawValue>> {
    /// The command, from the envelope name.
    pub kind: MessageKind,
    /// Request or response, from the envelope name.
    pub direction: Direction,
    /// The JWS, unparsed: its JSON text exactly as received.
    pub jws: J,
}

/// An [`Envelope`] borrowing its JWS text from the message bytes.
pub type EnvelopeRef<'a> = Envelope<&'a RawValue>;

impl Envelope {
    /// Wraps a JWS (flattened JSON) under the name for `kind`/`direction`.
    pub fn new(kind: MessageKind, direction: Direction, jws: Value) -> Self {
        let jws =
            serde_json::value::to_raw_value(&jws).unwrap_or_else(|_| RawValue::NULL.to_owned());
        Envelope {
            kind,
            direction,
            jws,
        }
    }

    /// The signed message `{"<Name>":<flattened JWS>}` (7.4) for
    /// `kind`/`direction`, written directly: no JSON value of the JWS and no
    /// second escaping scan of its payload (see [`Jws::write_flattened_json`]).
    pub fn signed_bytes<P: AsRef<str>>(
        kind: MessageKind,
        direction: Direction,
        jws: &Jws<P>,
    ) -> Result<Vec<u8>, JoseError> {
        named_jws(kind.envelope_name(direction), jws)
    }

    /// Parses a signed envelope under the limits.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError> {
        EnvelopeRef::parse_borrowed(bytes, limits).map(|e| e.to_owned_envelope())
    }

    /// An envelope from an already parsed JSON value (an item of the
    /// GetDeviceState array).
    pub(crate) fn from_value(value: Value) -> Result<Self, MessageError> {
        let (name, jws) = single_member(value, "envelope")?;
        let (kind, direction) = envelope_kind(name, jws.is_object())?;
        Ok(Envelope::new(kind, direction, jws))
    }
}

impl<'a> EnvelopeRef<'a> {
    /// Parses a signed envelope under the limits, borrowing the JWS text
    /// from `bytes`. One pass: the size limit (from the first member name)
    /// is checked first, then the reader takes the single member and skips
    /// over the JWS, whose nesting its recursion limit bounds.
    pub fn parse_borrowed(bytes: &'a [u8], limits: &Limits) -> Result<Self, MessageError> {
        let (name, jws) = match read_top::<&RawValue>(bytes, limits)? {
            Top::One(name, jws) => (name, jws),
            Top::Other(reason) => {
                return Err(MessageError::Invalid {
                    member: String::from("envelope"),
                    reason,
                });
            }
        };
        let is_object = jws.get().starts_with('{');
        let (kind, direction) = envelope_kind(name.into_owned(), is_object)?;
        Ok(Envelope {
            kind,
            direction,
            jws,
        })
    }
}

/// A signed envelope read with its JWS in one pass.
pub(crate) struct SignedJws<'a> {
    /// The command, from the envelope name.
    pub(crate) kind: MessageKind,
    /// Request or response, from the envelope name.
    pub(crate) direction: Direction,
    /// The JWS, parsed.
    pub(crate) jws: JwsRef<'a>,
}

/// [`EnvelopeRef::parse_borrowed`] and then [`Envelope::parse_jws`] in one
/// pass, for the TAM's hot path: the JWS text, nearly all of an answer, is
/// read once instead of skipped and then read. `None` when either step
/// would refuse the bytes: the caller runs the two for their exact error.
/// The checks are theirs: the size limit, one member, an envelope name, a
/// JWS object (tested on its first byte, since a struct also reads from an
/// array), and the JWS serialization rules.
pub(crate) fn parse_signed_jws<'a>(bytes: &'a [u8], limits: &Limits) -> Option<SignedJws<'a>> {
    if json::first_value_byte(bytes) != Some(b'{') {
        return None;
    }
    let Top::One(name, jws) = read_top::<JwsJson<'a>>(bytes, limits).ok()? else {
        return None;
    };
    let (kind, direction) = envelope_kind(name.into_owned(), true).ok()?;
    let jws = JwsRef::try_from(jws).ok()?;
    Some(SignedJws {
        kind,
        direction,
        jws,
    })
}

/// The top level of an envelope, its member read as `T`, under the limits:
/// the size first (from the first member name), then one pass in which the
/// depth is bounded as it goes.
fn read_top<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<Top<'a, T>, MessageError> {
    check_size(bytes, limits)?;
    let mut de = crate::json_reader::Reader::new(bytes);
    let top = (&mut de)
        .deserialize_any(TopVisitor::<T>::new(limits))
        .map_err(|e| json::depth_error(e, limits.max_depth))?;
    de.end().map_err(json::json_error)?;
    Ok(top)
}

/// The kind named by an envelope member whose value is (or is not) an
/// object.
fn envelope_kind(name: String, is_object: bool) -> Result<(MessageKind, Direction), MessageError> {
    let (kind, direction) =
        MessageKind::from_envelope_name(&name).ok_or(MessageError::UnknownMessage(name))?;
    if !is_object {
        return Err(MessageError::Invalid {
            member: kind.envelope_name(direction).to_string(),
            reason: "a JWS in flattened JSON serialization must be an object",
        });
    }
    Ok((kind, direction))
}

/// What the top level of an envelope holds, its member read as `T`.
enum Top<'a, T> {
    /// `{"<name>": <value>}`.
    One(Cow<'a, str>, T),
    /// Any other shape, with the reason.
    Other(&'static str),
}

struct TopVisitor<T> {
    max_depth: usize,
    member: PhantomData<T>,
}

impl<T> TopVisitor<T> {
    fn new(limits: &Limits) -> Self {
        TopVisitor {
            max_depth: limits.max_depth,
            member: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for TopVisitor<T> {
    type Value = Top<'de, T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an envelope object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de, T>, A::Error> {
        let Some(name) = map.next_key::<Cow<'de, str>>()? else {
            return Ok(Top::Other("expected an object with exactly one member"));
        };
        let jws: T = map.next_value()?;
        if map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value::<IgnoredAny>()?;
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Top::Other("expected an object with exactly one member"));
        }
        Ok(Top::One(name, jws))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top<'de, T>, A::Error> {
        // Skipped within the depth limit, so that a deep array is reported
        // as such.
        let seed = json::DepthLimited {
            depth_left: self.max_depth.saturating_sub(1),
        };
        while seq.next_element_seed(seed)?.is_some() {}
        Ok(Top::Other("expected an object with one member"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Top<'de, T>, E> {
        Ok(Top::Other("expected an object with one member"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Top<'de, T>, E> {
        Ok(Top::Other("expected an object with one member"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Top<'de, T>, E> {
        Ok(Top::Other("expected an object with one member"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Top<'de, T>, E> {
        Ok(Top::Other("expected an object with one member"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Top<'de, T>, E> {
        Ok(Top::Other("expected an object with one member"))
    }
    fn visit_unit<E>(self) -> Result<Top<'de, T>, E> {
        Ok(Top::Other("expected an object with one member"))
    }
}

impl<J: Borrow<RawValue>> Envelope<J> {
    /// The envelope name.
    pub fn name(&self) -> &'static str {
        self.kind.envelope_name(self.direction)
    }

    /// The JWS as JSON bytes (as received), for the JOSE layer.
    pub fn jws_bytes(&self) -> &[u8] {
        self.jws.borrow().get().as_bytes()
    }

    /// Parses the JWS, borrowing its payload text from this envelope.
    pub fn parse_jws(&self) -> Result<JwsRef<'_>, JoseError> {
        JwsRef::parse_json_borrowed(self.jws_bytes())
    }

    /// The same envelope owning its JWS text.
    pub fn to_owned_envelope(&self) -> Envelope {
        Envelope {
            kind: self.kind,
            direction: self.direction,
            jws: self.jws.borrow().to_owned(),
        }
    }

    /// The whole envelope as JSON bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        crate::json_writer::to_vec(self).unwrap_or_default()
    }

    /// Parses the verified payload as `T`, checking that `T` is the message
    /// this envelope claims to be and that the payload's signed TBS name
    /// matches (section 7.4).
    pub fn parse_payload<T: TbsMessage>(
        &self,
        payload: &[u8],
        limits: &Limits,
    ) -> Result<T, MessageError> {
        if T::KIND != self.kind || T::DIRECTION != self.direction {
            return Err(MessageError::NameMismatch {
                expected: T::KIND.tbs_name(T::DIRECTION),
                found: self.name().to_string(),
            });
        }
        T::from_payload(payload, limits)
    }
}

impl<J: Borrow<RawValue>> Serialize for Envelope<J> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.name(), self.jws.borrow())?;
        m.end()
    }
}

/// Envelopes are equal when they name the same message and carry the same
/// JWS text.
impl<J: Borrow<RawValue>, K: Borrow<RawValue>> PartialEq<Envelope<K>> for Envelope<J> {
    fn eq(&self, other: &Envelope<K>) -> bool {
        self.kind == other.kind
            && self.direction == other.direction
            && self.jws.borrow().get() == other.jws.borrow().get()
    }
}

/// A to-be-signed OTrP object `{"<Name>TBSRequest" | "<Name>TBSResponse":
/// {...}}` (section 7.3): the JWS payload.
pub trait TbsMessage: Sized + Serialize {
    /// The command.
    const KIND: MessageKind;
    /// Request or response.
    const DIRECTION: Direction;

    /// The signed name, e.g. `CreateSDTBSRequest`.
    fn tbs_name() -> &'static str {
        Self::KIND.tbs_name(Self::DIRECTION)
    }

    /// Parses a verified payload under the limits, refusing a TBS name
    /// other than [`TbsMessage::tbs_name`].
    fn from_payload(payload: &[u8], limits: &Limits) -> Result<Self, MessageError>;

    /// The payload bytes to sign: `{"<tbs_name>": <self>}`.
    fn to_payload(&self) -> Vec<u8> {
        crate::json_writer::to_vec(&Named(Self::tbs_name(), self)).unwrap_or_default()
    }
}

/// Serializes `{"<name>": value}`.
pub(crate) struct Named<'a, T>(pub &'a str, pub &'a T);

impl<T: Serialize> Serialize for Named<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.0, self.1)?;
        m.end()
    }
}

/// Parses `{"<expected>": {...}}` and hands the inner value to `f`.
pub(crate) fn parse_named<T>(
    bytes: &[u8],
    expected: &'static str,
    max: usize,
    limits: &Limits,
    f: impl FnOnce(Value, &Path<'_>) -> Result<T, MessageError>,
) -> Result<T, MessageError> {
    let value = json::parse_value(bytes, max, limits)?;
    let (name, inner) = single_member(value, expected)?;
    if name != expected {
        return Err(if MessageKind::from_tbs_name(&name).is_some() {
            MessageError::NameMismatch {
                expected,
                found: name,
            }
        } else {
            MessageError::UnknownMessage(name)
        });
    }
    f(inner, &Path::Root(expected))
}

/// Implements [`TbsMessage`] for a type that implements `FromJson`.
macro_rules! impl_tbs {
    ($ty:ty, $kind:ident, $dir:ident) => {
        impl $crate::message::TbsMessage for $ty {
            const KIND: $crate::message::MessageKind = $crate::message::MessageKind::$kind;
            const DIRECTION: $crate::message::Direction = $crate::message::Direction::$dir;

            fn from_payload(
                payload: &[u8],
                limits: &$crate::message::Limits,
            ) -> Result<Self, $crate::message::MessageError> {
                $crate::message::envelope::parse_named(
                    payload,
                    Self::tbs_name(),
                    Self::KIND.size_limit(limits),
                    limits,
                    |v, p| <$ty as $crate::message::json::FromJson>::from_json(v, p),
                )
            }
        }
        $crate::message::json::impl_deserialize!($ty => "tbs");
    };
}
pub(crate) use impl_tbs;

/// `{"<name>":<flattened JWS>}` for a member name that needs no escaping
/// (the envelope names of 7.4 and `TAInformation`, 6.4.2).
pub(crate) fn named_jws<P: AsRef<str>>(name: &str, jws: &Jws<P>) -> Result<Vec<u8>, JoseError> {
    debug_assert!(!name.contains(['"', '\\']) && name.is_ascii());
    let mut out = String::with_capacity(name.len() + 5);
    out.push_str("{\"");
    out.push_str(name);
    out.push_str("\":");
    jws.write_flattened_json(&mut out)?;
    out.push('}');
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass read accepts exactly what the two steps accept, and
    /// reads the same kind, direction and JWS.
    #[test]
    fn one_pass_agrees_with_the_two_steps() {
        let jws =
            r#"{"payload":"eyJhIjoxfQ","protected":"eyJhbGciOiJFUzI1NiJ9","signature":"AAAA"}"#;
        let deep = format!(
            "{{\"UpdateTAResponse\":{}{{}}{}}}",
            "[".repeat(40),
            "]".repeat(40)
        );
        let cases = [
            format!(r#"{{"UpdateTAResponse":{jws}}}"#),
            format!(" {{ \"DeleteSDResponse\" :\n {jws} }} "),
            format!(r#"{{"UpdateTARequest":{jws}}}"#),
            format!(r#"{{"NoSuchResponse":{jws}}}"#),
            format!(r#"{{"UpdateTAResponse":{jws},"x":1}}"#),
            format!(r#"{{"UpdateTAResponse":[{jws}]}}"#),
            String::from(r#"{"UpdateTAResponse":["eyJhIjoxfQ","eyJhbGciOiJFUzI1NiJ9"]}"#),
            format!(r#"{{"UpdateTAResponse":{jws}}} x"#),
            format!(r#"{{"UpdateTAResponse":{}}}"#, jws.replace("AAAA", "AA=A")),
            format!(
                r#"{{"UpdateTAResponse":{}}}"#,
                jws.replace("eyJhIjoxfQ", "eB")
            ),
            format!(
                r#"{{"UpdateTAResponse":{}}}"#,
                jws.replace(r#""signature""#, r#""sig""#)
            ),
            format!(r#"{{"Update\u0054AResponse":{jws}}}"#),
            deep,
            String::from("[]"),
            String::new(),
        ];
        let limits = Limits::DEFAULT;
        for case in &cases {
            let bytes = case.as_bytes();
            let env = EnvelopeRef::parse_borrowed(bytes, &limits).ok();
            let two = env
                .as_ref()
                .and_then(|env| Some((env.kind, env.direction, env.parse_jws().ok()?)));
            let one = parse_signed_jws(bytes, &limits).map(|s| (s.kind, s.direction, s.jws));
            assert_eq!(one.is_some(), two.is_some(), "{case}");
            if let (Some((k1, d1, j1)), Some((k2, d2, j2))) = (one, two) {
                assert_eq!((k1, d1), (k2, d2), "{case}");
                assert_eq!(j1, j2, "{case}");
            }
        }
        // The size limit applies before either reads.
        let small = Limits {
            max_message_size: 10,
            max_ta_message_size: 10,
            ..Limits::DEFAULT
        };
        assert!(parse_signed_jws(cases[0].as_bytes(), &small).is_none());
        assert!(parse_signed_jws(cases[0].as_bytes(), &limits).is_some());
    }
}
