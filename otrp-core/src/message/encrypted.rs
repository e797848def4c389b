//! [`EncryptedJson`]: the placeholder for `crate::jose::Jwe` in the
//! encrypted members (`content`, `edsi`, `encrypted_ta.key`). This is the
//! ONE place to swap for the JOSE layer's type once it lands.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::MessageError;
use super::json::{FromJson, Path, impl_deserialize, invalid};

/// A JWE in JSON serialization (RFC 7516 section 7.2), checked for shape
/// only: `ciphertext`, `iv` and `tag` strings, and `recipients` (general) or
/// `encrypted_key`/`header` (flattened). Flattened input is stored and
/// emitted in the general form the body uses (section 7.5).
#[derive(Clone, Debug, PartialEq)]
pub struct EncryptedJson(Value);

const TOP: &[&str] = &[
    "protected",
    "unprotected",
    "recipients",
    "header",
    "encrypted_key",
    "aad",
    "iv",
    "ciphertext",
    "tag",
];

impl EncryptedJson {
    /// Checks the shape of a parsed JWE and normalizes it to general form.
    pub fn from_value(value: Value) -> Result<Self, MessageError> {
        Self::from_json(value, &Path::Root("jwe"))
    }

    /// The JWE in general JSON serialization, for the JOSE layer.
    pub fn as_value(&self) -> &Value {
        &self.0
    }

    /// The JWE as general JSON bytes, for `Jwe::parse`.
    pub fn to_vec(&self) -> Vec<u8> {
        serde_json::to_vec(&self.0).unwrap_or_default()
    }
}

fn is_str(map: &Map<alloc::string::String, Value>, k: &str) -> bool {
    map.get(k).is_none_or(Value::is_string)
}

impl FromJson for EncryptedJson {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let Value::Object(mut map) = value else {
            return Err(invalid(path, "a JWE must be a JSON object"));
        };
        if let Some(k) = map.keys().find(|k| !TOP.contains(&k.as_str())) {
            return Err(MessageError::Undefined {
                member: path.member(k).to_string(),
            });
        }
        for k in ["iv", "ciphertext", "tag"] {
            if !map.contains_key(k) {
                return Err(MessageError::Missing {
                    member: path.member(k).to_string(),
                });
            }
        }
        for k in [
            "protected",
            "encrypted_key",
            "aad",
            "iv",
            "ciphertext",
            "tag",
        ] {
            if !is_str(&map, k) {
                return Err(invalid(&path.member(k), "a JWE member must be a string"));
            }
        }
        for k in ["unprotected", "header"] {
            if map.get(k).is_some_and(|v| !v.is_object()) {
                return Err(invalid(&path.member(k), "a JWE header must be an object"));
            }
        }
        let flattened = map.contains_key("header") || map.contains_key("encrypted_key");
        match map.get("recipients") {
            Some(_) if flattened => {
                return Err(invalid(
                    path,
                    "both recipients and a flattened header/encrypted_key",
                ));
            }
            Some(Value::Array(list)) if !list.is_empty() => {
                let rpath = path.member("recipients");
                for r in list {
                    let Value::Object(r) = r else {
                        return Err(invalid(&rpath, "a recipient must be an object"));
                    };
                    if r.keys().any(|k| k != "header" && k != "encrypted_key")
                        || !is_str(r, "encrypted_key")
                        || r.get("header").is_some_and(|v| !v.is_object())
                    {
                        return Err(invalid(&rpath, "malformed recipient"));
                    }
                }
            }
            Some(_) => {
                return Err(invalid(
                    &path.member("recipients"),
                    "expected a non-empty array",
                ));
            }
            None => {
                let mut recipient = Map::new();
                for k in ["header", "encrypted_key"] {
                    if let Some(v) = map.remove(k) {
                        recipient.insert(k.into(), v);
                    }
                }
                map.insert(
                    "recipients".into(),
                    Value::Array(vec![Value::Object(recipient)]),
                );
            }
        }
        Ok(EncryptedJson(Value::Object(map)))
    }
}

impl Serialize for EncryptedJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl_deserialize!(EncryptedJson => "jwe");
