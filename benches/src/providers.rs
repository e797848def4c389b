//! The providers the benchmarks run on. Each benchmark takes a provider as
//! a parameter; add a backend here and every benchmark covers it.

use otrp_core::crypto::Provider;

/// `(name, provider)` for every backend under test.
pub fn all() -> Vec<(&'static str, Provider)> {
    // ring and the composed provider (ring signatures and digests, RustCrypto
    // key management and CBC-HMAC) join here once otrp-crypto-ring lands.
    vec![("rustcrypto", otrp_crypto_rustcrypto::provider())]
}
