//! # otrp-core
//!
//! The Open Trust Protocol (draft-ietf-teep-opentrustprotocol-03) without I/O
//! and without a crypto library of its own:
//!
//! - [`crypto`]: the provider model. Algorithm identifiers, the small traits a
//!   crypto backend (or a TEE's hardware) implements, and [`crypto::Provider`],
//!   the struct of algorithm lists a backend exports.
//! - [`pki`]: X.509 chains, OCSP stapling, tamid and did (spec 4.2, 4.3, 5.4,
//!   9.2.1.1, 14.9) over the provider's `webpki_algorithms`.
//! - [`jose`]: JWS and JWE (RFC 7515, RFC 7516) over a provider, with strict
//!   header rules (spec section 7.4, 7.5).
//!
//! Every message OTrP exchanges is a JWS whose payload carries JWE-encrypted
//! content; these two layers are the foundation the typed messages, PKI and
//! the TAM and TEE state machines build on.
//!
//! ```
//! use otrp_core::crypto::{ContentAlg, EncryptionKey, JwsAlg, KeyAlg};
//! use otrp_core::jose::{Header, Jwe, JwePolicy, Jwk, Jws};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A backend is a value; this one is pure Rust.
//! let provider = otrp_crypto_rustcrypto::provider();
//! let jwk = Jwk::from_json(br#"{"kty":"EC","crv":"P-256",
//!     "x":"ucoVDqtWUomqTzrjIwZhQoYVyCoqiVeKLwZyJLPEv24",
//!     "y":"xR8-kjAjA0OgOPMIrjBTT4fF7jVF-NNCnD7VDCP_TQA",
//!     "d":"idGNPO2raTbNft9PNM5YNfbvxhvWi0_DwyeC0Rq9xFw"}"#)?;
//! let key = provider.key_loader.private_key_from_jwk(&jwk)?; // a TEE would use its hardware key
//! let public = jwk.to_public_key()?;
//!
//! // Encrypt content to the key's owner (the basic profile's ECDH-ES+A128KW),
//! // then sign the message carrying it.
//! let content = Jwe::builder(ContentAlg::A128CbcHs256)
//!     .recipient(KeyAlg::EcdhEsA128Kw, EncryptionKey::Public(&public), Header::new())
//!     .encrypt(br#"{"sdname":"sd.example"}"#, &provider)?;
//! let signed = Jws::sign(
//!     content.to_general_json().as_bytes(), key.as_ref(), JwsAlg::Es256,
//!     Header::new(), None, &provider,
//! )?;
//! let wire = signed.to_flattened_json()?;
//!
//! // The receiver verifies, accepting ES256 only, then decrypts.
//! let payload = Jws::parse(wire.as_bytes())?.verify(&provider, &public, &[JwsAlg::Es256])?;
//! let plaintext = Jwe::parse(&payload)?.decrypt(&provider, key.as_ref(), &JwePolicy::ANY)?;
//! assert_eq!(plaintext, br#"{"sdname":"sd.example"}"#);
//! # Ok(())
//! # }
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod crypto;
pub mod jose;
pub mod message;
pub mod pki;
pub mod tee;
