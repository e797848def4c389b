//! The providers the benchmarks run on. Each benchmark takes a provider as
//! a parameter; add a backend here and every benchmark covers it.

use otrp_core::crypto::Provider;

/// `(name, provider)` for every backend that runs the whole protocol
/// (JWE key management included): RustCrypto; with the `ring` feature the
/// composed provider (ring signatures, digests and chain validation;
/// RustCrypto key management, CBC-HMAC and random); with the `aws-lc`
/// feature aws-lc (the demo's default).
pub fn all() -> Vec<(&'static str, Provider)> {
    #[allow(unused_mut)]
    let mut v = vec![("rustcrypto", otrp_crypto_rustcrypto::provider())];
    #[cfg(feature = "ring")]
    v.push(("composed", otrp_crypto_ring::composed_provider()));
    #[cfg(feature = "aws-lc")]
    v.push(("aws-lc", otrp_crypto_aws_lc::provider()));
    v
}

/// Backends that only verify and sign (no JWE key management, so no full
/// protocol run): ring alone, with the `ring` feature.
pub fn signature_only() -> Vec<(&'static str, Provider)> {
    #[cfg(feature = "ring")]
    return vec![("ring", otrp_crypto_ring::provider())];
    #[cfg(not(feature = "ring"))]
    Vec::new()
}
