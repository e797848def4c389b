//! The SD and TA commands at a TEE (sections 9.2 and 9.3): the checks of
//! each "Request Processing Requirements at a TEE", in the spec's order,
//! then the new state, prepared but not yet committed.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::agent::{CONTENT_POLICY, Ctx, Prepared, Signer, Tee, command_payload, loose_ids};
use super::error::{Refusal, jose_refusal, pki_refusal};
use super::hooks::{BlobId, BlobWriter, HookError, StorageError, TaError, TaStream, VerifiedTa};
use super::state::{SdRecord, SpAikRecord, TaRecord, TaVersion, TeeState};
use crate::crypto::{AgreementParams, ContentAlg, KeyAlg, SecretBytes};
use crate::jose::Jwe;
use crate::message::{
    Base64Bytes, CommandOutcome, ContentPlaintext, CreateSdRequestContent, CreateSdResponseContent,
    CreateSdTbsRequest, DeleteSdRequestContent, DeleteSdTbsRequest, DeleteTaRequestContent,
    DeleteTaTbsRequest, DsiHash, ErrorCode, InstallEncryptedTa, InstallTaRequestContent,
    InstallTaTbsRequest, MessageId, MessageKind, ResponseContent, TaEncAlg, TaIv, TaKey,
    TaPayloadError, TbsMessage, UpdateEncryptedTa, UpdateSdRequestContent, UpdateSdResponseContent,
    UpdateSdTbsRequest, UpdateTaTbsRequest, sha256,
};
use crate::pki::{UnixTime, check_sp_certificate};
use zeroize::{Zeroize, Zeroizing};

/// Borrows the shared members of an SD/TA request.
macro_rules! common_of {
    ($r:expr) => {
        Common {
            rid: &$r.rid,
            tid: &$r.tid,
            tee: &$r.tee,
            nextdsi: $r.nextdsi,
            dsihash: &$r.dsihash,
            content: &$r.content,
        }
    };
}

/// The members every SD/TA request shares.
struct Common<'a> {
    rid: &'a MessageId,
    tid: &'a MessageId,
    tee: &'a str,
    nextdsi: bool,
    dsihash: &'a DsiHash,
    content: &'a Jwe,
}

/// What a command changed.
struct Effect {
    state: TeeState,
    put: Vec<(BlobId, SecretBytes)>,
    /// Blobs already written ([`super::SecureStorage::stage_blob`]).
    staged: Vec<BlobId>,
    content: Vec<u8>,
}

fn hook_refusal(e: &HookError) -> Refusal {
    match e {
        HookError::Failed(m) => Refusal::new(ErrorCode::TeeFail, m),
        HookError::ResourceFull(m) => Refusal::new(ErrorCode::TeeResourceFull, m),
    }
}

fn ta_refusal(e: &TaError) -> Refusal {
    match e {
        TaError::UnsupportedAlgorithm => {
            Refusal::new(ErrorCode::UnsupportedCryptoAlg, "TA encryption algorithm")
        }
        TaError::Decrypt => Refusal::new(ErrorCode::TaInvalid, "TA data does not decrypt"),
        TaError::Malformed(m) => Refusal::new(ErrorCode::TaInvalid, m),
        TaError::UntrustedSigner => Refusal::new(
            ErrorCode::TaInvalid,
            "TA not signed by an SP certificate of the SD",
        ),
    }
}

/// The typed parse of a verified payload; a refusal echoes the ids read
/// loosely from it (13.1), scanned only then.
fn parse<T: TbsMessage>(tee: &Tee, ctx: &mut Ctx, payload: &[u8]) -> Result<T, Refusal> {
    T::from_payload(payload, &tee.config.limits).map_err(|e| {
        (ctx.rid, ctx.tid) = loose_ids(payload);
        Refusal::message(&e)
    })
}

/// [`parse`] for a TA payload that did not parse ([`TaPayloadError`]).
fn ta_parse_refusal(ctx: &mut Ctx, e: &TaPayloadError) -> Refusal {
    (ctx.rid, ctx.tid) = loose_ids(&e.payload);
    Refusal::message(&e.error)
}

fn content<T: ContentPlaintext>(tee: &Tee, plaintext: &[u8]) -> Result<T, Refusal> {
    T::from_plaintext(plaintext, &tee.config.limits).map_err(|e| Refusal::message(&e))
}

fn require(value: &str, what: &'static str) -> Result<(), Refusal> {
    if value.is_empty() {
        Err(Refusal::new(ErrorCode::RequestInvalid, what))
    } else {
        Ok(())
    }
}

/// 9.2.1.2: "Check that the tamid in the request matches the TAM
/// certificate's TAM ID attribute".
fn check_tamid(signer: &Signer, claimed: &str) -> Result<(), Refusal> {
    if signer.tamid == claimed {
        Ok(())
    } else {
        Err(Refusal::new(
            ErrorCode::TamNotAuthorized,
            "tamid is not the signer's",
        ))
    }
}

/// The SD an InstallTA/UpdateTA request addresses (9.3.1, 9.3.2): named,
/// owned by the signing TAM, whose tamid the content repeats, and belonging
/// to the SP the content names (an SP not registered with the SD is
/// `ERR_TA_INVALID`, 13.1.1).
fn ta_target_sd<'s>(
    state: &'s TeeState,
    signer: &Signer,
    c: &InstallTaRequestContent,
) -> Result<&'s SdRecord, Refusal> {
    require(&c.sdname, "sdname is empty")?;
    require(&c.taid, "taid is empty")?;
    let sd = owned_sd(state, signer, &c.sdname)?;
    check_tamid(signer, &c.tamid)?;
    if sd.spid != c.spid {
        return Err(Refusal::new(
            ErrorCode::TaInvalid,
            "the SP is not registered with the SD",
        ));
    }
    Ok(sd)
}

/// Looks up an SD of the signing TAM (9.2.2.2: "Check whether the
/// requested SD exists", "Check that the TAM owns this SD"). SD names are
/// scoped to their TAM (5.5, 9.2), so another TAM's SD of the same name is
/// simply not found: a TAM learns nothing of another TAM's SDs.
fn owned_sd<'s>(
    state: &'s TeeState,
    signer: &Signer,
    sdname: &str,
) -> Result<&'s SdRecord, Refusal> {
    state
        .sd(&signer.tamid, sdname)
        .ok_or(Refusal::new(ErrorCode::SdNotFound, "no such SD"))
}

/// The signer's SD `sdname` in the new state, stamped with the signer's
/// certificate chain (kept for GetTAInformation, 6.4.2).
fn sd_mut<'s>(
    state: &'s mut TeeState,
    signer: &Signer,
    sdname: &str,
) -> Result<&'s mut SdRecord, Refusal> {
    let sd = state
        .sd_mut(&signer.tamid, sdname)
        .ok_or(Refusal::new(ErrorCode::SdNotFound, "no such SD"))?;
    sd.tamcert = signer.x5c.iter().cloned().map(Base64Bytes).collect();
    Ok(sd)
}

impl Tee {
    /// Dispatches an SD or TA command.
    pub(super) fn command(
        &mut self,
        kind: MessageKind,
        payload: Vec<u8>,
        signer: &Signer,
        now: UnixTime,
        ctx: &mut Ctx,
    ) -> Result<Prepared, Refusal> {
        let (common_rid, common_tid, effect) = match kind {
            MessageKind::CreateSd => {
                let req: CreateSdTbsRequest = parse(self, ctx, &payload)?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: CreateSdRequestContent = content(self, &plain)?;
                ctx.sdname = c.sdname.clone();
                let e = self.create_sd(signer, &c, req.nextdsi, &req.tid, now)?;
                (req.rid, req.tid, e)
            }
            MessageKind::UpdateSd => {
                let req: UpdateSdTbsRequest = parse(self, ctx, &payload)?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: UpdateSdRequestContent = content(self, &plain)?;
                let e = self.update_sd(signer, &c, req.nextdsi, &req.tid, now)?;
                (req.rid, req.tid, e)
            }
            MessageKind::DeleteSd => {
                let req: DeleteSdTbsRequest = parse(self, ctx, &payload)?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: DeleteSdRequestContent = content(self, &plain)?;
                let e = self.delete_sd(signer, &c, req.nextdsi, &req.tid)?;
                (req.rid, req.tid, e)
            }
            MessageKind::InstallTa => {
                // The TA data is decoded in place in the payload's buffer.
                let mut req = InstallTaTbsRequest::from_payload_vec(payload, &self.config.limits)
                    .map_err(|e| ta_parse_refusal(ctx, &e))?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: InstallTaRequestContent = content(self, &plain)?;
                let (nextdsi, tid) = (req.nextdsi, req.tid.clone());
                let e = self.install_ta(signer, &c, &mut req.encrypted_ta, nextdsi, &tid, now)?;
                (req.rid, req.tid, e)
            }
            MessageKind::UpdateTa => {
                let mut req = UpdateTaTbsRequest::from_payload_vec(payload, &self.config.limits)
                    .map_err(|e| ta_parse_refusal(ctx, &e))?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: InstallTaRequestContent = content(self, &plain)?;
                let (nextdsi, tid) = (req.nextdsi, req.tid.clone());
                let e = self.update_ta(signer, &c, &mut req.encrypted_ta, nextdsi, &tid, now)?;
                (req.rid, req.tid, e)
            }
            MessageKind::DeleteTa | MessageKind::GetDeviceState => {
                let req: DeleteTaTbsRequest = parse(self, ctx, &payload)?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: DeleteTaRequestContent = content(self, &plain)?;
                let e = self.delete_ta(signer, &c, req.nextdsi, &req.tid)?;
                (req.rid, req.tid, e)
            }
        };
        let Effect {
            mut state,
            put,
            staged,
            content,
        } = effect;
        state.record_seen(
            &signer.tamid,
            common_rid.as_str(),
            common_tid.as_str(),
            self.config.seen_capacity,
        );
        let jwe = self
            .encrypt_for_tam(ctx, &content)
            .inspect_err(|_| self.discard_staged(&staged))?;
        Ok(Prepared {
            payload: command_payload(kind, common_rid, common_tid, CommandOutcome::Pass(jwe)),
            state,
            put,
            staged,
        })
    }

    /// The checks every SD/TA command starts with, in the spec's order
    /// (9.2.1.2 step 1): ids, replay, routing name, dsihash, then the
    /// content decrypted with the TEE key; its CEK is kept for the answer.
    fn open_common(
        &self,
        ctx: &mut Ctx,
        signer: &Signer,
        c: &Common<'_>,
    ) -> Result<Vec<u8>, Refusal> {
        self.check_ids(ctx, c.rid, c.tid)?;
        let algs = self
            .cached_signer(&signer.tamid)
            .and_then(|s| s.sigalgs.as_ref());
        if let Ok(alg) = self.choose_sig_alg(algs.map(|l| l.iter().map(String::as_str))) {
            ctx.sig_alg = alg;
        }
        if c.tee != self.config.name {
            return Err(Refusal::new(
                ErrorCode::RequestInvalid,
                "tee is not this TEE",
            ));
        }
        let _ = c.nextdsi;
        self.check_dsihash(&signer.tamid, c.dsihash)?;
        let d = c
            .content
            .decrypt_detailed(
                &self.provider,
                self.hooks.identity.decrypter(),
                &CONTENT_POLICY,
            )
            .map_err(|e| jose_refusal(&e))?;
        ctx.cek = Some((d.cek.clone(), d.enc));
        Ok(d.plaintext)
    }

    fn check_did(&self, did: &crate::message::DeviceId) -> Result<(), Refusal> {
        if *did == self.did {
            Ok(())
        } else {
            Err(Refusal::new(
                ErrorCode::RequestInvalid,
                "did is not this TEE",
            ))
        }
    }

    fn check_spcert(&self, der: &[u8], now: UnixTime) -> Result<(), Refusal> {
        check_sp_certificate(&self.provider, &self.config.sp_anchors, der, &[], now)
            .map_err(|e| pki_refusal(&e))
    }

    /// The `spcert` of an InstallTA/UpdateTA content, when it carries one:
    /// valid before anything else is done with the request (9.3.1).
    fn check_new_spcert(&self, c: &InstallTaRequestContent, now: UnixTime) -> Result<(), Refusal> {
        match &c.spcert {
            Some(cert) => self.check_spcert(cert.as_bytes(), now),
            None => Ok(()),
        }
    }

    /// Creates the SP AIK of (`tamid`, `spid`) in `new` if it has none;
    /// returns the new public key.
    fn ensure_sp_aik(
        &self,
        new: &mut TeeState,
        put: &mut Vec<(BlobId, SecretBytes)>,
        tamid: &str,
        spid: &str,
        renew: bool,
    ) -> Result<Option<SpAikRecord>, Refusal> {
        if new.sp_aik(tamid, spid).is_some() && !renew {
            return Ok(None);
        }
        let key = self
            .hooks
            .sp_aik
            .generate(self.provider.secure_random)
            .map_err(|e| hook_refusal(&e))?;
        let sealed = new.new_blob("aik");
        let rec = SpAikRecord {
            tamid: tamid.to_string(),
            spid: spid.to_string(),
            kind: key.kind,
            public: Base64Bytes(key.public_spki),
            sealed: sealed.clone(),
        };
        new.sp_aiks
            .retain(|k| !(k.tamid == tamid && k.spid == spid));
        new.sp_aiks.push(rec.clone());
        put.push((sealed, key.sealed));
        Ok(Some(rec))
    }

    /// Drops the SP AIK of (`tamid`, `spid`) when no SD of the SP is left
    /// (9.2.3.2: "Delete the TEE SP AIK key pair if this SD is the last one
    /// for the SP").
    fn drop_unused_sp_aik(new: &mut TeeState, tamid: &str, spid: &str) {
        let used = new
            .sds
            .iter()
            .any(|sd| sd.tamid == tamid && sd.spid == spid);
        if !used {
            new.sp_aiks
                .retain(|k| !(k.tamid == tamid && k.spid == spid));
        }
    }

    // ---- CreateSD (9.2.1.2) ----

    fn create_sd(
        &self,
        signer: &Signer,
        c: &CreateSdRequestContent,
        nextdsi: bool,
        tid: &MessageId,
        now: UnixTime,
    ) -> Result<Effect, Refusal> {
        require(&c.spid, "spid is empty")?;
        require(&c.sdname, "sdname is empty")?;
        self.check_spcert(c.spcert.as_bytes(), now)?;
        self.check_did(&c.did)?;
        if self.state.sd(&signer.tamid, &c.sdname).is_some() {
            return Err(Refusal::new(ErrorCode::SdAlreadyExists, "the SD exists"));
        }
        check_tamid(signer, &c.tamid)?;

        let mut new = self.state.clone();
        let mut put = Vec::new();
        new.sds.push(SdRecord {
            name: c.sdname.clone(),
            spid: c.spid.clone(),
            tamid: signer.tamid.clone(),
            spcerts: alloc::vec![c.spcert.clone()],
            tamcert: signer.x5c.iter().cloned().map(Base64Bytes).collect(),
            tas: Vec::new(),
        });
        let aik = self.ensure_sp_aik(&mut new, &mut put, &signer.tamid, &c.spid, false)?;
        let dsi = self.next_dsi(&mut new, &signer.tamid, tid, nextdsi)?;
        let content = CreateSdResponseContent {
            reason: None,
            did: self.did,
            sdname: c.sdname.clone(),
            teespaik: aik.map(|k| k.public),
            dsi,
        }
        .to_plaintext();
        Ok(Effect {
            state: new,
            put,
            staged: Vec::new(),
            content,
        })
    }

    // ---- UpdateSD (9.2.2.2) ----

    fn update_sd(
        &self,
        signer: &Signer,
        c: &UpdateSdRequestContent,
        nextdsi: bool,
        tid: &MessageId,
        now: UnixTime,
    ) -> Result<Effect, Refusal> {
        require(&c.sdname, "sdname is empty")?;
        let sd = owned_sd(&self.state, signer, &c.sdname)?;
        check_tamid(signer, &c.tamid)?;
        if sd.spid != c.spid {
            return Err(Refusal::new(
                ErrorCode::SdNotFound,
                "the SD is not this SP's",
            ));
        }
        let changes = &c.changes;
        // Every spcert is valid before anything changes (9.2.2.2).
        for cert in changes.spcert.iter().flatten() {
            self.check_spcert(cert.as_bytes(), now)?;
        }
        let old_spid = sd.spid.clone();
        let mut new = self.state.clone();
        let mut put = Vec::new();
        let mut name = c.sdname.clone();

        if let Some(newname) = &changes.newsdname {
            require(newname, "newsdname is empty")?;
            if *newname != c.sdname && new.sd(&signer.tamid, newname).is_some() {
                return Err(Refusal::new(
                    ErrorCode::SdNameAlreadyUsed,
                    "newsdname is used",
                ));
            }
            sd_mut(&mut new, signer, &name)?.name = newname.clone();
            name = newname.clone();
        }
        for cert in changes.spcert.iter().flatten() {
            let rec = sd_mut(&mut new, signer, &name)?;
            if !rec.spcerts.contains(cert) {
                rec.spcerts.push(cert.clone());
            }
        }
        for fp in changes.deloldspcert.iter().flatten() {
            let rec = sd_mut(&mut new, signer, &name)?;
            let before = rec.spcerts.len();
            let mut kept = Vec::new();
            for cert in rec.spcerts.drain(..) {
                let hash = sha256(&self.provider, cert.as_bytes())
                    .map_err(|_| Refusal::tee_fail("digest"))?;
                if hash != fp.0 {
                    kept.push(cert);
                }
            }
            rec.spcerts = kept;
            if rec.spcerts.len() == before {
                return Err(Refusal::new(
                    ErrorCode::RequestInvalid,
                    "deloldspcert matches no SP certificate of the SD",
                ));
            }
        }
        let mut spid = old_spid.clone();
        let mut aik = None;
        if let Some(newspid) = &changes.newspid {
            require(newspid, "newspid is empty")?;
            sd_mut(&mut new, signer, &name)?.spid = newspid.clone();
            spid = newspid.clone();
            Self::drop_unused_sp_aik(&mut new, &signer.tamid, &old_spid);
            // 9.2.2.1: "a new SPID for one of the domains will always
            // trigger a new teespaik generation as if a new SP were
            // introduced to the TEE."
            aik = self.ensure_sp_aik(&mut new, &mut put, &signer.tamid, &spid, false)?;
        }
        sd_mut(&mut new, signer, &name)?;
        if changes.renewteespaik == Some(true) && aik.is_none() {
            aik = self.ensure_sp_aik(&mut new, &mut put, &signer.tamid, &spid, true)?;
        }
        let dsi = self.next_dsi(&mut new, &signer.tamid, tid, nextdsi)?;
        let content = UpdateSdResponseContent {
            reason: None,
            did: self.did,
            cert: None,
            teespaiktype: aik.as_ref().map(|k| k.kind),
            teespaik: aik.map(|k| k.public),
            dsi,
        }
        .to_plaintext();
        Ok(Effect {
            state: new,
            put,
            staged: Vec::new(),
            content,
        })
    }

    // ---- DeleteSD (9.2.3.2) ----

    fn delete_sd(
        &self,
        signer: &Signer,
        c: &DeleteSdRequestContent,
        nextdsi: bool,
        tid: &MessageId,
    ) -> Result<Effect, Refusal> {
        require(&c.sdname, "sdname is empty")?;
        let sd = owned_sd(&self.state, signer, &c.sdname)?;
        check_tamid(signer, &c.tamid)?;
        if !sd.tas.is_empty() && c.deleteta != Some(true) {
            return Err(Refusal::new(ErrorCode::SdNotEmpty, "the SD holds TAs"));
        }
        let spid = sd.spid.clone();
        let mut new = self.state.clone();
        new.sds
            .retain(|s| !(s.tamid == signer.tamid && s.name == c.sdname));
        Self::drop_unused_sp_aik(&mut new, &signer.tamid, &spid);
        let dsi = self.next_dsi(&mut new, &signer.tamid, tid, nextdsi)?;
        Ok(Effect {
            state: new,
            put: Vec::new(),
            staged: Vec::new(),
            content: response_content(self, dsi),
        })
    }

    // ---- InstallTA (9.3.1) ----

    fn install_ta(
        &self,
        signer: &Signer,
        c: &InstallTaRequestContent,
        eta: &mut InstallEncryptedTa,
        nextdsi: bool,
        tid: &MessageId,
        now: UnixTime,
    ) -> Result<Effect, Refusal> {
        let sd = ta_target_sd(&self.state, signer, c)?;
        self.check_new_spcert(c, now)?;
        if sd.tas.iter().any(|t| t.taid == c.taid) {
            return Err(Refusal::new(
                ErrorCode::TaAlreadyInstalled,
                "the TA is installed",
            ));
        }
        let key = self.ta_key(&signer.tamid, &sd.spid, &eta.key)?;
        let mut new = self.state.clone();
        let image_id = new.new_blob("ta");
        // The TA data leaves the request: decrypted where it lies (and
        // wiped), so that a TEE holds one copy of a large TA, not two.
        let mut data = Zeroizing::new(core::mem::take(&mut eta.ciphertadata.0));
        let (image, verified) = self.receive_ta(sd, c, &key, &eta.iv, &mut data, &image_id, now)?;
        drop(data);
        let mut put = Vec::new();
        let mut staged = Vec::new();
        image.into_blob(image_id.clone(), &mut put, &mut staged);
        let rest = |mut new: TeeState, mut put: Vec<(BlobId, SecretBytes)>| {
            let pdata = match &eta.cipherpdata {
                Some(p) => Some(self.decrypt_ta(&key, &eta.iv, p.as_bytes())?),
                None => None,
            };
            new.raise_ta_floor(&c.taid, verified.version);
            let pdata_id = pdata.as_ref().map(|_| new.new_blob("pd"));
            if let (Some(id), Some(p)) = (&pdata_id, pdata) {
                put.push((id.clone(), p));
            }
            let rec = sd_mut(&mut new, signer, &c.sdname)?;
            if let Some(cert) = &c.spcert {
                if !rec.spcerts.contains(cert) {
                    rec.spcerts.push(cert.clone());
                }
            }
            rec.tas.push(TaRecord {
                taid: c.taid.clone(),
                taname: verified.taname.clone(),
                current: TaVersion {
                    seq: 1,
                    version: verified.version,
                    image: image_id.clone(),
                    pdata: pdata_id,
                },
                previous: None,
            });
            let dsi = self.next_dsi(&mut new, &signer.tamid, tid, nextdsi)?;
            Ok((new, put, dsi))
        };
        match rest(new, put) {
            Ok((state, put, dsi)) => Ok(Effect {
                state,
                put,
                staged,
                content: response_content(self, dsi),
            }),
            Err(e) => {
                self.discard_staged(&staged);
                Err(e)
            }
        }
    }

    // ---- UpdateTA (9.3.2) ----

    fn update_ta(
        &self,
        signer: &Signer,
        c: &InstallTaRequestContent,
        eta: &mut UpdateEncryptedTa,
        nextdsi: bool,
        tid: &MessageId,
        now: UnixTime,
    ) -> Result<Effect, Refusal> {
        let sd = ta_target_sd(&self.state, signer, c)?;
        // The new spcert is checked even when only personalization data
        // changes: it is added to the SD (issue 13).
        self.check_new_spcert(c, now)?;
        let old = sd
            .tas
            .iter()
            .find(|t| t.taid == c.taid)
            .ok_or(Refusal::new(ErrorCode::TaNotFound, "no such TA in the SD"))?;
        let key = self.ta_key(&signer.tamid, &sd.spid, &eta.key)?;
        // The old version stays until the new one is committed, and is kept
        // as `previous` for rollback.
        let mut new = self.state.clone();
        let mut put = Vec::new();
        let mut staged = Vec::new();
        let (image_id, taname, version) = match eta.ciphernewtadata.take() {
            Some(d) => {
                let id = new.new_blob("ta");
                let mut data = Zeroizing::new(d.0);
                let (image, v) = self.receive_ta(sd, c, &key, &eta.iv, &mut data, &id, now)?;
                image.into_blob(id.clone(), &mut put, &mut staged);
                (id, v.taname, v.version)
            }
            None => (
                old.current.image.clone(),
                old.taname.clone(),
                old.current.version,
            ),
        };
        let rest = |mut new: TeeState, mut put: Vec<(BlobId, SecretBytes)>| {
            let pdata = match &eta.ciphernewpdata {
                Some(p) => Some(self.decrypt_ta(&key, &eta.iv, p.as_bytes())?),
                None => None,
            };
            new.raise_ta_floor(&c.taid, version);
            let pdata_id = match pdata {
                Some(p) => {
                    let id = new.new_blob("pd");
                    put.push((id.clone(), p));
                    Some(id)
                }
                None => old.current.pdata.clone(),
            };
            let rec = sd_mut(&mut new, signer, &c.sdname)?;
            if let Some(cert) = &c.spcert {
                if !rec.spcerts.contains(cert) {
                    rec.spcerts.push(cert.clone());
                }
            }
            let ta = rec
                .tas
                .iter_mut()
                .find(|t| t.taid == c.taid)
                .ok_or(Refusal::new(ErrorCode::TaNotFound, "no such TA in the SD"))?;
            let seq = ta.current.seq.saturating_add(1);
            let previous = core::mem::replace(
                &mut ta.current,
                TaVersion {
                    seq,
                    version,
                    image: image_id.clone(),
                    pdata: pdata_id,
                },
            );
            ta.previous = Some(previous);
            ta.taname = taname.clone();
            let dsi = self.next_dsi(&mut new, &signer.tamid, tid, nextdsi)?;
            Ok((new, put, dsi))
        };
        match rest(new, put) {
            Ok((state, put, dsi)) => Ok(Effect {
                state,
                put,
                staged,
                content: response_content(self, dsi),
            }),
            Err(e) => {
                self.discard_staged(&staged);
                Err(e)
            }
        }
    }

    // ---- DeleteTA (9.3.3.2) ----

    fn delete_ta(
        &self,
        signer: &Signer,
        c: &DeleteTaRequestContent,
        nextdsi: bool,
        tid: &MessageId,
    ) -> Result<Effect, Refusal> {
        require(&c.sdname, "sdname is empty")?;
        require(&c.taid, "taid is empty")?;
        let sd = owned_sd(&self.state, signer, &c.sdname)?;
        check_tamid(signer, &c.tamid)?;
        if !sd.tas.iter().any(|t| t.taid == c.taid) {
            return Err(Refusal::new(ErrorCode::TaNotFound, "no such TA in the SD"));
        }
        let mut new = self.state.clone();
        sd_mut(&mut new, signer, &c.sdname)?
            .tas
            .retain(|t| t.taid != c.taid);
        let dsi = self.next_dsi(&mut new, &signer.tamid, tid, nextdsi)?;
        Ok(Effect {
            state: new,
            put: Vec::new(),
            staged: Vec::new(),
            content: response_content(self, dsi),
        })
    }

    // ---- TA data (9.3.1.1) ----

    /// Unwraps `encrypted_ta.key` with the SP AIK: a JWE whose plaintext is
    /// the 256-bit key (the body of 9.3.1.1), or the key RSA-encrypted
    /// directly (Appendix A.2.1.1, PKCS#1 v1.5).
    fn ta_key(&self, tamid: &str, spid: &str, key: &TaKey) -> Result<SecretBytes, Refusal> {
        let rec = self
            .state
            .sp_aik(tamid, spid)
            .ok_or(Refusal::tee_fail("the SP has no SP AIK"))?;
        let sealed = self
            .hooks
            .storage
            .read_blob(&rec.sealed)
            .map_err(|_| Refusal::tee_fail("SP AIK unreadable"))?;
        let decrypter = self
            .hooks
            .sp_aik
            .decrypter(sealed.as_bytes())
            .map_err(|e| hook_refusal(&e))?;
        let bytes = match key {
            TaKey::Jwe(jwe) => {
                let plain = jwe
                    .decrypt(&self.provider, decrypter.as_ref(), &CONTENT_POLICY)
                    .map_err(|e| match jose_refusal(&e).code {
                        ErrorCode::UnsupportedCryptoAlg => jose_refusal(&e),
                        _ => Refusal::new(ErrorCode::TaInvalid, "TA key does not decrypt"),
                    })?;
                SecretBytes::new(plain)
            }
            TaKey::Wrapped(b) => decrypter
                .decrypt_cek(
                    KeyAlg::Rsa1_5,
                    ContentAlg::A256Gcm,
                    &AgreementParams::default(),
                    b.as_bytes(),
                    self.provider.secure_random,
                )
                .map_err(|_| Refusal::new(ErrorCode::TaInvalid, "TA key does not decrypt"))?,
        };
        if bytes.len() != 32 {
            return Err(Refusal::new(ErrorCode::TaInvalid, "TA key is not 256 bits"));
        }
        Ok(bytes)
    }

    fn decrypt_ta(
        &self,
        key: &SecretBytes,
        iv: &TaIv,
        data: &[u8],
    ) -> Result<SecretBytes, Refusal> {
        self.hooks
            .ta
            .decrypt_ta_data(TaEncAlg::AesCbc, key, &iv.0, data)
            .map_err(|e| ta_refusal(&e))
    }

    /// The whole decrypted TA of `data`: decrypted where it lies when the
    /// platform offers [`super::TaPlatform::decrypt_ta_blocks`] (the image
    /// takes the ciphertext's buffer, so a TEE holds one copy of the TA, not
    /// two), else through [`super::TaPlatform::decrypt_ta_data`].
    fn decrypt_whole(
        &self,
        key: &SecretBytes,
        iv: &TaIv,
        data: &mut Zeroizing<Vec<u8>>,
    ) -> Result<SecretBytes, Refusal> {
        let whole_blocks = !data.is_empty() && data.len().is_multiple_of(BLOCK);
        if whole_blocks {
            match self
                .hooks
                .ta
                .decrypt_ta_blocks(TaEncAlg::AesCbc, key, &iv.0, data)
            {
                Ok(()) => {
                    let body_len = data.len() - BLOCK;
                    let text_len = data
                        .get(body_len..)
                        .and_then(unpadded_len)
                        .map(|tail| body_len + tail)
                        .ok_or(ta_refusal(&TaError::Decrypt))?;
                    if let Some(pad) = data.get_mut(text_len..) {
                        pad.zeroize();
                    }
                    data.truncate(text_len);
                    return Ok(SecretBytes::new(core::mem::take(&mut **data)));
                }
                Err(TaError::UnsupportedAlgorithm) => {}
                Err(e) => return Err(ta_refusal(&e)),
            }
        }
        self.decrypt_ta(key, iv, data)
    }

    /// Decrypts and verifies the TA data (`data`, decrypted in place) into
    /// the image blob `id`, then checks what the signature covers
    /// ([`Tee::check_verified`]). Streamed when the platform offers
    /// [`super::TaPlatform::begin_ta`]: chunk by chunk through its
    /// [`super::TaStream`], and to storage through a staged blob when the
    /// storage offers one; whole through the default hooks otherwise.
    /// Nothing staged survives a refusal.
    #[allow(clippy::too_many_arguments)]
    fn receive_ta(
        &self,
        sd: &SdRecord,
        c: &InstallTaRequestContent,
        key: &SecretBytes,
        iv: &TaIv,
        data: &mut Zeroizing<Vec<u8>>,
        id: &BlobId,
        now: UnixTime,
    ) -> Result<(ReceivedTa, VerifiedTa), Refusal> {
        let mut certs: Vec<&[u8]> = sd.spcerts.iter().map(Base64Bytes::as_bytes).collect();
        if let Some(cert) = &c.spcert {
            certs.push(cert.as_bytes());
        }
        let Some(stream) = self.hooks.ta.begin_ta(&self.provider, &c.taid, &certs, now) else {
            let image = self.decrypt_whole(key, iv, data)?;
            let verified = self
                .hooks
                .ta
                .verify_ta(&self.provider, &c.taid, image.as_bytes(), &certs, now)
                .map_err(|e| ta_refusal(&e))?;
            let verified = self.check_verified(c, verified)?;
            return Ok((ReceivedTa::Whole(image), verified));
        };
        let sink = match self.hooks.storage.stage_blob(id) {
            Ok(Some(writer)) => TaSink::Staged(writer),
            Ok(None) => TaSink::Memory(Zeroizing::new(Vec::with_capacity(data.len()))),
            Err(e) => return Err(storage_refusal(&e)),
        };
        let staged = matches!(sink, TaSink::Staged(_));
        let result = self
            .stream_ta(stream, sink, key, iv, data)
            .and_then(|(image, verified)| Ok((image, self.check_verified(c, verified)?)));
        if result.is_err() && staged {
            self.hooks.storage.discard_staged(id);
        }
        result
    }

    /// The streamed path of [`Tee::receive_ta`]: AES-CBC decryption of
    /// [`TA_CHUNK`] bytes at a time in place (the IV chained from the last
    /// ciphertext block of the chunk before), each decrypted chunk fed to
    /// the platform's check and to the sink, then wiped; PKCS#7 padding
    /// removed from the last block.
    fn stream_ta(
        &self,
        mut check: Box<dyn TaStream + '_>,
        mut sink: TaSink<'_>,
        key: &SecretBytes,
        iv: &TaIv,
        data: &mut [u8],
    ) -> Result<(ReceivedTa, VerifiedTa), Refusal> {
        let refuse = |e: TaError| ta_refusal(&e);
        let body_len = data
            .len()
            .checked_sub(BLOCK)
            .filter(|_| data.len().is_multiple_of(BLOCK))
            .ok_or(refuse(TaError::Decrypt))?;
        let (body, last) = data.split_at_mut(body_len);
        let mut chain = iv.0;
        for chunk in body.chunks_mut(TA_CHUNK) {
            let next = last_block(chunk).ok_or(refuse(TaError::Decrypt))?;
            self.hooks
                .ta
                .decrypt_ta_blocks(TaEncAlg::AesCbc, key, &chain, chunk)
                .map_err(refuse)?;
            chain = next;
            check.update(chunk).map_err(refuse)?;
            sink.write(chunk)?;
            chunk.zeroize();
        }
        self.hooks
            .ta
            .decrypt_ta_blocks(TaEncAlg::AesCbc, key, &chain, last)
            .map_err(refuse)?;
        let text_len = unpadded_len(last).ok_or(refuse(TaError::Decrypt))?;
        let tail = last.get(..text_len).ok_or(refuse(TaError::Decrypt))?;
        check.update(tail).map_err(refuse)?;
        sink.write(tail)?;
        last.zeroize();
        let verified = check.finish().map_err(refuse)?;
        Ok((sink.finish()?, verified))
    }

    /// What the SP's verified signature says must match the command (9.3.1:
    /// the signer is an SP certificate of the SD or the new `spcert`, which
    /// the platform checked): the image is the TA the command names, and
    /// its version is above the TA's anti-rollback floor (issue 13: a
    /// device never installs a version at or below one it had, so an old,
    /// vulnerable build cannot come back by update, nor by
    /// delete-then-reinstall).
    fn check_verified(
        &self,
        c: &InstallTaRequestContent,
        verified: VerifiedTa,
    ) -> Result<VerifiedTa, Refusal> {
        if verified.taid != c.taid {
            return Err(Refusal::new(
                ErrorCode::TaInvalid,
                "the TA image is signed for another taid",
            ));
        }
        if let Some(floor) = self.state.ta_floor(&c.taid) {
            if verified.version <= floor {
                return Err(Refusal::new(
                    ErrorCode::TaInvalid,
                    "the TA version is not above the highest this device installed",
                ));
            }
        }
        Ok(verified)
    }
}

/// The AES block size, the unit of `ciphertadata`.
const BLOCK: usize = 16;

/// How much TA data is decrypted, checked and stored at a time on the
/// streamed path (a multiple of [`BLOCK`]): the TEE's working memory for a
/// TA of any size, besides the TA data itself.
pub(super) const TA_CHUNK: usize = 64 * 1024;

/// The last 16-byte block of `chunk` (the next chunk's CBC IV).
fn last_block(chunk: &[u8]) -> Option<[u8; BLOCK]> {
    chunk
        .get(chunk.len().checked_sub(BLOCK)?..)?
        .try_into()
        .ok()
}

/// The plaintext length of the decrypted last block under PKCS#7 padding.
fn unpadded_len(last: &[u8]) -> Option<usize> {
    let pad = *last.last()?;
    let n = usize::from(pad);
    let text = last
        .len()
        .checked_sub(n)
        .filter(|_| (1..=BLOCK).contains(&n))?;
    last.get(text..)?.iter().all(|&b| b == pad).then_some(text)
}

fn storage_refusal(e: &StorageError) -> Refusal {
    match e {
        StorageError::Full => Refusal::new(ErrorCode::TeeResourceFull, "storage"),
        _ => Refusal::tee_fail("storage"),
    }
}

/// Where a streamed TA image goes.
enum TaSink<'s> {
    /// A blob staged in storage.
    Staged(Box<dyn BlobWriter + 's>),
    /// Memory, for a storage that takes blobs only in a commit (wiped).
    Memory(Zeroizing<Vec<u8>>),
}

impl TaSink<'_> {
    fn write(&mut self, piece: &[u8]) -> Result<(), Refusal> {
        match self {
            TaSink::Staged(w) => w.write(piece).map_err(|e| storage_refusal(&e)),
            TaSink::Memory(buf) => {
                buf.extend_from_slice(piece);
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<ReceivedTa, Refusal> {
        match self {
            TaSink::Staged(w) => {
                w.finish().map_err(|e| storage_refusal(&e))?;
                Ok(ReceivedTa::Staged)
            }
            TaSink::Memory(mut buf) => Ok(ReceivedTa::Whole(SecretBytes::new(core::mem::take(
                &mut *buf,
            )))),
        }
    }
}

/// A decrypted, verified TA image: in memory, or already in storage.
enum ReceivedTa {
    Whole(SecretBytes),
    Staged,
}

impl ReceivedTa {
    /// Adds the image, as blob `id`, to a command's new blobs.
    fn into_blob(self, id: BlobId, put: &mut Vec<(BlobId, SecretBytes)>, staged: &mut Vec<BlobId>) {
        match self {
            ReceivedTa::Whole(image) => put.push((id, image)),
            ReceivedTa::Staged => staged.push(id),
        }
    }
}

fn response_content(tee: &Tee, dsi: Option<crate::message::RawDsi>) -> Vec<u8> {
    let mut c = ResponseContent::new(tee.did);
    if let Some(d) = dsi {
        c = c.with_dsi(d);
    }
    c.to_plaintext()
}
