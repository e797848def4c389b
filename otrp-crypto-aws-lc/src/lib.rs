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
//! Private keys ([`RsaPrivateKey`], [`EcPrivateKey`], otrp-core's `SymmetricKey`) are
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
//!
//! # Example
//!
//! Sign with a P-256 key and verify, then encrypt to it with ECDH-ES+A128KW
//! and decrypt: the provider is a value handed to every JOSE operation.
//!
//! ```
//! use otrp_core::crypto::{ContentAlg, EncryptionKey, JwsAlg, KeyAlg};
//! use otrp_core::jose::{Header, Jwe, JwePolicy, Jws};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let provider = otrp_crypto_aws_lc::provider();
//! let key = otrp_crypto_aws_lc::private_key_from_pem(
//!     "-----BEGIN PRIVATE KEY-----
//! MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgidGNPO2raTbNft9P
//! NM5YNfbvxhvWi0/DwyeC0Rq9xFyhRANCAAS5yhUOq1ZSiapPOuMjBmFChhXIKiqJ
//! V4ovBnIks8S/bsUfPpIwIwNDoDjzCK4wU0+Hxe41RfjTQpw+1Qwj/00A
//! -----END PRIVATE KEY-----",
//! )?;
//! let public = key.public_key().ok_or("no public key")?;
//!
//! let signed = Jws::builder()
//!     .signature(JwsAlg::Es256, key.as_ref(), Header::new(), None)
//!     .sign(b"hello", &provider)?;
//! let payload = Jws::parse(signed.to_flattened_json()?.as_bytes())?
//!     .verify(&provider, &public, &[JwsAlg::Es256])?;
//! assert_eq!(payload, b"hello");
//!
//! let jwe = Jwe::builder(ContentAlg::A128CbcHs256)
//!     .recipient(KeyAlg::EcdhEsA128Kw, EncryptionKey::Public(&public), Header::new())
//!     .encrypt(b"secret", &provider)?;
//! let plaintext = Jwe::parse(jwe.to_general_json().as_bytes())?
//!     .decrypt(&provider, key.as_ref(), &JwePolicy::ANY)?;
//! assert_eq!(plaintext, b"secret");
//! # Ok(())
//! # }
//! ```
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
mod sig;
pub mod webpki;

pub use aeskw::{AES_KW, AwsLcAesKw};
pub use content::{AES_CBC, AES_GCM, AwsLcAesCbc, AwsLcAesGcm, AwsLcHmac, HMAC};
pub use digest::{SHA1, SHA256, SHA384, SHA512};
pub use ec::{AwsLcEcdh, ECDH, ES256, ES384, EcPrivateKey, EcdsaVerifier};
pub use keys::{KEY_LOADER, private_key_from_pem, public_key_from_pem};
pub use random::{AWS_LC_RANDOM, AwsLcRandom};
pub use rsa::{
    AwsLcRsaEncrypt, PS256, PS384, PS512, RS256, RS384, RS512, RSA_ENCRYPT, RsaPrivateKey,
    RsaVerifier,
};

otrp_core::complete_provider_tables!();

/// The provider with AWS-LC's random source.
pub fn provider() -> otrp_core::crypto::Provider {
    provider_with_random(&AWS_LC_RANDOM)
}
