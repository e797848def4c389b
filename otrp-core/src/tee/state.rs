//! The TEE's persistent state as one document: SDs with their TAs (9.2,
//! 9.3), SP AIK records (7.8.1), the TAM signer cache with stapled OCSP data
//! (7.4.1, 9.1.2), the DSI hashes last issued to each TAM (9.2.2.2: "Compare
//! dsihash with the TEE cached last response DSI data to this TAM"), and the
//! request ids already seen. Binary data large or secret (TA binaries,
//! personalization data, sealed SP AIKs) lives in blobs the document names.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::hooks::BlobId;
use crate::message::{AikType, Base64Bytes};
use crate::pki::OcspCache;

/// The format version of [`TeeState`] documents.
pub const STATE_FORMAT: u32 = 1;

/// The whole persistent state of a TEE.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeeState {
    /// [`STATE_FORMAT`].
    pub format: u32,
    /// The counter blob names are drawn from.
    pub next_blob: u64,
    /// The security domains; a name is unique among its TAM's SDs.
    pub sds: Vec<SdRecord>,
    /// One SP AIK per (TAM, SP) pair.
    pub sp_aiks: Vec<SpAikRecord>,
    /// Cached TAM signers (7.4.1), most recent last.
    pub signers: Vec<SignerRecord>,
    /// The DSI hashes issued to each TAM.
    pub issued: Vec<IssuedDsi>,
    /// `rid`/`tid` pairs already processed, oldest first (9.1.1: "The
    /// combination of rid and tid MUST be made unique"), bounded per TAM.
    pub seen: Vec<SeenId>,
    /// The anti-rollback floors: per `taid`, the highest TA version this
    /// device ever installed. Never lowered and never dropped (DeleteTA,
    /// DeleteSD and `rollback_ta` keep it), so a TA can only move forward.
    #[serde(default)]
    pub ta_floors: Vec<TaFloor>,
    /// The revocation status established for each TAM certificate (9.1.2,
    /// 14.9), per tamid; monotonic ([`OcspCache`]).
    #[serde(default)]
    pub ocsp: OcspCache,
}

/// The highest version of one TA the device ever installed (its
/// anti-rollback floor). Keyed by `taid` alone, across SDs, SPs and TAMs:
/// a device never goes below a version it had, whoever ships the TA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaFloor {
    /// The TA.
    pub taid: String,
    /// The highest version installed ([`super::VerifiedTa::version`]).
    pub version: u64,
}

/// A security domain (9.2.1.2 step 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdRecord {
    /// `sdname`, unique among the SDs of its TAM (5.5, 9.2: a TAM names
    /// the SDs it manages; another TAM may use the same name).
    pub name: String,
    /// The SP the SD belongs to.
    pub spid: String,
    /// The owning TAM (from its certificate, 5.4).
    pub tamid: String,
    /// SP TA-signer certificates (DER).
    pub spcerts: Vec<Base64Bytes>,
    /// `x5c` of the TAM certificate that last changed the SD, TAM
    /// certificate first: what GetTAInformation reports (6.4.2) even when
    /// the signer cache no longer holds the TAM.
    #[serde(default)]
    pub tamcert: Vec<Base64Bytes>,
    /// Installed TAs.
    pub tas: Vec<TaRecord>,
}

/// An installed TA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaRecord {
    /// `taid`.
    pub taid: String,
    /// `taname`, when the image names one.
    pub taname: Option<String>,
    /// The installed version.
    pub current: TaVersion,
    /// The version before the last update, kept for rollback.
    pub previous: Option<TaVersion>,
}

/// One version of a TA: its binary and personalization data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaVersion {
    /// Counts installs and updates of this TA, starting at 1.
    pub seq: u64,
    /// The SP's version of the image ([`super::VerifiedTa::version`]);
    /// 0 in documents written before versions were kept.
    #[serde(default)]
    pub version: u64,
    /// The TA binary.
    pub image: BlobId,
    /// The personalization data, if any.
    pub pdata: Option<BlobId>,
}

/// A TEE SP AIK (7.8.1). SP ids are unique only within a TAM (9.2.1.1), so
/// a key belongs to a (tamid, spid) pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpAikRecord {
    /// The TAM.
    pub tamid: String,
    /// The SP.
    pub spid: String,
    /// `spaiktype`.
    pub kind: AikType,
    /// The public key, DER SubjectPublicKeyInfo.
    pub public: Base64Bytes,
    /// The sealed private key.
    pub sealed: BlobId,
}

/// A cached TAM signer (7.4.1): its certificate chain and the signature
/// algorithms it accepts (9.1.1). One per TAM: the certificate of its last
/// GetDeviceState. Revocation statuses live in [`TeeState::ocsp`], keyed by
/// certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerRecord {
    /// The tamid of the certificate.
    pub tamid: String,
    /// `x5c`, TAM certificate first (DER).
    pub x5c: Vec<Base64Bytes>,
    /// `supportedsigalgs` of the TAM's last GetDeviceState, if given.
    pub sigalgs: Option<Vec<String>>,
}

/// The DSI hashes last issued to one TAM, with a digest of the state they
/// describe (`view`, the DSI without `tfwdata`): a request's `dsihash` is
/// current when it is one of `hashes` and the view has not changed since.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedDsi {
    /// The TAM.
    pub tamid: String,
    /// SHA-256 of the DSI without `tfwdata`.
    pub view: Base64Bytes,
    /// `dsihash` values issued for this view, newest last.
    pub hashes: Vec<Base64Bytes>,
}

/// A processed request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenId {
    /// The TAM that sent it (empty in documents written before the replay
    /// memory was kept per TAM; such entries match every TAM).
    #[serde(default)]
    pub tamid: String,
    /// `rid`.
    pub rid: String,
    /// `tid`.
    pub tid: String,
}

/// Why a state document was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("TEE state document: {0}")]
pub struct StateError(pub String);

impl TeeState {
    /// An empty state (a fresh device).
    pub fn new() -> Self {
        TeeState {
            format: STATE_FORMAT,
            ..TeeState::default()
        }
    }

    /// The document bytes (JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::json_writer::to_vec(self).unwrap_or_default()
    }

    /// Parses a document written by [`TeeState::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateError> {
        use alloc::string::ToString;
        let state: TeeState =
            serde_json::from_slice(bytes).map_err(|e| StateError(e.to_string()))?;
        if state.format != STATE_FORMAT {
            return Err(StateError("unknown format version".to_string()));
        }
        Ok(state)
    }

    /// The SD named `name` of TAM `tamid` (SD names are scoped to their
    /// TAM).
    pub fn sd(&self, tamid: &str, name: &str) -> Option<&SdRecord> {
        self.sds
            .iter()
            .find(|sd| sd.tamid == tamid && sd.name == name)
    }

    pub(crate) fn sd_mut(&mut self, tamid: &str, name: &str) -> Option<&mut SdRecord> {
        self.sds
            .iter_mut()
            .find(|sd| sd.tamid == tamid && sd.name == name)
    }

    /// The SP AIK of (`tamid`, `spid`).
    pub fn sp_aik(&self, tamid: &str, spid: &str) -> Option<&SpAikRecord> {
        self.sp_aiks
            .iter()
            .find(|k| k.tamid == tamid && k.spid == spid)
    }

    /// A fresh blob name with `prefix`.
    pub(crate) fn new_blob(&mut self, prefix: &str) -> BlobId {
        self.next_blob = self.next_blob.saturating_add(1);
        BlobId(alloc::format!("{prefix}-{}", self.next_blob))
    }

    /// Every blob the state refers to.
    pub fn blobs(&self) -> BTreeSet<BlobId> {
        let mut out = BTreeSet::new();
        for sd in &self.sds {
            for ta in &sd.tas {
                for v in core::iter::once(&ta.current).chain(ta.previous.as_ref()) {
                    out.insert(v.image.clone());
                    if let Some(p) = &v.pdata {
                        out.insert(p.clone());
                    }
                }
            }
        }
        for k in &self.sp_aiks {
            out.insert(k.sealed.clone());
        }
        out
    }

    /// The anti-rollback floor of `taid`: the highest version ever
    /// installed, `None` if the TA was never installed on this device.
    pub fn ta_floor(&self, taid: &str) -> Option<u64> {
        self.ta_floors
            .iter()
            .find(|f| f.taid == taid)
            .map(|f| f.version)
    }

    /// Raises the floor of `taid` to `version` (never lowers it).
    pub(crate) fn raise_ta_floor(&mut self, taid: &str, version: u64) {
        match self.ta_floors.iter_mut().find(|f| f.taid == taid) {
            Some(f) => f.version = f.version.max(version),
            None => self.ta_floors.push(TaFloor {
                taid: taid.into(),
                version,
            }),
        }
    }

    /// Whether `rid`/`tid` was seen from TAM `tamid`.
    pub fn was_seen(&self, tamid: &str, rid: &str, tid: &str) -> bool {
        self.seen
            .iter()
            .any(|s| (s.tamid == tamid || s.tamid.is_empty()) && s.rid == rid && s.tid == tid)
    }

    /// Records `rid`/`tid` of TAM `tamid`, keeping at most `capacity` pairs
    /// per TAM (oldest dropped first): another TAM's traffic never evicts
    /// them (issue 18).
    pub(crate) fn record_seen(&mut self, tamid: &str, rid: &str, tid: &str, capacity: usize) {
        self.seen.push(SeenId {
            tamid: tamid.into(),
            rid: rid.into(),
            tid: tid.into(),
        });
        let mine = self.seen.iter().filter(|s| s.tamid == tamid).count();
        if mine > capacity {
            let mut excess = mine - capacity;
            self.seen.retain(|s| {
                if excess > 0 && s.tamid == tamid {
                    excess -= 1;
                    false
                } else {
                    true
                }
            });
        }
    }
}
