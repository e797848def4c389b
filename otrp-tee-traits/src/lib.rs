//! The hooks a TEE vendor implements so the otrp TEE agent runs on their
//! trusted OS: identity keys, SP AIKs, secure storage, TA installation.
//!
//! Key operations go through [`otrp_core::crypto::JwsSigner`] and
//! [`otrp_core::crypto::CekDecrypter`], so private keys can stay in hardware.
//! The remaining traits arrive with the TEE-side issue.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use otrp_core::crypto::{CekDecrypter, JwsSigner, SecureRandom};
