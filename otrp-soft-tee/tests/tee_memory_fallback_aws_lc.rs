//! `tee_memory_fallback.rs`, unchanged, against the aws-lc provider (it
//! verifies over a digest, so the soft TEE streams on it).

otrp_test_support::provider_under_test!(aws_lc);

#[path = "tee_memory_fallback.rs"]
mod fallback;
