//! The shared conformance suite (otrp-conformance) against the aws-lc backend: a complete provider, so exactly the same vectors run as for RustCrypto,
//! with the vector counts pinned.

otrp_conformance::complete_provider_suite!(otrp_crypto_aws_lc::provider());
