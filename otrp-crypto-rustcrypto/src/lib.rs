//! Pure-Rust crypto provider for otrp, built on the RustCrypto crates.
//!
//! [`provider()`] returns an [`otrp_core::crypto::Provider`] offering every
//! algorithm OTrP names:
//!
//! | role | algorithms | objects |
//! |------|------------|---------|
//! | JWS verification | RS256/384/512, PS256/384/512, ES256, ES384 | [`RS256`] .. [`ES384`] |
//! | JWE key management | RSA1_5, RSA-OAEP, RSA-OAEP-256, ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A256KW, A128KW, A256KW | [`RSA1_5`] .. [`A256KW`] |
//! | JWE content encryption | A128CBC-HS256, A256CBC-HS512, A128GCM, A256GCM | [`A128CBC_HS256`] .. [`A256GCM`] |
//! | digests | SHA-256/384/512; SHA-1 for OCSP CertID matching only | [`SHA256`], [`SHA384`], [`SHA512`], [`SHA1`] |
//!
//! Private keys ([`RsaPrivateKey`], [`EcPrivateKey`], [`SymmetricKey`]) are
//! loaded by [`KEY_LOADER`] (PKCS#8 DER, JWK, SPKI DER) or the PEM helpers
//! [`private_key_from_pem`] and [`public_key_from_pem`]; they implement
//! `JwsSigner + CekDecrypter`, the same traits a TEE implements over its
//! hardware keys.
//!
//! The crate is `no_std` + `alloc` without its default features. The
//! `getrandom` feature (default) adds [`OS_RANDOM`] and [`provider()`];
//! without it, build a provider over your own random source with
//! [`provider_with_random`].
//!
//! Security notes: RSA1_5 decryption follows RFC 7516 section 11.5 (a random
//! CEK instead of an error); AES-CBC-HMAC checks its tag in constant time
//! before decrypting; ECDH-ES refuses ephemeral keys off the curve or on
//! another curve; every secret (keys, CEKs, shared secrets, KDF output) is
//! zeroized on drop. [`hazmat`] exposes raw primitives for conformance tests
//! and benchmarks only.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

mod aeskw;
mod content;
mod digest;
mod ec;
pub mod hazmat;
mod keys;
mod random;
mod rsa;
pub mod webpki;

pub use aeskw::{A128KW, A256KW, AesKeyWrap, SymmetricKey};
pub use content::{A128CBC_HS256, A128GCM, A256CBC_HS512, A256GCM, AesCbcHmac, AesGcm};
pub use digest::{SHA1, SHA256, SHA384, SHA512, Sha1Digest, Sha2};
pub use ec::{
    ECDH_ES, ECDH_ES_A128KW, ECDH_ES_A256KW, ES256, ES384, EcPrivateKey, EcdhEs, EcdsaVerifier,
};
pub use keys::{KEY_LOADER, RustCryptoKeyLoader, private_key_from_pem, public_key_from_pem};
pub use random::RngAdapter;
#[cfg(feature = "getrandom")]
pub use random::{OS_RANDOM, OsRandom};
pub use rsa::{
    PS256, PS384, PS512, RS256, RS384, RS512, RSA_OAEP, RSA_OAEP_256, RSA1_5, RsaKeyEncrypter,
    RsaPrivateKey, RsaVerifier,
};

use otrp_core::crypto::{
    ContentCipher, Digest, KeyEncrypter, Provider, SecureRandom, SignatureVerifier,
};

/// Every JWS verification algorithm of this backend.
pub static SIGNATURE_VERIFIERS: &[&dyn SignatureVerifier] = &[
    &RS256, &RS384, &RS512, &PS256, &PS384, &PS512, &ES256, &ES384,
];

/// Every JWE key management algorithm of this backend.
pub static KEY_ENCRYPTERS: &[&dyn KeyEncrypter] = &[
    &RSA1_5,
    &RSA_OAEP,
    &RSA_OAEP_256,
    &ECDH_ES,
    &ECDH_ES_A128KW,
    &ECDH_ES_A256KW,
    &A128KW,
    &A256KW,
];

/// Every JWE content encryption algorithm of this backend.
pub static CONTENT_CIPHERS: &[&dyn ContentCipher] =
    &[&A128CBC_HS256, &A256CBC_HS512, &A128GCM, &A256GCM];

/// Every digest of this backend. SHA-1 is listed for OCSP CertIDs only
/// (RFC 6960 4.1.1); no signature algorithm of this backend uses it.
pub static DIGESTS: &[&dyn Digest] = &[&SHA256, &SHA384, &SHA512, &SHA1];

/// The provider with the operating system's random source.
#[cfg(feature = "getrandom")]
pub fn provider() -> Provider {
    provider_with_random(&OS_RANDOM)
}

/// The provider with a random source of your own (for `no_std` targets
/// without `getrandom`, such as a trusted OS with its own RNG).
pub const fn provider_with_random(random: &'static dyn SecureRandom) -> Provider {
    Provider {
        signature_verifiers: SIGNATURE_VERIFIERS,
        key_encrypters: KEY_ENCRYPTERS,
        content_ciphers: CONTENT_CIPHERS,
        digests: DIGESTS,
        secure_random: random,
        key_loader: &KEY_LOADER,
        webpki_algorithms: webpki::ALL_WEBPKI_ALGORITHMS,
    }
}
