//! # otrp-soft-tee
//!
//! A software TEE for development, tests and the demo: every hook of
//! `otrp-tee-traits` implemented in software, driving the otrp TEE agent
//! ([`otrp_core::tee::Tee`]).
//!
//! - [`SoftIdentity`]: the TEE key (PKCS#8) with its certificate chain.
//! - [`SoftSpAik`]: SP AIKs on P-256, kept as PKCS#8 in sealed storage.
//! - [`SoftStorage`]: a directory written atomically (temporary file,
//!   fsync, rename, fsync the directory), every file sealed with
//!   AES-256-GCM under a device storage key, so TA binaries and
//!   personalization data are never on disk in plaintext.
//! - [`SoftTaPlatform`]: TA images are flattened-JSON JWS objects signed by
//!   the SP's key over the TA code ([`sign_ta_image`]), checked against the
//!   SD's SP certificates; `encrypted_ta` is AES-256-CBC.
//! - [`SoftFirmware`]: optional firmware attestation signing the `tid`.
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
mod keys;
mod storage;
mod ta;

use std::path::Path;
use std::sync::Arc;

use otrp_core::crypto::{CryptoError, Provider};
use otrp_core::pki::PkiError;
use otrp_core::tee::{Clock, StorageError, Tee, TeeConfig, TeeError, TeeHooks};

pub use fs::{FaultyFs, Fs, StdFs};
pub use keys::{SoftFirmware, SoftIdentity, SoftSpAik};
pub use storage::SoftStorage;
pub use ta::{SoftTaPlatform, encrypt_ta_data, sign_ta_image, ta_code};

/// Why the soft TEE could not be set up.
#[derive(Debug, thiserror::Error)]
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
}

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
}

impl std::fmt::Debug for SoftTeeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftTeeOptions")
            .field("firmware", &self.firmware)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// Opens a soft TEE whose state lives in `dir` (created if needed).
pub fn open(
    dir: &Path,
    config: TeeConfig,
    provider: Provider,
    identity: SoftIdentity,
    options: SoftTeeOptions,
) -> Result<Tee, SoftTeeError> {
    let fs = options.fs.unwrap_or_else(|| Arc::new(StdFs));
    let mut storage = SoftStorage::open(dir, fs, provider)?;
    if let Some(max) = options.max_bytes {
        storage = storage.with_max_bytes(max);
    }
    let hooks = TeeHooks {
        identity: Box::new(identity),
        sp_aik: Box::new(SoftSpAik::new(provider)),
        storage: Box::new(storage),
        ta: Box::new(SoftTaPlatform),
        firmware: options
            .firmware
            .map(|f| Box::new(f) as Box<dyn otrp_core::tee::Firmware>),
        clock: options.clock,
    };
    Ok(Tee::open(config, provider, hooks)?)
}
