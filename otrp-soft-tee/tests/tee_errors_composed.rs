//! `tee_errors.rs`, unchanged, against the composed provider (ring signatures,
//! digests, AES-GCM and chain validation over RustCrypto key management),
//! named here explicitly (`docs/testing.md`).

otrp_test_support::provider_under_test!(composed);

#[path = "tee_errors.rs"]
mod errors;
