//! The shared conformance suite (otrp-conformance) against the aws-lc
//! backend, with the same pinned vector counts as the RustCrypto backend:
//! both are complete providers, so exactly the same vectors run.

use otrp_conformance::{cookbook, roundtrip, security, wycheproof};
use otrp_core::crypto::{ContentAlg, Provider};

fn provider() -> Provider {
    otrp_crypto_aws_lc::provider()
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
    let tally = wycheproof::cbc_hmac(provider(), "a128cbc_hs256_test", ContentAlg::A128CbcHs256);
    assert_eq!(tally.ran, 94, "{tally}");
}

#[test]
fn wycheproof_a256cbc_hs512() {
    let tally = wycheproof::cbc_hmac(provider(), "a256cbc_hs512_test", ContentAlg::A256CbcHs512);
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
fn parsers_never_panic() {
    security::no_panics(512);
}
