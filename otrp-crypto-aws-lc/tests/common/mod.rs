//! Helpers shared by the integration tests (otrp_conformance::support).
#![allow(dead_code, unused_imports)]
// A test crate exports nothing: `pub` here means "for the test files".
#![allow(unreachable_pub)]

otrp_conformance::backend_test_support!(&otrp_crypto_aws_lc::AWS_LC_RANDOM);
