//! SHA-2 digests, and SHA-1 for matching OCSP CertIDs.

use aws_lc_rs::digest;
use otrp_core::crypto::{CryptoError, DigestContext, HashAlg};

otrp_core::backend_digests!(hash, start);

/// The aws-lc-rs algorithm for `alg`.
pub(crate) fn algorithm(alg: HashAlg) -> &'static digest::Algorithm {
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

/// `digest`, a digest with `alg` computed elsewhere, for verifying a
/// signature over it; a digest of the wrong length is
/// [`CryptoError::BadSignature`].
pub(crate) fn import(alg: HashAlg, digest: &[u8]) -> Result<digest::Digest, CryptoError> {
    digest::Digest::import_less_safe(digest, algorithm(alg)).map_err(|_| CryptoError::BadSignature)
}

/// An incremental digest with `alg` ([`otrp_core::crypto::Digest::start`]).
pub(crate) fn start(alg: HashAlg) -> Box<dyn DigestContext> {
    Box::new(Context(digest::Context::new(algorithm(alg))))
}

/// A digest in progress.
struct Context(digest::Context);

impl DigestContext for Context {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finish(self: Box<Self>) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}
