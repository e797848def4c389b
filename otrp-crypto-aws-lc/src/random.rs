//! The random source: AWS-LC's DRBG (seeded from the operating system).

use otrp_core::crypto::{CryptoError, SecureRandom};

/// AWS-LC's random source (`aws_lc_rs::rand`), the one this backend's
/// [`provider()`](crate::provider) uses for CEKs, IVs and ephemeral keys.
#[derive(Clone, Copy, Debug, Default)]
pub struct AwsLcRandom;

/// AWS-LC's random source.
pub static AWS_LC_RANDOM: AwsLcRandom = AwsLcRandom;

impl SecureRandom for AwsLcRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        aws_lc_rs::rand::fill(dest).map_err(|_| CryptoError::Random)
    }
}
