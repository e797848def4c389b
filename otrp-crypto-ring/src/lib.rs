//! ring-based crypto provider for otrp.
//!
//! A placeholder crate in the workspace shape: the ring backend (signatures,
//! digests, AES-GCM, with RustCrypto composed in for key management) arrives
//! with its own issue. Until then it offers nothing, and says so.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The JWS algorithms this backend implements today: none yet.
pub const SUPPORTED_JWS_ALGS: &[otrp_core::crypto::JwsAlg] = &[];
