//! The PKI suite (otrp-test-support's `pki_suite`: chains, OCSP, tamid/did;
//! spec 4.2, 4.3, 9.1, 9.2) against the RustCrypto backend's X.509
//! signature algorithms. The aws-lc backend runs the same suite.

otrp_test_support::pki_suite!(otrp_crypto_rustcrypto::provider());
