//! JOSE for OTrP: JWS (RFC 7515) and JWE (RFC 7516) over a
//! [`Provider`](crate::crypto::Provider).
//!
//! Strict by construction: `alg` "none" and unknown algorithms never verify,
//! the algorithm must be in the caller's allowed set and fit the key, `crit`
//! is refused (no extension is understood), and a parameter may not appear in
//! both a protected and an unprotected header.

pub mod b64;
mod error;
mod header;
mod jwe;
mod jwk;
mod jws;

pub use error::JoseError;
pub use header::{Header, JointHeader};
pub use jwe::{Decrypted, Jwe, JweBuilder, JwePolicy, JweRecipient};
pub use jwk::{Jwk, JwkSet, KeyUse, Secret};
pub use jws::{Jws, JwsSignature};
