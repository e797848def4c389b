//! The encrypted members (`content`, `edsi`, `encrypted_ta.key`) are JWEs in
//! JSON serialization (spec 7.5): [`Jwe`] from the JOSE layer, read here with
//! the message layer's strictness (no undefined top-level member).

use alloc::string::ToString;

use serde::Deserialize;
use serde_json::Value;

use super::MessageError;
use super::json::{FromJson, Path, invalid};
use crate::jose::Jwe;

/// The members RFC 7516 section 7.2 defines for the JSON serializations.
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

impl FromJson for Jwe {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let Value::Object(map) = &value else {
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
        let recipients = map
            .get("recipients")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for r in recipients {
            let known = |k: &alloc::string::String| k == "header" || k == "encrypted_key";
            if let Some(k) = r.as_object().and_then(|r| r.keys().find(|k| !known(k))) {
                return Err(MessageError::Undefined {
                    member: path.member("recipients").member(k).to_string(),
                });
            }
        }
        Jwe::deserialize(value)
            .map_err(|_| invalid(path, "not a well-formed JWE (RFC 7516 section 7.2)"))
    }
}
