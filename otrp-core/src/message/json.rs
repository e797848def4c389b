//! Strict JSON reading: a duplicate-refusing [`serde_json::Value`] builder,
//! member paths for error messages, and [`Obj`], which takes members out of
//! an object so that whatever is left over is an undefined member.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};

use super::{Limits, MessageError};

/// Where a member sits in a message, for error messages; built on the stack.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root(&'a str),
    Member(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    pub(crate) fn member<'b>(&'b self, name: &'b str) -> Path<'b> {
        Path::Member(self, name)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(name) => f.write_str(name),
            Path::Member(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

pub(crate) fn invalid(path: &Path<'_>, reason: &'static str) -> MessageError {
    MessageError::Invalid {
        member: path.to_string(),
        reason,
    }
}

/// Reading a value of this type from parsed JSON, strictly.
pub(crate) trait FromJson: Sized {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError>;
}

impl FromJson for String {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        match value {
            Value::String(s) => Ok(s),
            _ => Err(invalid(path, "expected a string")),
        }
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| T::from_json(v, &Path::Index(path, i)))
                .collect(),
            _ => Err(invalid(path, "expected an array")),
        }
    }
}

/// An object whose members are taken out one by one; [`Obj::finish`]
/// refuses any member left (an undefined member, section 9.1.6).
pub(crate) struct Obj<'p> {
    map: Map<String, Value>,
    path: &'p Path<'p>,
}

impl<'p> Obj<'p> {
    pub(crate) fn new(value: Value, path: &'p Path<'p>) -> Result<Self, MessageError> {
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            _ => Err(invalid(path, "expected an object")),
        }
    }

    pub(crate) fn path(&self) -> &'p Path<'p> {
        self.path
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// A mandatory member.
    pub(crate) fn req<T: FromJson>(&mut self, name: &str) -> Result<T, MessageError> {
        let path = self.path.member(name);
        match self.map.remove(name) {
            Some(v) => T::from_json(v, &path),
            None => Err(MessageError::Missing {
                member: path.to_string(),
            }),
        }
    }

    /// An optional member.
    pub(crate) fn opt<T: FromJson>(&mut self, name: &str) -> Result<Option<T>, MessageError> {
        let path = self.path.member(name);
        self.map
            .remove(name)
            .map(|v| T::from_json(v, &path))
            .transpose()
    }

    /// A mandatory member read with `f`.
    pub(crate) fn req_with<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(Value, &Path<'_>) -> Result<T, MessageError>,
    ) -> Result<T, MessageError> {
        let path = self.path.member(name);
        match self.map.remove(name) {
            Some(v) => f(v, &path),
            None => Err(MessageError::Missing {
                member: path.to_string(),
            }),
        }
    }

    /// An optional member read with `f`.
    pub(crate) fn opt_with<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(Value, &Path<'_>) -> Result<T, MessageError>,
    ) -> Result<Option<T>, MessageError> {
        let path = self.path.member(name);
        self.map.remove(name).map(|v| f(v, &path)).transpose()
    }

    /// Refuses any member not taken.
    pub(crate) fn finish(self) -> Result<(), MessageError> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(k) => Err(MessageError::Undefined {
                member: self.path.member(k).to_string(),
            }),
        }
    }
}

/// Parses `bytes` into a [`Value`] in one pass: the size is checked
/// first (O(1)), then the strict reader refuses duplicate member names and
/// any nesting deeper than `limits.max_depth` as it goes, before serde_json
/// would recurse further.
pub(crate) fn parse_value(
    bytes: &[u8],
    max_size: usize,
    limits: &Limits,
) -> Result<Value, MessageError> {
    if bytes.len() > max_size {
        return Err(MessageError::TooLarge {
            size: bytes.len(),
            limit: max_size,
        });
    }
    parse_strict(bytes, limits.max_depth)
}

fn parse_strict(bytes: &[u8], max_depth: usize) -> Result<Value, MessageError> {
    let mut de = crate::json_reader::Reader::new(bytes);
    let seed = StrictSeed {
        depth_left: max_depth,
    };
    let v =
        de::DeserializeSeed::deserialize(seed, &mut de).map_err(|e| depth_error(e, max_depth))?;
    de.end().map_err(json_error)?;
    Ok(v)
}

#[cfg(test)]
pub(crate) fn from_slice(bytes: &[u8]) -> Result<Value, MessageError> {
    parse_strict(bytes, usize::MAX)
}

/// A serde_json error as a [`MessageError`].
pub(crate) fn json_error(e: serde_json::Error) -> MessageError {
    MessageError::Json(e.to_string())
}

/// The message of the error raised when nesting passes the depth limit.
pub(crate) const TOO_DEEP: &str = "nesting deeper than the limit";

/// A serde_json error as a [`MessageError`], the depth limit's as
/// [`MessageError::TooDeep`].
pub(crate) fn depth_error(e: serde_json::Error, max_depth: usize) -> MessageError {
    let text = e.to_string();
    if text.starts_with(TOO_DEEP) {
        MessageError::TooDeep { limit: max_depth }
    } else {
        MessageError::Json(text)
    }
}

/// Skips any JSON value, refusing nesting deeper than `depth_left` more
/// levels with a [`TOO_DEEP`] error.
#[derive(Clone, Copy)]
pub(crate) struct DepthLimited {
    pub(crate) depth_left: usize,
}

impl DepthLimited {
    fn enter<E: de::Error>(self) -> Result<Self, E> {
        match self.depth_left.checked_sub(1) {
            Some(depth_left) => Ok(DepthLimited { depth_left }),
            None => Err(E::custom(TOO_DEEP)),
        }
    }
}

impl<'de> de::DeserializeSeed<'de> for DepthLimited {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DepthLimited {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.enter()?;
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.enter()?;
        while map.next_key::<de::IgnoredAny>()?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

/// Reads a single-member object `{"<name>": <value>}` (the OTrP envelope and
/// TBS wrapper shape, sections 7.3, 7.4).
pub(crate) fn single_member(value: Value, what: &str) -> Result<(String, Value), MessageError> {
    let Value::Object(map) = value else {
        return Err(MessageError::Invalid {
            member: what.to_string(),
            reason: "expected an object with one member",
        });
    };
    if map.len() != 1 {
        return Err(MessageError::Invalid {
            member: what.to_string(),
            reason: "expected an object with exactly one member",
        });
    }
    map.into_iter().next().ok_or_else(|| MessageError::Invalid {
        member: what.to_string(),
        reason: "expected an object with one member",
    })
}

/// The first member name of a top-level object, unescaped if needed: read
/// from the start of `bytes` only (white space, `{`, white space, one JSON
/// string), so its cost is the name's length, not the message's. `None`
/// when the bytes do not start that way; the parse reports why.
pub(crate) fn first_key(bytes: &[u8]) -> Option<String> {
    let (raw, _) = first_key_raw(bytes)?;
    key_text(raw).map(Cow::into_owned)
}

/// A member name's text from its raw JSON string (quotes included):
/// borrowed when it holds no escape, else unescaped by the reader.
pub(crate) fn key_text(raw: &[u8]) -> Option<Cow<'_, str>> {
    let body = raw.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if body.contains(&b'\\') {
        return crate::json_reader::from_slice::<String>(raw)
            .ok()
            .map(Cow::Owned);
    }
    core::str::from_utf8(body).ok().map(Cow::Borrowed)
}

/// The first byte of the first member's value (after the name, white space,
/// `:` and white space), read like [`first_key`].
pub(crate) fn first_value_byte(bytes: &[u8]) -> Option<u8> {
    let (_, rest) = first_key_raw(bytes)?;
    let rest = skip_ws(rest).strip_prefix(b":")?;
    skip_ws(rest).first().copied()
}

fn skip_ws(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// The first member name's raw JSON string (quotes included) and the bytes
/// after it.
fn first_key_raw(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = skip_ws(skip_ws(bytes).strip_prefix(b"{")?);
    let body = rest.strip_prefix(b"\"")?;
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        match b {
            b'"' => return Some((rest.get(..i + 2)?, rest.get(i + 2..)?)),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

struct StrictValue;

impl StrictValue {
    fn deserialize_from<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictSeed {
            depth_left: usize::MAX,
        })
    }
}

/// The strict reader: duplicate member names refused, nesting limited to
/// `depth_left` more levels.
#[derive(Clone, Copy)]
struct StrictSeed {
    depth_left: usize,
}

impl StrictSeed {
    fn enter<E: de::Error>(self) -> Result<Self, E> {
        match self.depth_left.checked_sub(1) {
            Some(depth_left) => Ok(StrictSeed { depth_left }),
            None => Err(E::custom(TOO_DEEP)),
        }
    }
}

impl<'de> de::DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(String::from(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // One lookup: the slot found vacant is the one filled.
            match out.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(map.next_value_seed(inner)?);
                }
                Entry::Occupied(slot) => {
                    let key = slot.key();
                    return Err(de::Error::custom(format!("duplicate member {key:?}")));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Deserializes any OTrP type through the strict reader, so that
/// `serde_json::from_slice::<T>` applies the same rules as the parse
/// functions (minus the size and depth limits, which need the raw bytes).
pub(crate) fn deserialize_via<'de, D: Deserializer<'de>, T: FromJson>(
    d: D,
    root: &str,
) -> Result<T, D::Error> {
    let v = StrictValue::deserialize_from(d)?;
    T::from_json(v, &Path::Root(root)).map_err(de::Error::custom)
}

/// Implements `serde::Deserialize` for OTrP types through [`FromJson`].
macro_rules! impl_deserialize {
    ($($ty:ty => $root:literal),+ $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::message::json::deserialize_via(d, $root)
            }
        }
    )+};
}
pub(crate) use impl_deserialize;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused() {
        assert!(from_slice(br#"{"a":1,"b":{"c":1,"c":2}}"#).is_err());
        assert!(from_slice(br#"{"a":1} x"#).is_err());
        assert!(from_slice(br#"{"a":[1,2.5,null,true]}"#).is_ok());
    }

    #[test]
    fn depth_is_limited_during_the_parse_and_only_outside_strings() {
        let limits = |max_depth| Limits {
            max_depth,
            ..Limits::DEFAULT
        };
        let text = br#"{"a":"[[[[[[\"[[["}"#;
        assert!(parse_value(text, 100, &limits(1)).is_ok());
        assert_eq!(
            parse_value(b"[[[]]]", 100, &limits(2)),
            Err(MessageError::TooDeep { limit: 2 })
        );
        assert!(parse_value(b"[[[]]]", 100, &limits(3)).is_ok());
        assert_eq!(
            parse_value(br#"{"a":{"b":{}}}"#, 100, &limits(2)),
            Err(MessageError::TooDeep { limit: 2 })
        );
        assert!(matches!(
            parse_value(b"{}", 1, &limits(2)),
            Err(MessageError::TooLarge { size: 2, limit: 1 })
        ));
    }

    #[test]
    fn first_key_reads_only_the_start() {
        assert_eq!(
            first_key(br#" { "Cre\"ate" : {"x":1} }"#).as_deref(),
            Some("Cre\"ate")
        );
        assert_eq!(first_key(br#"{"\u0041b":1}"#).as_deref(), Some("Ab"));
        assert_eq!(first_key(b"{\"abc\":").as_deref(), Some("abc"));
        for bad in [
            &b"[1]"[..],
            b"",
            b"{",
            b"{ 1",
            b"{\"unterminated",
            b"x{\"a\":1}",
        ] {
            assert_eq!(first_key(bad), None);
            assert_eq!(first_value_byte(bad), None);
        }
        assert_eq!(first_value_byte(br#" { "a\"b" : {"x":1} }"#), Some(b'{'));
        assert_eq!(first_value_byte(b"{\"a\":\n[1]}"), Some(b'['));
        assert_eq!(first_value_byte(b"{\"a\" 1}"), None);
        assert_eq!(first_value_byte(b"{\"a\":"), None);
    }
}
