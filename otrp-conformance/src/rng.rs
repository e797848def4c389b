//! A scripted random source, so that encryption with a fixed CEK, IV and
//! ephemeral key reproduces published vectors byte for byte.

use std::collections::VecDeque;
use std::sync::Mutex;

use otrp_core::crypto::{CryptoError, Provider, SecureRandom};

/// Hands out queued byte strings, one per `fill`, each of exactly the length
/// asked for; anything else is a test failure.
#[derive(Debug, Default)]
pub struct QueueRandom {
    queue: Mutex<VecDeque<Vec<u8>>>,
}

impl QueueRandom {
    /// A source that will answer with `draws`, in order.
    pub fn new(draws: impl IntoIterator<Item = Vec<u8>>) -> Self {
        Self {
            queue: Mutex::new(draws.into_iter().collect()),
        }
    }

    /// `base` with this source as its random source (leaked: tests only).
    pub fn install(self, base: Provider) -> Provider {
        Provider {
            secure_random: Box::leak(Box::new(self)),
            ..base
        }
    }
}

impl SecureRandom for QueueRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        let mut queue = self.queue.lock().map_err(|_| CryptoError::Random)?;
        let next = queue
            .pop_front()
            .unwrap_or_else(|| panic!("no scripted draw left for {} bytes", dest.len()));
        assert_eq!(next.len(), dest.len(), "scripted draw has the wrong length");
        dest.copy_from_slice(&next);
        Ok(())
    }
}
