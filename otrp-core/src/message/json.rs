//! Strict JSON reading: a duplicate-refusing [`serde_json::Value`] builder,
//! member paths for error messages, and [`Obj`], which takes members out of
//! an object so that whatever is left over is an undefined member.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{Limits, MessageError, limits};

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

/// Parses `bytes` (already size-checked) into a [`Value`], refusing
/// duplicate member names and enforcing the depth limit first.
pub(crate) fn parse_value(
    bytes: &[u8],
    max_size: usize,
    limits: &Limits,
) -> Result<Value, MessageError> {
    limits::prescan(bytes, max_size, limits.max_depth)?;
    from_slice(bytes)
}

pub(crate) fn from_slice(bytes: &[u8]) -> Result<Value, MessageError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = StrictValue::deserialize_from(&mut de).map_err(json_error)?;
    de.end().map_err(json_error)?;
    Ok(v)
}

fn json_error(e: serde_json::Error) -> MessageError {
    MessageError::Json(e.to_string())
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

/// The first member name of the top-level object, unescaped if needed.
pub(crate) fn first_key(bytes: &[u8], limits: &Limits) -> Result<Option<String>, MessageError> {
    let scan = limits::prescan(bytes, limits.max_ta_message_size, limits.max_depth)?;
    Ok(scan.first_key.and_then(|r| {
        let raw = bytes.get(r)?;
        if raw.contains(&b'\\') {
            let quoted = [b"\"", raw, b"\""].concat();
            serde_json::from_slice::<String>(&quoted).ok()
        } else {
            core::str::from_utf8(raw).ok().map(String::from)
        }
    }))
}

struct StrictValue;

impl StrictValue {
    fn deserialize_from<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictSeed;

impl<'de> de::DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
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
        d.deserialize_any(StrictVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictSeed)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate member {key:?}")));
            }
            let v = map.next_value_seed(StrictSeed)?;
            out.insert(key, v);
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
}
