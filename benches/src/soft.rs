//! The soft TEE of a fixture hierarchy, assembled so that reopening it over
//! a storage snapshot is cheap: the TEE and firmware keys are parsed once
//! and shared.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use otrp_core::crypto::{CekDecrypter, JwsSigner, Provider};
use otrp_core::message::TfwData;
use otrp_core::pki::TrustAnchors;
use otrp_core::tee::{Firmware, FirmwareError, Tee, TeeConfig, TeeHooks, TeeIdentity};
use otrp_soft_tee::{
    Fs, SoftFirmware, SoftIdentity, SoftSpAik, SoftStorage, SoftTaPlatform, StdFs,
};

use crate::fixtures::{Kind, cert, pkcs8_der};
use crate::memfs::MemFs;

/// The soft TEE's routing name.
pub const TEE_NAME: &str = "soft-tee";

/// Keys and configuration of a soft TEE (test-pki `tee`, `tfw`, trusting
/// `tam-root`).
#[derive(Clone)]
pub struct TeeParts {
    /// The hierarchy.
    pub kind: Kind,
    /// The provider the TEE runs on.
    pub provider: Provider,
    identity: Arc<SoftIdentity>,
    firmware: Arc<SoftFirmware>,
    config: TeeConfig,
    dir: PathBuf,
    /// TAs through the streaming TA hook (else the whole-image hooks).
    streaming: bool,
}

impl std::fmt::Debug for TeeParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeeParts")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

struct SharedIdentity(Arc<SoftIdentity>);

impl TeeIdentity for SharedIdentity {
    fn certificate(&self) -> &[u8] {
        self.0.certificate()
    }
    fn ca_certificates(&self) -> &[Vec<u8>] {
        self.0.ca_certificates()
    }
    fn signer(&self) -> &dyn JwsSigner {
        self.0.signer()
    }
    fn decrypter(&self) -> &dyn CekDecrypter {
        self.0.decrypter()
    }
}

struct SharedFirmware(Arc<SoftFirmware>);

impl Firmware for SharedFirmware {
    fn attest(&self, tbs: &[u8]) -> Result<TfwData, FirmwareError> {
        self.0.attest(tbs)
    }
}

impl TeeParts {
    /// The soft TEE of `kind` on `provider`, with firmware attestation.
    pub fn new(kind: Kind, provider: Provider) -> Self {
        let identity = SoftIdentity::from_der(
            &provider,
            cert(kind, "tee"),
            vec![cert(kind, "tee-ca"), cert(kind, "tee-root")],
            &pkcs8_der(kind, "tee"),
        )
        .expect("TEE identity");
        let firmware = SoftFirmware::new(
            provider,
            cert(kind, "tfw"),
            &pkcs8_der(kind, "tfw"),
            kind.sig_alg(),
        )
        .expect("firmware key");
        let anchors =
            TrustAnchors::from_certificates([cert(kind, "tam-root").as_slice()]).expect("TAM root");
        let dir = std::env::temp_dir().join("otrp-benches-memfs");
        TeeParts {
            kind,
            provider,
            identity: Arc::new(identity),
            firmware: Arc::new(firmware),
            config: TeeConfig::new(TEE_NAME, anchors),
            dir,
            streaming: false,
        }
    }

    /// The same TEE taking TAs through the streaming TA hook
    /// (`TaPlatform::begin_ta`) instead of the whole-image hooks, which
    /// every other benchmark measures.
    pub fn streaming(mut self) -> Self {
        self.streaming = true;
        self
    }

    /// The TEE configuration.
    pub fn config(&self) -> &TeeConfig {
        &self.config
    }

    /// The hooks of a soft TEE whose storage is `fs`, running on
    /// `provider` (normally [`TeeParts::provider`]).
    pub fn hooks(&self, fs: MemFs, provider: Provider) -> TeeHooks {
        self.hooks_in(&self.dir, Arc::new(fs), provider)
    }

    /// The hooks of a soft TEE whose storage is the directory `dir` of `fs`.
    fn hooks_in(&self, dir: &Path, fs: Arc<dyn Fs>, provider: Provider) -> TeeHooks {
        let storage = SoftStorage::open(dir, fs, provider).expect("soft TEE storage");
        TeeHooks {
            identity: Box::new(SharedIdentity(self.identity.clone())),
            sp_aik: Box::new(SoftSpAik::new(provider)),
            storage: Box::new(storage),
            ta: Box::new(if self.streaming {
                SoftTaPlatform::default()
            } else {
                SoftTaPlatform::whole_image()
            }),
            firmware: Some(Box::new(SharedFirmware(self.firmware.clone()))),
            clock: None,
        }
    }

    /// Opens the TEE over `fs` (a fresh [`MemFs`] is a fresh device).
    pub fn open(&self, fs: MemFs) -> Tee {
        Tee::open(
            self.config.clone(),
            self.provider,
            self.hooks(fs, self.provider),
        )
        .expect("open the soft TEE")
    }

    /// Opens the TEE on its real storage: the state of `fs` copied into
    /// the directory `dir` on disk (the file system `otrp tee` uses), so
    /// that what the TEE stores is on the disk, not on the heap (the heap
    /// benchmark).
    pub fn open_on_disk(&self, fs: &MemFs, dir: &Path) -> Tee {
        fs.copy_to_disk(&self.dir, dir)
            .expect("copy the TEE state to disk");
        Tee::open(
            self.config.clone(),
            self.provider,
            self.hooks_in(dir, Arc::new(StdFs), self.provider),
        )
        .expect("open the soft TEE")
    }
}
