//! The soft TEE's lifecycle, error and crash tests (otrp-soft-tee/tests)
//! against the aws-lc backend: the same test files, compiled here with the
//! name `otrp_crypto_rustcrypto` bound to this file's root, whose
//! `provider()` is aws-lc's. Both the test TAM and the TEE then sign,
//! verify, encrypt and decrypt with aws-lc.

// Each shared test file declares its own support module, as it does in its
// home crate (one test binary per file there, one binary for all here).
#![allow(clippy::duplicate_mod)]

extern crate self as otrp_crypto_rustcrypto;

/// The aws-lc provider (what the shared test support calls).
pub fn provider() -> otrp_core::crypto::Provider {
    otrp_crypto_aws_lc::provider()
}

#[test]
fn the_shim_really_is_aws_lc() {
    let shim = format!(
        "{:?}",
        crate::provider().key_loader as *const _ as *const u8
    );
    let aws = format!(
        "{:?}",
        &otrp_crypto_aws_lc::KEY_LOADER as *const _ as *const u8
    );
    assert_eq!(shim, aws);
}

#[path = "../../otrp-soft-tee/tests/tee_crash.rs"]
mod tee_crash;
#[path = "../../otrp-soft-tee/tests/tee_errors.rs"]
mod tee_errors;
#[path = "../../otrp-soft-tee/tests/tee_lifecycle.rs"]
mod tee_lifecycle;
