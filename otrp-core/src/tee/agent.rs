//! [`Tee`]: the sans-IO TEE agent. Bytes in (a signed request), bytes out
//! (the signed response), with every state change of one request prepared
//! first and committed through one storage transaction at the end.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::error::{Refusal, TeeError, TeeFault, jose_refusal, pki_refusal};
use super::hooks::{BlobId, Commit, FirmwareError, StorageError, TeeHooks};
use super::state::{IssuedDsi, SignerRecord, TeeState};
use crate::crypto::{
    Cek, ContentAlg, Curve, EncryptionKey, JwsAlg, KeyAlg, KeyKind, Provider, PublicKey,
    SecretBytes,
};
use crate::jose::{Header, Jwe, JwePolicy, Jws, JwsRef};
use crate::message::{
    Base64Bytes, CommandOutcome, ContentPlaintext, ContentReason, CreateSdResponseContent,
    CreateSdTbsResponse, DeleteSdTbsResponse, DeleteTaTbsResponse, DeviceId, Direction, Dsi,
    DsiDocument, DsiHash, Envelope, EnvelopeRef, ErrorCode, Failure, GetDeviceStateTbsRequest,
    GetDeviceTeeStateTbsResponse, InstallTaTbsResponse, Limits, MessageId, MessageKind, RawDsi,
    Reason, ResponseContent, SdInfo, SdList, SigAlg, TaInfo, TbsMessage, TeeAik, TeeInfo, TfwData,
    UpdateSdResponseContent, UpdateSdTbsResponse, UpdateTaTbsResponse, parse_request, sha256,
};
use crate::pki::{
    CertSpans, OcspPolicy, ParsedChain, PkiError, Role, TrustAnchors, UnixTime, ValidatedChain,
    cached_chain_leaf_spki, check_revocation_in, validate_cached_tam_chain,
    validate_offered_tam_chain,
};

/// How many `dsihash` values of one unchanged view are remembered per TAM.
const ISSUED_PER_VIEW: usize = 8;
/// The longest `rid` or `tid` echoed from a payload whose signature did not
/// verify (correlation only, 13.1).
const MAX_LOOSE_ID: usize = 256;

/// The configuration of a TEE agent.
#[derive(Clone, Debug)]
pub struct TeeConfig {
    /// The TEE (routing) name: the DSI's `tee.name`, checked against the
    /// `tee` of every SD/TA request (9.2.1.1).
    pub name: String,
    /// The TEE version reported in the DSI (`tee.ver`).
    pub version: String,
    /// Roots a TAM certificate must chain to (4.2).
    pub tam_anchors: TrustAnchors,
    /// Roots an `spcert` must chain to; empty means format checks only
    /// (9.2.1.2: "signature and format verification only").
    pub sp_anchors: TrustAnchors,
    /// Size and depth limits of requests.
    pub limits: Limits,
    /// OCSP freshness rules (14.9).
    pub ocsp_policy: OcspPolicy,
    /// How many TAM signers are cached (7.4.1). With 0 nothing is cached
    /// and `signerreq` is true: every request must carry `x5c`.
    pub signer_cache: usize,
    /// How many `rid`/`tid` pairs are remembered against replay, per TAM
    /// (so one TAM's traffic cannot evict another's; the whole memory is
    /// this times the number of trusted TAMs that sent requests).
    pub seen_capacity: usize,
    /// Content encryption of a GetDeviceState answer, the one response
    /// without a request CEK (9.1.4); A128CBC-HS256 by default (section 11).
    pub dsi_enc: ContentAlg,
    /// Key management towards an RSA TAM key (RSA1_5 by default, section 11).
    pub rsa_key_alg: KeyAlg,
    /// Key management towards an EC TAM key (ECDH-ES+A128KW by default,
    /// section 11).
    pub ec_key_alg: KeyAlg,
}

impl TeeConfig {
    /// A configuration with the spec's defaults.
    pub fn new(name: impl Into<String>, tam_anchors: TrustAnchors) -> Self {
        TeeConfig {
            name: name.into(),
            version: "1.0".to_string(),
            tam_anchors,
            sp_anchors: TrustAnchors::new(),
            limits: Limits::DEFAULT,
            ocsp_policy: OcspPolicy::default(),
            signer_cache: 4,
            seen_capacity: 4096,
            dsi_enc: ContentAlg::A128CbcHs256,
            rsa_key_alg: KeyAlg::Rsa1_5,
            ec_key_alg: KeyAlg::EcdhEsA128Kw,
        }
    }
}

/// The TEE agent: processes OTrP requests against the hooks (section 9).
pub struct Tee {
    pub(super) config: TeeConfig,
    pub(super) provider: Provider,
    pub(super) hooks: TeeHooks,
    pub(super) state: TeeState,
    pub(super) did: DeviceId,
    /// The error code and message of the last request refused (issue 14:
    /// a host tool names it although the reason may be encrypted).
    last_refusal: Option<(ErrorCode, &'static str)>,
}

impl core::fmt::Debug for Tee {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tee")
            .field("name", &self.config.name)
            .field("did", &self.did)
            .finish_non_exhaustive()
    }
}

/// The TAM that signed a request.
pub(super) struct Signer {
    pub(super) tamid: String,
    pub(super) key: PublicKey,
    pub(super) chain: ValidatedChain,
    pub(super) x5c: Vec<Vec<u8>>,
}

/// What is known about the request being answered, for its response.
pub(super) struct Ctx {
    pub(super) kind: MessageKind,
    pub(super) rid: MessageId,
    pub(super) tid: MessageId,
    pub(super) sig_alg: JwsAlg,
    pub(super) tam_key: Option<PublicKey>,
    pub(super) cek: Option<(Cek, ContentAlg)>,
    pub(super) ids_verified: bool,
    pub(super) sdname: String,
    /// The authenticated signer's tamid (empty before verification).
    pub(super) tamid: String,
    /// Revocation statuses learnt from a request that was then refused:
    /// kept anyway (a revocation holds, issue 14).
    pub(super) learned: Option<crate::pki::OcspCache>,
}

/// A successful request, ready to sign and commit.
pub(super) struct Prepared {
    pub(super) payload: Vec<u8>,
    pub(super) state: TeeState,
    pub(super) put: Vec<(BlobId, SecretBytes)>,
    /// Blobs already written through [`super::SecureStorage::stage_blob`].
    pub(super) staged: Vec<BlobId>,
}

impl Tee {
    /// Opens the agent over `hooks`, loading the stored state (a fresh
    /// device starts empty).
    pub fn open(
        config: TeeConfig,
        provider: Provider,
        mut hooks: TeeHooks,
    ) -> Result<Self, TeeError> {
        let state = match hooks.storage.load()? {
            Some(bytes) => TeeState::from_bytes(&bytes)?,
            None => TeeState::new(),
        };
        let did = DeviceId(sha256(&provider, hooks.identity.certificate())?);
        Ok(Tee {
            config,
            provider,
            hooks,
            state,
            did,
            last_refusal: None,
        })
    }

    /// The error code and message of the failure response [`Tee::handle`]
    /// returned last, or `None` when it passed. Lets the host name the code
    /// of a refusal whose `reason` is encrypted for the TAM (9.2.1.3).
    pub fn last_refusal(&self) -> Option<(&ErrorCode, &'static str)> {
        self.last_refusal.as_ref().map(|(c, m)| (c, *m))
    }

    /// The current state (read-only).
    pub fn state(&self) -> &TeeState {
        &self.state
    }

    /// This TEE's `did` (9.2.1.1).
    pub fn did(&self) -> DeviceId {
        self.did
    }

    /// The configuration.
    pub fn config(&self) -> &TeeConfig {
        &self.config
    }

    /// The hooks (for platform-level operations such as reading a stored TA).
    pub fn hooks(&self) -> &TeeHooks {
        &self.hooks
    }

    /// [`Tee::handle`] at the time of the hooks' clock; without a clock this
    /// is [`TeeFault::NoClock`].
    pub fn handle_now(&mut self, request: &[u8]) -> Result<Vec<u8>, TeeFault> {
        let now = self
            .hooks
            .clock
            .as_ref()
            .map(|c| c.now())
            .ok_or(TeeFault::NoClock)?;
        self.handle(request, now)
    }

    /// Processes one request message (`{"<Name>Request": <JWS>}`) at time
    /// `now` and returns the signed response message
    /// (`{"<Name>Response": <JWS>}`; for GetDeviceState the per-TEE
    /// `GetDeviceTEEStateResponse`, which a broker wraps in the
    /// `GetDeviceStateResponse` array, 9.1.5).
    ///
    /// Every refusal the spec lists is a signed response with status "fail"
    /// and its error code; a request that fails changes no SD or TA state
    /// (only its `rid`/`tid` is recorded against replay). [`TeeFault`] is
    /// returned only when no signed answer can be given (the input is not
    /// an OTrP request, or the TEE cannot sign): the broker answers then
    /// (section 10, Type 2).
    pub fn handle(&mut self, request: &[u8], now: UnixTime) -> Result<Vec<u8>, TeeFault> {
        let env = parse_request(request, &self.config.limits).map_err(TeeFault::NotARequest)?;
        let mut ctx = Ctx {
            kind: env.kind,
            rid: MessageId::new(""),
            tid: MessageId::new(""),
            sig_alg: self.default_sig_alg(),
            tam_key: None,
            cek: None,
            ids_verified: false,
            sdname: String::new(),
            tamid: String::new(),
            learned: None,
        };
        self.last_refusal = None;
        match self.process(&env, now, &mut ctx) {
            Ok(prepared) => {
                let bytes = self
                    .sign(&ctx, &prepared.payload)
                    .inspect_err(|_| self.discard_staged(&prepared.staged))?;
                match self.commit(prepared.state, &prepared.put, &prepared.staged) {
                    Ok(()) => Ok(bytes),
                    Err(code) => {
                        self.discard_staged(&prepared.staged);
                        self.last_refusal = Some((code.clone(), "storage"));
                        self.answer_failure(&ctx, Refusal::new(code, "storage"))
                    }
                }
            }
            Err(refusal) => {
                self.last_refusal = Some((refusal.code.clone(), refusal.message));
                self.record_refused(&mut ctx, refusal.replay);
                self.answer_failure(&ctx, refusal)
            }
        }
    }

    fn process(
        &mut self,
        env: &EnvelopeRef<'_>,
        now: UnixTime,
        ctx: &mut Ctx,
    ) -> Result<Prepared, Refusal> {
        let jws = env.parse_jws().map_err(|e| jose_refusal(&e))?;
        let (payload, signer) = match self.verify_request(&jws, now) {
            Ok(v) => v,
            Err(refusal) => {
                // 13.1: the refusal echoes the ids of the payload, read
                // without trusting them, so that the TAM can correlate it;
                // they are not recorded against replay.
                if let Ok(p) = jws.unverified_payload() {
                    (ctx.rid, ctx.tid) = loose_ids(&p);
                }
                return Err(refusal);
            }
        };
        ctx.tam_key = Some(signer.key.clone());
        ctx.tamid = signer.tamid.clone();
        // Best-effort ids for a refusal before the typed parse read them
        // (13.1), scanned only on that failure path: a TA command's payload
        // is mostly TA data.
        if env.kind != MessageKind::GetDeviceState {
            if let Err(refusal) = self.require_established(&signer, now) {
                (ctx.rid, ctx.tid) = loose_ids(&payload);
                return Err(refusal);
            }
        }
        match env.kind {
            MessageKind::GetDeviceState => {
                let result = self.get_device_state(&payload, &signer, now, ctx);
                if result.is_err() && !ctx.ids_verified {
                    (ctx.rid, ctx.tid) = loose_ids(&payload);
                }
                result
            }
            _ => self.command(env.kind, payload, &signer, now, ctx),
        }
    }

    /// Checks the id pair against replay and marks it verified.
    pub(super) fn check_ids(
        &self,
        ctx: &mut Ctx,
        rid: &MessageId,
        tid: &MessageId,
    ) -> Result<(), Refusal> {
        ctx.rid = rid.clone();
        ctx.tid = tid.clone();
        if self.state.was_seen(&ctx.tamid, rid.as_str(), tid.as_str()) {
            return Err(Refusal::replay());
        }
        ctx.ids_verified = true;
        Ok(())
    }

    // ---- signature, TAM chain, signer cache (9.1.2, 7.4.1) ----

    /// Authenticates a request (9.1.2, 7.4.1) with bounded work before
    /// authentication (issue 18): an `x5c` of more than
    /// [`crate::pki::MAX_CHAIN_CERTS`] certificates, with duplicates or
    /// certificates that do not parse, is malformed (`ERR_REQUEST_INVALID`);
    /// the signature is verified with the leaf's key before any chain is
    /// built. Without `x5c` the cached signers are tried (at most
    /// `signer_cache` verifications); when none verifies, the signer is
    /// unknown (`ERR_TAM_NOT_TRUSTED`; the TAM resends with `x5c`).
    fn verify_request(
        &self,
        jws: &JwsRef<'_>,
        now: UnixTime,
    ) -> Result<(Vec<u8>, Signer), Refusal> {
        let [sig] = jws.signatures() else {
            return Err(Refusal::new(
                ErrorCode::RequestInvalid,
                "exactly one signature expected",
            ));
        };
        let alg = sig.alg().map_err(|e| jose_refusal(&e))?;
        if self.provider.signature_verifier(alg).is_err() {
            return Err(Refusal::new(
                ErrorCode::UnsupportedCryptoAlg,
                "signature algorithm",
            ));
        }
        let x5c = sig.x5c().map_err(|e| jose_refusal(&e))?;
        match x5c {
            Some(chain) => {
                // Each certificate is parsed once; the chain's validation
                // below reads the parsed form.
                let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
                let parsed = ParsedChain::parse(&refs)
                    .map_err(|_| Refusal::new(ErrorCode::RequestInvalid, "x5c"))?;
                if parsed.leaf().is_none() {
                    return Err(Refusal::new(ErrorCode::RequestInvalid, "empty x5c"));
                }
                let key = self.leaf_key(parsed.leaf_spki().as_deref())?;
                let payload = jws
                    .verify(&self.provider, &key, &[alg])
                    .map_err(|e| jose_refusal(&e))?;
                let tam = validate_offered_tam_chain(
                    &self.provider,
                    &self.config.tam_anchors,
                    &refs,
                    &parsed,
                    now,
                )
                .map_err(|e| pki_refusal(&e))?;
                let tamid = tam.tamid.as_str().to_string();
                Ok((
                    payload,
                    Signer {
                        tamid,
                        key,
                        chain: tam.chain,
                        x5c: chain,
                    },
                ))
            }
            None => self.verify_with_cached_signer(jws, alg, now),
        }
    }

    /// [`Self::verify_request`] of a request without `x5c`: the cached
    /// signers are tried, newest first. A cached chain validated when it was
    /// cached; per request it is bounded again and its path verified at
    /// `now` (see [`validate_cached_tam_chain`]), its certificates are not
    /// decoded again.
    fn verify_with_cached_signer(
        &self,
        jws: &JwsRef<'_>,
        alg: JwsAlg,
        now: UnixTime,
    ) -> Result<(Vec<u8>, Signer), Refusal> {
        let (payload, key, rec, refs, bound) = self
            .state
            .signers
            .iter()
            .rev()
            .find_map(|rec| {
                let refs: Vec<&[u8]> = rec.x5c.iter().map(|c| c.0.as_slice()).collect();
                // A chain over the bound still has its leaf's key tried,
                // to be refused below.
                let bound = cached_chain_leaf_spki(&refs);
                let spki = match bound {
                    Ok(spki) => Ok(spki),
                    Err(_) => CertSpans::of(refs.first()?).map(|s| s.spki),
                };
                let key = self.leaf_key(spki).ok()?;
                let payload = jws.verify(&self.provider, &key, &[alg]).ok()?;
                Some((payload, key, rec, refs, bound.map(drop)))
            })
            .ok_or(Refusal::new(
                ErrorCode::TamNotTrusted,
                "no x5c and no cached TAM signer verifies the signature",
            ))?;
        // A cached chain that no longer passes the bound (a state written
        // before it) is a TAM to re-establish, as when its validation
        // fails: ERR_TAM_NOT_TRUSTED makes it resend x5c.
        bound.map_err(|e| pki_refusal(&PkiError::cert(Role::Tam, e)))?;
        let chain = validate_cached_tam_chain(&self.provider, &self.config.tam_anchors, &refs, now)
            .map_err(|e| pki_refusal(&e))?;
        let x5c = rec.x5c.iter().map(|c| c.0.clone()).collect();
        Ok((
            payload,
            Signer {
                tamid: rec.tamid.clone(),
                key,
                chain,
                x5c,
            },
        ))
    }

    /// 13.4: an SD/TA command is accepted only from a certificate whose
    /// revocation status this TEE established (a GetDeviceState with fresh
    /// `ocspdat`) and that is still good: every certificate of the signer's
    /// path has a remembered good status before its nextUpdate. A new
    /// certificate of the same TAM (key rotation) thus needs a
    /// GetDeviceState first; then it manages the TAM's SDs.
    fn require_established(&self, signer: &Signer, now: UnixTime) -> Result<(), Refusal> {
        for (cert, issuer) in signer.chain.issuer_pairs() {
            let good = self
                .state
                .ocsp
                .is_good(&self.provider, cert, issuer, now)
                .map_err(|e| pki_refusal(&e))?;
            if !good {
                return Err(Refusal::new(
                    ErrorCode::TamNotTrusted,
                    "revocation status of the signer not established",
                ));
            }
        }
        Ok(())
    }

    /// The key of a TAM certificate, from its SubjectPublicKeyInfo
    /// (`ParsedChain::leaf_spki`, or a cached chain's DER spans).
    fn leaf_key<E>(&self, spki: Result<&[u8], E>) -> Result<PublicKey, Refusal> {
        let spki =
            spki.map_err(|_| Refusal::new(ErrorCode::TamNotTrusted, "TAM certificate key"))?;
        self.provider
            .key_loader
            .public_key_from_spki_der(spki)
            .map_err(|_| Refusal::new(ErrorCode::UnsupportedCryptoAlg, "TAM key type"))
    }

    // ---- response algorithms (9.1.1 supportedsigalgs) ----

    fn default_sig_alg(&self) -> JwsAlg {
        match self.hooks.identity.signer().key_kind() {
            KeyKind::Ec(Curve::P384) => JwsAlg::Es384,
            KeyKind::Ec(_) | KeyKind::AnyEc => JwsAlg::Es256,
            _ => JwsAlg::Rs256,
        }
    }

    /// The first algorithm of the TAM's list that the TEE key can make.
    pub(super) fn choose_sig_alg<'a>(
        &self,
        tam_algs: Option<impl IntoIterator<Item = &'a str>>,
    ) -> Result<JwsAlg, Refusal> {
        let Some(list) = tam_algs else {
            return Ok(self.default_sig_alg());
        };
        let kind = self.hooks.identity.signer().key_kind();
        list.into_iter()
            .filter_map(JwsAlg::from_name)
            .find(|a| a.key_kind().admits(kind))
            .ok_or(Refusal::new(
                ErrorCode::UnsupportedCryptoAlg,
                "no algorithm of supportedsigalgs fits the TEE key",
            ))
    }

    fn supported_sig_algs(&self) -> Vec<SigAlg> {
        self.provider
            .supported_jws_algs()
            .map(SigAlg::Known)
            .collect()
    }

    // ---- GetDeviceState (9.1) ----

    fn get_device_state(
        &mut self,
        payload: &[u8],
        signer: &Signer,
        now: UnixTime,
        ctx: &mut Ctx,
    ) -> Result<Prepared, Refusal> {
        let req = GetDeviceStateTbsRequest::from_payload(payload, &self.config.limits)
            .map_err(|e| Refusal::message(&e))?;
        self.check_ids(ctx, &req.rid, &req.tid)?;
        let tam_algs: Option<Vec<String>> = req
            .supportedsigalgs
            .as_ref()
            .map(|l| l.iter().map(|a| a.as_str().to_string()).collect());
        ctx.sig_alg =
            self.choose_sig_alg(tam_algs.as_ref().map(|l| l.iter().map(String::as_str)))?;

        // Revocation (9.1.1, 9.1.2, 14.9): the stapled responses, merged
        // with the statuses this TEE remembers for these certificates
        // (monotonic: an older answer never replaces a newer one, and a
        // revocation holds). What was learnt is kept even on refusal.
        let refs: Vec<&[u8]> = req.ocspdat.iter().map(Base64Bytes::as_bytes).collect();
        let mut ocsp = self.state.ocsp.clone();
        let revocation = check_revocation_in(
            &self.provider,
            &signer.chain,
            &refs,
            now,
            &self.config.ocsp_policy,
            &mut ocsp,
            &signer.tamid,
        );
        if let Err(e) = revocation {
            if ocsp != self.state.ocsp {
                ctx.learned = Some(ocsp);
            }
            return Err(pki_refusal(&e));
        }

        // Firmware signed data over the UTF-8 tid (9.1.3).
        let tfwdata = match &self.hooks.firmware {
            Some(fw) => Some(
                fw.attest(req.tid.as_str().as_bytes())
                    .map_err(|e| match e {
                        FirmwareError::NotTrusted => {
                            Refusal::new(ErrorCode::TfwNotTrusted, "firmware not trusted")
                        }
                        FirmwareError::Unavailable => Refusal::new(ErrorCode::TeeFail, "firmware"),
                    })?,
            ),
            None => None,
        };

        let mut new = self.state.clone();
        new.ocsp = ocsp;
        if self.config.signer_cache > 0 {
            // One cached signer per TAM: its latest certificate.
            new.signers.retain(|s| s.tamid != signer.tamid);
            new.signers.push(SignerRecord {
                tamid: signer.tamid.clone(),
                x5c: signer.x5c.iter().cloned().map(Base64Bytes).collect(),
                sigalgs: tam_algs,
            });
            if new.signers.len() > self.config.signer_cache {
                let excess = new.signers.len() - self.config.signer_cache;
                new.signers.drain(..excess);
            }
        }
        new.record_seen(
            &signer.tamid,
            req.rid.as_str(),
            req.tid.as_str(),
            self.config.seen_capacity,
        );
        let dsi = self.dsi_for(&new, &signer.tamid, tfwdata);
        let (doc, view) = DsiDocument::with_view(dsi);
        let view = self.hash_view(&view)?;
        let hash = doc
            .hash(&self.provider)
            .map_err(|_| Refusal::tee_fail("digest"))?;
        issue(&mut new, &signer.tamid, view, hash);
        let edsi = self.encrypt_for_tam(ctx, doc.as_bytes())?;
        let tbs = GetDeviceTeeStateTbsResponse::pass(
            req.rid.clone(),
            req.tid.clone(),
            self.config.signer_cache == 0,
            edsi,
        );
        Ok(Prepared {
            payload: tbs.to_payload(),
            state: new,
            put: Vec::new(),
            staged: Vec::new(),
        })
    }

    pub(super) fn cached_signer(&self, tamid: &str) -> Option<&SignerRecord> {
        self.state.signers.iter().find(|s| s.tamid == tamid)
    }

    // ---- the DSI (9.1.5) and dsihash (9.2.1.1) ----

    /// The DSI this TEE shows to `tamid`: its SDs and the SP AIKs of their SPs.
    pub(super) fn dsi_for(&self, state: &TeeState, tamid: &str, tfwdata: Option<TfwData>) -> Dsi {
        let identity = &self.hooks.identity;
        let sd = state
            .sds
            .iter()
            .filter(|sd| sd.tamid == tamid)
            .map(|sd| SdInfo {
                name: sd.name.clone(),
                spid: sd.spid.clone(),
                talist: sd
                    .tas
                    .iter()
                    .map(|ta| TaInfo {
                        taid: ta.taid.clone(),
                        taname: ta.taname.clone(),
                        version: Some(ta.current.version),
                    })
                    .collect(),
            })
            .collect();
        let teeaiklist = state
            .sp_aiks
            .iter()
            .filter(|k| k.tamid == tamid)
            .map(|k| TeeAik {
                spaik: k.public.clone(),
                spaiktype: k.kind,
                spid: k.spid.clone(),
            })
            .collect();
        Dsi {
            tfwdata,
            tee: TeeInfo {
                name: self.config.name.clone(),
                ver: self.config.version.clone(),
                cert: Base64Bytes(identity.certificate().to_vec()),
                cacert: identity
                    .ca_certificates()
                    .iter()
                    .cloned()
                    .map(Base64Bytes)
                    .collect(),
                sdlist: SdList { sd },
                teeaiklist,
            },
        }
    }

    /// SHA-256 of the DSI without `tfwdata`: what a `dsihash` vouches for.
    pub(super) fn view_of(&self, dsi: &Dsi) -> Result<[u8; 32], Refusal> {
        self.hash_view(&dsi.view_json())
    }

    /// SHA-256 of a view's JSON text (see [`Dsi::write_json_and_view`]).
    fn hash_view(&self, view: &[u8]) -> Result<[u8; 32], Refusal> {
        sha256(&self.provider, view).map_err(|_| Refusal::tee_fail("digest"))
    }

    /// 9.2.1.2: "Compare dsihash with its current state to make sure nothing
    /// has changed since this request was sent."
    pub(super) fn check_dsihash(&self, tamid: &str, dsihash: &DsiHash) -> Result<(), Refusal> {
        let current = self.view_of(&self.dsi_for(&self.state, tamid, None))?;
        let ok = self.state.issued.iter().any(|i| {
            i.tamid == tamid
                && i.view.as_bytes() == current
                && i.hashes.iter().any(|h| h.as_bytes() == dsihash.as_bytes())
        });
        if ok {
            Ok(())
        } else {
            Err(Refusal::new(
                ErrorCode::DevStateMismatch,
                "dsihash is not the current DSI",
            ))
        }
    }

    /// The updated DSI for a response content when `nextdsi` asked for it
    /// (recorded as issued in `new`).
    pub(super) fn next_dsi(
        &self,
        new: &mut TeeState,
        tamid: &str,
        tid: &MessageId,
        nextdsi: bool,
    ) -> Result<Option<RawDsi>, Refusal> {
        if !nextdsi {
            return Ok(None);
        }
        let tfwdata = self
            .hooks
            .firmware
            .as_ref()
            .and_then(|fw| fw.attest(tid.as_str().as_bytes()).ok());
        let dsi = self.dsi_for(new, tamid, tfwdata);
        let (raw, view) = RawDsi::with_view(dsi);
        let view = self.hash_view(&view)?;
        let hash = raw
            .hash(&self.provider)
            .map_err(|_| Refusal::tee_fail("digest"))?;
        issue(new, tamid, view, hash);
        Ok(Some(raw))
    }

    // ---- response encryption and signing ----

    /// A JWE to the TAM key: under the request's CEK when there is one
    /// (9.2.1.2 step 3), else under a fresh CEK (9.1.4).
    pub(super) fn encrypt_for_tam(&self, ctx: &Ctx, plaintext: &[u8]) -> Result<Jwe, Refusal> {
        let key = ctx
            .tam_key
            .as_ref()
            .ok_or(Refusal::tee_fail("no TAM key"))?;
        let alg = match key {
            PublicKey::Rsa(_) => self.config.rsa_key_alg,
            PublicKey::Ec(_) => self.config.ec_key_alg,
        };
        let builder = match &ctx.cek {
            Some((cek, enc)) => Jwe::builder(*enc).cek(cek.clone()),
            None => Jwe::builder(self.config.dsi_enc),
        };
        builder
            .recipient(alg, EncryptionKey::Public(key), Header::new())
            .encrypt(plaintext, &self.provider)
            .map_err(|_| Refusal::tee_fail("response encryption"))
    }

    fn sign(&self, ctx: &Ctx, payload: &[u8]) -> Result<Vec<u8>, TeeFault> {
        let jws = Jws::sign_public(
            payload,
            self.hooks.identity.signer(),
            ctx.sig_alg,
            Header::new(),
            None,
            &self.provider,
        )
        .map_err(TeeFault::CannotSign)?;
        Envelope::signed_bytes(ctx.kind, Direction::Response, &jws).map_err(TeeFault::CannotSign)
    }

    /// The signed "fail" response for `refusal`: inside the encrypted
    /// content when the request's CEK is known, else in the signed 9.1.6
    /// form.
    fn answer_failure(&self, ctx: &Ctx, refusal: Refusal) -> Result<Vec<u8>, TeeFault> {
        let mut failure = Failure::new(refusal.code.clone());
        if refusal.code == ErrorCode::UnsupportedCryptoAlg {
            failure = failure.with_supportedsigalgs(self.supported_sig_algs());
        }
        let (rid, tid) = (ctx.rid.clone(), ctx.tid.clone());
        let payload = if ctx.kind == MessageKind::GetDeviceState {
            GetDeviceTeeStateTbsResponse::fail(rid, tid, failure).to_payload()
        } else {
            let outcome = match (&ctx.cek, refusal.code == ErrorCode::UnsupportedCryptoAlg) {
                (Some(_), false) => {
                    let reason = ContentReason::Code(
                        Reason::new(refusal.code.clone()).with_message(refusal.message),
                    );
                    let plaintext = match ctx.kind {
                        MessageKind::CreateSd => CreateSdResponseContent {
                            reason: Some(reason),
                            did: self.did,
                            sdname: ctx.sdname.clone(),
                            teespaik: None,
                            dsi: None,
                        }
                        .to_plaintext(),
                        MessageKind::UpdateSd => UpdateSdResponseContent {
                            reason: Some(reason),
                            did: self.did,
                            cert: None,
                            teespaik: None,
                            teespaiktype: None,
                            dsi: None,
                        }
                        .to_plaintext(),
                        _ => ResponseContent::new(self.did)
                            .with_reason(reason)
                            .to_plaintext(),
                    };
                    match self.encrypt_for_tam(ctx, &plaintext) {
                        Ok(jwe) => CommandOutcome::FailEncrypted(jwe),
                        Err(_) => CommandOutcome::Fail(failure),
                    }
                }
                _ => CommandOutcome::Fail(failure),
            };
            command_payload(ctx.kind, rid, tid, outcome)
        };
        self.sign(ctx, &payload)
    }

    // ---- storage ----

    /// Commits `new` (with the new blobs) through one storage transaction.
    /// On failure the state is reloaded, since a failed commit may or may
    /// not have taken effect; if it did, the request succeeded.
    pub(super) fn commit(
        &mut self,
        new: TeeState,
        put: &[(BlobId, SecretBytes)],
        staged: &[BlobId],
    ) -> Result<(), ErrorCode> {
        let old = self.state.blobs();
        let kept = new.blobs();
        let delete: Vec<BlobId> = old.difference(&kept).cloned().collect();
        let bytes = new.to_bytes();
        let commit = Commit {
            state: &bytes,
            put: put
                .iter()
                .map(|(id, b)| (id.clone(), b.as_bytes()))
                .collect(),
            delete,
            staged: staged.to_vec(),
        };
        match self.hooks.storage.commit(&commit) {
            Ok(()) => {
                self.state = new;
                Ok(())
            }
            Err(e) => {
                self.reload();
                if self.state == new {
                    return Ok(());
                }
                Err(match e {
                    StorageError::Full => ErrorCode::TeeResourceFull,
                    _ => ErrorCode::TeeFail,
                })
            }
        }
    }

    /// Drops blobs staged for a request that will not be committed (best
    /// effort: the storage collects what is left).
    pub(super) fn discard_staged(&self, staged: &[BlobId]) {
        for id in staged {
            self.hooks.storage.discard_staged(id);
        }
    }

    /// Re-reads the state from storage (after a failed commit).
    fn reload(&mut self) {
        if let Ok(Some(bytes)) = self.hooks.storage.load() {
            if let Ok(state) = TeeState::from_bytes(&bytes) {
                self.state = state;
            }
        }
    }

    /// What a refused request still changes (best effort): its verified
    /// ids are recorded against replay, and revocation statuses it taught
    /// are kept.
    fn record_refused(&mut self, ctx: &mut Ctx, replay: bool) {
        let record_ids = ctx.ids_verified && !replay;
        if !record_ids && ctx.learned.is_none() {
            return;
        }
        let mut new = self.state.clone();
        if record_ids {
            new.record_seen(
                &ctx.tamid,
                ctx.rid.as_str(),
                ctx.tid.as_str(),
                self.config.seen_capacity,
            );
        }
        if let Some(ocsp) = ctx.learned.take() {
            new.ocsp = ocsp;
        }
        let _ = self.commit(new, &[], &[]);
    }

    /// Restores the version of a TA before its last update (the rollback
    /// of the "updates must never brick a device" requirement). The TA's
    /// current version is dropped; a second rollback has nothing to restore.
    pub fn rollback_ta(&mut self, sdname: &str, taid: &str) -> Result<(), TeeError> {
        let mut new = self.state.clone();
        // SD names are unique per TAM only: the SD of that name holding
        // the TA.
        let sd = new
            .sds
            .iter_mut()
            .find(|sd| sd.name == sdname && sd.tas.iter().any(|t| t.taid == taid))
            .ok_or(TeeError::NotFound("SD"))?;
        let ta = sd
            .tas
            .iter_mut()
            .find(|t| t.taid == taid)
            .ok_or(TeeError::NotFound("TA"))?;
        let previous = ta.previous.take().ok_or(TeeError::NoPreviousVersion)?;
        ta.current = previous;
        self.commit(new, &[], &[]).map_err(TeeError::Commit)
    }
}

/// Records `hash` as issued to `tamid` for `view`.
fn issue(state: &mut TeeState, tamid: &str, view: [u8; 32], hash: DsiHash) {
    let hash = Base64Bytes(hash.0.to_vec());
    match state.issued.iter_mut().find(|i| i.tamid == tamid) {
        Some(rec) if rec.view.as_bytes() == view => {
            rec.hashes.push(hash);
            if rec.hashes.len() > ISSUED_PER_VIEW {
                rec.hashes.remove(0);
            }
        }
        Some(rec) => {
            rec.view = Base64Bytes(view.to_vec());
            rec.hashes = alloc::vec![hash];
        }
        None => state.issued.push(IssuedDsi {
            tamid: tamid.to_string(),
            view: Base64Bytes(view.to_vec()),
            hashes: alloc::vec![hash],
        }),
    }
}

/// `rid` and `tid` read without validation from a payload that may not
/// parse or may not be authentic, so that even its refusal echoes them
/// (correlation only). The rest of the payload is skipped unparsed; an id
/// longer than [`MAX_LOOSE_ID`] is not echoed.
pub(super) fn loose_ids(payload: &[u8]) -> (MessageId, MessageId) {
    // Borrowed and typed: the other members (a TA's data among them) are
    // skipped, not copied into a JSON tree.
    #[derive(serde::Deserialize)]
    struct Ids<'a> {
        #[serde(borrow)]
        rid: Option<&'a serde_json::value::RawValue>,
        #[serde(borrow)]
        tid: Option<&'a serde_json::value::RawValue>,
    }
    let top: Option<alloc::collections::BTreeMap<alloc::borrow::Cow<'_, str>, Ids<'_>>> =
        crate::json_reader::from_slice(payload).ok();
    let inner = top.as_ref().and_then(|m| m.values().next());
    let get = |id: Option<&serde_json::value::RawValue>| {
        let text: Option<alloc::borrow::Cow<'_, str>> =
            id.and_then(|raw| crate::json_reader::from_slice(raw.get().as_bytes()).ok());
        MessageId::new(
            text.as_deref()
                .filter(|t| t.len() <= MAX_LOOSE_ID)
                .unwrap_or(""),
        )
    };
    (
        get(inner.and_then(|i| i.rid)),
        get(inner.and_then(|i| i.tid)),
    )
}

/// The TBS payload of an SD/TA command response.
pub(super) fn command_payload(
    kind: MessageKind,
    rid: MessageId,
    tid: MessageId,
    outcome: CommandOutcome,
) -> Vec<u8> {
    match kind {
        MessageKind::CreateSd => CreateSdTbsResponse::new(rid, tid, outcome).to_payload(),
        MessageKind::UpdateSd => UpdateSdTbsResponse::new(rid, tid, outcome).to_payload(),
        MessageKind::DeleteSd => DeleteSdTbsResponse::new(rid, tid, outcome).to_payload(),
        MessageKind::InstallTa => InstallTaTbsResponse::new(rid, tid, outcome).to_payload(),
        MessageKind::UpdateTa => UpdateTaTbsResponse::new(rid, tid, outcome).to_payload(),
        MessageKind::DeleteTa | MessageKind::GetDeviceState => {
            DeleteTaTbsResponse::new(rid, tid, outcome).to_payload()
        }
    }
}

/// The algorithms a TEE accepts for request contents.
pub(super) const CONTENT_POLICY: JwePolicy<'static> = JwePolicy::ANY;
