//! The hooks a TEE vendor implements so the otrp TEE agent
//! ([`otrp_core::tee::Tee`]) runs on their trusted OS. Private keys never
//! have to leave the TEE: signing and CEK unwrapping are trait objects.
//!
//! The agent lives in `otrp-core` (which this crate builds on), so the
//! traits are defined there and re-exported here, with the agent, as the one
//! crate a vendor depends on. `no_std` + `alloc` without the `std` feature.
//! `docs/porting-a-tee.md` walks through an implementation; `otrp-soft-tee`
//! is the worked example.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use otrp_core::crypto::{CekDecrypter, JwsSigner, PrivateKey, SecureRandom};
pub use otrp_core::tee::{
    BlobId, Clock, Commit, Firmware, FirmwareError, HookError, NewSpAik, SecureStorage, SpAikKeys,
    StorageError, TaError, TaPlatform, Tee, TeeConfig, TeeError, TeeFault, TeeHooks, TeeIdentity,
    TeeState, VerifiedTa,
};
