//! A deterministic random source (SHA-256(seed || counter) blocks, as in
//! `test-vectors/`), so fuzz runs reproduce and benchmarks do not depend on
//! the system's entropy pool. Test use only: it is not secure.

use std::sync::Mutex;

use otrp_core::crypto::{CryptoError, Provider, SecureRandom};
use sha2::Digest as _;

/// SHA-256(seed || 64-bit big-endian counter) blocks.
#[derive(Debug)]
pub struct SeededRandom {
    seed: Vec<u8>,
    counter: Mutex<u64>,
}

impl SeededRandom {
    /// A source for `seed`.
    pub fn new(seed: &[u8]) -> Self {
        SeededRandom {
            seed: seed.to_vec(),
            counter: Mutex::new(0),
        }
    }
}

impl SecureRandom for SeededRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        let mut counter = self.counter.lock().map_err(|_| CryptoError::Random)?;
        for chunk in dest.chunks_mut(32) {
            let mut h = sha2::Sha256::new();
            h.update(&self.seed);
            h.update(counter.to_be_bytes());
            *counter += 1;
            let block = h.finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

/// `base` with its random source replaced by a seeded one (leaked: one per
/// call, for set-up code).
pub fn seeded(base: Provider, seed: &str) -> Provider {
    let random: &'static SeededRandom = Box::leak(Box::new(SeededRandom::new(seed.as_bytes())));
    Provider {
        secure_random: random,
        ..base
    }
}
