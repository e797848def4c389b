//! The one test both JSON directions make on string text: where a plain
//! run ends, at a byte that cannot appear unescaped in a JSON string (`"`,
//! `\\` or a control character, RFC 8259 section 7), checked 32 bytes at a
//! time.
//!
//! OTrP messages are mostly base64 text (certificates, JWE ciphertext, the
//! sealed TEE state), which never holds such a byte; a branch-free check
//! over a block compiles to vector compares, so clean blocks cost a few
//! instructions instead of a table lookup per byte.

/// serde_json's name for its raw JSON text (`RawValue`): it serializes as
/// a struct of this name with one string field holding the text, and
/// deserializes from a newtype struct of this name through a map of one
/// member holding the text. Both directions of this crate honour it.
pub(crate) const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Bytes tested at once.
const BLOCK: usize = 32;

/// The offset of the first byte of the block that must be escaped. The
/// test is written without branches, with unsigned minimum and saturating
/// subtraction (a byte must be escaped when `min(b ^ '"', b ^ '\\', b - 0x1f
/// saturated) == 0`), so that it compiles to a few vector instructions;
/// the flags it leaves are then read eight at a time as words.
fn first_escape(block: &[u8; BLOCK]) -> Option<usize> {
    let mut flags = [0u8; BLOCK];
    for (flag, &b) in flags.iter_mut().zip(block) {
        let zero_if_escape = (b ^ b'"').min(b ^ b'\\').min(b.saturating_sub(0x1f));
        *flag = u8::from(zero_if_escape == 0).wrapping_neg();
    }
    let words: [u64; BLOCK / 8] = core::array::from_fn(|i| {
        flags
            .get(i * 8..i * 8 + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_le_bytes)
    });
    if words.iter().fold(0, |any, w| any | w) == 0 {
        return None;
    }
    words
        .iter()
        .enumerate()
        .find(|(_, w)| **w != 0)
        .map(|(i, w)| i * 8 + w.trailing_zeros() as usize / 8)
}

/// The length of the longest prefix of `bytes` without a byte that
/// must be escaped. The last, partial block is tested through a copy
/// padded with plain bytes, so that short strings (names, identifiers)
/// cost one block test, not a loop over their bytes.
pub(crate) fn plain_len(bytes: &[u8]) -> usize {
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut n = 0;
    for block in &mut blocks {
        if let Some(at) = <&[u8; BLOCK]>::try_from(block).ok().and_then(first_escape) {
            return n + at;
        }
        n += BLOCK;
    }
    let tail = blocks.remainder();
    let mut padded = [b'a'; BLOCK];
    if let Some(start) = padded.get_mut(..tail.len()) {
        start.copy_from_slice(tail);
    }
    n + first_escape(&padded).unwrap_or(tail.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_len_stops_at_the_first_byte_to_escape_wherever_it_is() {
        let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        for len in 0..100 {
            let clean = alloc::vec![b'a'; len];
            assert_eq!(plain_len(&clean), len);
            for at in 0..len {
                for b in (0u8..=0xff).filter(|&b| needs_escape(b)) {
                    let mut text = clean.clone();
                    text[at] = b;
                    assert_eq!(plain_len(&text), at, "byte {b:#x} at {at} of {len}");
                }
            }
        }
        assert_eq!(plain_len("é\u{7f}/".as_bytes()), 4);
    }
}
