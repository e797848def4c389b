//! The plaintexts of the ENCRYPTED `content` members (sections 9.2, 9.3):
//! what the TAM asks for, and what the TEE answers.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;
use serde_json::Value;

use super::dsi::RawDsi;
use super::failure::ContentReason;
use super::json::{self, FromJson, Obj, Path, impl_deserialize, invalid};
use super::limits::member_span;
use super::types::{AikType, Base64Bytes, CertFingerprint, DeviceId, flex_bool, one_or_many};
use super::{Dsi, Limits, MessageError};

/// A decrypted `content` plaintext: parsed strictly from the JWE plaintext
/// and serialized to the bytes to encrypt.
pub trait ContentPlaintext: Sized {
    /// Parses the decrypted plaintext under `limits.max_message_size`.
    fn from_plaintext(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError>;
    /// The plaintext bytes to encrypt.
    fn to_plaintext(&self) -> Vec<u8>;
}

fn parse<T>(
    bytes: &[u8],
    limits: &Limits,
    f: impl FnOnce(&mut Obj<'_>) -> Result<T, MessageError>,
) -> Result<T, MessageError> {
    let value = json::parse_value(bytes, limits.max_message_size, limits)?;
    let path = Path::Root("content");
    let mut o = Obj::new(value, &path)?;
    let v = f(&mut o)?;
    o.finish()?;
    Ok(v)
}

macro_rules! simple_content {
    ($($ty:ty),+) => {$(
        impl ContentPlaintext for $ty {
            fn from_plaintext(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError> {
                let value = json::parse_value(bytes, limits.max_message_size, limits)?;
                <$ty as FromJson>::from_json(value, &Path::Root("content"))
            }
            fn to_plaintext(&self) -> Vec<u8> {
                crate::json_writer::to_vec(self).unwrap_or_default()
            }
        }
    )+};
}

/// CreateSD request content (section 9.2.1.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateSdRequestContent {
    /// `spid`: the SP id, unique within the TAM.
    pub spid: String,
    /// `sdname`: the name of the SD to create.
    pub sdname: String,
    /// `spcert`: the SP's TA signer certificate (DER), BASE64.
    pub spcert: Base64Bytes,
    /// `tamid`: the TAM id from the TAM certificate.
    pub tamid: String,
    /// `did`: SHA-256 of the target TEE certificate.
    pub did: DeviceId,
}

impl FromJson for CreateSdRequestContent {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = CreateSdRequestContent {
            spid: o.req("spid")?,
            sdname: o.req("sdname")?,
            spcert: o.req("spcert")?,
            tamid: o.req("tamid")?,
            did: o.req("did")?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// `changes` of an UpdateSD request (section 9.2.2.1); every member is
/// optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SdChanges {
    /// `newsdname`: rename the SD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newsdname: Option<String>,
    /// `newspid`: change the SD's SP id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newspid: Option<String>,
    /// `spcert`: SP signer certificates to add, BASE64 each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spcert: Option<Vec<Base64Bytes>>,
    /// `deloldspcert`: SHA-256 (hex) of SP certificates to remove.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deloldspcert: Option<Vec<CertFingerprint>>,
    /// `renewteespaik`: regenerate the TEE SP AIK (section 9.2.2.1 says
    /// "if it is present", so optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renewteespaik: Option<bool>,
}

impl FromJson for SdChanges {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = SdChanges {
            newsdname: o.opt("newsdname")?,
            newspid: o.opt("newspid")?,
            spcert: o.opt_with("spcert", one_or_many)?,
            deloldspcert: o.opt_with("deloldspcert", one_or_many)?,
            renewteespaik: o.opt_with("renewteespaik", flex_bool)?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// UpdateSD request content (section 9.2.2.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UpdateSdRequestContent {
    /// `tamid`: the TAM id associated with the SD.
    pub tamid: String,
    /// `spid`: the SP whose SD is updated.
    pub spid: String,
    /// `sdname`: the SD to update.
    pub sdname: String,
    /// `changes`: what to change.
    pub changes: SdChanges,
}

impl FromJson for UpdateSdRequestContent {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = UpdateSdRequestContent {
            tamid: o.req("tamid")?,
            spid: o.req("spid")?,
            sdname: o.req("sdname")?,
            changes: o.req("changes")?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// DeleteSD request content (section 9.2.3.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeleteSdRequestContent {
    /// `tamid`: the TAM id associated with the SD.
    pub tamid: String,
    /// `sdname`: the SD to delete.
    pub sdname: String,
    /// `deleteta`: also delete the SD's TAs (section 9.2.3.1 says "if it is
    /// present", so optional; absent means false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleteta: Option<bool>,
}

impl FromJson for DeleteSdRequestContent {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = DeleteSdRequestContent {
            tamid: o.req("tamid")?,
            sdname: o.req("sdname")?,
            deleteta: o.opt_with("deleteta", flex_bool)?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// InstallTA request content (section 9.3.1.1); UpdateTA uses the same
/// members (section 9.3.2.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstallTaRequestContent {
    /// `tamid`: the TAM id assigned to the SD.
    pub tamid: String,
    /// `spid`: the SP owning the TA.
    pub spid: String,
    /// `sdname`: the target SD.
    pub sdname: String,
    /// `spcert`: a new SP certificate that signed the TA (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spcert: Option<Base64Bytes>,
    /// `taid`: the TA identifier.
    pub taid: String,
}

/// UpdateTA request content (section 9.3.2.1): the same members as InstallTA.
pub type UpdateTaRequestContent = InstallTaRequestContent;

impl FromJson for InstallTaRequestContent {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = InstallTaRequestContent {
            tamid: o.req("tamid")?,
            spid: o.req("spid")?,
            sdname: o.req("sdname")?,
            spcert: o.opt("spcert")?,
            taid: o.req("taid")?,
        };
        o.finish()?;
        Ok(v)
    }
}

/// DeleteTA request content (section 9.3.3.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeleteTaRequestContent {
    /// `tamid`: the TAM id assigned to the SD.
    pub tamid: String,
    /// `sdname`: the SD holding the TA.
    pub sdname: String,
    /// `taid`: the TA to delete.
    pub taid: String,
}

impl FromJson for DeleteTaRequestContent {
    fn from_json(value: Value, path: &Path<'_>) -> Result<Self, MessageError> {
        let mut o = Obj::new(value, path)?;
        let v = DeleteTaRequestContent {
            tamid: o.req("tamid")?,
            sdname: o.req("sdname")?,
            taid: o.req("taid")?,
        };
        o.finish()?;
        Ok(v)
    }
}

simple_content!(
    CreateSdRequestContent,
    UpdateSdRequestContent,
    DeleteSdRequestContent,
    InstallTaRequestContent,
    DeleteTaRequestContent
);

/// Reads the `dsi` member keeping the exact bytes of its value.
fn take_raw_dsi(o: &mut Obj<'_>, bytes: &[u8]) -> Result<Option<RawDsi>, MessageError> {
    let path = o.path().member("dsi");
    let Some(dsi) = o.opt::<Dsi>("dsi")? else {
        return Ok(None);
    };
    let span = member_span(bytes, "dsi")
        .and_then(|r| bytes.get(r))
        .ok_or_else(|| invalid(&path, "cannot locate the dsi bytes"))?;
    Ok(Some(RawDsi::from_parts(span.to_vec(), dsi)))
}

/// Writes `head` (serialized without `dsi`) followed by the exact `dsi`
/// bytes, as the last member.
fn splice_dsi(head: Vec<u8>, dsi: Option<&RawDsi>) -> Vec<u8> {
    let Some(dsi) = dsi else { return head };
    let mut out = head;
    if out.last() != Some(&b'}') {
        return out;
    }
    out.pop();
    if out.len() > 1 {
        out.push(b',');
    }
    out.extend_from_slice(b"\"dsi\":");
    out.extend_from_slice(dsi.as_bytes());
    out.push(b'}');
    out
}

/// CreateSD response content (section 9.2.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateSdResponseContent {
    /// `reason`: failure detail (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ContentReason>,
    /// `did`: SHA-256 of the TEE certificate.
    pub did: DeviceId,
    /// `sdname`: the SD created.
    pub sdname: String,
    /// `teespaik`: the new TEE SP AIK public key, BASE64 (optional when the
    /// SP already had one, section 9.2.1.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teespaik: Option<Base64Bytes>,
    /// `dsi`: the updated DSI, when `nextdsi` asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsi: Option<RawDsi>,
}

impl ContentPlaintext for CreateSdResponseContent {
    fn from_plaintext(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError> {
        parse(bytes, limits, |o| {
            Ok(CreateSdResponseContent {
                reason: o.opt("reason")?,
                did: o.req("did")?,
                sdname: o.req("sdname")?,
                teespaik: o.opt("teespaik")?,
                dsi: take_raw_dsi(o, bytes)?,
            })
        })
    }

    fn to_plaintext(&self) -> Vec<u8> {
        let head = CreateSdResponseContent {
            reason: self.reason.clone(),
            did: self.did,
            sdname: self.sdname.clone(),
            teespaik: self.teespaik.clone(),
            dsi: None,
        };
        splice_dsi(
            crate::json_writer::to_vec(&head).unwrap_or_default(),
            self.dsi.as_ref(),
        )
    }
}

/// UpdateSD response content (section 9.2.2.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UpdateSdResponseContent {
    /// `reason`: failure detail (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ContentReason>,
    /// `did`: SHA-256 of the TEE certificate.
    pub did: DeviceId,
    /// `cert`: the TEE certificate, BASE64 (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<Base64Bytes>,
    /// `teespaik`: the renewed TEE SP AIK public key, BASE64 (optional,
    /// section 9.2.2.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teespaik: Option<Base64Bytes>,
    /// `teespaiktype`: its key type (with `teespaik`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teespaiktype: Option<AikType>,
    /// `dsi`: the updated DSI, when `nextdsi` asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsi: Option<RawDsi>,
}

impl ContentPlaintext for UpdateSdResponseContent {
    fn from_plaintext(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError> {
        parse(bytes, limits, |o| {
            Ok(UpdateSdResponseContent {
                reason: o.opt("reason")?,
                did: o.req("did")?,
                cert: o.opt("cert")?,
                teespaik: o.opt("teespaik")?,
                teespaiktype: o.opt("teespaiktype")?,
                dsi: take_raw_dsi(o, bytes)?,
            })
        })
    }

    fn to_plaintext(&self) -> Vec<u8> {
        let head = UpdateSdResponseContent {
            reason: self.reason.clone(),
            did: self.did,
            cert: self.cert.clone(),
            teespaik: self.teespaik.clone(),
            teespaiktype: self.teespaiktype,
            dsi: None,
        };
        splice_dsi(
            crate::json_writer::to_vec(&head).unwrap_or_default(),
            self.dsi.as_ref(),
        )
    }
}

/// Response content of DeleteSD, InstallTA, UpdateTA and DeleteTA
/// (sections 9.2.3.3, 9.3.1.2, 9.3.2.2, 9.3.3.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResponseContent {
    /// `reason`: failure detail (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ContentReason>,
    /// `did`: SHA-256 of the TEE certificate.
    pub did: DeviceId,
    /// `dsi`: the updated DSI, when `nextdsi` asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsi: Option<RawDsi>,
}

/// DeleteSD response content (section 9.2.3.3).
pub type DeleteSdResponseContent = ResponseContent;
/// InstallTA response content (section 9.3.1.2).
pub type InstallTaResponseContent = ResponseContent;
/// UpdateTA response content (section 9.3.2.2).
pub type UpdateTaResponseContent = ResponseContent;
/// DeleteTA response content (section 9.3.3.3).
pub type DeleteTaResponseContent = ResponseContent;

impl ResponseContent {
    /// A content with only `did`.
    pub fn new(did: DeviceId) -> Self {
        ResponseContent {
            reason: None,
            did,
            dsi: None,
        }
    }

    /// Adds the updated DSI.
    pub fn with_dsi(mut self, dsi: RawDsi) -> Self {
        self.dsi = Some(dsi);
        self
    }

    /// Adds a failure reason.
    pub fn with_reason(mut self, reason: ContentReason) -> Self {
        self.reason = Some(reason);
        self
    }
}

impl ContentPlaintext for ResponseContent {
    fn from_plaintext(bytes: &[u8], limits: &Limits) -> Result<Self, MessageError> {
        parse(bytes, limits, |o| {
            Ok(ResponseContent {
                reason: o.opt("reason")?,
                did: o.req("did")?,
                dsi: take_raw_dsi(o, bytes)?,
            })
        })
    }

    fn to_plaintext(&self) -> Vec<u8> {
        let head = ResponseContent {
            reason: self.reason.clone(),
            did: self.did,
            dsi: None,
        };
        splice_dsi(
            crate::json_writer::to_vec(&head).unwrap_or_default(),
            self.dsi.as_ref(),
        )
    }
}

impl_deserialize!(
    CreateSdRequestContent => "content",
    SdChanges => "changes",
    UpdateSdRequestContent => "content",
    DeleteSdRequestContent => "content",
    InstallTaRequestContent => "content",
    DeleteTaRequestContent => "content",
);
