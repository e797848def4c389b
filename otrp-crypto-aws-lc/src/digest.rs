//! SHA-2 digests, and SHA-1 for matching OCSP CertIDs.

use aws_lc_rs::digest;
use otrp_core::crypto::{Digest, HashAlg};

/// A SHA-2 digest function.
#[derive(Clone, Copy, Debug)]
pub struct Sha2(HashAlg);

/// SHA-256.
pub static SHA256: Sha2 = Sha2(HashAlg::Sha256);
/// SHA-384.
pub static SHA384: Sha2 = Sha2(HashAlg::Sha384);
/// SHA-512.
pub static SHA512: Sha2 = Sha2(HashAlg::Sha512);

impl Digest for Sha2 {
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn digest(&self, data: &[u8]) -> Vec<u8> {
        hash(self.0, data)
    }
}

/// SHA-1, offered only so that OCSP CertIDs hashed with it (openssl's
/// default, RFC 6960 4.1.1) can be matched: comparing identifiers under a
/// verified signature is not a security use of SHA-1. No JWS algorithm
/// hashes with it and no SHA-1 certificate signature algorithm is offered
/// (see [`crate::webpki`]), so SHA-1 signatures stay refused.
#[derive(Clone, Copy, Debug)]
pub struct Sha1Digest;

/// SHA-1 (OCSP CertID matching only).
pub static SHA1: Sha1Digest = Sha1Digest;

impl Digest for Sha1Digest {
    fn algorithm(&self) -> HashAlg {
        HashAlg::Sha1
    }

    fn digest(&self, data: &[u8]) -> Vec<u8> {
        hash(HashAlg::Sha1, data)
    }
}

/// The aws-lc-rs algorithm for `alg`.
fn algorithm(alg: HashAlg) -> &'static digest::Algorithm {
    match alg {
        HashAlg::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha256 => &digest::SHA256,
        HashAlg::Sha384 => &digest::SHA384,
        HashAlg::Sha512 => &digest::SHA512,
    }
}

/// The digest of `data` with `alg`.
pub(crate) fn hash(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    digest::digest(algorithm(alg), data).as_ref().to_vec()
}
