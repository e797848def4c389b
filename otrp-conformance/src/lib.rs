//! The conformance suite every otrp crypto backend runs: the JOSE cookbook
//! (RFC 7520) and Wycheproof vectors, vendored unmodified in this crate's
//! `vectors/` directory (origin, version and licences in its README), and
//! driven through a [`Provider`](otrp_core::crypto::Provider) only, so one suite checks every backend.
//!
//! Each entry point panics (a test failure) on the first vector that does
//! not behave, and returns a [`Tally`] of what ran and what was skipped and
//! why. A vector is skipped only when it needs an algorithm or key type
//! outside OTrP's set (HMAC JWS, P-521, PBES2, AES-GCM key wrap, ...), or
//! one the provider under test lacks (any [`CryptoError::Unsupported`] from
//! the provider or its keys: "provider lacks X"), never because it failed.
//! A vector refused only with `Unsupported` is skipped, not counted as
//! refused: partial providers (ring) run what they have, and each backend's
//! test pins its counts.
//!
//! # Example
//!
//! Run the JOSE cookbook's JWS vectors against a backend and read what ran:
//!
//! ```
//! let tally = otrp_conformance::cookbook::jws(otrp_crypto_rustcrypto::provider());
//! assert_eq!(tally.ran, 3); // the rest need HMAC or P-521, outside OTrP's set
//! println!("{tally}");
//! ```
//!
//! A backend's `tests/conformance.rs` runs the whole suite with
//! [`complete_provider_suite!`] (or, for a partial provider, each entry
//! point with its own pinned counts).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cookbook;
pub mod keys;
pub mod rng;
pub mod roundtrip;
pub mod security;
pub mod support;
pub mod tally;
pub mod weak_keys;
pub mod wycheproof;

/// Re-exported for [`complete_provider_suite!`].
pub use otrp_core;
pub use rng::QueueRandom;
pub use tally::Tally;

use std::path::PathBuf;

use otrp_core::crypto::CryptoError;
use otrp_core::jose::JoseError;

/// The vendored vectors directory (`otrp-conformance/vectors`): the JOSE
/// cookbook and the Wycheproof files, unmodified.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// Reads and parses one JSON vector file below [`vectors_dir`].
pub fn load(relative: &str) -> serde_json::Value {
    let path = vectors_dir().join(relative);
    let text = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read vendored vector {}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes lowercase or uppercase hex (test data only).
pub fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// What the provider lacks, if `result` failed with
/// [`CryptoError::Unsupported`] (directly or through the JOSE layer).
pub fn lacking<T>(result: &Result<T, JoseError>) -> Option<&'static str> {
    match result {
        Err(JoseError::Crypto(CryptoError::Unsupported(what))) => Some(what),
        _ => None,
    }
}

/// Like [`lacking`], for a bare [`CryptoError`] result.
pub fn lacking_crypto<T>(result: &Result<T, CryptoError>) -> Option<&'static str> {
    match result {
        Err(CryptoError::Unsupported(what)) => Some(what),
        _ => None,
    }
}

/// Generates the whole conformance suite as `#[test]` functions for a
/// *complete* provider (one that offers every algorithm OTrP names), with
/// the vector counts pinned: a change in what runs must be deliberate.
/// Every complete backend's `tests/conformance.rs` is one invocation:
///
/// ```text
/// otrp_conformance::complete_provider_suite!(otrp_crypto_rustcrypto::provider());
/// ```
#[macro_export]
macro_rules! complete_provider_suite {
    ($provider:expr) => {
        use $crate::otrp_core::crypto::{ContentAlg, Provider};
        use $crate::{cookbook, roundtrip, security, wycheproof};

        fn provider() -> Provider {
            $provider
        }

        #[test]
        fn cookbook_jws() {
            let tally = cookbook::jws(provider());
            assert_eq!(tally.ran, 3, "{tally}");
        }

        #[test]
        fn cookbook_jwe() {
            let tally = cookbook::jwe(provider());
            assert_eq!(tally.ran, 10, "{tally}");
        }

        #[test]
        fn wycheproof_jws() {
            let tally = wycheproof::jws(provider());
            assert_eq!(tally.ran, 359, "{tally}");
        }

        #[test]
        fn wycheproof_jwe() {
            let tally = wycheproof::jwe(provider());
            assert_eq!(tally.ran, 110, "{tally}");
        }

        #[test]
        fn wycheproof_a128cbc_hs256() {
            let tally =
                wycheproof::cbc_hmac(provider(), "a128cbc_hs256_test", ContentAlg::A128CbcHs256);
            assert_eq!(tally.ran, 94, "{tally}");
        }

        #[test]
        fn wycheproof_a256cbc_hs512() {
            let tally =
                wycheproof::cbc_hmac(provider(), "a256cbc_hs512_test", ContentAlg::A256CbcHs512);
            assert_eq!(tally.ran, 94, "{tally}");
        }

        #[test]
        fn wycheproof_ecdsa_p256() {
            let tally = wycheproof::ecdsa_p256(provider());
            assert_eq!(tally.ran, 262, "{tally}");
        }

        #[test]
        fn wycheproof_rsa_signature() {
            let tally = wycheproof::rsa_pkcs1_signature(provider());
            assert_eq!(tally.ran, 259, "{tally}");
        }

        #[test]
        fn wycheproof_rsa1_5() {
            let tally = wycheproof::rsa1_5(provider());
            assert_eq!(tally.ran, 27, "{tally}");
        }

        #[test]
        fn wycheproof_aes_kw() {
            let tally = wycheproof::aes_kw(provider());
            assert_eq!(tally.ran, 101, "{tally}");
        }

        #[test]
        fn wycheproof_ecdh_p256() {
            let tally = wycheproof::ecdh_p256(provider());
            assert_eq!(tally.ran, 612, "{tally}");
        }

        #[test]
        fn jws_round_trips_and_flips() {
            roundtrip::jws(provider(), 12);
        }

        #[test]
        fn jwe_round_trips_and_flips() {
            roundtrip::jwe(provider(), 6);
        }

        #[test]
        fn jws_refusals() {
            security::jws_refusals(provider());
        }

        #[test]
        fn jwe_refusals() {
            security::jwe_refusals(provider());
        }

        #[test]
        fn concat_kdf_rfc7518_appendix_c() {
            security::concat_kdf_rfc7518_appendix_c(provider());
        }

        #[test]
        fn roca_keys_are_refused() {
            $crate::weak_keys::roca_keys_refused(provider());
        }

        #[test]
        fn rsa_keys_under_2048_bits_are_refused() {
            $crate::weak_keys::rsa_keys_under_2048_bits_refused(provider());
        }

        #[test]
        fn parsers_never_panic() {
            security::no_panics(512);
        }

        #[test]
        fn cbc_hmac_valid_tag_with_bad_padding_is_decrypt() {
            security::content::cbc_hmac_valid_tag_with_bad_padding_is_decrypt(provider());
        }

        #[test]
        fn cbc_hmac_tag_is_checked_before_decryption() {
            security::content::cbc_hmac_tag_is_checked_before_decryption(provider());
        }

        #[test]
        fn wrong_lengths_are_errors_not_panics() {
            security::content::wrong_lengths_are_errors_not_panics(provider());
        }

        #[test]
        fn rsa1_5_returns_a_random_cek_instead_of_an_error() {
            security::key_management::rsa1_5_returns_a_random_cek_instead_of_an_error(provider());
        }

        #[test]
        fn rsa_oaep_failure_is_decrypt() {
            security::key_management::rsa_oaep_failure_is_decrypt(provider());
        }

        #[test]
        fn ecdh_es_direct_matches_the_cookbook() {
            security::key_management::ecdh_es_direct_matches_the_cookbook(provider());
        }

        #[test]
        fn ecdh_es_a128kw_matches_the_cookbook() {
            security::key_management::ecdh_es_a128kw_matches_the_cookbook(provider());
        }

        #[test]
        fn ecdh_es_refuses_invalid_ephemeral_keys() {
            security::key_management::ecdh_es_refuses_invalid_ephemeral_keys(provider());
        }

        #[test]
        fn ecdh_es_binds_party_info() {
            security::key_management::ecdh_es_binds_party_info(provider());
        }

        #[test]
        fn aes_kw_unwrap_failures_are_decrypt() {
            security::key_management::aes_kw_unwrap_failures_are_decrypt(provider());
        }

        #[test]
        fn key_kind_mismatches() {
            security::key_management::key_kind_mismatches(provider());
        }

        #[test]
        fn sha1_is_never_a_signature_hash() {
            security::signatures::sha1_is_never_a_signature_hash(provider());
        }

        #[test]
        fn rsa_verifier_key_cache_never_confuses_keys() {
            security::signatures::rsa_verifier_key_cache_never_confuses_keys(provider());
        }
    };
}
