//! GetTAInformation (section 6.4.2): the `TAQuery` a Client Application
//! sends, the `TAInformationTBS` a TEE answers with, signed with the SP's
//! TEE SP AIK (7.8.1) with the AIK public key as a JWK in the header, and
//! the Client Application's verification against an AIK public key it
//! already holds.
//!
//! The draft's sample of `TAInformationTBS` is not valid JSON (a stray
//! `cacert` member and unbalanced brackets after each CA list). This
//! implementation keeps its named members and drops the duplicates:
//! `taid`, `tamid`, `spid`, `signercert`, `signercacerts`, `tamcert`,
//! `tamcacerts` (certificates in BASE64, CA lists up to and including the
//! root). See "Where the draft is loose" in `docs/cli.md`.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;
use serde_json::Value;

use crate::crypto::{CryptoError, Curve, JwsAlg, JwsSigner, KeyKind, Provider, PublicKey};
use crate::jose::{Header, JoseError, Jwk, Jws};
use crate::message::json::{Obj, Path, invalid, single_member};
use crate::message::{Base64Bytes, Limits, MessageError};

/// The name of the query message (6.4.2).
pub const TA_QUERY: &str = "TAQuery";
/// The name of the signed payload (6.4.2).
pub const TA_INFORMATION_TBS: &str = "TAInformationTBS";
/// The name of the signed answer (6.4.2).
pub const TA_INFORMATION: &str = "TAInformation";

/// Why a TA query could not be answered or its answer was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaInfoError {
    /// The message does not parse or lacks a member.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// The JWS does not parse or verify.
    #[error(transparent)]
    Jose(#[from] JoseError),
    /// A key operation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// No TA of that SP with that `taid` is installed (6.5.2 step 3: "If
    /// the given TA doesn't exist, an error is returned").
    #[error("no such TA")]
    TaNotFound,
    /// The TA's SP has no TEE SP AIK in this TEE.
    #[error("the SP has no TEE SP AIK")]
    NoSpAik,
    /// The certificate of the TAM that manages the TA is not known to the
    /// TEE (its signer cache no longer holds it).
    #[error("the TAM certificate is not known")]
    TamCertificateUnknown,
    /// No SP certificate of the SD verifies the stored TA.
    #[error("the TA signer certificate cannot be determined")]
    SignerUnknown,
    /// The TEE platform failed (storage, key unsealing, signing).
    #[error("TEE platform: {0}")]
    Platform(String),
    /// The AIK in the message header is not the one the caller holds.
    #[error("the header's signer key is not the expected TEE SP AIK")]
    SignerMismatch,
    /// The answer is about another TA or SP than the query.
    #[error("the answer does not match the query ({0})")]
    QueryMismatch(&'static str),
}

/// `{"TAQuery": {"spid": ..., "taid": ...}}` (6.4.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaQuery {
    /// The SP of the TA.
    pub spid: String,
    /// The TA.
    pub taid: String,
}

impl TaQuery {
    /// A query for `taid` of `spid`.
    pub fn new(spid: impl Into<String>, taid: impl Into<String>) -> Self {
        TaQuery {
            spid: spid.into(),
            taid: taid.into(),
        }
    }

    /// The message bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        named(TA_QUERY, self)
    }

    /// Parses the message under `limits`.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError> {
        let value = top(bytes, limits, TA_QUERY)?;
        let mut o = Obj::new(value, &Path::Root(TA_QUERY))?;
        let q = TaQuery {
            spid: o.req("spid")?,
            taid: o.req("taid")?,
        };
        o.finish()?;
        Ok(q)
    }
}

/// `TAInformationTBS` (6.4.2): what the TEE vouches for about one TA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaInformationTbs {
    /// The TA (from the query).
    pub taid: String,
    /// The TAM of the SD holding the TA.
    pub tamid: String,
    /// The TA's SP.
    pub spid: String,
    /// The certificate (DER) that signed the TA binary.
    pub signercert: Base64Bytes,
    /// Its CA chain up to and including the root, when the TEE knows it
    /// (TEEs without SP roots send an empty list).
    pub signercacerts: Vec<Base64Bytes>,
    /// The certificate (DER) of the TAM that manages the TA.
    pub tamcert: Base64Bytes,
    /// Its CA chain up to and including the root.
    pub tamcacerts: Vec<Base64Bytes>,
}

impl TaInformationTbs {
    /// The JWS payload `{"TAInformationTBS": {...}}`.
    pub fn to_payload(&self) -> Vec<u8> {
        named(TA_INFORMATION_TBS, self)
    }

    /// Parses a (verified) payload under `limits`.
    pub fn from_payload(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError> {
        let value = top(bytes, limits, TA_INFORMATION_TBS)?;
        let mut o = Obj::new(value, &Path::Root(TA_INFORMATION_TBS))?;
        let t = TaInformationTbs {
            taid: o.req("taid")?,
            tamid: o.req("tamid")?,
            spid: o.req("spid")?,
            signercert: o.req("signercert")?,
            signercacerts: o.req("signercacerts")?,
            tamcert: o.req("tamcert")?,
            tamcacerts: o.req("tamcacerts")?,
        };
        o.finish()?;
        Ok(t)
    }
}

/// The JWS algorithm for a signing key of `kind` (RS256, ES256, ES384).
fn alg_for(kind: KeyKind) -> Result<JwsAlg, TaInfoError> {
    match kind {
        KeyKind::Rsa => Ok(JwsAlg::Rs256),
        KeyKind::Ec(Curve::P256) => Ok(JwsAlg::Es256),
        KeyKind::Ec(Curve::P384) => Ok(JwsAlg::Es384),
        _ => Err(TaInfoError::Crypto(CryptoError::Unsupported("SP AIK kind"))),
    }
}

/// Signs `tbs` with the TEE SP AIK `signer` (whose public half is
/// `aik_public`) and returns `{"TAInformation": <JWS>}`: flattened JSON,
/// `alg` protected, the AIK public key as a JWK in the unprotected header's
/// `signer` (6.4.2).
pub fn sign_ta_information(
    tbs: &TaInformationTbs,
    signer: &dyn JwsSigner,
    aik_public: &PublicKey,
    provider: &Provider,
) -> Result<Vec<u8>, TaInfoError> {
    let alg = alg_for(signer.key_kind())?;
    let mut header = Header::new();
    header
        .set_json("signer", &Jwk::from_public_key(aik_public))
        .map_err(TaInfoError::Jose)?;
    let jws = Jws::sign_public(
        &tbs.to_payload(),
        signer,
        alg,
        Header::new(),
        Some(header),
        provider,
    )?;
    Ok(crate::message::envelope::named_jws(TA_INFORMATION, &jws)?)
}

/// The Client Application's check of a `TAInformation` message (6.4.2):
/// the signature must verify with `aik`, the TEE SP AIK public key the
/// caller obtained earlier from its TAM (never the key in the message's
/// header, which must merely agree with it), and the answer must be about
/// the TA of `query`.
pub fn verify_ta_information(
    bytes: &[u8],
    provider: &Provider,
    aik: &PublicKey,
    query: &TaQuery,
    limits: &Limits,
) -> Result<TaInformationTbs, TaInfoError> {
    let value = top(bytes, limits, TA_INFORMATION)?;
    let jws_bytes =
        crate::json_writer::to_vec(&value).map_err(|_| JoseError::Malformed("JWS JSON"))?;
    let jws = Jws::parse_json(&jws_bytes)?;
    let [sig] = jws.signatures() else {
        return Err(JoseError::Malformed("exactly one signature expected").into());
    };
    if let Some(jwk) = sig.unprotected().and_then(|h| h.get("signer")) {
        let jwk: Jwk =
            serde_json::from_value(jwk.clone()).map_err(|_| JoseError::Malformed("signer JWK"))?;
        if jwk.to_public_key()? != *aik {
            return Err(TaInfoError::SignerMismatch);
        }
    }
    let allowed: &[JwsAlg] = match aik {
        PublicKey::Rsa(_) => &[JwsAlg::Rs256],
        PublicKey::Ec(_) => &[JwsAlg::Es256, JwsAlg::Es384],
    };
    let payload = jws.verify(provider, aik, allowed)?;
    let tbs = TaInformationTbs::from_payload(&payload, limits)?;
    if tbs.taid != query.taid {
        return Err(TaInfoError::QueryMismatch("taid"));
    }
    if tbs.spid != query.spid {
        return Err(TaInfoError::QueryMismatch("spid"));
    }
    Ok(tbs)
}

fn named<T: Serialize>(name: &str, value: &T) -> Vec<u8> {
    let mut map = serde_json::Map::new();
    map.insert(
        name.into(),
        serde_json::to_value(value).unwrap_or(Value::Null),
    );
    crate::json_writer::to_vec(&Value::Object(map)).unwrap_or_default()
}

/// Parses `{"<name>": <value>}` under `limits` and returns the value.
fn top(bytes: &[u8], limits: &Limits, name: &'static str) -> Result<Value, MessageError> {
    let value = crate::message::json::parse_value(bytes, limits.max_message_size, limits)?;
    let (found, inner) = single_member(value, name)?;
    if found != name {
        return Err(MessageError::UnknownMessage(found));
    }
    if !inner.is_object() {
        return Err(invalid(&Path::Root(name), "expected an object"));
    }
    Ok(inner)
}
