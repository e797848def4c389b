//! SHA-2 digests.

use alloc::vec::Vec;

use otrp_core::crypto::{Digest, HashAlg};
use sha2::Digest as _;

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

/// The digest of `data` with `alg`.
pub(crate) fn hash(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    match alg {
        HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
        HashAlg::Sha384 => sha2::Sha384::digest(data).to_vec(),
        HashAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}
