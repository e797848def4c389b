//! The TAM side of OTrP (sections 9.1 to 9.3, 11), pure: no I/O, time and
//! randomness passed in.
//!
//! - [`Tam`]: the TAM's key, certificate chain, OCSP data, TEE and firmware
//!   trust anchors and TEE acceptance policy ([`TeePolicy`]).
//! - [`TamSession`]: one conversation with one device. It produces request
//!   bytes for GetDeviceState and the six SD/TA [`Command`]s and consumes
//!   response bytes, returning an [`Event`]. A response that is not the
//!   authentic answer to the outstanding request is a [`TamError`] and
//!   changes nothing.
//! - [`DeviceState`] and [`DeviceStore`] ([`MemoryStore`]): what a TAM keeps
//!   per device (TEE certificates, last DSI bytes, the outstanding request
//!   and its CEK), so that any number of stateless front ends can serve one
//!   device.
//! - [`SealedTa`]: TA packaging for `encrypted_ta` (9.3.1.1).
//!
//! Key management follows the basic profile (section 11): RSA1_5 to an RSA
//! TEE key, ECDH-ES+A128KW to a P-256 key, content A128CBC-HS256. See
//! `docs/tam.md`.

mod config;
mod error;
mod identity;
mod package;
mod policy;
mod session;
mod state;

pub use config::Tam;
pub use error::TamError;
pub use package::{CONTENT_ALG, SealedTa, TA_KEY_LEN, key_alg_for};
pub use policy::{AcceptValidTees, RequireVerifiedTfw, TeePolicy, TeeReport, TfwStatus};
pub use session::{Command, Event, TamSession, TeeFailure, TeeResult};
pub use state::{DeviceState, DeviceStore, KnownTee, LastDsi, MemoryStore, Outstanding};
