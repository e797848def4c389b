//! The shared conformance suite (otrp-conformance) against this backend,
//! with the vector counts pinned.

otrp_conformance::complete_provider_suite!(otrp_crypto_rustcrypto::provider());
