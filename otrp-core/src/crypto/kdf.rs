//! The Concat KDF of RFC 7518 section 4.6.2 (NIST SP 800-56A single-step,
//! SHA-256): the composition every backend shares, over the backend's own
//! SHA-256, so the field layout is written once.

use alloc::vec::Vec;

use zeroize::Zeroizing;

use super::CryptoError;

/// One SHA-256 over the concatenation of its parts (a backend's own hash).
pub type Sha256Fn<'a> = dyn FnMut(&[&[u8]]) -> Zeroizing<[u8; 32]> + 'a;

/// Derives `key_len` bytes from the shared secret `z`: `AlgorithmID`,
/// `PartyUInfo` and `PartyVInfo` length-prefixed (32-bit big-endian),
/// `SuppPubInfo` the key length in bits. `sha256` hashes the concatenation
/// of the parts it is given (one block per call).
pub fn concat_kdf(
    sha256: &mut Sha256Fn<'_>,
    z: &[u8],
    algorithm_id: &str,
    apu: &[u8],
    apv: &[u8],
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
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
    let mut counter: u32 = 1;
    while out.len() < key_len {
        let block = sha256(&[&counter.to_be_bytes(), z, &other_info]);
        out.extend_from_slice(block.as_slice());
        counter = counter.checked_add(1).ok_or(CryptoError::InvalidLength)?;
    }
    out.truncate(key_len);
    Ok(out)
}
