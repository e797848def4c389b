//! The conformance suite every otrp crypto backend runs: the JOSE cookbook
//! (RFC 7520) and Wycheproof vectors, read from `../shared/vectors` and
//! driven through a [`Provider`](otrp_core::crypto::Provider) only, so one suite checks every backend.
//!
//! Each entry point panics (a test failure) on the first vector that does
//! not behave, and returns a [`Tally`] of what ran and what was skipped and
//! why. A vector is skipped only when it needs an algorithm or key type
//! outside OTrP's set (HMAC JWS, P-521, PBES2, AES-GCM key wrap, ...), or
//! one the provider under test lacks (any [`CryptoError::Unsupported`] from
//! the provider or its keys: "provider lacks X"), never because it failed.
//! A vector refused only with `Unsupported` is skipped, not counted as
//! refused: partial providers (ring) run what they have, and each backend's
//! test pins its counts.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cookbook;
pub mod keys;
pub mod rng;
pub mod roundtrip;
pub mod security;
pub mod tally;
pub mod wycheproof;

pub use rng::QueueRandom;
pub use tally::Tally;

use std::path::PathBuf;

use otrp_core::crypto::CryptoError;
use otrp_core::jose::JoseError;

/// The shared vectors directory (`../shared/vectors` beside the checkout).
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors")
}

/// Reads and parses one JSON vector file below [`vectors_dir`].
pub fn load(relative: &str) -> serde_json::Value {
    let path = vectors_dir().join(relative);
    let text = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (is ../shared beside the checkout?)",
            path.display()
        )
    });
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes lowercase or uppercase hex (test data only).
pub fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// What the provider lacks, if `result` failed with
/// [`CryptoError::Unsupported`] (directly or through the JOSE layer).
pub fn lacking<T>(result: &Result<T, JoseError>) -> Option<&'static str> {
    match result {
        Err(JoseError::Crypto(CryptoError::Unsupported(what))) => Some(what),
        _ => None,
    }
}

/// Like [`lacking`], for a bare [`CryptoError`] result.
pub fn lacking_crypto<T>(result: &Result<T, CryptoError>) -> Option<&'static str> {
    match result {
        Err(CryptoError::Unsupported(what)) => Some(what),
        _ => None,
    }
}
