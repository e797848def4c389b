//! Test support shared by the otrp workspace: one copy of what the tests of
//! `otrp-core` and `otrp-soft-tee`, the benchmarks and the fuzz targets all
//! need.
//!
//! - [`fixtures`]: the test-pki hierarchies (`test-pki/rsa`, `test-pki/ec`)
//!   and the fixed time every fixture is valid at.
//! - [`random`]: a deterministic random source (the one `test-vectors/`
//!   was recorded with).
//! - [`TempDir`]: a temporary directory removed on drop.
//! - [`provider_under_test!`]: the explicit choice of the crypto provider a
//!   test target runs against.
//! - [`pki_suite`](mod@pki_suite) and [`pki_suite!`]: the PKI tests (chains, OCSP,
//!   identifiers) for any provider.
//!
//! Not published: it reads the repository's `test-pki/` directory.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod fixtures;
pub mod pki_suite;
pub mod random;
mod temp;

pub use fixtures::{Kind, now};
pub use random::SeededRandom;
pub use temp::TempDir;

/// Declares, at the root of a test target, the crypto provider the target
/// runs against: two functions, `provider_under_test()` (the backend's own
/// random source) and `provider_under_test_with_random(random)`, which the
/// target's support module calls through `crate::`.
///
/// A test file that runs against several providers is the RustCrypto
/// target, and one small target per other provider includes it unchanged,
/// naming its provider here (`docs/testing.md`):
///
/// ```text
/// // tests/tee_lifecycle_aws_lc.rs
/// otrp_test_support::provider_under_test!(aws_lc);
///
/// #[path = "tee_lifecycle.rs"]
/// mod lifecycle;
/// ```
///
/// The providers: `rustcrypto` (`otrp-crypto-rustcrypto`), `aws_lc`
/// (`otrp-crypto-aws-lc`) and `composed` (`otrp-crypto-ring`'s composed
/// provider: ring signatures, digests, AES-GCM and chain validation over
/// RustCrypto key management). The calling crate depends on the backend it
/// names (the macro refers to it by its crate name).
#[macro_export]
macro_rules! provider_under_test {
    (rustcrypto) => {
        $crate::provider_under_test!(@define
            "RustCrypto (otrp-crypto-rustcrypto)",
            ::otrp_crypto_rustcrypto::provider(),
            |random| ::otrp_crypto_rustcrypto::provider_with_random(random)
        );
    };
    (aws_lc) => {
        $crate::provider_under_test!(@define
            "aws-lc (otrp-crypto-aws-lc)",
            ::otrp_crypto_aws_lc::provider(),
            |random| ::otrp_crypto_aws_lc::provider_with_random(random)
        );
    };
    (composed) => {
        $crate::provider_under_test!(@define
            "ring composed with RustCrypto (otrp-crypto-ring)",
            ::otrp_crypto_ring::composed_provider(),
            |random| ::otrp_core::crypto::Provider {
                secure_random: random,
                ..::otrp_crypto_ring::composed_provider()
            }
        );
    };
    (@define $name:literal, $provider:expr, |$random:ident| $with_random:expr) => {
        #[doc = concat!("The provider this test target runs against: ", $name, ".")]
        #[allow(dead_code)]
        pub fn provider_under_test() -> ::otrp_core::crypto::Provider {
            $provider
        }

        #[doc = concat!("The provider this test target runs against (", $name, "), over `random`.")]
        #[allow(dead_code)]
        pub fn provider_under_test_with_random(
            $random: &'static dyn ::otrp_core::crypto::SecureRandom,
        ) -> ::otrp_core::crypto::Provider {
            $with_random
        }
    };
}

/// Generates the PKI suite ([`pki_suite`](mod@pki_suite)) as `#[test]` functions against
/// one backend, in three modules (`pki_chain`, `pki_ids`, `pki_ocsp`): a
/// test target is one invocation.
///
/// ```text
/// // otrp-crypto-aws-lc/tests/pki.rs
/// otrp_test_support::pki_suite!(otrp_crypto_aws_lc::provider());
/// ```
#[macro_export]
macro_rules! pki_suite {
    ($provider:expr) => {
        fn pki_backend() -> ::otrp_core::crypto::Provider {
            $provider
        }

        $crate::pki_suite!(@module pki_chain, chain,
            a_tam_certificate_chained_to_a_trusted_root_is_accepted,
            an_x5c_up_to_and_including_the_root_is_accepted,
            an_expired_tam_certificate_is_refused,
            a_not_yet_valid_tam_certificate_is_refused,
            a_tam_certificate_from_an_unknown_root_is_refused,
            a_tam_certificate_with_a_broken_signature_is_refused,
            a_tam_certificate_with_wrong_key_usage_is_refused,
            a_tam_certificate_with_a_foreign_extended_key_usage_is_refused,
            a_1024_bit_rsa_tam_key_is_refused,
            a_sha1_signed_tam_certificate_is_refused,
            an_rsa_1024_root_is_refused_as_trust_anchor,
            a_signature_by_a_1024_bit_rsa_key_does_not_verify,
            the_rsa_algorithms_refuse_keys_under_2048_bits,
            signature_algorithm_coverage,
            a_tee_certificate_with_its_cacert_chain_is_accepted,
            a_truncated_tee_chain_is_refused,
            a_tee_certificate_is_not_trusted_under_the_tam_roots,
            a_tfw_certificate_is_checked_against_firmware_roots,
            the_spcert_check_verifies_format_and_signature,
            an_empty_x5c_is_refused,
            tam_refusals_are_err_tam_not_trusted
        );
        $crate::pki_suite!(@module pki_ids, ids,
            the_tamid_is_the_subject_alt_name_uri,
            without_a_uri_the_tamid_is_the_registered_id_in_dotted_form,
            a_renewed_tam_certificate_keeps_the_tamid,
            another_tam_has_another_tamid_and_cannot_claim_ours,
            a_certificate_without_subject_alt_name_has_no_tamid,
            did_is_sha256_of_the_tee_certificate_der,
            the_tee_chain_yields_its_did,
            did_needs_sha256_from_the_provider
        );
        $crate::pki_suite!(@module pki_ocsp, ocsp,
            good_signed_by_the_issuing_ca_is_accepted,
            good_signed_by_a_delegated_responder_is_accepted,
            a_delegated_response_without_the_responder_certificate_is_refused,
            revoked_is_refused,
            unknown_is_refused,
            a_stale_response_is_refused,
            a_future_dated_response_is_refused,
            the_skew_is_configurable,
            a_response_without_next_update_is_refused_by_default,
            a_responder_without_ocsp_signing_is_unauthorized,
            a_response_signed_by_another_ca_is_unauthorized,
            a_cert_id_for_another_serial_is_refused,
            a_cert_id_for_another_issuer_is_refused,
            a_sha1_cert_id_is_unsupported_without_sha1_in_the_provider,
            a_sha1_cert_id_matches_when_the_provider_has_sha1,
            a_sha1_cert_id_for_another_serial_is_refused,
            sha1_signatures_stay_refused_with_sha1_in_the_provider,
            a_tampered_response_is_refused,
            check_revocation_of_a_tam_chain,
            the_cache_serves_until_next_update_and_is_bounded
        );
    };
    (@module $module:ident, $suite:ident, $($check:ident),* $(,)?) => {
        mod $module {
            $(
                #[test]
                fn $check() {
                    $crate::pki_suite::$suite::$check(super::pki_backend());
                }
            )*
        }
    };
}
