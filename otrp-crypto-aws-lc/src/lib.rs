//! Crypto provider for otrp on aws-lc-rs (AWS-LC, BoringSSL's descendant
//! with assembly for every hot path).
//!
//! [`provider()`] returns an [`otrp_core::crypto::Provider`] offering every
//! algorithm OTrP names, the same set as `otrp-crypto-rustcrypto`:
//!
//! | role | algorithms | objects |
//! |------|------------|---------|
//! | JWS verification | RS256/384/512, PS256/384/512, ES256, ES384 | [`RS256`] .. [`ES384`] |
//! | JWE key management | RSA1_5, RSA-OAEP, RSA-OAEP-256, ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A256KW, A128KW, A256KW | [`RSA1_5`] .. [`A256KW`] |
//! | JWE content encryption | A128CBC-HS256, A256CBC-HS512, A128GCM, A256GCM | [`A128CBC_HS256`] .. [`A256GCM`] |
//! | digests | SHA-256/384/512; SHA-1 for OCSP CertID matching only | [`SHA256`], [`SHA384`], [`SHA512`], [`SHA1`] |
//! | X.509 (chains, OCSP) | rustls-webpki's aws-lc-rs algorithms, no SHA-1, RSA >= 2048 | [`webpki`] |
//!
//! Private keys ([`RsaPrivateKey`], [`EcPrivateKey`], [`SymmetricKey`]) are
//! loaded by [`KEY_LOADER`] (PKCS#8 DER, JWK, SPKI DER) or the PEM helpers
//! [`private_key_from_pem`] and [`public_key_from_pem`]; they implement
//! `JwsSigner + CekDecrypter`, the same traits a TEE implements over its
//! hardware keys.
//!
//! Differences from the RustCrypto backend, all forced by aws-lc-rs' API:
//! RSA padding, PSS salts and ECDSA nonces come from AWS-LC's own random
//! source, not the provider's (aws-lc-rs takes none), so RSA encryption and
//! ES* signing cannot be scripted in tests (RSA1_5's random CEK, ephemeral
//! ECDH keys, CEKs and IVs still come from the provider's source); an RSA
//! JWK must carry its primes and CRT values (aws-lc-rs cannot recover them
//! from `d`). The crate needs `std` (AWS-LC is a C library).
//!
//! Security notes: RSA1_5 decryption follows RFC 7516 section 11.5 (a random
//! CEK instead of an error, selected in constant time over AWS-LC's padding
//! check); AES-CBC-HMAC checks its tag in constant time before decrypting;
//! ECDH-ES refuses ephemeral keys off the curve or on another curve; keys
//! live in AWS-LC, which wipes them when freed, and every secret on the Rust
//! side (CEKs, shared secrets, KDF output) is zeroized on drop. [`hazmat`]
//! exposes raw primitives for conformance tests and benchmarks only.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod aeskw;
mod content;
mod der;
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
pub use keys::{AwsLcKeyLoader, KEY_LOADER, private_key_from_pem, public_key_from_pem};
pub use random::{AWS_LC_RANDOM, AwsLcRandom};
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

/// The provider with AWS-LC's random source.
pub fn provider() -> Provider {
    provider_with_random(&AWS_LC_RANDOM)
}

/// The provider with a random source of your own (tests script it; a
/// device may have its own).
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
