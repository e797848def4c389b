//! The operating system's random source through ring.

use otrp_core::crypto::{CryptoError, SecureRandom};

/// ring's `SystemRandom` as an otrp [`SecureRandom`] (CEKs, IVs, and
/// whatever else the JOSE layer draws through the provider).
#[derive(Clone, Copy, Debug, Default)]
pub struct RingRandom;

/// The random source of this backend.
pub static RING_RANDOM: RingRandom = RingRandom;

impl SecureRandom for RingRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), dest)
            .map_err(|_| CryptoError::Random)
    }
}
