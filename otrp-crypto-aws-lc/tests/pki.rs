//! otrp-core's PKI tests (chains, OCSP, tamid/did) against the aws-lc
//! backend: the very same test files, compiled here with the name
//! `otrp_crypto_rustcrypto` bound to a shim of this crate (below), so that
//! every provider they build is the aws-lc one. Nothing is copied: a test
//! added there runs here too.

// The shared tests name their backend `otrp_crypto_rustcrypto`; in this
// test crate that name is this file's root, which forwards to aws-lc.
// Each shared test file declares its own support module, as it does in its
// home crate (one test binary per file there, one binary for all here).
#![allow(clippy::duplicate_mod)]

extern crate self as otrp_crypto_rustcrypto;
// otrp-core's dev-dependency on der 0.7, under the name its tests use.
extern crate der07 as der;

use otrp_core::crypto::{Provider, SecureRandom};

/// The aws-lc provider with the given random source.
pub fn provider_with_random(random: &'static dyn SecureRandom) -> Provider {
    otrp_crypto_aws_lc::provider_with_random(random)
}

/// The aws-lc webpki algorithms under the names the shared tests use.
pub mod webpki {
    pub use otrp_crypto_aws_lc::webpki::*;
}

#[test]
fn the_shim_really_is_aws_lc() {
    let shim: Vec<String> = crate::webpki::ALL_WEBPKI_ALGORITHMS
        .iter()
        .map(|a| format!("{a:?}"))
        .collect();
    assert!(shim.iter().all(|a| a.contains("AwsLcRs")), "{shim:?}");
}

#[path = "../../otrp-core/tests/pki_chain.rs"]
mod pki_chain;
#[path = "../../otrp-core/tests/pki_ids.rs"]
mod pki_ids;
#[path = "../../otrp-core/tests/pki_ocsp.rs"]
mod pki_ocsp;
