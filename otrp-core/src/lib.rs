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
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod crypto;
pub mod jose;
pub mod message;
pub mod pki;
pub mod tam;
pub mod tee;
