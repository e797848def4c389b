//! `tee_errors.rs`, unchanged, against the composed provider (ring
//! signatures, digests, AES-GCM and chain validation over RustCrypto key
//! management): `support::provider()` picks it for targets named `*_composed`.

#[path = "tee_errors.rs"]
mod errors;
