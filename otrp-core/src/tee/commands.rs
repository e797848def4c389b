//! The SD and TA commands at a TEE (sections 9.2 and 9.3): the checks of
//! each "Request Processing Requirements at a TEE", in the spec's order,
//! then the new state, prepared but not yet committed.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::agent::{CONTENT_POLICY, Ctx, Prepared, Signer, Tee, command_payload};
use super::error::{Refusal, jose_refusal, pki_refusal};
use super::hooks::{BlobId, HookError, TaError};
use super::state::{SdRecord, SpAikRecord, TaRecord, TaVersion, TeeState};
use crate::crypto::{AgreementParams, ContentAlg, KeyAlg, SecretBytes};
use crate::jose::Jwe;
use crate::message::{
    Base64Bytes, CommandOutcome, ContentPlaintext, CreateSdRequestContent, CreateSdResponseContent,
    CreateSdTbsRequest, DeleteSdRequestContent, DeleteSdTbsRequest, DeleteTaRequestContent,
    DeleteTaTbsRequest, DsiHash, ErrorCode, InstallEncryptedTa, InstallTaRequestContent,
    InstallTaTbsRequest, MessageId, MessageKind, ResponseContent, TaIv, TaKey, TbsMessage,
    UpdateEncryptedTa, UpdateSdRequestContent, UpdateSdResponseContent, UpdateSdTbsRequest,
    UpdateTaTbsRequest, sha256,
};
use crate::pki::{UnixTime, check_sp_certificate};

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

fn parse<T: TbsMessage>(tee: &Tee, payload: &[u8]) -> Result<T, Refusal> {
    T::from_payload(payload, &tee.config.limits).map_err(|e| Refusal::message(&e))
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

/// Looks up an SD the signer must own (9.2.2.2: "Check whether the
/// requested SD exists", "Check that the TAM owns this SD").
/// The SD an InstallTA/UpdateTA request addresses (9.3.1, 9.3.2): named,
/// owned by the signing TAM, whose tamid the content repeats, and belonging
/// to the SP the content names.
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
            ErrorCode::SdNotFound,
            "the SD is not this SP's",
        ));
    }
    Ok(sd)
}

fn owned_sd<'s>(
    state: &'s TeeState,
    signer: &Signer,
    sdname: &str,
) -> Result<&'s SdRecord, Refusal> {
    let sd = state
        .sd(sdname)
        .ok_or(Refusal::new(ErrorCode::SdNotFound, "no such SD"))?;
    if sd.tamid != signer.tamid {
        return Err(Refusal::new(
            ErrorCode::TamNotAuthorized,
            "the SD belongs to another TAM",
        ));
    }
    Ok(sd)
}

fn sd_mut<'s>(state: &'s mut TeeState, sdname: &str) -> Result<&'s mut SdRecord, Refusal> {
    state
        .sd_mut(sdname)
        .ok_or(Refusal::new(ErrorCode::SdNotFound, "no such SD"))
}

impl Tee {
    /// Dispatches an SD or TA command.
    pub(super) fn command(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        signer: &Signer,
        now: UnixTime,
        ctx: &mut Ctx,
    ) -> Result<Prepared, Refusal> {
        let (common_rid, common_tid, effect) = match kind {
            MessageKind::CreateSd => {
                let req: CreateSdTbsRequest = parse(self, payload)?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: CreateSdRequestContent = content(self, &plain)?;
                ctx.sdname = c.sdname.clone();
                let e = self.create_sd(signer, &c, req.nextdsi, &req.tid, now)?;
                (req.rid, req.tid, e)
            }
            MessageKind::UpdateSd => {
                let req: UpdateSdTbsRequest = parse(self, payload)?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: UpdateSdRequestContent = content(self, &plain)?;
                let e = self.update_sd(signer, &c, req.nextdsi, &req.tid, now)?;
                (req.rid, req.tid, e)
            }
            MessageKind::DeleteSd => {
                let req: DeleteSdTbsRequest = parse(self, payload)?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: DeleteSdRequestContent = content(self, &plain)?;
                let e = self.delete_sd(signer, &c, req.nextdsi, &req.tid)?;
                (req.rid, req.tid, e)
            }
            MessageKind::InstallTa => {
                let req: InstallTaTbsRequest = parse(self, payload)?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: InstallTaRequestContent = content(self, &plain)?;
                let e =
                    self.install_ta(signer, &c, &req.encrypted_ta, req.nextdsi, &req.tid, now)?;
                (req.rid, req.tid, e)
            }
            MessageKind::UpdateTa => {
                let req: UpdateTaTbsRequest = parse(self, payload)?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: InstallTaRequestContent = content(self, &plain)?;
                let e =
                    self.update_ta(signer, &c, &req.encrypted_ta, req.nextdsi, &req.tid, now)?;
                (req.rid, req.tid, e)
            }
            MessageKind::DeleteTa | MessageKind::GetDeviceState => {
                let req: DeleteTaTbsRequest = parse(self, payload)?;
                let plain = self.open_common(ctx, signer, &common_of!(req))?;
                let c: DeleteTaRequestContent = content(self, &plain)?;
                let e = self.delete_ta(signer, &c, req.nextdsi, &req.tid)?;
                (req.rid, req.tid, e)
            }
        };
        let Effect {
            mut state,
            put,
            content,
        } = effect;
        state.record_seen(
            common_rid.as_str(),
            common_tid.as_str(),
            self.config.seen_capacity,
        );
        let jwe = self.encrypt_for_tam(ctx, &content)?;
        Ok(Prepared {
            payload: command_payload(kind, common_rid, common_tid, CommandOutcome::Pass(jwe)),
            state,
            put,
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
        if self.state.sd(&c.sdname).is_some() {
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
        let old_spid = sd.spid.clone();
        let mut new = self.state.clone();
        let mut put = Vec::new();
        let mut name = c.sdname.clone();

        if let Some(newname) = &changes.newsdname {
            require(newname, "newsdname is empty")?;
            if *newname != c.sdname && new.sd(newname).is_some() {
                return Err(Refusal::new(
                    ErrorCode::SdNameAlreadyUsed,
                    "newsdname is used",
                ));
            }
            sd_mut(&mut new, &name)?.name = newname.clone();
            name = newname.clone();
        }
        for cert in changes.spcert.iter().flatten() {
            self.check_spcert(cert.as_bytes(), now)?;
            let rec = sd_mut(&mut new, &name)?;
            if !rec.spcerts.contains(cert) {
                rec.spcerts.push(cert.clone());
            }
        }
        for fp in changes.deloldspcert.iter().flatten() {
            let rec = sd_mut(&mut new, &name)?;
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
            sd_mut(&mut new, &name)?.spid = newspid.clone();
            spid = newspid.clone();
            Self::drop_unused_sp_aik(&mut new, &signer.tamid, &old_spid);
            // 9.2.2.1: "a new SPID for one of the domains will always
            // trigger a new teespaik generation as if a new SP were
            // introduced to the TEE."
            aik = self.ensure_sp_aik(&mut new, &mut put, &signer.tamid, &spid, false)?;
        }
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
        new.sds.retain(|s| s.name != c.sdname);
        Self::drop_unused_sp_aik(&mut new, &signer.tamid, &spid);
        let dsi = self.next_dsi(&mut new, &signer.tamid, tid, nextdsi)?;
        Ok(Effect {
            state: new,
            put: Vec::new(),
            content: response_content(self, dsi),
        })
    }

    // ---- InstallTA (9.3.1) ----

    fn install_ta(
        &self,
        signer: &Signer,
        c: &InstallTaRequestContent,
        eta: &InstallEncryptedTa,
        nextdsi: bool,
        tid: &MessageId,
        now: UnixTime,
    ) -> Result<Effect, Refusal> {
        let sd = ta_target_sd(&self.state, signer, c)?;
        if sd.tas.iter().any(|t| t.taid == c.taid) {
            return Err(Refusal::new(
                ErrorCode::TaAlreadyInstalled,
                "the TA is installed",
            ));
        }
        let key = self.ta_key(&signer.tamid, &sd.spid, &eta.key)?;
        let image = self.decrypt_ta(&key, &eta.iv, eta.ciphertadata.as_bytes())?;
        let pdata = match &eta.cipherpdata {
            Some(p) => Some(self.decrypt_ta(&key, &eta.iv, p.as_bytes())?),
            None => None,
        };
        let verified = self.verify_ta(sd, c, image.as_bytes(), now)?;

        let mut new = self.state.clone();
        let mut put = Vec::new();
        let image_id = new.new_blob("ta");
        let pdata_id = pdata.as_ref().map(|_| new.new_blob("pd"));
        put.push((image_id.clone(), image));
        if let (Some(id), Some(p)) = (&pdata_id, pdata) {
            put.push((id.clone(), p));
        }
        let rec = sd_mut(&mut new, &c.sdname)?;
        if let Some(cert) = &c.spcert {
            if !rec.spcerts.contains(cert) {
                rec.spcerts.push(cert.clone());
            }
        }
        rec.tas.push(TaRecord {
            taid: c.taid.clone(),
            taname: verified,
            current: TaVersion {
                seq: 1,
                image: image_id,
                pdata: pdata_id,
            },
            previous: None,
        });
        let dsi = self.next_dsi(&mut new, &signer.tamid, tid, nextdsi)?;
        Ok(Effect {
            state: new,
            put,
            content: response_content(self, dsi),
        })
    }

    // ---- UpdateTA (9.3.2) ----

    fn update_ta(
        &self,
        signer: &Signer,
        c: &InstallTaRequestContent,
        eta: &UpdateEncryptedTa,
        nextdsi: bool,
        tid: &MessageId,
        now: UnixTime,
    ) -> Result<Effect, Refusal> {
        let sd = ta_target_sd(&self.state, signer, c)?;
        let old = sd
            .tas
            .iter()
            .find(|t| t.taid == c.taid)
            .ok_or(Refusal::new(ErrorCode::TaNotFound, "no such TA in the SD"))?;
        let key = self.ta_key(&signer.tamid, &sd.spid, &eta.key)?;
        let image = match &eta.ciphernewtadata {
            Some(d) => Some(self.decrypt_ta(&key, &eta.iv, d.as_bytes())?),
            None => None,
        };
        let pdata = match &eta.ciphernewpdata {
            Some(p) => Some(self.decrypt_ta(&key, &eta.iv, p.as_bytes())?),
            None => None,
        };
        let taname = match &image {
            Some(img) => self.verify_ta(sd, c, img.as_bytes(), now)?,
            None => old.taname.clone(),
        };

        // The old version stays until the new one is committed, and is kept
        // as `previous` for rollback.
        let mut new = self.state.clone();
        let mut put = Vec::new();
        let image_id = match image {
            Some(img) => {
                let id = new.new_blob("ta");
                put.push((id.clone(), img));
                id
            }
            None => old.current.image.clone(),
        };
        let pdata_id = match pdata {
            Some(p) => {
                let id = new.new_blob("pd");
                put.push((id.clone(), p));
                Some(id)
            }
            None => old.current.pdata.clone(),
        };
        let rec = sd_mut(&mut new, &c.sdname)?;
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
                image: image_id,
                pdata: pdata_id,
            },
        );
        ta.previous = Some(previous);
        ta.taname = taname;
        let dsi = self.next_dsi(&mut new, &signer.tamid, tid, nextdsi)?;
        Ok(Effect {
            state: new,
            put,
            content: response_content(self, dsi),
        })
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
        sd_mut(&mut new, &c.sdname)?
            .tas
            .retain(|t| t.taid != c.taid);
        let dsi = self.next_dsi(&mut new, &signer.tamid, tid, nextdsi)?;
        Ok(Effect {
            state: new,
            put: Vec::new(),
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
            .decrypt_ta_data(crate::message::TaEncAlg::AesCbc, key, &iv.0, data)
            .map_err(|e| ta_refusal(&e))
    }

    /// Verifies the TA against the SD's SP certificates plus a new `spcert`
    /// (9.3.1: "Check that the TA signer is either a newly given SP
    /// certificate or the one that is already trusted by the SD").
    fn verify_ta(
        &self,
        sd: &SdRecord,
        c: &InstallTaRequestContent,
        image: &[u8],
        now: UnixTime,
    ) -> Result<Option<String>, Refusal> {
        let mut certs: Vec<&[u8]> = sd.spcerts.iter().map(Base64Bytes::as_bytes).collect();
        if let Some(cert) = &c.spcert {
            self.check_spcert(cert.as_bytes(), now)?;
            certs.push(cert.as_bytes());
        }
        self.hooks
            .ta
            .verify_ta(&self.provider, &c.taid, image, &certs, now)
            .map(|v| v.taname)
            .map_err(|e| ta_refusal(&e))
    }
}

fn response_content(tee: &Tee, dsi: Option<crate::message::RawDsi>) -> Vec<u8> {
    let mut c = ResponseContent::new(tee.did);
    if let Some(d) = dsi {
        c = c.with_dsi(d);
    }
    c.to_plaintext()
}
