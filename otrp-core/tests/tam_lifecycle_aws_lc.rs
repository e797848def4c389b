//! `tam_lifecycle.rs`, unchanged, against the aws-lc provider:
//! `tam_support::provider()` picks it for targets named `*_aws_lc`.

#[path = "tam_lifecycle.rs"]
mod lifecycle;
