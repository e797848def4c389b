//! Typed OTrP messages (sections 7, 9, 10 and Appendix A of
//! draft-ietf-teep-opentrustprotocol-03): one type per spec object, strict
//! parsing with the error code a TEE answers with, and tolerance for the
//! forms the draft's own samples use (listed in `docs/interop.md`).
//!
//! The layers of one message, outside in:
//!
//! 1. [`Envelope`]: `{"CreateSDRequest": <JWS>}`. Its name is not signed
//!    (section 7.4); the JWS is handed to the JOSE layer as JSON.
//! 2. A [`TbsMessage`] such as [`CreateSdTbsRequest`]: the verified JWS
//!    payload `{"CreateSDTBSRequest": {...}}`, parsed by
//!    [`Envelope::parse_payload`], which checks the signed name.
//! 3. A [`ContentPlaintext`] such as [`CreateSdRequestContent`]: the
//!    decrypted `content` JWE. The `edsi` plaintext is a [`DsiDocument`].
//!
//! Every parse takes [`Limits`], checked on the raw bytes before parsing.
//! Every failure is a [`MessageError`] naming the member, whose
//! [`MessageError::error_code`] is the [`ErrorCode`] to answer with.

mod broker;
mod commands;
mod contents;
mod dsi;
mod encrypted;
mod envelope;
mod error;
mod failure;
mod get_device_state;
pub(crate) mod json;
mod limits;
mod ta_data;
mod ta_info;
mod types;

pub use broker::{BrokerError, ResponseMessage, parse_request};
pub use commands::{
    CommandOutcome, CommandResponse, CreateSdTbsRequest, CreateSdTbsResponse, DeleteSdTbsRequest,
    DeleteSdTbsResponse, DeleteTaTbsRequest, DeleteTaTbsResponse, InstallEncryptedTa,
    InstallTaTbsRequest, InstallTaTbsResponse, TaEncAlg, TaKey, TaPayloadError, UpdateEncryptedTa,
    UpdateSdTbsRequest, UpdateSdTbsResponse, UpdateTaTbsRequest, UpdateTaTbsResponse,
};
pub use contents::{
    ContentPlaintext, CreateSdRequestContent, CreateSdResponseContent, DeleteSdRequestContent,
    DeleteSdResponseContent, DeleteTaRequestContent, DeleteTaResponseContent,
    InstallTaRequestContent, InstallTaResponseContent, ResponseContent, SdChanges,
    UpdateSdRequestContent, UpdateSdResponseContent, UpdateTaRequestContent,
    UpdateTaResponseContent,
};
pub use dsi::{Dsi, DsiDocument, RawDsi, SdInfo, SdList, TaInfo, TeeAik, TeeInfo, TfwData, sha256};

pub(crate) use envelope::parse_signed_jws;
pub use envelope::{
    Direction, Envelope, EnvelopeRef, GET_DEVICE_STATE_RESPONSE, MessageKind, OTRP_BROKER_ERROR,
    TbsMessage,
};
pub use error::{ErrorCode, MessageError};
pub use failure::{ContentReason, Failure, Reason};
pub use get_device_state::{
    GetDeviceStateResponse, GetDeviceStateTbsRequest, GetDeviceTeeStateTbsResponse, TeeStateOutcome,
};
pub use limits::Limits;
pub use ta_info::{
    TA_INFORMATION, TA_INFORMATION_TBS, TA_QUERY, TaInfoError, TaInformationTbs, TaQuery,
    sign_ta_information, verify_ta_information,
};
pub use types::{
    AikType, Base64Bytes, Base64UrlBytes, CertFingerprint, DeviceId, DsiHash, MessageId, SigAlg,
    Status, TaIv, Version,
};

/// A verified request payload of any kind, for a TEE's dispatch.
#[derive(Clone, Debug, PartialEq)]
pub enum TbsRequest {
    /// GetDeviceState (section 9.1.1).
    GetDeviceState(GetDeviceStateTbsRequest),
    /// CreateSD (section 9.2.1.1).
    CreateSd(CreateSdTbsRequest),
    /// UpdateSD (section 9.2.2.1).
    UpdateSd(UpdateSdTbsRequest),
    /// DeleteSD (section 9.2.3.1).
    DeleteSd(DeleteSdTbsRequest),
    /// InstallTA (section 9.3.1.1).
    InstallTa(InstallTaTbsRequest),
    /// UpdateTA (section 9.3.2.1).
    UpdateTa(UpdateTaTbsRequest),
    /// DeleteTA (section 9.3.3.1).
    DeleteTa(DeleteTaTbsRequest),
}

impl TbsRequest {
    /// Parses the verified payload of a request envelope of `kind`, checking
    /// that the signed TBS name is `kind`'s (section 7.4).
    pub fn from_payload(
        kind: MessageKind,
        payload: &[u8],
        limits: &Limits,
    ) -> Result<Self, MessageError> {
        Ok(match kind {
            MessageKind::GetDeviceState => {
                TbsRequest::GetDeviceState(TbsMessage::from_payload(payload, limits)?)
            }
            MessageKind::CreateSd => {
                TbsRequest::CreateSd(TbsMessage::from_payload(payload, limits)?)
            }
            MessageKind::UpdateSd => {
                TbsRequest::UpdateSd(TbsMessage::from_payload(payload, limits)?)
            }
            MessageKind::DeleteSd => {
                TbsRequest::DeleteSd(TbsMessage::from_payload(payload, limits)?)
            }
            MessageKind::InstallTa => {
                TbsRequest::InstallTa(TbsMessage::from_payload(payload, limits)?)
            }
            MessageKind::UpdateTa => {
                TbsRequest::UpdateTa(TbsMessage::from_payload(payload, limits)?)
            }
            MessageKind::DeleteTa => {
                TbsRequest::DeleteTa(TbsMessage::from_payload(payload, limits)?)
            }
        })
    }

    /// The request's `rid`.
    pub fn rid(&self) -> &MessageId {
        match self {
            TbsRequest::GetDeviceState(r) => &r.rid,
            TbsRequest::CreateSd(r) => &r.rid,
            TbsRequest::UpdateSd(r) => &r.rid,
            TbsRequest::DeleteSd(r) => &r.rid,
            TbsRequest::InstallTa(r) => &r.rid,
            TbsRequest::UpdateTa(r) => &r.rid,
            TbsRequest::DeleteTa(r) => &r.rid,
        }
    }

    /// The request's `tid`.
    pub fn tid(&self) -> &MessageId {
        match self {
            TbsRequest::GetDeviceState(r) => &r.tid,
            TbsRequest::CreateSd(r) => &r.tid,
            TbsRequest::UpdateSd(r) => &r.tid,
            TbsRequest::DeleteSd(r) => &r.tid,
            TbsRequest::InstallTa(r) => &r.tid,
            TbsRequest::UpdateTa(r) => &r.tid,
            TbsRequest::DeleteTa(r) => &r.tid,
        }
    }
}
