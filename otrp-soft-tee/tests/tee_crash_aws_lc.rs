//! `tee_crash.rs`, unchanged, against the aws-lc provider,
//! named here explicitly (`docs/testing.md`).

otrp_test_support::provider_under_test!(aws_lc);

#[path = "tee_crash.rs"]
mod crash;
