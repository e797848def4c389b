//! The Concat KDF of RFC 7518 section 4.6.2 (NIST SP 800-56A single-step,
//! SHA-256): the composition every backend shares, over the backend's own
//! SHA-256 [`Digest`], so the field layout is written once.

use alloc::vec::Vec;

use zeroize::Zeroizing;

use super::{CryptoError, Digest, HashAlg};

/// Derives `key_len` bytes from the shared secret `z`: `AlgorithmID`,
/// `PartyUInfo` and `PartyVInfo` length-prefixed (32-bit big-endian),
/// `SuppPubInfo` the key length in bits. `sha256` must be SHA-256.
pub fn concat_kdf(
    sha256: &dyn Digest,
    z: &[u8],
    algorithm_id: &str,
    apu: &[u8],
    apv: &[u8],
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sha256.algorithm() != HashAlg::Sha256 {
        return Err(CryptoError::Unsupported("Concat KDF without SHA-256"));
    }
    let len32 = |n: usize| u32::try_from(n).map_err(|_| CryptoError::InvalidLength);
    let key_bits = key_len
        .checked_mul(8)
        .ok_or(CryptoError::InvalidLength)
        .and_then(len32)?;
    let mut other_info = Vec::with_capacity(16 + algorithm_id.len() + apu.len() + apv.len());
    for field in [algorithm_id.as_bytes(), apu, apv] {
        other_info.extend_from_slice(&len32(field.len())?.to_be_bytes());
        other_info.extend_from_slice(field);
    }
    other_info.extend_from_slice(&key_bits.to_be_bytes());

    let mut out = Zeroizing::new(Vec::with_capacity(key_len + 32));
    let mut input = Zeroizing::new(Vec::with_capacity(4 + z.len() + other_info.len()));
    let mut counter: u32 = 1;
    while out.len() < key_len {
        input.clear();
        input.extend_from_slice(&counter.to_be_bytes());
        input.extend_from_slice(z);
        input.extend_from_slice(&other_info);
        let block = Zeroizing::new(sha256.digest(&input));
        out.extend_from_slice(&block);
        counter = counter.checked_add(1).ok_or(CryptoError::InvalidLength)?;
    }
    out.truncate(key_len);
    Ok(out)
}
