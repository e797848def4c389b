//! JSON Web Signature (RFC 7515) in compact, flattened JSON and general JSON
//! serialization. OTrP sends every message as a flattened JWS (spec 7.4).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use super::{Header, JointHeader, JoseError, b64};
use crate::crypto::{JwsAlg, JwsSigner, Provider, PublicKey, SignedMessage};

/// A parsed or freshly signed JWS. Nothing in it is trusted until
/// [`Jws::verify`] succeeds; the payload before that is only available as
/// [`Jws::unverified_payload`].
///
/// `P` holds the payload's base64url text: owned (`Zeroizing<String>`, the
/// default), or borrowed from the parsed bytes ([`JwsRef`], from
/// [`JwsRef::parse_json_borrowed`]), which spares a copy of a large payload
/// (an InstallTA request's is most of the message). Every owned copy of the
/// encoded payload, and the signing input built from it, is wiped when
/// dropped: a payload may be secret (a decrypted TA image, issue 18).
#[derive(Clone, Debug, PartialEq)]
pub struct Jws<P = Zeroizing<String>> {
    payload_b64: P,
    signatures: Vec<JwsSignature>,
}

/// A JWS whose payload text is borrowed from the JSON it was parsed from
/// (copied only if the JSON string had escapes, and that copy is wiped).
pub type JwsRef<'a> = Jws<PayloadText<'a>>;

/// The base64url payload text of a [`JwsRef`]: borrowed from the parsed
/// JSON, or an owned copy (when the JSON string had escapes) that is wiped
/// when dropped.
#[derive(Clone, Debug, PartialEq)]
pub enum PayloadText<'a> {
    /// The text as it sits in the parsed bytes.
    Borrowed(&'a str),
    /// An unescaped copy, wiped on drop.
    Owned(Zeroizing<String>),
}

impl AsRef<str> for PayloadText<'_> {
    fn as_ref(&self) -> &str {
        match self {
            Self::Borrowed(text) => text,
            Self::Owned(text) => text.as_str(),
        }
    }
}

impl<'a> From<Cow<'a, str>> for PayloadText<'a> {
    fn from(text: Cow<'a, str>) -> Self {
        match text {
            Cow::Borrowed(text) => Self::Borrowed(text),
            Cow::Owned(text) => Self::Owned(Zeroizing::new(text)),
        }
    }
}

/// One signature of a JWS with its headers.
#[derive(Clone, Debug, PartialEq)]
pub struct JwsSignature {
    protected_b64: String,
    protected: Header,
    header: Option<Header>,
    signature: Vec<u8>,
}

impl JwsSignature {
    /// The integrity-protected header.
    pub fn protected(&self) -> &Header {
        &self.protected
    }

    /// The unprotected header (`header`), if any.
    pub fn unprotected(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// The joint view of both headers (disjointness was checked on parse).
    pub fn joint_header(&self) -> Result<JointHeader<'_>, JoseError> {
        JointHeader::new(&self.protected, self.header.as_ref(), None)
    }

    /// The signature's algorithm. It must be in the protected header (spec
    /// 7.4 requires it there; RFC 7515 would also allow the unprotected one).
    pub fn alg(&self) -> Result<JwsAlg, JoseError> {
        if self.protected.get("alg").is_none() {
            return Err(JoseError::AlgNotProtected);
        }
        self.joint_header()?.jws_alg()
    }

    /// The `x5c` certificate chain (DER, leaf first), if present.
    pub fn x5c(&self) -> Result<Option<Vec<Vec<u8>>>, JoseError> {
        self.joint_header()?.x5c()
    }

    /// The raw signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    fn new(
        protected_b64: String,
        header: Option<Header>,
        signature: Vec<u8>,
    ) -> Result<Self, JoseError> {
        let protected = if protected_b64.is_empty() {
            Header::new()
        } else {
            Header::from_json(&b64::decode_url_public(&protected_b64, "protected")?)?
        };
        let sig = Self {
            protected_b64,
            protected,
            header,
            signature,
        };
        // Duplicate names across the headers, `crit` and a missing `alg` are
        // refused at parse time; where `alg` sits is checked on use, so that
        // one odd signature does not hide the others.
        sig.joint_header()?
            .str("alg")?
            .ok_or(JoseError::Missing("alg"))?;
        Ok(sig)
    }

    /// `protected || '.' || payload`, built for signing (signers take the
    /// message whole; verification hashes the pieces, [`SignedMessage`]),
    /// wiped and dropped right after use.
    fn signing_input(&self, payload_b64: &str) -> Zeroizing<Vec<u8>> {
        let mut input = Zeroizing::new(Vec::with_capacity(
            self.protected_b64.len() + 1 + payload_b64.len(),
        ));
        input.extend_from_slice(self.protected_b64.as_bytes());
        input.push(b'.');
        input.extend_from_slice(payload_b64.as_bytes());
        input
    }

    fn verify(
        &self,
        payload_b64: &str,
        provider: &Provider,
        key: &PublicKey,
        allowed: &[JwsAlg],
    ) -> Result<(), JoseError> {
        let alg = self.alg()?;
        if !allowed.contains(&alg) {
            return Err(JoseError::AlgorithmNotAllowed(alg.name()));
        }
        if !alg.key_kind().admits(key.kind()) {
            return Err(JoseError::KeyMismatch(alg.name()));
        }
        // The signing input is hashed in its two places, not built.
        let mut message = SignedMessage::new(provider, alg)?;
        message.update(self.protected_b64.as_bytes());
        message.update(b".");
        message.update(payload_b64.as_bytes());
        message.finish().verify(key, &self.signature)?;
        Ok(())
    }
}

impl Jws {
    /// Parses any serialization: JSON (flattened or general) when the input
    /// starts with `{`, compact otherwise.
    pub fn parse(input: &[u8]) -> Result<Self, JoseError> {
        match super::classify(input)? {
            super::Serialized::Json(json) => Self::parse_json(json),
            super::Serialized::Compact(text) => Self::parse_compact(text),
        }
    }

    /// Parses the compact serialization `protected.payload.signature`.
    pub fn parse_compact(text: &str) -> Result<Self, JoseError> {
        let [protected, payload, signature] =
            super::compact_parts::<3>(text, "compact JWS needs exactly three parts")?;
        let sig = JwsSignature::new(
            protected.into(),
            None,
            b64::decode_url_public(signature, "signature")?,
        )?;
        Self::from_parts(Zeroizing::new(String::from(payload)), alloc::vec![sig])
    }

    /// Parses the flattened or general JSON serialization.
    pub fn parse_json(json: &[u8]) -> Result<Self, JoseError> {
        let raw: JwsJson<'_> = crate::json_reader::from_slice(json)?;
        Ok(Jws::try_from(raw)?.into_owned())
    }

    /// Signs `payload` with one signer. `protected` and `unprotected` carry
    /// the other header parameters (`kid`, `x5c`, ...); `alg` is written into
    /// the protected header.
    pub fn sign(
        payload: &[u8],
        signer: &dyn JwsSigner,
        alg: JwsAlg,
        protected: Header,
        unprotected: Option<Header>,
        provider: &Provider,
    ) -> Result<Self, JoseError> {
        let payload_b64 = Zeroizing::new(b64::encode_url(payload));
        Self::sign_encoded(payload_b64, signer, alg, protected, unprotected, provider)
    }

    /// [`Jws::sign`] for a payload that is public, such as an OTrP message
    /// (whose secrets are inside JWEs): encoded with the fast encoder
    /// rather than in constant time.
    pub fn sign_public(
        payload: &[u8],
        signer: &dyn JwsSigner,
        alg: JwsAlg,
        protected: Header,
        unprotected: Option<Header>,
        provider: &Provider,
    ) -> Result<Self, JoseError> {
        let payload_b64 = Zeroizing::new(b64::encode_url_public(payload));
        Self::sign_encoded(payload_b64, signer, alg, protected, unprotected, provider)
    }

    fn sign_encoded(
        payload_b64: Zeroizing<String>,
        signer: &dyn JwsSigner,
        alg: JwsAlg,
        protected: Header,
        unprotected: Option<Header>,
        provider: &Provider,
    ) -> Result<Self, JoseError> {
        let mut jws = Self {
            payload_b64,
            signatures: Vec::new(),
        };
        jws.add_signature(signer, alg, protected, unprotected, provider)?;
        Ok(jws)
    }
}

impl<'a> JwsRef<'a> {
    /// Parses the flattened or general JSON serialization like
    /// [`Jws::parse_json`], borrowing the payload text from `json`.
    pub fn parse_json_borrowed(json: &'a [u8]) -> Result<Self, JoseError> {
        let raw: JwsJson<'a> = crate::json_reader::from_slice(json)?;
        raw.try_into()
    }
}

impl<P: AsRef<str>> Jws<P> {
    fn from_parts(payload_b64: P, signatures: Vec<JwsSignature>) -> Result<Self, JoseError> {
        // Validate the payload encoding now so that a malformed JWS never
        // parses, without decoding it.
        b64::check_url(payload_b64.as_ref(), "payload")?;
        Ok(Self {
            payload_b64,
            signatures,
        })
    }

    /// Replaces the unprotected header of signature `index`, which that
    /// signature does not cover (RFC 7515 section 5.1): how a TAM adds
    /// `x5c` to a signed request it sends again (spec 7.4.1). A name its
    /// protected header also has, and `crit`, are refused.
    pub fn set_unprotected(
        &mut self,
        index: usize,
        header: Option<Header>,
    ) -> Result<(), JoseError> {
        let sig = self
            .signatures
            .get_mut(index)
            .ok_or(JoseError::Missing("signature"))?;
        JointHeader::new(&sig.protected, header.as_ref(), None)?;
        sig.header = header;
        Ok(())
    }

    /// The same JWS owning its payload text (wiped on drop).
    pub fn into_owned(self) -> Jws {
        Jws {
            payload_b64: Zeroizing::new(String::from(self.payload_b64.as_ref())),
            signatures: self.signatures,
        }
    }

    /// Adds one more signature over the same payload (general serialization).
    pub fn add_signature(
        &mut self,
        signer: &dyn JwsSigner,
        alg: JwsAlg,
        protected: Header,
        unprotected: Option<Header>,
        provider: &Provider,
    ) -> Result<(), JoseError> {
        if !alg.key_kind().admits(signer.key_kind()) {
            return Err(JoseError::KeyMismatch(alg.name()));
        }
        let protected = with_alg_first(protected, alg.name());
        JointHeader::new(&protected, unprotected.as_ref(), None)?;
        let protected_b64 = b64::encode_url(&protected.to_json());
        let mut sig = JwsSignature {
            protected_b64,
            protected,
            header: unprotected,
            signature: Vec::new(),
        };
        sig.signature = signer.sign(
            alg,
            &sig.signing_input(self.payload_b64.as_ref()),
            provider.secure_random,
        )?;
        self.signatures.push(sig);
        Ok(())
    }

    /// Verifies with `key`, accepting only algorithms in `allowed`, and
    /// returns the payload. With several signatures, one that verifies with
    /// this key suffices.
    pub fn verify(
        &self,
        provider: &Provider,
        key: &PublicKey,
        allowed: &[JwsAlg],
    ) -> Result<Vec<u8>, JoseError> {
        let mut last = JoseError::Missing("signature");
        for sig in &self.signatures {
            match sig.verify(self.payload_b64.as_ref(), provider, key, allowed) {
                Ok(()) => return b64::decode_url_public(self.payload_b64.as_ref(), "payload"),
                Err(e) => last = e,
            }
        }
        Err(if self.signatures.len() > 1 {
            JoseError::BadSignature
        } else {
            last
        })
    }

    /// The payload WITHOUT verification: for routing decisions only (the
    /// broker reads `tee` this way, spec 7.4), never for trust.
    pub fn unverified_payload(&self) -> Result<Vec<u8>, JoseError> {
        b64::decode_url_public(self.payload_b64.as_ref(), "payload")
    }

    /// The signatures.
    pub fn signatures(&self) -> &[JwsSignature] {
        &self.signatures
    }

    /// Compact serialization: one signature, no unprotected header.
    pub fn to_compact(&self) -> Result<String, JoseError> {
        match self.signatures.as_slice() {
            [sig] if sig.header.is_none() => {
                let sig_b64 = b64::encode_url_public(&sig.signature);
                Ok(alloc::format!(
                    "{}.{}.{}",
                    sig.protected_b64,
                    self.payload_b64.as_ref(),
                    sig_b64
                ))
            }
            _ => Err(JoseError::NotSerializable("compact JWS")),
        }
    }

    /// Flattened JSON serialization: one signature.
    pub fn to_flattened_json(&self) -> Result<String, JoseError> {
        let mut out = String::new();
        self.write_flattened_json(&mut out)?;
        Ok(out)
    }

    /// Appends the flattened JSON serialization to `out`, written directly:
    /// the payload, protected header and signature are base64url, which
    /// JSON never escapes, so serde_json's escaping scan over the payload
    /// (most of a message) and its copies are skipped. Only an unprotected
    /// header goes through serde_json. Same bytes as the `Serialize` impl.
    pub fn write_flattened_json(&self, out: &mut String) -> Result<(), JoseError> {
        let [sig] = self.signatures.as_slice() else {
            return Err(JoseError::NotSerializable("flattened JWS"));
        };
        let header = match &sig.header {
            Some(header) => Some(crate::json_writer::to_string(header)?),
            None => None,
        };
        let signature = b64::encode_url_public(&sig.signature);
        let payload = self.payload_b64.as_ref();
        out.reserve(payload.len() + sig.protected_b64.len() + signature.len() + 64);
        out.push_str("{\"payload\":\"");
        out.push_str(payload);
        out.push('"');
        if !sig.protected_b64.is_empty() {
            out.push_str(",\"protected\":\"");
            out.push_str(&sig.protected_b64);
            out.push('"');
        }
        if let Some(header) = header {
            out.push_str(",\"header\":");
            out.push_str(&header);
        }
        out.push_str(",\"signature\":\"");
        out.push_str(&signature);
        out.push_str("\"}");
        Ok(())
    }

    /// General JSON serialization.
    pub fn to_general_json(&self) -> String {
        let out = GeneralOut {
            payload: self.payload_b64.as_ref(),
            signatures: self.signatures.iter().map(SignatureOut::from).collect(),
        };
        crate::json_writer::to_string(&out).unwrap_or_default()
    }
}

/// A header with `alg` set, placed first when it was absent.
pub(crate) fn with_alg_first(header: Header, alg: impl Into<serde_json::Value>) -> Header {
    if header.get("alg").is_some() {
        let mut header = header;
        header.set("alg", alg);
        return header;
    }
    let mut out = Header::new().with("alg", alg);
    out.extend_from(&header);
    out
}

/// The JSON serializations as they arrive (RFC 7515 section 7.2); the
/// payload text is borrowed when the JSON string has no escapes.
#[derive(Deserialize)]
pub(crate) struct JwsJson<'a> {
    #[serde(borrow)]
    payload: Cow<'a, str>,
    protected: Option<String>,
    header: Option<Header>,
    signature: Option<String>,
    signatures: Option<Vec<SignatureJson>>,
}

#[derive(Deserialize)]
struct SignatureJson {
    protected: Option<String>,
    header: Option<Header>,
    signature: String,
}

impl<'a> TryFrom<JwsJson<'a>> for JwsRef<'a> {
    type Error = JoseError;

    fn try_from(raw: JwsJson<'a>) -> Result<Self, JoseError> {
        let payload = PayloadText::from(raw.payload);
        let sigs = match (raw.signatures, raw.signature) {
            (Some(list), None) if raw.protected.is_none() && raw.header.is_none() => {
                if list.is_empty() {
                    return Err(JoseError::Missing("signatures"));
                }
                if list.len() > super::MAX_SIGNATURES {
                    return Err(JoseError::TooMany("signatures"));
                }
                list.into_iter()
                    .map(|s| {
                        JwsSignature::new(
                            s.protected.unwrap_or_default(),
                            s.header,
                            b64::decode_url_public(&s.signature, "signature")?,
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            (None, Some(signature)) => alloc::vec![JwsSignature::new(
                raw.protected.unwrap_or_default(),
                raw.header,
                b64::decode_url_public(&signature, "signature")?,
            )?],
            (None, None) => return Err(JoseError::Missing("signature")),
            _ => {
                return Err(JoseError::Malformed(
                    "both flattened and general JWS members",
                ));
            }
        };
        Jws::from_parts(payload, sigs)
    }
}

#[derive(Serialize)]
struct SignatureOut<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    protected: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    header: Option<&'a Header>,
    signature: String,
}

impl<'a> From<&'a JwsSignature> for SignatureOut<'a> {
    fn from(sig: &'a JwsSignature) -> Self {
        Self {
            protected: &sig.protected_b64,
            header: sig.header.as_ref(),
            signature: b64::encode_url_public(&sig.signature),
        }
    }
}

#[derive(Serialize)]
struct FlattenedOut<'a> {
    payload: &'a str,
    #[serde(flatten)]
    sig: SignatureOut<'a>,
}

#[derive(Serialize)]
struct GeneralOut<'a> {
    payload: &'a str,
    signatures: Vec<SignatureOut<'a>>,
}

/// Serializes as flattened JSON when there is one signature (the form OTrP
/// sends), general JSON otherwise.
impl<P: AsRef<str>> Serialize for Jws<P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.signatures.as_slice() {
            [sig] => FlattenedOut {
                payload: self.payload_b64.as_ref(),
                sig: SignatureOut::from(sig),
            }
            .serialize(s),
            sigs => GeneralOut {
                payload: self.payload_b64.as_ref(),
                signatures: sigs.iter().map(SignatureOut::from).collect(),
            }
            .serialize(s),
        }
    }
}

/// Deserializes flattened or general JSON, with every check of [`Jws::parse_json`].
impl<'de> Deserialize<'de> for Jws {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        JwsRef::try_from(JwsJson::deserialize(d)?)
            .map(Jws::into_owned)
            .map_err(serde::de::Error::custom)
    }
}
