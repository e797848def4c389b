//! Random sources: the OS source and an adapter to the `rand_core` traits.

use otrp_core::crypto::{CryptoError, SecureRandom};

/// The operating system's random source (the `getrandom` crate).
#[cfg(feature = "getrandom")]
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

/// The operating system's random source.
#[cfg(feature = "getrandom")]
pub static OS_RANDOM: OsRandom = OsRandom;

#[cfg(feature = "getrandom")]
impl SecureRandom for OsRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        getrandom::fill(dest).map_err(|_| CryptoError::Random)
    }
}

/// Adapts a [`SecureRandom`] to the `rand_core` traits the RustCrypto crates
/// take (RSA padding, OAEP seeds, PSS salts and blinding).
pub struct RngAdapter<'a>(pub &'a dyn SecureRandom);

impl core::fmt::Debug for RngAdapter<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RngAdapter")
    }
}

impl rand_core::TryRng for RngAdapter<'_> {
    type Error = CryptoError;

    fn try_next_u32(&mut self) -> Result<u32, CryptoError> {
        let mut b = [0u8; 4];
        self.0.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, CryptoError> {
        let mut b = [0u8; 8];
        self.0.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), CryptoError> {
        self.0.fill(dst)
    }
}

impl rand_core::TryCryptoRng for RngAdapter<'_> {}
