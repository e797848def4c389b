//! Per-device state: what the TAM knows about one device's TEEs and the
//! request it is waiting on, behind [`DeviceStore`] so a service can keep it
//! in its own database and run many stateless TAM front ends.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::convert::Infallible;
use core::fmt;

use serde::{Deserialize, Serialize};

use super::TamError;
use crate::crypto::{Cek, Provider, PublicKey};
use crate::jose::{Jws, b64};
use crate::message::{DeviceId, Dsi, DsiDocument, DsiHash, Limits, MessageId, MessageKind, RawDsi};

/// The DSI a TEE returned last, with the exact bytes `dsihash` is computed
/// over: the whole `edsi` plaintext after GetDeviceState, the `dsi` member's
/// value after a command (see `docs/interop.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LastDsi {
    /// From a GetDeviceState response (`{"dsi": {...}}`).
    Document(DsiDocument),
    /// From a command response's `dsi` member.
    Member(RawDsi),
}

impl LastDsi {
    /// The parsed DSI.
    pub fn dsi(&self) -> &Dsi {
        match self {
            LastDsi::Document(d) => d.dsi(),
            LastDsi::Member(d) => d.dsi(),
        }
    }

    /// The exact bytes hashed into `dsihash`.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            LastDsi::Document(d) => d.as_bytes(),
            LastDsi::Member(d) => d.as_bytes(),
        }
    }

    /// `dsihash` for the next request (9.2.1.1).
    pub fn hash(&self, provider: &Provider) -> Result<DsiHash, TamError> {
        Ok(match self {
            LastDsi::Document(d) => d.hash(provider)?,
            LastDsi::Member(d) => d.hash(provider)?,
        })
    }
}

/// One TEE of the device, as validated from its GetDeviceState answer.
#[derive(Clone, Debug, PartialEq)]
pub struct KnownTee {
    /// The TEE routing name (`dsi.tee.name`), the `tee` of later requests.
    pub name: String,
    /// The TEE certificate (DER) that validated against the TEE anchors.
    pub cert: Vec<u8>,
    /// `did`: SHA-256 of `cert`.
    pub did: DeviceId,
    /// The TEE's public key, from `cert`: responses are verified with it and
    /// request contents encrypted to it.
    pub public_key: PublicKey,
    /// The DSI last returned.
    pub dsi: LastDsi,
    /// Set when a command changed the device without returning a DSI: the
    /// `dsihash` is then unknown until the next GetDeviceState.
    pub stale: bool,
    /// `signerreq` of the last GetDeviceState answer: whether requests must
    /// carry the TAM certificate chain (9.1.5).
    pub signerreq: bool,
}

/// The request a session waits on, with what checking its answer needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Outstanding {
    /// The command.
    pub kind: MessageKind,
    /// Its `rid`.
    pub rid: MessageId,
    /// Its `tid`.
    pub tid: MessageId,
    /// The TEE addressed (`None` for GetDeviceState, which goes to all).
    pub tee: Option<String>,
    /// The CEK of the request's `content`, which the TEE reuses for its
    /// answer (9.2.1.2 step 3). Secret: zeroized on drop.
    pub cek: Option<Cek>,
    /// Whether the request asked for the updated DSI.
    pub nextdsi: bool,
    /// The SD name a CreateSD asked for, checked against the answer.
    pub sdname: Option<String>,
    /// The signed request, when it went without `x5c` and may be sent
    /// once more with it.
    pub(crate) resend: Option<SentWithoutX5c>,
}

/// A command request signed without `x5c`, kept so that the session can
/// send it once more with `x5c` when the TEE refuses it because it no
/// longer caches this TAM's certificate (`ERR_TAM_NOT_TRUSTED`, 7.4.1). The
/// signature does not cover `x5c` (it is in the unprotected header), so
/// the very request goes again: same `rid`, `tid`, CEK and content.
///
/// Shared, so that cloning a [`DeviceState`] does not copy a request that
/// may carry a TA of many MiB; held in memory only: [`DeviceState::to_bytes`]
/// does not write it, and a state read back sends `x5c` with its next
/// requests instead.
#[derive(Clone)]
pub(crate) struct SentWithoutX5c(pub(crate) Arc<Jws>);

impl PartialEq for SentWithoutX5c {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl fmt::Debug for SentWithoutX5c {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SentWithoutX5c(..)")
    }
}

/// Everything a TAM keeps about one device between messages.
///
/// [`TamSession`](super::TamSession) works on a `DeviceState` and changes it
/// only when a request is built or a response is accepted; load it before
/// and save it after each step with a [`DeviceStore`]. [`revision`] grows
/// with every change, so a database can update conditionally ("where
/// revision = the one loaded") when several front ends may serve one device.
///
/// [`revision`]: DeviceState::revision
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceState {
    pub(crate) tid: Option<MessageId>,
    pub(crate) tees: Vec<KnownTee>,
    pub(crate) outstanding: Option<Outstanding>,
    pub(crate) revision: u64,
}

impl DeviceState {
    /// A device the TAM knows nothing about yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The TEEs accepted from the last GetDeviceState.
    pub fn tees(&self) -> &[KnownTee] {
        &self.tees
    }

    /// The TEE named `name`.
    pub fn tee(&self, name: &str) -> Option<&KnownTee> {
        self.tees.iter().find(|t| t.name == name)
    }

    /// The DSI of TEE `name`, if known.
    pub fn dsi(&self, name: &str) -> Option<&Dsi> {
        self.tee(name).map(|t| t.dsi.dsi())
    }

    /// The request awaiting an answer.
    pub fn outstanding(&self) -> Option<&Outstanding> {
        self.outstanding.as_ref()
    }

    /// The transaction id of this conversation (9.1.1), once chosen.
    pub fn tid(&self) -> Option<&MessageId> {
        self.tid.as_ref()
    }

    /// Grows by one with every change.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Serializes the state (JSON) for a database. The blob holds the
    /// outstanding request's CEK: store it encrypted at rest.
    pub fn to_bytes(&self) -> Vec<u8> {
        let stored = Stored {
            tid: self.tid.as_ref().map(|t| t.as_str().into()),
            revision: self.revision,
            tees: self
                .tees
                .iter()
                .map(|t| StoredTee {
                    name: t.name.clone(),
                    cert: b64::encode_url(&t.cert),
                    dsi_document: matches!(t.dsi, LastDsi::Document(_)),
                    dsi: b64::encode_url(t.dsi.as_bytes()),
                    stale: t.stale,
                    signerreq: t.signerreq,
                })
                .collect(),
            outstanding: self.outstanding.as_ref().map(|o| StoredOutstanding {
                kind: o.kind.tbs_name(crate::message::Direction::Request).into(),
                rid: o.rid.as_str().into(),
                tid: o.tid.as_str().into(),
                tee: o.tee.clone(),
                cek: o.cek.as_ref().map(|c| b64::encode_url(c.as_bytes())),
                nextdsi: o.nextdsi,
                sdname: o.sdname.clone(),
            }),
        };
        crate::json_writer::to_vec(&stored).unwrap_or_default()
    }

    /// Reads a state written by [`DeviceState::to_bytes`]. Certificates and
    /// DSIs are re-parsed (they were validated when first accepted), and the
    /// TEE keys re-derived with the provider.
    pub fn from_bytes(
        bytes: &[u8],
        provider: &Provider,
        limits: &Limits,
    ) -> Result<Self, TamError> {
        let bad = TamError::InvalidState;
        let stored: Stored =
            serde_json::from_slice(bytes).map_err(|_| bad("not a stored state"))?;
        let mut tees = Vec::with_capacity(stored.tees.len());
        for t in stored.tees {
            let cert = b64::decode_url(&t.cert, "cert").map_err(|_| bad("cert"))?;
            let dsi_bytes = b64::decode_url(&t.dsi, "dsi").map_err(|_| bad("dsi"))?;
            let dsi = if t.dsi_document {
                LastDsi::Document(DsiDocument::from_plaintext(&dsi_bytes, limits)?)
            } else {
                LastDsi::Member(raw_dsi_from_bytes(&dsi_bytes, limits)?)
            };
            let (did, public_key) = super::identity::tee_identity(provider, &cert)?;
            tees.push(KnownTee {
                name: t.name,
                cert,
                did,
                public_key,
                dsi,
                stale: t.stale,
                signerreq: t.signerreq,
            });
        }
        let outstanding = match stored.outstanding {
            None => None,
            Some(o) => {
                let (kind, _) = MessageKind::from_tbs_name(&o.kind).ok_or(bad("kind"))?;
                let cek = match o.cek {
                    None => None,
                    Some(c) => Some(Cek::new(
                        b64::decode_url(&c, "cek").map_err(|_| bad("cek"))?,
                    )),
                };
                Some(Outstanding {
                    kind,
                    rid: MessageId::new(o.rid),
                    tid: MessageId::new(o.tid),
                    tee: o.tee,
                    cek,
                    nextdsi: o.nextdsi,
                    sdname: o.sdname,
                    resend: None,
                })
            }
        };
        Ok(DeviceState {
            tid: stored.tid.map(MessageId::new),
            tees,
            outstanding,
            revision: stored.revision,
        })
    }
}

/// Parses the bytes of a `dsi` member value as a [`RawDsi`], keeping them.
fn raw_dsi_from_bytes(bytes: &[u8], limits: &Limits) -> Result<RawDsi, TamError> {
    use crate::message::json::{FromJson, Path, parse_value};
    let value = parse_value(bytes, limits.max_message_size, limits)?;
    let dsi = Dsi::from_json(value, &Path::Root("dsi"))?;
    Ok(RawDsi::from_parts(bytes.to_vec(), dsi))
}

#[derive(Serialize, Deserialize)]
struct Stored {
    tid: Option<String>,
    revision: u64,
    tees: Vec<StoredTee>,
    outstanding: Option<StoredOutstanding>,
}

#[derive(Serialize, Deserialize)]
struct StoredTee {
    name: String,
    cert: String,
    dsi_document: bool,
    dsi: String,
    stale: bool,
    signerreq: bool,
}

#[derive(Serialize, Deserialize)]
struct StoredOutstanding {
    kind: String,
    rid: String,
    tid: String,
    tee: Option<String>,
    cek: Option<String>,
    nextdsi: bool,
    sdname: Option<String>,
}

/// Where device states live between messages, keyed by a device key the
/// service chooses (a client session id, a device serial, ...).
///
/// A front end loads the state, runs one step of a
/// [`TamSession`](super::TamSession), and saves it back; nothing else is
/// kept in memory, so any front end can handle the next message. A database
/// implementation should save conditionally on
/// [`DeviceState::revision`] to detect concurrent steps.
pub trait DeviceStore {
    /// The store's own failure.
    type Error;
    /// The state of `device`, if any.
    fn load(&self, device: &str) -> Result<Option<DeviceState>, Self::Error>;
    /// Saves the state of `device`, replacing the old one.
    fn save(&mut self, device: &str, state: &DeviceState) -> Result<(), Self::Error>;
    /// Forgets `device`.
    fn remove(&mut self, device: &str) -> Result<(), Self::Error>;
}

/// A [`DeviceStore`] in memory: for tests and single-process TAMs.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    devices: BTreeMap<String, DeviceState>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of devices stored.
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// Whether no device is stored.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }
}

impl DeviceStore for MemoryStore {
    type Error = Infallible;

    fn load(&self, device: &str) -> Result<Option<DeviceState>, Infallible> {
        Ok(self.devices.get(device).cloned())
    }

    fn save(&mut self, device: &str, state: &DeviceState) -> Result<(), Infallible> {
        self.devices.insert(device.into(), state.clone());
        Ok(())
    }

    fn remove(&mut self, device: &str) -> Result<(), Infallible> {
        self.devices.remove(device);
        Ok(())
    }
}
