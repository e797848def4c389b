//! SHA-2 digests, and SHA-1 for matching OCSP CertIDs.

use alloc::boxed::Box;
use alloc::vec::Vec;

use otrp_core::crypto::{DigestContext, HashAlg};
use sha2::Digest as _;

otrp_core::backend_digests!(hash, start);

/// The digest of `data` with `alg`.
pub(crate) fn hash(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    match alg {
        HashAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
        HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
        HashAlg::Sha384 => sha2::Sha384::digest(data).to_vec(),
        HashAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

/// An incremental digest with `alg` ([`otrp_core::crypto::Digest::start`]).
pub(crate) fn start(alg: HashAlg) -> Box<dyn DigestContext> {
    Box::new(match alg {
        HashAlg::Sha1 => Context::Sha1(sha1::Sha1::new()),
        HashAlg::Sha256 => Context::Sha256(sha2::Sha256::new()),
        HashAlg::Sha384 => Context::Sha384(sha2::Sha384::new()),
        HashAlg::Sha512 => Context::Sha512(sha2::Sha512::new()),
    })
}

/// A digest in progress.
enum Context {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl DigestContext for Context {
    fn update(&mut self, data: &[u8]) {
        match self {
            Context::Sha1(h) => h.update(data),
            Context::Sha256(h) => h.update(data),
            Context::Sha384(h) => h.update(data),
            Context::Sha512(h) => h.update(data),
        }
    }

    fn finish(self: Box<Self>) -> Vec<u8> {
        match *self {
            Context::Sha1(h) => h.finalize().to_vec(),
            Context::Sha256(h) => h.finalize().to_vec(),
            Context::Sha384(h) => h.finalize().to_vec(),
            Context::Sha512(h) => h.finalize().to_vec(),
        }
    }
}
