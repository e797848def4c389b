//! Device State Information (section 9.1.5): [`Dsi`] and its parts,
//! [`TfwData`] (section 9.1.3), and the byte-exact carriers [`DsiDocument`]
//! (the `edsi` plaintext) and [`RawDsi`] (a `dsi` member of a response
//! content), whose SHA-256 is the `dsihash` of section 9.2.1.1.

use alloc::string::String;
use alloc::vec::Vec;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::json::{self, FromJson, Obj, Path, impl_deserialize, invalid};
use super::types::{AikType, Base64Bytes, DsiHash, count_string, flex_count};
use super::{Limits, MessageError};
use crate::crypto::{CryptoError, HashAlg, Provider};

/// Firmware signed data `tfwdata` (section 9.1.3): the TFW's signature over
/// the request's `tid`, built by the TEE from what the firmware returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TfwData {
    /// `tbs`: the signed bytes (the UTF-8 `tid`), BASE64.
    pub tbs: Base64Bytes,
    /// `cert`: the TFW certificate (DER), BASE64.
    pub cert: Base64Bytes,
    /// `sigalg`: the signature method, RS256 or ES256 (section 9.1.3.1),
    /// kept verbatim.
    pub sigalg: String,
    /// `sig`: the signature, BASE64.
    pub sig: Base64Bytes,
}

impl FromJson for TfwData {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = TfwData {
            tbs: o.req("tbs")?,
            cert: o.req("cert")?,
            sigalg: o.req("sigalg")?,
            sig: o.req("sig")?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// One TA in an SD's `talist` (section 9.1.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaInfo {
    /// `taid`: the TA application identifier.
    pub taid: String,
    /// `taname`: the TA's friendly name (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taname: Option<String>,
    /// `taversion`, an otrp extension member (not in draft-03): the version
    /// of the installed TA as its SP-signed image states it, so that a TAM
    /// can enforce its own high-water mark (docs/interop.md). Omitted when
    /// the TEE does not know it.
    #[serde(rename = "taversion", skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

impl TaInfo {
    /// A TA entry without a friendly name.
    pub fn new(taid: impl Into<String>) -> Self {
        TaInfo {
            taid: taid.into(),
            taname: None,
            version: None,
        }
    }

    /// Sets the friendly name.
    pub fn with_taname(mut self, taname: impl Into<String>) -> Self {
        self.taname = Some(taname.into());
        self
    }

    /// Sets the version (`taversion`).
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }
}

impl FromJson for TaInfo {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = TaInfo {
            taid: o.req("taid")?,
            taname: o.opt("taname")?,
            version: o.opt_with("taversion", |v, path| {
                v.as_u64()
                    .ok_or_else(|| invalid(path, "expected a non-negative integer"))
            })?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// One SD owned by the requesting TAM, in `sdlist.sd` (section 9.1.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SdInfo {
    /// `name`: the SD name.
    pub name: String,
    /// `spid`: the SP owning the SD.
    pub spid: String,
    /// `talist`: the TAs installed in the SD.
    pub talist: Vec<TaInfo>,
}

impl FromJson for SdInfo {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = SdInfo {
            name: o.req("name")?,
            spid: o.req("spid")?,
            talist: o.req("talist")?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// `sdlist` (section 9.1.5). `cnt` is not stored: it is emitted as the
/// number of entries and checked against it on input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SdList {
    /// `sd`: the SDs owned by the requesting TAM.
    pub sd: Vec<SdInfo>,
}

impl Serialize for SdList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("SdList", 2)?;
        st.serialize_field("cnt", &count_string(self.sd.len()))?;
        st.serialize_field("sd", &self.sd)?;
        st.end()
    }
}

impl FromJson for SdList {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let cnt = o.req_with("cnt", flex_count)?;
        let sd: Vec<SdInfo> = o.req("sd")?;
        o.finish()?;
        if u64::try_from(sd.len()).ok() != Some(cnt) {
            return Err(invalid(
                &path.member("cnt"),
                "does not match the number of sd entries",
            ));
        }
        Ok(SdList { sd })
    }
}

/// One entry of `teeaiklist`: a TEE SP AIK public key (sections 7.8.1, 9.1.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TeeAik {
    /// `spaik`: the SP AIK public key, BASE64.
    pub spaik: Base64Bytes,
    /// `spaiktype`: "RSA" or "ECC".
    pub spaiktype: AikType,
    /// `spid`: the SP this key belongs to.
    pub spid: String,
}

impl FromJson for TeeAik {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = TeeAik {
            spaik: o.req("spaik")?,
            spaiktype: o.req("spaiktype")?,
            spid: o.req("spid")?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// The `tee` member of the DSI (section 9.1.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TeeInfo {
    /// `name`: the TEE (routing) name, used as `tee` in later requests.
    pub name: String,
    /// `ver`: the TEE version (not the message version).
    pub ver: String,
    /// `cert`: the TEE certificate (DER), BASE64.
    pub cert: Base64Bytes,
    /// `cacert`: CA certificates up to the root, BASE64 each.
    pub cacert: Vec<Base64Bytes>,
    /// `sdlist`: the SDs owned by the requesting TAM.
    pub sdlist: SdList,
    /// `teeaiklist`: the TEE SP AIK public keys.
    pub teeaiklist: Vec<TeeAik>,
}

impl FromJson for TeeInfo {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = TeeInfo {
            name: o.req("name")?,
            ver: o.req("ver")?,
            cert: o.req("cert")?,
            cacert: o.req("cacert")?,
            sdlist: o.req("sdlist")?,
            teeaiklist: o.req("teeaiklist")?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// The Device State Information (section 9.1.5): the value of `dsi`.
/// `tfwdata` is optional: section 9.1.2 step 3 lets a TEE omit it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dsi {
    /// `tfwdata`: firmware signed data, when the TEE can obtain it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tfwdata: Option<TfwData>,
    /// `tee`: the TEE's state.
    pub tee: TeeInfo,
}

impl Dsi {
    /// Appends this DSI's JSON text (the derived serialization: the same
    /// bytes) to `out`, and returns the JSON text of its view, the DSI
    /// without `tfwdata` that a `dsihash` vouches for (9.2.1.1): `{` and
    /// the text from the `tee` member on. One serialization gives both.
    pub(crate) fn write_json_and_view(&self, out: &mut Vec<u8>) -> Vec<u8> {
        // Serializing strings and numbers into memory cannot fail.
        out.push(b'{');
        if let Some(tfwdata) = &self.tfwdata {
            out.extend_from_slice(b"\"tfwdata\":");
            let _ = crate::json_writer::extend(out, tfwdata);
            out.push(b',');
        }
        let tee_at = out.len();
        out.extend_from_slice(b"\"tee\":");
        let _ = crate::json_writer::extend(out, &self.tee);
        out.push(b'}');
        let tee = out.get(tee_at..).unwrap_or_default();
        let mut view = Vec::with_capacity(1 + tee.len());
        view.push(b'{');
        view.extend_from_slice(tee);
        view
    }

    /// The JSON text of this DSI's view (see
    /// [`Dsi::write_json_and_view`]).
    pub(crate) fn view_json(&self) -> Vec<u8> {
        let mut view = Vec::new();
        view.push(b'{');
        view.extend_from_slice(b"\"tee\":");
        let _ = crate::json_writer::extend(&mut view, &self.tee);
        view.push(b'}');
        view
    }
}

impl FromJson for Dsi {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = Dsi {
            tfwdata: o.opt("tfwdata")?,
            tee: o.req("tee")?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// SHA-256 through the provider: core has no crypto of its own.
pub fn sha256(provider: &Provider, bytes: &[u8]) -> Result<[u8; 32], CryptoError> {
    let out = provider.digest(HashAlg::Sha256)?.digest(bytes);
    <[u8; 32]>::try_from(out.as_slice()).map_err(|_| CryptoError::InvalidLength)
}

/// The `edsi` plaintext `{"dsi": {...}}` (section 9.1.5) with the exact
/// bytes the TEE produced, so that `dsihash` (section 9.2.1.1) is computed
/// over them and never over a re-serialisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DsiDocument {
    bytes: Vec<u8>,
    dsi: Dsi,
}

impl DsiDocument {
    /// Serializes `dsi` as a new document (TEE side).
    pub fn new(dsi: Dsi) -> Self {
        Self::with_view(dsi).0
    }

    /// [`DsiDocument::new`], with the JSON text of the DSI's view from the
    /// same serialization (see [`Dsi::write_json_and_view`]).
    pub(crate) fn with_view(dsi: Dsi) -> (Self, Vec<u8>) {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"{\"dsi\":");
        let view = dsi.write_json_and_view(&mut bytes);
        bytes.push(b'}');
        (DsiDocument { bytes, dsi }, view)
    }

    /// Parses a decrypted `edsi` plaintext, keeping its bytes.
    pub fn from_plaintext(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError> {
        let value = json::parse_value(bytes, limits.max_message_size, limits)?;
        let path = Path::Root("edsi");
        let mut o = Obj::new(value, &path)?;
        let dsi = o.req("dsi")?;
        o.finish()?;
        Ok(DsiDocument {
            bytes: bytes.to_vec(),
            dsi,
        })
    }

    /// The exact plaintext bytes (to encrypt as `edsi`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The parsed DSI.
    pub fn dsi(&self) -> &Dsi {
        &self.dsi
    }

    /// `dsihash`: SHA-256 over the exact plaintext bytes.
    pub fn hash(&self, provider: &Provider) -> Result<DsiHash, CryptoError> {
        sha256(provider, &self.bytes).map(DsiHash)
    }
}

/// A `dsi` member of a response content (sections 9.2.1.3 to 9.3.3.3) with
/// the exact bytes of its value as the TEE produced them; `dsihash` is
/// computed over these bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawDsi {
    bytes: Vec<u8>,
    dsi: Dsi,
}

impl RawDsi {
    /// Serializes `dsi` (TEE side).
    pub fn new(dsi: Dsi) -> Self {
        Self::with_view(dsi).0
    }

    /// [`RawDsi::new`], with the JSON text of the DSI's view from the same
    /// serialization (see [`Dsi::write_json_and_view`]).
    pub(crate) fn with_view(dsi: Dsi) -> (Self, Vec<u8>) {
        let mut bytes = Vec::new();
        let view = dsi.write_json_and_view(&mut bytes);
        (RawDsi { bytes, dsi }, view)
    }

    pub(crate) fn from_parts(bytes: Vec<u8>, dsi: Dsi) -> Self {
        RawDsi { bytes, dsi }
    }

    /// The exact bytes of the `dsi` value.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The parsed DSI.
    pub fn dsi(&self) -> &Dsi {
        &self.dsi
    }

    /// `dsihash`: SHA-256 over the exact bytes of the `dsi` value.
    pub fn hash(&self, provider: &Provider) -> Result<DsiHash, CryptoError> {
        sha256(provider, &self.bytes).map(DsiHash)
    }
}

impl Serialize for RawDsi {
    /// Through serde the parsed value is written; the byte-exact form is
    /// written by the content types' `to_plaintext`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.dsi.serialize(s)
    }
}

impl FromJson for RawDsi {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        Dsi::from_json(value, path).map(RawDsi::new)
    }
}

impl_deserialize!(
    TfwData => "tfwdata",
    TaInfo => "talist",
    SdInfo => "sd",
    SdList => "sdlist",
    TeeAik => "teeaiklist",
    TeeInfo => "tee",
    Dsi => "dsi",
);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn dsi(tfwdata: bool) -> Dsi {
        Dsi {
            tfwdata: tfwdata.then(|| TfwData {
                tbs: Base64Bytes(b"tid-1".to_vec()),
                cert: Base64Bytes(vec![0x30; 300]),
                sigalg: String::from("ES256"),
                sig: Base64Bytes(vec![7; 64]),
            }),
            tee: TeeInfo {
                name: String::from("tee \"one\"\n"),
                ver: String::from("1.0"),
                cert: Base64Bytes(vec![0x30, 0x82, 1, 2]),
                cacert: vec![Base64Bytes(vec![9; 100])],
                sdlist: SdList {
                    sd: vec![SdInfo {
                        name: String::from("sd.\u{e9}"),
                        spid: String::from("urn:sp"),
                        talist: vec![TaInfo {
                            taid: String::from("ta"),
                            taname: None,
                            version: Some(3),
                        }],
                    }],
                },
                teeaiklist: vec![TeeAik {
                    spaik: Base64Bytes(vec![4; 65]),
                    spaiktype: AikType::Ecc,
                    spid: String::from("urn:sp"),
                }],
            },
        }
    }

    #[test]
    fn one_serialization_gives_the_dsi_and_its_view() {
        for with_tfwdata in [false, true] {
            let dsi = dsi(with_tfwdata);
            let bare = Dsi {
                tfwdata: None,
                tee: dsi.tee.clone(),
            };
            let (raw, view) = RawDsi::with_view(dsi.clone());
            assert_eq!(raw.as_bytes(), serde_json::to_vec(&dsi).unwrap());
            assert_eq!(view, serde_json::to_vec(&bare).unwrap());
            assert_eq!(dsi.view_json(), view);
            let (doc, doc_view) = DsiDocument::with_view(dsi.clone());
            let named = crate::message::envelope::Named("dsi", &dsi);
            assert_eq!(doc.as_bytes(), serde_json::to_vec(&named).unwrap());
            assert_eq!(doc_view, view);
        }
    }
}
