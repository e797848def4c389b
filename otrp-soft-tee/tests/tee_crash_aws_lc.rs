//! `tee_crash.rs`, unchanged, against the aws-lc provider:
//! `support::provider()` picks it for targets named `*_aws_lc`.

#[path = "tee_crash.rs"]
mod crash;
