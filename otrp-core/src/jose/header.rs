//! JOSE headers: ordered, duplicate-free parameter maps, and the joint view
//! of a protected header with its unprotected companions (RFC 7515 section 4,
//! RFC 7516 section 4).

use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::{JoseError, Jwk, b64};
use crate::crypto::{AgreementParams, ContentAlg, EcPublicKey, JwsAlg, KeyAlg, PublicKey};

/// One JOSE header object. Parameters keep their order and, until changed,
/// their exact JSON text (nested objects included), so a header built from a
/// known JSON text serializes to the same bytes. A name appears at most once:
/// a duplicate is refused when parsing (RFC 7515 section 4).
#[derive(Clone, Debug, Default)]
pub struct Header {
    params: Vec<Param>,
}

#[derive(Clone, Debug)]
struct Param {
    name: String,
    value: Value,
    /// The value's JSON text as received or as written by `set_json`.
    text: Option<Box<RawValue>>,
}

impl PartialEq for Header {
    fn eq(&self, other: &Self) -> bool {
        self.params.len() == other.params.len()
            && self
                .params
                .iter()
                .zip(&other.params)
                .all(|(a, b)| a.name == b.name && a.value == b.value)
    }
}

impl Header {
    /// An empty header.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a header from its JSON text, refusing duplicate names.
    pub fn from_json(json: &[u8]) -> Result<Self, JoseError> {
        Ok(crate::json_reader::from_slice(json)?)
    }

    /// The compact JSON text of this header.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing strings and JSON values into memory cannot fail.
        crate::json_writer::to_vec(self).unwrap_or_default()
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.value)
    }

    /// Sets `name`, replacing an existing value in place or appending.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.put(name, value.into(), None);
        self
    }

    /// Sets `name` to the JSON serialization of `value`, keeping that exact
    /// text (member order of nested objects included) for serialization.
    pub fn set_json<T: Serialize>(
        &mut self,
        name: &str,
        value: &T,
    ) -> Result<&mut Self, JoseError> {
        let text = serde_json::value::to_raw_value(value)?;
        let value = crate::json_reader::from_slice(text.get().as_bytes())?;
        self.put(name, value, Some(text));
        Ok(self)
    }

    fn put(&mut self, name: &str, value: Value, text: Option<Box<RawValue>>) {
        match self.params.iter_mut().find(|p| p.name == name) {
            Some(slot) => {
                slot.value = value;
                slot.text = text;
            }
            None => self.params.push(Param {
                name: name.to_string(),
                value,
                text,
            }),
        }
    }

    /// Builder form of [`Header::set`].
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.set(name, value);
        self
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let pos = self.params.iter().position(|p| p.name == name)?;
        Some(self.params.remove(pos).value)
    }

    /// Sets every parameter of `other` (in place or appended, in its order).
    pub fn extend_from(&mut self, other: &Header) {
        for p in &other.params {
            self.put(&p.name, p.value.clone(), p.text.clone());
        }
    }

    /// Parameter names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.params.iter().map(|p| p.name.as_str())
    }

    /// Whether the header has no parameters.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }
}

/// How a duplicate name is reported through serde (turned back into
/// [`JoseError::DuplicateHeader`] by the `From<serde_json::Error>` impl).
pub(crate) const DUPLICATE_PREFIX: &str = "duplicate header parameter ";

impl Serialize for Header {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.params.len()))?;
        for p in &self.params {
            match &p.text {
                Some(text) => map.serialize_entry(&p.name, text)?,
                None => map.serialize_entry(&p.name, &p.value)?,
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Header {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct HeaderVisitor;
        impl<'de> Visitor<'de> for HeaderVisitor {
            type Value = Header;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of header parameters")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header, A::Error> {
                let mut seen = BTreeSet::new();
                let mut params = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    if !seen.insert(name.clone()) {
                        return Err(serde::de::Error::custom(format_args!(
                            "{DUPLICATE_PREFIX}{name}"
                        )));
                    }
                    let text: Box<RawValue> = map.next_value()?;
                    let value = crate::json_reader::from_slice(text.get().as_bytes())
                        .map_err(serde::de::Error::custom)?;
                    params.push(Param {
                        name,
                        value,
                        text: Some(text),
                    });
                }
                Ok(Header { params })
            }
        }
        d.deserialize_map(HeaderVisitor)
    }
}

/// The parameters that apply to one signature or one recipient: the
/// protected header joined with the unprotected ones. Names are disjoint
/// across the parts (checked by [`JointHeader::new`]).
#[derive(Clone, Copy, Debug)]
pub struct JointHeader<'a> {
    parts: [Option<&'a Header>; 3],
}

impl<'a> JointHeader<'a> {
    /// Joins the parts, refusing a name that occurs in more than one, and a
    /// `crit` anywhere (no extension is understood; RFC 7515 section 4.1.11).
    pub fn new(
        protected: &'a Header,
        shared: Option<&'a Header>,
        own: Option<&'a Header>,
    ) -> Result<Self, JoseError> {
        let joint = Self {
            parts: [Some(protected), shared, own],
        };
        let mut seen = BTreeSet::new();
        for name in joint.parts.iter().flatten().flat_map(|h| h.names()) {
            if !seen.insert(name) {
                return Err(JoseError::DuplicateHeader(name.to_string()));
            }
        }
        if let Some(crit) = joint.get("crit") {
            let first = crit
                .as_array()
                .and_then(|a| a.first())
                .and_then(Value::as_str);
            return Err(JoseError::CriticalUnsupported(
                first.unwrap_or("crit").to_string(),
            ));
        }
        Ok(joint)
    }

    /// The value of `name` from whichever part holds it.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.parts.iter().flatten().find_map(|h| h.get(name))
    }

    /// A string parameter; present with another type is an error.
    pub fn str(&self, name: &'static str) -> Result<Option<&'a str>, JoseError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(JoseError::InvalidHeader(name)),
        }
    }

    /// The raw `alg` name, required; "none" is refused here, for JWS and JWE
    /// alike.
    fn alg_name(&self) -> Result<&'a str, JoseError> {
        match self.str("alg")? {
            None => Err(JoseError::Missing("alg")),
            Some("none") => Err(JoseError::AlgNone),
            Some(name) => Ok(name),
        }
    }

    /// `alg` as a JWS algorithm.
    pub fn jws_alg(&self) -> Result<JwsAlg, JoseError> {
        let name = self.alg_name()?;
        JwsAlg::from_name(name).ok_or_else(|| JoseError::UnknownAlgorithm(name.to_string()))
    }

    /// `alg` as a JWE key management algorithm.
    pub fn key_alg(&self) -> Result<KeyAlg, JoseError> {
        let name = self.alg_name()?;
        KeyAlg::from_name(name).ok_or_else(|| JoseError::UnknownAlgorithm(name.to_string()))
    }

    /// `enc` as a content encryption algorithm; also refuses `zip`.
    pub fn content_alg(&self) -> Result<ContentAlg, JoseError> {
        if self.get("zip").is_some() {
            return Err(JoseError::CompressionUnsupported);
        }
        let name = self.str("enc")?.ok_or(JoseError::Missing("enc"))?;
        ContentAlg::from_name(name).ok_or_else(|| JoseError::UnknownAlgorithm(name.to_string()))
    }

    /// `kid`, when present.
    pub fn kid(&self) -> Result<Option<&'a str>, JoseError> {
        self.str("kid")
    }

    /// `x5c`: the DER certificates, leaf first. Standard base64 as RFC 7515
    /// section 4.1.6 says; base64url is tolerated (docs/interop.md).
    pub fn x5c(&self) -> Result<Option<Vec<Vec<u8>>>, JoseError> {
        let Some(value) = self.get("x5c") else {
            return Ok(None);
        };
        let list = value.as_array().ok_or(JoseError::InvalidHeader("x5c"))?;
        if list.is_empty() {
            return Err(JoseError::InvalidHeader("x5c"));
        }
        list.iter()
            .map(|v| {
                let text = v.as_str().ok_or(JoseError::InvalidHeader("x5c"))?;
                b64::decode_std_public(text, "x5c").or_else(|_| b64::decode_url_public(text, "x5c"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The key agreement parameters `epk`, `apu` and `apv`.
    pub fn agreement_params(&self) -> Result<AgreementParams, JoseError> {
        let epk = match self.get("epk") {
            None => None,
            Some(v) => {
                let jwk: Jwk = serde_json::from_value(v.clone())
                    .map_err(|_| JoseError::InvalidHeader("epk"))?;
                match jwk.to_public_key() {
                    Ok(PublicKey::Ec(k)) => Some(k),
                    _ => return Err(JoseError::InvalidHeader("epk")),
                }
            }
        };
        Ok(AgreementParams {
            epk,
            ..self.party_info()?
        })
    }

    /// `apu` and `apv`, decoded, without `epk` (what an encrypter reads).
    pub fn party_info(&self) -> Result<AgreementParams, JoseError> {
        let bytes = |name: &'static str| -> Result<Option<Vec<u8>>, JoseError> {
            self.str(name)?
                .map(|s| b64::decode_url_public(s, name))
                .transpose()
        };
        Ok(AgreementParams {
            epk: None,
            apu: bytes("apu")?,
            apv: bytes("apv")?,
        })
    }
}

/// Writes an ephemeral public key as the `epk` parameter, members in the
/// usual order (kty, crv, x, y).
pub(crate) fn set_epk(header: &mut Header, epk: &EcPublicKey) -> Result<(), JoseError> {
    header.set_json("epk", &Jwk::from_public_key(&PublicKey::Ec(epk.clone())))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_refuses_duplicates() {
        let h = Header::from_json(br#"{"alg":"A128KW","kid":"k","enc":"A128GCM"}"#).unwrap();
        assert_eq!(
            h.to_json(),
            br#"{"alg":"A128KW","kid":"k","enc":"A128GCM"}"#
        );
        assert_eq!(
            Header::from_json(br#"{"alg":"RS256","alg":"none"}"#),
            Err(JoseError::DuplicateHeader("alg".to_string()))
        );
    }

    #[test]
    fn joint_header_refuses_shared_names_and_crit() {
        let p = Header::new().with("alg", "RS256");
        let u = Header::new().with("alg", "ES256");
        assert!(
            matches!(JointHeader::new(&p, Some(&u), None), Err(JoseError::DuplicateHeader(n)) if n == "alg")
        );
        let c = Header::new()
            .with("alg", "RS256")
            .with("crit", serde_json::json!(["exp"]));
        assert!(
            matches!(JointHeader::new(&c, None, None), Err(JoseError::CriticalUnsupported(n)) if n == "exp")
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let p = Header::new().with("alg", "none");
        let j = JointHeader::new(&p, None, None).unwrap();
        assert_eq!(j.jws_alg(), Err(JoseError::AlgNone));
        assert_eq!(j.key_alg(), Err(JoseError::AlgNone));
    }
}
