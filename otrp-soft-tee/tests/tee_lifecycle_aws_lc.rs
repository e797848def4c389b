//! `tee_lifecycle.rs`, unchanged, against the aws-lc provider:
//! `support::provider()` picks it for targets named `*_aws_lc`.

#[path = "tee_lifecycle.rs"]
mod lifecycle;
