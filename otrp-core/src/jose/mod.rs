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
mod jws_builder;

pub use error::JoseError;
pub use header::{Header, JointHeader};
pub use jwe::{Decrypted, Jwe, JweBuilder, JwePolicy, JweRecipient};
pub use jwk::{Jwk, JwkSet, KeyUse, Secret};
pub(crate) use jws::JwsJson;
pub use jws::{Jws, JwsRef, JwsSignature, PayloadText};
pub use jws_builder::JwsBuilder;

/// The most signatures a JWS may carry. OTrP sends one (flattened JWS, spec
/// 7.4); the cap bounds the work an unauthenticated message can cause.
pub const MAX_SIGNATURES: usize = 8;

/// The most recipients a JWE may carry, for the same reason (each costs a
/// private-key operation when tried).
pub const MAX_RECIPIENTS: usize = 8;

/// How a JOSE object arrived: as JSON (flattened or general) or as compact
/// text. JSON is recognised by its opening brace, after white space.
enum Serialized<'a> {
    Json(&'a [u8]),
    Compact(&'a str),
}

fn classify(input: &[u8]) -> Result<Serialized<'_>, JoseError> {
    let trimmed = input.trim_ascii();
    if trimmed.first() == Some(&b'{') {
        return Ok(Serialized::Json(trimmed));
    }
    core::str::from_utf8(trimmed)
        .map(Serialized::Compact)
        .map_err(|_| JoseError::Malformed("not UTF-8"))
}

/// Splits a compact serialization into exactly `N` dot-separated parts, the
/// first (the protected header) non-empty.
fn compact_parts<'a, const N: usize>(
    text: &'a str,
    what: &'static str,
) -> Result<[&'a str; N], JoseError> {
    let mut parts = [""; N];
    let mut split = text.split('.');
    for part in &mut parts {
        *part = split.next().ok_or(JoseError::Malformed(what))?;
    }
    if split.next().is_some() {
        return Err(JoseError::Malformed(what));
    }
    if parts.first().is_some_and(|p| p.is_empty()) {
        return Err(JoseError::Missing("protected"));
    }
    Ok(parts)
}
