//! # otrp-soft-tee
//!
//! A software TEE for development, tests and the demo: every hook of
//! `otrp-tee-traits` implemented in software, driving the otrp TEE agent
//! ([`otrp_core::tee::Tee`]).
//!
//! - [`SoftIdentity`]: the TEE key (PKCS#8) with its certificate chain.
//! - [`SoftSpAik`]: SP AIKs on P-256, kept as PKCS#8 in sealed storage.
//! - [`SoftStorage`]: a directory written atomically (temporary file,
//!   fsync, rename, fsync the directory; a streamed TA staged in sealed
//!   segments before the commit that names it), every file sealed with
//!   AES-256-GCM under a device storage key, so TA binaries and
//!   personalization data are never on disk in plaintext.
//! - [`SoftTaPlatform`]: TA images are single-signature flattened-JSON JWS
//!   objects signed by the SP's key over the TA code, their protected
//!   header naming the TA's `taid`, `taversion` and optional `taname`
//!   ([`sign_ta_image`], [`verify_ta_image`]), checked against the SD's SP
//!   certificates, streamed chunk by chunk (the streaming TA hook) or whole;
//!   `encrypted_ta` is AES-256-CBC.
//! - [`SoftFirmware`]: optional firmware attestation signing the `tid`.
//! - [`DirLock`]: the OS lock that keeps concurrent processes from
//!   interleaving their requests on one state directory.
//! - [`FaultyFs`]: a file system that crashes at a chosen write, fsync or
//!   rename, for crash-safety tests.
//!
//! [`open`] puts them together:
//!
//! ```no_run
//! # fn main() -> Result<(), otrp_soft_tee::SoftTeeError> {
//! use otrp_core::pki::TrustAnchors;
//! use otrp_core::tee::TeeConfig;
//! let provider = otrp_crypto_rustcrypto::provider();
//! # let tam_root: Vec<u8> = Vec::new();
//! let identity = otrp_soft_tee::SoftIdentity::from_files(
//!     &provider,
//!     "tee.pk8.der".as_ref(),
//!     "tee.der".as_ref(),
//!     &["tee-ca.der".as_ref(), "tee-root.der".as_ref()],
//! )?;
//! let anchors = TrustAnchors::from_certificates([tam_root.as_slice()])?;
//! let config = TeeConfig::new("soft-tee", anchors);
//! let mut tee = otrp_soft_tee::open("state-dir".as_ref(), config, provider, identity,
//!     otrp_soft_tee::SoftTeeOptions::default())?;
//! # let request: Vec<u8> = Vec::new();
//! # let now = otrp_core::pki::UnixTime::since_unix_epoch(std::time::Duration::from_secs(0));
//! let response = tee.handle(&request, now);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod fs;
mod image;
mod keys;
mod lock;
mod storage;
mod stream;
mod ta;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use otrp_core::crypto::{CryptoError, Provider};
use otrp_core::pki::PkiError;
use otrp_core::tee::{Clock, StorageError, Tee, TeeConfig, TeeError, TeeHooks};

pub use fs::{FaultyFs, Fs, StdFs};
pub use image::{TaImageInfo, sign_ta_image, ta_code, verify_ta_image};
pub use keys::{SoftFirmware, SoftIdentity, SoftSpAik};
pub use lock::{DirLock, LockError, LockMode};
pub use storage::SoftStorage;
pub use ta::{SoftTaPlatform, encrypt_ta_data};

/// Why the soft TEE could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SoftTeeError {
    /// A key or certificate file could not be read.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A key did not load.
    #[error("key: {0}")]
    Key(#[from] CryptoError),
    /// A trust anchor was refused.
    #[error("PKI: {0}")]
    Pki(#[from] PkiError),
    /// The storage could not be opened.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The agent could not open.
    #[error(transparent)]
    Tee(#[from] TeeError),
    /// The TEE certificate does not parse.
    #[error("TEE certificate: {0}")]
    Certificate(#[from] otrp_core::pki::CertError),
    /// The private key is not the one the TEE certificate certifies.
    #[error("the TEE private key does not match the TEE certificate")]
    KeyMismatch,
    /// The state directory is locked by another process, or cannot be.
    #[error(transparent)]
    Lock(#[from] LockError),
}

/// How long [`open`] waits for another process to release the directory
/// unless [`SoftTeeOptions::lock_wait`] says otherwise.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Options of [`open`].
#[derive(Default)]
pub struct SoftTeeOptions {
    /// Firmware attestation (none by default).
    pub firmware: Option<SoftFirmware>,
    /// A storage quota in bytes (`ERR_TEE_RESOURCE_FULL` beyond it).
    pub max_bytes: Option<u64>,
    /// The file system (the real one by default; [`FaultyFs`] in tests).
    pub fs: Option<Arc<dyn Fs>>,
    /// A clock for `Tee::handle_now`.
    pub clock: Option<Box<dyn Clock>>,
    /// Open for reading only: the directory is locked shared, nothing is
    /// written, and a request that would commit fails.
    pub read_only: bool,
    /// How long to wait for another process holding the directory
    /// ([`DEFAULT_LOCK_WAIT`] when `None`; zero fails at once).
    pub lock_wait: Option<Duration>,
    /// Install TAs through the whole-image TA hooks instead of the
    /// streaming one ([`SoftTaPlatform::whole_image`]): the path of a
    /// vendor that does not stream.
    pub whole_ta_hooks: bool,
}

impl std::fmt::Debug for SoftTeeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftTeeOptions")
            .field("firmware", &self.firmware)
            .field("max_bytes", &self.max_bytes)
            .field("read_only", &self.read_only)
            .field("lock_wait", &self.lock_wait)
            .field("whole_ta_hooks", &self.whole_ta_hooks)
            .finish_non_exhaustive()
    }
}

/// Opens a soft TEE whose state lives in `dir` (created if needed, unless
/// read-only). The directory is locked ([`DirLock`]: exclusively, shared
/// when read-only) until the returned [`Tee`] drops, so concurrent
/// processes take turns; one that waits longer than the options' lock wait
/// gets [`LockError::InUse`].
pub fn open(
    dir: &Path,
    config: TeeConfig,
    provider: Provider,
    identity: SoftIdentity,
    options: SoftTeeOptions,
) -> Result<Tee, SoftTeeError> {
    let fs = options.fs.unwrap_or_else(|| Arc::new(StdFs));
    let wait = options.lock_wait.unwrap_or(DEFAULT_LOCK_WAIT);
    let mut storage = if options.read_only {
        let lock = DirLock::acquire(dir, LockMode::Shared, wait)?;
        SoftStorage::open_read_only(dir, fs, provider)?.with_lock(lock)
    } else {
        std::fs::create_dir_all(dir)?;
        let lock = DirLock::acquire(dir, LockMode::Exclusive, wait)?;
        SoftStorage::open(dir, fs, provider)?.with_lock(lock)
    };
    if let Some(max) = options.max_bytes {
        storage = storage.with_max_bytes(max);
    }
    let hooks = TeeHooks {
        identity: Box::new(identity),
        sp_aik: Box::new(SoftSpAik::new(provider)),
        storage: Box::new(storage),
        ta: Box::new(if options.whole_ta_hooks {
            SoftTaPlatform::whole_image()
        } else {
            SoftTaPlatform::default()
        }),
        firmware: options
            .firmware
            .map(|f| Box::new(f) as Box<dyn otrp_core::tee::Firmware>),
        clock: options.clock,
    };
    Ok(Tee::open(config, provider, hooks)?)
}
