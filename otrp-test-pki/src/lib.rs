//! A test PKI for otrp, made in memory: the hierarchy of
//! `test-pki/generate.sh` (which uses the openssl command line) built in
//! Rust, for the demo, the command-line tool and tests that need fresh
//! certificates.
//!
//! - [`Key`]: an RSA-2048 or P-256 private key (RustCrypto), generated from a
//!   [`otrp_core::crypto::SecureRandom`] or loaded from PKCS#8, exported as
//!   PKCS#8 DER/PEM. It implements [`rcgen::SigningKey`], so rcgen issues
//!   certificates without its ring/aws-lc-rs backends: this crate pulls in no
//!   crypto library besides the RustCrypto crates the workspace already uses.
//! - [`Cert`]: a certificate with its key; [`Cert::self_signed`],
//!   [`Cert::issue`] with a [`CertSpec`] and a per-role [`Profile`] (spec
//!   4.4: TAM with tamid as subjectAltName URI or registeredID, TEE, SP,
//!   TFW, OCSP responder, root, intermediate); [`Cert::from_pem`] reads a
//!   CA back (ours or openssl's) to issue more under it.
//! - [`TestPki`] / [`TestPkiBuilder`]: TAM root + TAM + OCSP responder, TEE
//!   root + intermediate + device, SP root + SP, TFW root + TFW, with the
//!   fixtures' subjects, serial numbers, extensions and validity
//!   (2026-01-01 .. 2046-01-01); [`TestPki::write_files`] writes the file set
//!   of `otrp pki init DIR`.
//! - [`OcspResponseBuilder`]: a signed `OCSPResponse` (RFC 6960) for one
//!   certificate: good/revoked/unknown, thisUpdate/nextUpdate, signed by the
//!   CA or a delegated responder, SHA-256 CertID by default (SHA-1/384/512
//!   on request), for `ocspdat` (spec 9.1.1, 14.9).
//!
//! Everything made here validates through `otrp_core::pki` (see this
//! crate's tests). Shapes are deterministic; keys are fresh unless passed
//! in, and RSA/ECDSA signatures are deterministic (PKCS#1 v1.5, RFC 6979).
//!
//! ```
//! use otrp_test_pki::{KeyType, OcspResponseBuilder, TestPki};
//! # fn main() -> Result<(), otrp_test_pki::Error> {
//! let pki = TestPki::builder(KeyType::P256).build(&otrp_crypto_rustcrypto::OS_RANDOM)?;
//! let now = otrp_core::pki::UnixTime::since_unix_epoch(std::time::Duration::from_secs(2_082_758_400));
//! let ocsp = OcspResponseBuilder::new(pki.tam.der(), &pki.tam_root, now).build()?;
//! # let _ = ocsp;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cert;
mod hierarchy;
mod key;
mod ocsp;
mod tls;

pub use cert::{Cert, CertSpec, Profile, TamIdSan};
pub use hierarchy::{
    DEFAULT_NOT_AFTER, DEFAULT_NOT_BEFORE, DEFAULT_TAMID_URI, Slot, TestPki, TestPkiBuilder,
};
pub use key::{Key, KeyType};
pub use ocsp::{CertIdHash, CrlReason, DEFAULT_VALIDITY_SECS, OcspResponseBuilder, OcspStatus};
/// rcgen, for [`CertSpec::to_params`] / [`Cert::issue_params`].
pub use rcgen;
pub use tls::{TlsIdentity, tls_server_identity};

/// What can go wrong while generating or writing a test PKI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A private key could not be loaded or encoded.
    #[error("private key: {0}")]
    Key(&'static str),
    /// Key generation failed.
    #[error("key generation failed")]
    KeyGeneration,
    /// The random source failed.
    #[error("random source failed")]
    Random,
    /// Signing failed.
    #[error("signing failed")]
    Sign,
    /// rcgen refused the certificate parameters.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// A certificate could not be read or does not fit its use.
    #[error("certificate: {0}")]
    Certificate(&'static str),
    /// The certificate needed to sign holds no private key.
    #[error("the signing certificate has no private key")]
    MissingKey,
    /// The tamid is not a valid URI (IA5String) or dotted OID.
    #[error("invalid tamid {0:?}")]
    TamId(String),
    /// A time is outside what X.509/OCSP can encode.
    #[error("time out of range")]
    Time,
    /// DER encoding failed.
    #[error("DER encoding failed")]
    Encoding,
    /// Writing files failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}
