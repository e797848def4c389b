//! The shared conformance suite (otrp-conformance) against the ring provider
//! and the composed provider (ring signatures, digests, AES-GCM and chain
//! algorithms over RustCrypto key management). One suite, parameterised by
//! provider; the counts are pinned per provider, so a change in what runs
//! or is skipped must be deliberate:
//!
//! - ring runs every signature vector and skips, as "provider lacks X",
//!   everything that needs JWE key management or AES-CBC-HMAC;
//! - the composed provider runs exactly what the RustCrypto provider runs
//!   (the same counts as `otrp-crypto-rustcrypto/tests/conformance.rs`).

use otrp_conformance::{Tally, cookbook, roundtrip, security, wycheproof};
use otrp_core::crypto::{ContentAlg, Provider};

fn ring() -> Provider {
    otrp_crypto_ring::provider()
}

fn composed() -> Provider {
    otrp_crypto_ring::composed_provider()
}

/// Asserts what ran and how many were skipped because the provider lacks
/// something (the rest of the skips are outside OTrP, as for every backend).
fn pin(tally: &Tally, ran: usize, lacks: usize) {
    let lacking: usize = tally
        .skipped
        .iter()
        .filter(|(reason, _)| reason.starts_with("provider lacks"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!((tally.ran, lacking), (ran, lacks), "{tally}");
}

macro_rules! both {
    ($name:ident, $run:expr, ring: ($ring_ran:expr, $ring_lacks:expr), composed: $composed_ran:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn ring() {
                let run: fn(Provider) -> Tally = $run;
                pin(&run(super::ring()), $ring_ran, $ring_lacks);
            }

            #[test]
            fn composed() {
                let run: fn(Provider) -> Tally = $run;
                pin(&run(super::composed()), $composed_ran, 0);
            }
        }
    };
}

both!(cookbook_jws, cookbook::jws, ring: (3, 0), composed: 3);
both!(cookbook_jwe, cookbook::jwe, ring: (0, 11), composed: 10);
both!(cookbook_jwe_content, cookbook::jwe_content, ring: (7, 4), composed: 11);
both!(wycheproof_jws, wycheproof::jws, ring: (359, 0), composed: 359);
both!(wycheproof_jwe, wycheproof::jwe, ring: (0, 123), composed: 110);
both!(
    wycheproof_a128cbc_hs256,
    |p| wycheproof::cbc_hmac(p, "a128cbc_hs256_test", ContentAlg::A128CbcHs256),
    ring: (0, 94),
    composed: 94
);
both!(
    wycheproof_a256cbc_hs512,
    |p| wycheproof::cbc_hmac(p, "a256cbc_hs512_test", ContentAlg::A256CbcHs512),
    ring: (0, 94),
    composed: 94
);
both!(wycheproof_ecdsa_p256, wycheproof::ecdsa_p256, ring: (262, 0), composed: 262);
both!(wycheproof_rsa_signature, wycheproof::rsa_pkcs1_signature, ring: (259, 0), composed: 259);
both!(wycheproof_rsa1_5, wycheproof::rsa1_5, ring: (0, 67), composed: 27);
both!(wycheproof_aes_kw, wycheproof::aes_kw, ring: (0, 110), composed: 101);
both!(wycheproof_ecdh_p256, wycheproof::ecdh_p256, ring: (0, 612), composed: 612);
both!(jws_round_trips_and_flips, |p| roundtrip::jws(p, 12), ring: (8, 0), composed: 8);
both!(jwe_round_trips_and_flips, |p| roundtrip::jwe(p, 6), ring: (0, 34), composed: 34);
both!(jws_refusals, security::jws_refusals, ring: (1, 0), composed: 1);
both!(jwe_refusals, security::jwe_refusals, ring: (0, 2), composed: 2);

#[test]
fn parsers_never_panic() {
    security::no_panics(512);
}

#[test]
fn roca_keys_are_refused() {
    otrp_conformance::weak_keys::roca_keys_refused(ring());
    otrp_conformance::weak_keys::roca_keys_refused(composed());
}

#[test]
fn rsa_keys_under_2048_bits_are_refused() {
    otrp_conformance::weak_keys::rsa_keys_under_2048_bits_refused(ring());
    otrp_conformance::weak_keys::rsa_keys_under_2048_bits_refused(composed());
}

#[test]
fn concat_kdf_rfc7518_appendix_c() {
    security::concat_kdf_rfc7518_appendix_c(ring());
    security::concat_kdf_rfc7518_appendix_c(composed());
}

/// The algorithm objects' security properties (otrp-conformance's
/// `security::{content, key_management, signatures}`): the composed
/// provider is complete, so it runs all of them, as every complete
/// backend does; ring alone runs the signature checks.
mod security_properties {
    use otrp_conformance::security::{content, key_management, signatures};

    macro_rules! composed {
        ($($module:ident::$check:ident),* $(,)?) => {
            $(
                #[test]
                fn $check() {
                    $module::$check(super::composed());
                }
            )*
        };
    }

    composed!(
        content::cbc_hmac_valid_tag_with_bad_padding_is_decrypt,
        content::cbc_hmac_tag_is_checked_before_decryption,
        content::wrong_lengths_are_errors_not_panics,
        key_management::rsa1_5_returns_a_random_cek_instead_of_an_error,
        key_management::rsa_oaep_failure_is_decrypt,
        key_management::ecdh_es_direct_matches_the_cookbook,
        key_management::ecdh_es_a128kw_matches_the_cookbook,
        key_management::ecdh_es_refuses_invalid_ephemeral_keys,
        key_management::ecdh_es_binds_party_info,
        key_management::aes_kw_unwrap_failures_are_decrypt,
        key_management::key_kind_mismatches,
        signatures::sha1_is_never_a_signature_hash,
        signatures::rsa_verifier_key_cache_never_confuses_keys,
    );

    #[test]
    fn ring_signature_checks() {
        signatures::sha1_is_never_a_signature_hash(super::ring());
        signatures::rsa_verifier_key_cache_never_confuses_keys(super::ring());
    }
}
