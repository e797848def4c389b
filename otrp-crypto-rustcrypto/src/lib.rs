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
//! Private keys ([`RsaPrivateKey`], [`EcPrivateKey`], otrp-core's `SymmetricKey`) are
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
//! let provider = otrp_crypto_rustcrypto::provider();
//! let key = otrp_crypto_rustcrypto::private_key_from_pem(
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

pub use aeskw::{AES_KW, RustCryptoAesKw};
pub use content::{AES_CBC, AES_GCM, HMAC, RustCryptoAesCbc, RustCryptoAesGcm, RustCryptoHmac};
pub use digest::{SHA1, SHA256, SHA384, SHA512};
pub use ec::{ECDH, ES256, ES384, EcPrivateKey, EcdsaVerifier, RustCryptoEcdh};
pub use keys::{KEY_LOADER, private_key_from_pem, public_key_from_pem};
pub use random::RngAdapter;
#[cfg(feature = "getrandom")]
pub use random::{OS_RANDOM, OsRandom};
pub use rsa::{
    PS256, PS384, PS512, RS256, RS384, RS512, RSA_ENCRYPT, RsaPrivateKey, RsaVerifier,
    RustCryptoRsaEncrypt,
};

otrp_core::complete_provider_tables!();

/// The provider with the operating system's random source.
#[cfg(feature = "getrandom")]
pub fn provider() -> otrp_core::crypto::Provider {
    provider_with_random(&OS_RANDOM)
}
