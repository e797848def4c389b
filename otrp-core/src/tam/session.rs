//! [`TamSession`]: one conversation with one device, without I/O. It
//! produces request bytes and consumes response bytes, returning an
//! [`Event`]; a response that is not the authentic answer to the
//! outstanding request is refused and changes nothing.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::borrow::Borrow;

use serde_json::value::RawValue;

use super::identity::{spki_public_key, tee_identity_parsed};
use super::package::{CONTENT_ALG, SealedTa, encrypt_to};
use super::policy::{TeeReport, TfwStatus};
use super::state::{DeviceState, KnownTee, LastDsi, Outstanding, SentWithoutX5c};
use super::{Tam, TamError};
use crate::crypto::{Cek, ContentAlg, JwsAlg, KeyAlg, Provider, PublicKey};
use crate::jose::{Header, JoseError, JwePolicy, Jws, JwsRef, b64};
use crate::message::{
    Base64Bytes, BrokerError, CommandOutcome, CommandResponse, ContentPlaintext, ContentReason,
    CreateSdRequestContent, CreateSdResponseContent, CreateSdTbsRequest, CreateSdTbsResponse,
    DeleteSdRequestContent, DeleteSdTbsRequest, DeleteSdTbsResponse, DeleteTaRequestContent,
    DeleteTaTbsRequest, DeleteTaTbsResponse, DeviceId, Direction, Dsi, DsiDocument, Envelope,
    ErrorCode, GetDeviceStateTbsRequest, GetDeviceTeeStateTbsResponse, InstallTaRequestContent,
    InstallTaTbsRequest, InstallTaTbsResponse, Limits, MessageId, MessageKind, RawDsi,
    ResponseContent, ResponseMessage, SdChanges, SigAlg, TbsMessage, TeeStateOutcome,
    UpdateSdRequestContent, UpdateSdResponseContent, UpdateSdTbsRequest, UpdateSdTbsResponse,
    UpdateTaTbsRequest, UpdateTaTbsResponse, parse_signed_jws,
};
use crate::pki::{
    ParsedChain, PkiError, Role, UnixTime, validate_offered_tee_chain, validate_tfw_certificate,
};

/// Key management algorithms accepted on `edsi` (the TAM's key decrypts).
const EDSI_POLICY: JwePolicy<'static> = JwePolicy {
    key_algs: &[
        KeyAlg::Rsa1_5,
        KeyAlg::RsaOaep,
        KeyAlg::RsaOaep256,
        KeyAlg::EcdhEs,
        KeyAlg::EcdhEsA128Kw,
        KeyAlg::EcdhEsA256Kw,
    ],
    content_algs: ContentAlg::ALL,
};

/// An SD or TA command for one TEE (sections 9.2, 9.3). GetDeviceState is
/// [`TamSession::get_device_state`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// CreateSD (9.2.1): a new SD `sdname` for SP `spid`, whose TA signer
    /// certificate is `spcert` (DER).
    CreateSd {
        /// `spid`.
        spid: String,
        /// `sdname`.
        sdname: String,
        /// `spcert`, DER.
        spcert: Vec<u8>,
    },
    /// UpdateSD (9.2.2).
    UpdateSd {
        /// `spid` of the SD.
        spid: String,
        /// `sdname` of the SD.
        sdname: String,
        /// `changes`.
        changes: SdChanges,
    },
    /// DeleteSD (9.2.3); `deleteta` also deletes its TAs.
    DeleteSd {
        /// `sdname`.
        sdname: String,
        /// `deleteta`.
        deleteta: bool,
    },
    /// InstallTA (9.3.1): `ta` (and `pdata`) are encrypted in place for
    /// the SP's TEE SP AIK from the DSI.
    InstallTa {
        /// `spid`.
        spid: String,
        /// `sdname`.
        sdname: String,
        /// `taid`.
        taid: String,
        /// `spcert`: a new SP certificate (DER) that signed the TA.
        spcert: Option<Vec<u8>>,
        /// The TA binary.
        ta: Vec<u8>,
        /// Personalization data.
        pdata: Option<Vec<u8>>,
    },
    /// UpdateTA (9.3.2): a new binary, new personalization data, or both.
    UpdateTa {
        /// `spid`.
        spid: String,
        /// `sdname`.
        sdname: String,
        /// `taid`.
        taid: String,
        /// `spcert`: a new SP certificate (DER) that signed the TA.
        spcert: Option<Vec<u8>>,
        /// The new TA binary.
        ta: Option<Vec<u8>>,
        /// New personalization data.
        pdata: Option<Vec<u8>>,
    },
    /// DeleteTA (9.3.3).
    DeleteTa {
        /// `sdname`.
        sdname: String,
        /// `taid`.
        taid: String,
    },
}

impl Command {
    /// The command's kind.
    pub fn kind(&self) -> MessageKind {
        match self {
            Command::CreateSd { .. } => MessageKind::CreateSd,
            Command::UpdateSd { .. } => MessageKind::UpdateSd,
            Command::DeleteSd { .. } => MessageKind::DeleteSd,
            Command::InstallTa { .. } => MessageKind::InstallTa,
            Command::UpdateTa { .. } => MessageKind::UpdateTa,
            Command::DeleteTa { .. } => MessageKind::DeleteTa,
        }
    }
}

/// One TEE's answer to GetDeviceState.
#[derive(Clone, Debug, PartialEq)]
pub enum TeeResult {
    /// Validated and accepted by the policy; its state is now known.
    Accepted {
        /// The TEE name.
        name: String,
        /// Its did.
        did: DeviceId,
        /// Its DSI.
        dsi: Box<Dsi>,
        /// The firmware check.
        tfw: TfwStatus,
    },
    /// Validated, but the TEE acceptance policy refused it (9.1.7).
    NotAccepted {
        /// The TEE name.
        name: String,
        /// The policy's reason.
        reason: String,
    },
    /// The TEE answered with a signed failure (9.1.6).
    Failed(TeeFailure),
}

/// A failure a TEE reported (sections 7.6, 9.1.6, 13.1).
#[derive(Clone, Debug, PartialEq)]
pub struct TeeFailure {
    /// The command that failed.
    pub kind: MessageKind,
    /// The error code.
    pub code: ErrorCode,
    /// `error-message` or the free-text reason, if any.
    pub message: Option<String>,
    /// The TEE's signing algorithms, when it sent them (9.1.6).
    pub supportedsigalgs: Option<Vec<SigAlg>>,
    /// Whether the failure's signature verified with a known TEE key. A
    /// GetDeviceState failure of a TEE never seen before cannot be
    /// authenticated (its certificate travels only in the DSI).
    pub authenticated: bool,
}

/// What a response meant.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The answer to GetDeviceState, one result per TEE (9.1.7).
    DeviceState(Vec<TeeResult>),
    /// A command succeeded (status "pass", content decrypted and checked).
    Success {
        /// The command.
        kind: MessageKind,
        /// The TEE it ran on.
        tee: String,
        /// The updated DSI, when the request asked for it.
        dsi: Option<Box<Dsi>>,
        /// `teespaik` of a CreateSD or UpdateSD answer.
        teespaik: Option<Vec<u8>>,
    },
    /// The TEE refused or failed the command.
    TeeFailure(TeeFailure),
    /// The OTrP Broker answered instead of the TEE (section 10; unsigned).
    BrokerError(BrokerError),
    /// The TEE refused a request sent without `x5c` as from an unknown
    /// signer (`ERR_TAM_NOT_TRUSTED`: it no longer caches this TAM's
    /// certificate, 7.4.1), and the session made the same request again
    /// with `x5c` (same `rid`, `tid` and content; the signature does not
    /// cover `x5c`). Send `request` and hand its answer to
    /// [`TamSession::handle_response`]. At most once per request: a
    /// refusal of the resent request is a [`Event::TeeFailure`]. Later
    /// requests to this TEE carry `x5c` until a GetDeviceState says
    /// otherwise.
    Resend {
        /// The request to send, now with `x5c`.
        request: Vec<u8>,
        /// The TEE's refusal of the first attempt.
        failure: TeeFailure,
    },
}

/// A sans-IO conversation of one [`Tam`] with one device, in the style of
/// quinn-proto: [`get_device_state`] and [`command`] return the bytes to
/// send, [`handle_response`] takes the bytes that came back. One request is
/// outstanding at a time. Randomness comes from the provider's
/// `secure_random`, time from the caller.
///
/// [`get_device_state`]: TamSession::get_device_state
/// [`command`]: TamSession::command
/// [`handle_response`]: TamSession::handle_response
#[derive(Debug)]
pub struct TamSession<'t> {
    tam: &'t Tam,
    state: DeviceState,
}

impl<'t> TamSession<'t> {
    /// A session with a device the TAM knows nothing about.
    pub fn new(tam: &'t Tam) -> Self {
        Self::resume(tam, DeviceState::new())
    }

    /// A session continuing from stored state (see
    /// [`DeviceStore`](super::DeviceStore)).
    pub fn resume(tam: &'t Tam, state: DeviceState) -> Self {
        TamSession { tam, state }
    }

    /// The device state, to save after each step.
    pub fn state(&self) -> &DeviceState {
        &self.state
    }

    /// Ends the session, returning its state.
    pub fn into_state(self) -> DeviceState {
        self.state
    }

    /// Forgets the outstanding request: the device went offline and no
    /// answer will come (9.2.1.3). A late answer is then refused.
    pub fn abandon(&mut self) {
        if self.state.outstanding.take().is_some() {
            self.state.revision += 1;
        }
    }

    fn provider(&self) -> &Provider {
        &self.tam.provider
    }

    fn new_id(&self) -> Result<MessageId, TamError> {
        let bytes = self.provider().random_bytes(16)?;
        Ok(MessageId::new(hex_upper(&bytes)))
    }

    fn ensure_idle(&self) -> Result<(), TamError> {
        match &self.state.outstanding {
            Some(o) => Err(TamError::RequestOutstanding(o.kind)),
            None => Ok(()),
        }
    }

    /// Builds a GetDeviceStateRequest (9.1.1): a fresh `rid`, a fresh `tid`
    /// (a new transaction, which the firmware data must sign, 9.1.3), the
    /// TAM's `ocspdat`, `supportedsigalgs`, and the `x5c` chain.
    pub fn get_device_state(&mut self) -> Result<Vec<u8>, TamError> {
        self.ensure_idle()?;
        let rid = self.new_id()?;
        let tid = self.new_id()?;
        let ocspdat = self
            .tam
            .ocspdat
            .iter()
            .map(|o| Base64Bytes(o.clone()))
            .collect();
        let tbs = GetDeviceStateTbsRequest::new(rid.clone(), tid.clone(), ocspdat)
            .with_supportedsigalgs(self.tam.response_algs.iter().map(|a| SigAlg::from(*a)));
        let bytes = self.sign(&tbs, true)?;
        self.state.tid = Some(tid.clone());
        self.state.outstanding = Some(Outstanding {
            kind: MessageKind::GetDeviceState,
            rid,
            tid,
            tee: None,
            cek: None,
            nextdsi: true,
            sdname: None,
            resend: None,
        });
        self.state.revision += 1;
        Ok(bytes)
    }

    /// Builds the request for `command` on TEE `tee` (sections 9.2, 9.3):
    /// the content encrypted to the TEE's key under a fresh CEK the session
    /// keeps for the answer, `dsihash` of the DSI last returned, `nextdsi`
    /// true, and the TAM chain in `x5c` while the TEE's `signerreq` asks for
    /// it. Random draws, in order: `rid`, the CEK, the content JWE's key
    /// management and IV, then the TA package ([`SealedTa::seal`]).
    pub fn command(&mut self, tee: &str, command: Command) -> Result<Vec<u8>, TamError> {
        self.ensure_idle()?;
        let known = self
            .state
            .tee(tee)
            .ok_or_else(|| TamError::UnknownTee(tee.into()))?;
        if known.stale {
            return Err(TamError::StaleDsi(tee.into()));
        }
        let provider = *self.provider();
        let dsihash = known.dsi.hash(&provider)?;
        let tee_key = known.public_key.clone();
        let did = known.did;
        let with_x5c = known.signerreq;
        let dsi = known.dsi.dsi().clone();
        let tid = match &self.state.tid {
            Some(t) => t.clone(),
            None => self.new_id()?,
        };
        let rid = self.new_id()?;
        let cek = Cek::new(provider.random_bytes(CONTENT_ALG.key_len())?);
        let tamid = String::from(self.tam.tamid.as_str());
        let kind = command.kind();
        let content =
            |plaintext: &[u8]| encrypt_to(&provider, &tee_key, Some(cek.clone()), plaintext);
        let mut sdname_check = None;
        let jws = match command {
            Command::CreateSd {
                spid,
                sdname,
                spcert,
            } => {
                sdname_check = Some(sdname.clone());
                let plain = CreateSdRequestContent {
                    spid,
                    sdname,
                    spcert: Base64Bytes(spcert),
                    tamid,
                    did,
                };
                let jwe = content(&plain.to_plaintext())?;
                let tbs = CreateSdTbsRequest::new(rid.clone(), tid.clone(), tee, dsihash, jwe)
                    .with_nextdsi(true);
                self.sign_jws(&tbs, with_x5c)?
            }
            Command::UpdateSd {
                spid,
                sdname,
                changes,
            } => {
                let plain = UpdateSdRequestContent {
                    tamid,
                    spid,
                    sdname,
                    changes,
                };
                let jwe = content(&plain.to_plaintext())?;
                let tbs = UpdateSdTbsRequest::new(rid.clone(), tid.clone(), tee, dsihash, jwe)
                    .with_nextdsi(true);
                self.sign_jws(&tbs, with_x5c)?
            }
            Command::DeleteSd { sdname, deleteta } => {
                let plain = DeleteSdRequestContent {
                    tamid,
                    sdname,
                    deleteta: Some(deleteta),
                };
                let jwe = content(&plain.to_plaintext())?;
                let tbs = DeleteSdTbsRequest::new(rid.clone(), tid.clone(), tee, dsihash, jwe)
                    .with_nextdsi(true);
                self.sign_jws(&tbs, with_x5c)?
            }
            Command::InstallTa {
                spid,
                sdname,
                taid,
                spcert,
                ta,
                pdata,
            } => {
                let spaik = sp_aik(&provider, &dsi, &spid)?;
                let plain = InstallTaRequestContent {
                    tamid,
                    spid,
                    sdname,
                    spcert: spcert.map(Base64Bytes),
                    taid,
                };
                let jwe = content(&plain.to_plaintext())?;
                let sealed = SealedTa::seal(&provider, &spaik, Some(ta), pdata)?.into_install()?;
                let tbs =
                    InstallTaTbsRequest::new(rid.clone(), tid.clone(), tee, dsihash, jwe, sealed)
                        .with_nextdsi(true);
                self.sign_jws(&tbs, with_x5c)?
            }
            Command::UpdateTa {
                spid,
                sdname,
                taid,
                spcert,
                ta,
                pdata,
            } => {
                if ta.is_none() && pdata.is_none() {
                    return Err(TamError::InvalidRequest(
                        "UpdateTA needs a TA binary or personalization data",
                    ));
                }
                let spaik = sp_aik(&provider, &dsi, &spid)?;
                let plain = InstallTaRequestContent {
                    tamid,
                    spid,
                    sdname,
                    spcert: spcert.map(Base64Bytes),
                    taid,
                };
                let jwe = content(&plain.to_plaintext())?;
                let sealed = SealedTa::seal(&provider, &spaik, ta, pdata)?.into_update()?;
                let tbs =
                    UpdateTaTbsRequest::new(rid.clone(), tid.clone(), tee, dsihash, jwe, sealed)
                        .with_nextdsi(true);
                self.sign_jws(&tbs, with_x5c)?
            }
            Command::DeleteTa { sdname, taid } => {
                let plain = DeleteTaRequestContent {
                    tamid,
                    sdname,
                    taid,
                };
                let jwe = content(&plain.to_plaintext())?;
                let tbs = DeleteTaTbsRequest::new(rid.clone(), tid.clone(), tee, dsihash, jwe)
                    .with_nextdsi(true);
                self.sign_jws(&tbs, with_x5c)?
            }
        };
        let bytes = Envelope::signed_bytes(kind, Direction::Request, &jws)?;
        // Kept for one resend with x5c should the TEE no longer know this
        // TAM's certificate.
        let resend = (!with_x5c).then(|| SentWithoutX5c(Arc::new(jws)));
        self.state.tid = Some(tid.clone());
        self.state.outstanding = Some(Outstanding {
            kind,
            rid,
            tid,
            tee: Some(tee.into()),
            cek: Some(cek),
            nextdsi: true,
            sdname: sdname_check,
            resend,
        });
        self.state.revision += 1;
        Ok(bytes)
    }

    /// Signs a TBS message and wraps it in its envelope (7.4).
    fn sign<T: TbsMessage>(&self, tbs: &T, with_x5c: bool) -> Result<Vec<u8>, TamError> {
        let jws = self.sign_jws(tbs, with_x5c)?;
        Ok(Envelope::signed_bytes(T::KIND, Direction::Request, &jws)?)
    }

    /// Signs a TBS message: `alg` protected, `x5c` in the unprotected
    /// `header` (9.1.1) when `with_x5c`.
    fn sign_jws<T: TbsMessage>(&self, tbs: &T, with_x5c: bool) -> Result<Jws, TamError> {
        let payload = tbs.to_payload();
        let unprotected = with_x5c.then(|| self.x5c_header());
        Ok(Jws::sign_public(
            &payload,
            &*self.tam.key,
            self.tam.sign_alg,
            Header::new(),
            unprotected,
            self.provider(),
        )?)
    }

    /// The unprotected header carrying the TAM chain (standard base64,
    /// RFC 7515 section 4.1.6).
    fn x5c_header(&self) -> Header {
        let chain: Vec<String> = self.tam.x5c.iter().map(|c| b64::encode_std(c)).collect();
        Header::new().with("x5c", chain)
    }

    /// Handles the bytes that came back for the outstanding request at time
    /// `now` (for certificate validation).
    ///
    /// Refused ([`TamError`], state unchanged): anything when no request is
    /// outstanding; a response for another command, with another `rid` or
    /// `tid`, not signed by the TEE addressed (or, for GetDeviceState, by
    /// the TEE whose certificate validated), whose content does not decrypt
    /// under the request's CEK, or whose `did` is not the TEE's. Accepted
    /// answers clear the outstanding request and update the device state,
    /// except the refusal answered with [`Event::Resend`]: the request
    /// stays outstanding, awaiting the answer to the resent bytes.
    pub fn handle_response(&mut self, bytes: &[u8], now: UnixTime) -> Result<Event, TamError> {
        let outstanding = self
            .state
            .outstanding
            .as_ref()
            .ok_or(TamError::NoOutstandingRequest)?;
        // A command's answer, read with its JWS in one pass; anything else,
        // or bytes that pass refuses, goes the general way (which reports
        // the refusal).
        let fast = parse_signed_jws(bytes, &self.tam.limits).filter(|signed| {
            signed.direction == Direction::Response && signed.kind != MessageKind::GetDeviceState
        });
        if let Some(signed) = fast {
            expect_kind(outstanding, signed.kind)?;
            let (event, update) =
                self.command_response(outstanding, signed.kind, Ok(signed.jws))?;
            return Ok(self.commit(event, update));
        }
        let message = ResponseMessage::parse_borrowed(bytes, &self.tam.limits)?;
        let (event, update) = match message {
            ResponseMessage::BrokerError(err) => {
                for (member, got, want) in [
                    ("rid", &err.rid, &outstanding.rid),
                    ("tid", &err.tid, &outstanding.tid),
                ] {
                    if !got.as_str().is_empty() && !got.matches(want) {
                        return Err(TamError::IdMismatch { member });
                    }
                }
                (Event::BrokerError(err), Update::None)
            }
            ResponseMessage::DeviceState(array) => {
                expect_kind(outstanding, MessageKind::GetDeviceState)?;
                self.device_state(outstanding, &array.tees, now)?
            }
            ResponseMessage::Signed(env) => {
                expect_kind(outstanding, env.kind)?;
                if env.kind == MessageKind::GetDeviceState {
                    self.device_state(outstanding, core::slice::from_ref(&env), now)?
                } else {
                    self.command_response(outstanding, env.kind, env.parse_jws())?
                }
            }
        };
        Ok(self.commit(event, update))
    }

    /// Applies what an accepted answer changes, after every check passed.
    fn commit(&mut self, event: Event, update: Update) -> Event {
        let answered = !matches!(update, Update::Resent { .. });
        match update {
            Update::None => {}
            Update::Tees(tees) => {
                for tee in tees {
                    match self.state.tees.iter_mut().find(|t| t.name == tee.name) {
                        Some(slot) => *slot = tee,
                        None => self.state.tees.push(tee),
                    }
                }
            }
            Update::SignerReq { tee } => {
                if let Some(slot) = self.state.tees.iter_mut().find(|t| t.name == tee) {
                    slot.signerreq = true;
                }
            }
            Update::Resent { tee } => {
                if let Some(slot) = self.state.tees.iter_mut().find(|t| t.name == tee) {
                    slot.signerreq = true;
                }
                if let Some(o) = self.state.outstanding.as_mut() {
                    o.resend = None;
                }
            }
            Update::Dsi { tee, dsi } => {
                if let Some(slot) = self.state.tees.iter_mut().find(|t| t.name == tee) {
                    match dsi {
                        Some(d) => {
                            slot.dsi = LastDsi::Member(d);
                            slot.stale = false;
                        }
                        None => slot.stale = true,
                    }
                }
            }
        }
        if answered {
            self.state.outstanding = None;
        }
        self.state.revision += 1;
        event
    }

    /// GetDeviceState responses (9.1.7), all-or-nothing: one entry that
    /// does not authenticate refuses the whole response.
    fn device_state<J: Borrow<RawValue>>(
        &self,
        outstanding: &Outstanding,
        envelopes: &[Envelope<J>],
        now: UnixTime,
    ) -> Result<(Event, Update), TamError> {
        let tam = self.tam;
        let provider = &tam.provider;
        let mut results = Vec::with_capacity(envelopes.len());
        let mut tees: Vec<KnownTee> = Vec::new();
        for env in envelopes {
            let jws = env.parse_jws()?;
            let payload = jws.unverified_payload()?;
            let tbs: GetDeviceTeeStateTbsResponse = env.parse_payload(&payload, &tam.limits)?;
            check_ids(outstanding, &tbs.rid, &tbs.tid)?;
            let (signerreq, edsi) = match tbs.outcome {
                TeeStateOutcome::Pass { signerreq, edsi } => (signerreq, edsi),
                TeeStateOutcome::Fail(failure) => {
                    let authenticated = self.state.tees.iter().any(|t| {
                        jws.verify(provider, &t.public_key, &tam.response_algs)
                            .is_ok()
                    });
                    results.push(TeeResult::Failed(TeeFailure {
                        kind: MessageKind::GetDeviceState,
                        code: failure.reason.error_code,
                        message: failure.reason.error_message,
                        supportedsigalgs: failure.supportedsigalgs,
                        authenticated,
                    }));
                    continue;
                }
            };
            // 9.1.7: decrypt edsi, which carries the signer certificate.
            let plaintext = edsi.decrypt(provider, &*tam.key, &EDSI_POLICY)?;
            let doc = DsiDocument::from_plaintext(&plaintext, &tam.limits)?;
            let dsi = doc.dsi();
            let cacert: Vec<&[u8]> = dsi.tee.cacert.iter().map(|c| c.as_bytes()).collect();
            let cert = dsi.tee.cert.as_bytes();
            // Bounded work before authentication (issue 18): anyone can
            // encrypt an `edsi` to the TAM, so the offered chain is bounded
            // (at most MAX_CHAIN_CERTS, no duplicates) and the signature over
            // the very payload parsed above is checked with the certificate's
            // key before any path is built.
            let offered: Vec<&[u8]> = core::iter::once(cert)
                .chain(cacert.iter().copied())
                .collect();
            // Each certificate is parsed once, here.
            let parsed = ParsedChain::parse(&offered).map_err(|e| PkiError::cert(Role::Tee, e))?;
            let (did, public_key) = tee_identity_parsed(provider, cert, &parsed)?;
            jws.verify(provider, &public_key, &tam.response_algs)?;
            let validated =
                validate_offered_tee_chain(provider, &tam.tee_anchors, &offered, &parsed, now)?;
            let tfw = self.check_tfw(outstanding, dsi, now)?;
            let name = dsi.tee.name.clone();
            if tees.iter().any(|t| t.name == name) {
                return Err(TamError::Message(crate::message::MessageError::Invalid {
                    member: String::from(crate::message::GET_DEVICE_STATE_RESPONSE),
                    reason: "two answers from one TEE name",
                }));
            }
            let report = TeeReport {
                dsi,
                did: &did,
                chain: &validated.chain,
                tfw,
            };
            if let Err(reason) = tam.policy.check(&report) {
                results.push(TeeResult::NotAccepted { name, reason });
                continue;
            }
            results.push(TeeResult::Accepted {
                name: name.clone(),
                did,
                dsi: Box::new(dsi.clone()),
                tfw,
            });
            tees.push(KnownTee {
                name,
                cert: cert.to_vec(),
                did,
                public_key,
                dsi: LastDsi::Document(doc),
                stale: false,
                signerreq,
            });
        }
        Ok((Event::DeviceState(results), Update::Tees(tees)))
    }

    /// TfwData (9.1.3): the certificate chains to a firmware anchor, the
    /// signature verifies, and what it signs is this request's `tid`.
    fn check_tfw(
        &self,
        outstanding: &Outstanding,
        dsi: &Dsi,
        now: UnixTime,
    ) -> Result<TfwStatus, TamError> {
        let Some(tfw) = &dsi.tfwdata else {
            return Ok(TfwStatus::Absent);
        };
        if self.tam.tfw_anchors.is_empty() {
            return Ok(TfwStatus::NotChecked);
        }
        let provider = &self.tam.provider;
        validate_tfw_certificate(provider, &self.tam.tfw_anchors, tfw.cert.as_bytes(), now)?;
        let alg = JwsAlg::from_name(&tfw.sigalg)
            .filter(|a| matches!(a, JwsAlg::Rs256 | JwsAlg::Es256))
            .ok_or(TamError::Jose(crate::jose::JoseError::UnknownAlgorithm(
                tfw.sigalg.clone(),
            )))?;
        let key = spki_public_key(provider, tfw.cert.as_bytes())?;
        provider
            .signature_verifier(alg)?
            .verify(&key, tfw.tbs.as_bytes(), tfw.sig.as_bytes())?;
        if tfw.tbs.as_bytes() != outstanding.tid.as_str().as_bytes() {
            return Err(TamError::TfwNotFresh);
        }
        Ok(TfwStatus::Verified)
    }

    /// SD and TA command responses (9.2.1.3 to 9.3.3.3). `jws` is the
    /// answer's JWS as parsed, or why it did not parse: that refusal is
    /// reported after the checks of the session's own state, as before the
    /// one-pass read.
    fn command_response(
        &self,
        outstanding: &Outstanding,
        kind: MessageKind,
        jws: Result<JwsRef<'_>, JoseError>,
    ) -> Result<(Event, Update), TamError> {
        let tam = self.tam;
        let provider = &tam.provider;
        let tee_name = outstanding
            .tee
            .as_deref()
            .ok_or(TamError::InvalidState("command without a TEE"))?;
        let tee = self
            .state
            .tee(tee_name)
            .ok_or_else(|| TamError::UnknownTee(tee_name.into()))?;
        let cek = outstanding
            .cek
            .as_ref()
            .ok_or(TamError::InvalidState("command without a CEK"))?;
        // Authenticate first: only the TEE addressed may answer.
        let jws = jws?;
        let payload = jws.verify(provider, &tee.public_key, &tam.response_algs)?;
        let limits = &tam.limits;
        // The kind selects the TBS type, and the caller has checked the
        // direction: what `Envelope::parse_payload` checks besides.
        fn parts<T: CommandResponse>(
            payload: &[u8],
            limits: &Limits,
        ) -> Result<(MessageId, MessageId, CommandOutcome), TamError> {
            Ok(T::from_payload(payload, limits)?.into_parts())
        }
        let (rid, tid, outcome) = match kind {
            MessageKind::CreateSd => parts::<CreateSdTbsResponse>(&payload, limits)?,
            MessageKind::UpdateSd => parts::<UpdateSdTbsResponse>(&payload, limits)?,
            MessageKind::DeleteSd => parts::<DeleteSdTbsResponse>(&payload, limits)?,
            MessageKind::InstallTa => parts::<InstallTaTbsResponse>(&payload, limits)?,
            MessageKind::UpdateTa => parts::<UpdateTaTbsResponse>(&payload, limits)?,
            MessageKind::DeleteTa => parts::<DeleteTaTbsResponse>(&payload, limits)?,
            MessageKind::GetDeviceState => {
                return Err(TamError::UnexpectedResponse {
                    expected: outstanding.kind,
                    found: kind,
                });
            }
        };
        check_ids(outstanding, &rid, &tid)?;
        let (jwe, pass) = match outcome {
            CommandOutcome::Pass(jwe) => (jwe, true),
            CommandOutcome::FailEncrypted(jwe) => (jwe, false),
            CommandOutcome::Fail(failure) => {
                let not_trusted = failure.reason.error_code == ErrorCode::TamNotTrusted;
                let failure = TeeFailure {
                    kind,
                    code: failure.reason.error_code,
                    message: failure.reason.error_message,
                    supportedsigalgs: failure.supportedsigalgs,
                    authenticated: true,
                };
                // A request without x5c refused as from an unknown signer:
                // the TEE no longer caches this TAM's certificate (7.4.1).
                // The same request goes again with x5c (once), and later
                // requests carry x5c until a GetDeviceState says otherwise.
                if not_trusted && let Some(sent) = &outstanding.resend {
                    let mut jws = Jws::clone(&sent.0);
                    jws.set_unprotected(0, Some(self.x5c_header()))?;
                    let request = Envelope::signed_bytes(kind, Direction::Request, &jws)?;
                    let event = Event::Resend { request, failure };
                    return Ok((
                        event,
                        Update::Resent {
                            tee: tee.name.clone(),
                        },
                    ));
                }
                let update = if not_trusted && !tee.signerreq {
                    Update::SignerReq {
                        tee: tee.name.clone(),
                    }
                } else {
                    Update::None
                };
                return Ok((Event::TeeFailure(failure), update));
            }
        };
        let plaintext = jwe.decrypt_with_cek(provider, cek, CONTENT_ALG)?;
        let content = Content::parse(kind, &plaintext, limits)?;
        if content.did != tee.did {
            return Err(TamError::DidMismatch);
        }
        if let Some(dsi) = &content.dsi {
            let t = &dsi.dsi().tee;
            if t.cert.as_bytes() != tee.cert.as_slice() || t.name != tee.name {
                return Err(TamError::DidMismatch);
            }
        }
        if !pass {
            let (code, message) = match content.reason {
                Some(ContentReason::Code(r)) => (r.error_code, r.error_message),
                Some(ContentReason::Text(t)) => (ErrorCode::from_wire(&t), Some(t)),
                None => (ErrorCode::Other(String::new()), None),
            };
            let event = Event::TeeFailure(TeeFailure {
                kind,
                code,
                message,
                supportedsigalgs: None,
                authenticated: true,
            });
            // A failed command changes nothing on the device; a DSI it
            // returns is the current one.
            let update = match content.dsi {
                Some(d) => Update::Dsi {
                    tee: tee.name.clone(),
                    dsi: Some(d),
                },
                None => Update::None,
            };
            return Ok((event, update));
        }
        if let (Some(want), Some(got)) = (&outstanding.sdname, &content.sdname)
            && want != got
        {
            return Err(TamError::SdNameMismatch);
        }
        let event = Event::Success {
            kind,
            tee: tee.name.clone(),
            dsi: content.dsi.as_ref().map(|d| Box::new(d.dsi().clone())),
            teespaik: content.teespaik,
        };
        Ok((
            event,
            Update::Dsi {
                tee: tee.name.clone(),
                dsi: content.dsi,
            },
        ))
    }
}

/// What an accepted response changes, applied only after every check.
#[allow(clippy::large_enum_variant)]
enum Update {
    None,
    Tees(Vec<KnownTee>),
    Dsi {
        tee: String,
        dsi: Option<RawDsi>,
    },
    SignerReq {
        tee: String,
    },
    /// The outstanding request went again with x5c: it stays outstanding,
    /// without a further resend.
    Resent {
        tee: String,
    },
}

/// The members of a response content the TAM checks, for any command.
struct Content {
    reason: Option<ContentReason>,
    did: DeviceId,
    sdname: Option<String>,
    teespaik: Option<Vec<u8>>,
    dsi: Option<RawDsi>,
}

impl Content {
    fn parse(
        kind: MessageKind,
        plaintext: &[u8],
        limits: &crate::message::Limits,
    ) -> Result<Self, TamError> {
        Ok(match kind {
            MessageKind::CreateSd => {
                let c = CreateSdResponseContent::from_plaintext(plaintext, limits)?;
                Content {
                    reason: c.reason,
                    did: c.did,
                    sdname: Some(c.sdname),
                    teespaik: c.teespaik.map(|k| k.0),
                    dsi: c.dsi,
                }
            }
            MessageKind::UpdateSd => {
                let c = UpdateSdResponseContent::from_plaintext(plaintext, limits)?;
                Content {
                    reason: c.reason,
                    did: c.did,
                    sdname: None,
                    teespaik: c.teespaik.map(|k| k.0),
                    dsi: c.dsi,
                }
            }
            _ => {
                let c = ResponseContent::from_plaintext(plaintext, limits)?;
                Content {
                    reason: c.reason,
                    did: c.did,
                    sdname: None,
                    teespaik: None,
                    dsi: c.dsi,
                }
            }
        })
    }
}

fn expect_kind(outstanding: &Outstanding, found: MessageKind) -> Result<(), TamError> {
    if outstanding.kind == found {
        Ok(())
    } else {
        Err(TamError::UnexpectedResponse {
            expected: outstanding.kind,
            found,
        })
    }
}

fn check_ids(outstanding: &Outstanding, rid: &MessageId, tid: &MessageId) -> Result<(), TamError> {
    if !rid.matches(&outstanding.rid) {
        return Err(TamError::IdMismatch { member: "rid" });
    }
    if !tid.matches(&outstanding.tid) {
        return Err(TamError::IdMismatch { member: "tid" });
    }
    Ok(())
}

/// The TEE SP AIK of `spid` from the DSI's `teeaiklist` (SPKI DER, 9.1.5).
fn sp_aik(provider: &Provider, dsi: &Dsi, spid: &str) -> Result<PublicKey, TamError> {
    let aik = dsi
        .tee
        .teeaiklist
        .iter()
        .find(|a| a.spid == spid)
        .ok_or_else(|| TamError::NoSpAik(spid.into()))?;
    Ok(provider
        .key_loader
        .public_key_from_spki_der(aik.spaik.as_bytes())?)
}

fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}
