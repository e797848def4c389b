//! SHA-2 digests, and SHA-1 for matching OCSP CertIDs, with ring.

use otrp_core::crypto::{Digest, DigestContext, HashAlg};

/// A digest function of ring.
#[derive(Clone, Copy, Debug)]
pub struct RingDigest(HashAlg);

/// SHA-256.
pub static SHA256: RingDigest = RingDigest(HashAlg::Sha256);
/// SHA-384.
pub static SHA384: RingDigest = RingDigest(HashAlg::Sha384);
/// SHA-512.
pub static SHA512: RingDigest = RingDigest(HashAlg::Sha512);
/// SHA-1, only so that OCSP CertIDs hashed with it (RFC 6960 4.1.1) can be
/// matched; no JWS or certificate signature algorithm of this backend uses
/// it (see `otrp_core::crypto::HashAlg`).
pub static SHA1: RingDigest = RingDigest(HashAlg::Sha1);

impl Digest for RingDigest {
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn digest(&self, data: &[u8]) -> Vec<u8> {
        ring::digest::digest(self.ring(), data).as_ref().to_vec()
    }

    fn start(&self) -> Box<dyn DigestContext + '_> {
        Box::new(Context(ring::digest::Context::new(self.ring())))
    }
}

impl RingDigest {
    fn ring(&self) -> &'static ring::digest::Algorithm {
        match self.0 {
            HashAlg::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlg::Sha256 => &ring::digest::SHA256,
            HashAlg::Sha384 => &ring::digest::SHA384,
            HashAlg::Sha512 => &ring::digest::SHA512,
        }
    }
}

/// An incremental digest ([`Digest::start`]). ring has no prehashed
/// signature verification, so its verifiers keep the default
/// (`SignatureVerifier::verifies_prehashed` is false) and a streamed
/// message is collected whole for them.
struct Context(ring::digest::Context);

impl DigestContext for Context {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finish(self: Box<Self>) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}
