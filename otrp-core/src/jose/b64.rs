//! Base64url (RFC 7515 section 2, no padding) and standard base64 (for
//! `x5c` and OTrP's BASE64 members), both strict: padding where none
//! belongs, stray characters and non-canonical trailing bits are errors,
//! never panics.
//!
//! Two decoders, chosen by what the text holds:
//!
//! - [`decode_url`] and [`decode_std`] run in constant time (`base64ct`):
//!   for secrets (JWK private members, keys, CEKs), whose decoding must not
//!   leak through timing. They are the default.
//! - [`decode_url_public`], [`decode_std_public`] and
//!   [`decode_std_in_place`] use the `base64` crate's fastest engine for
//!   this build: AVX2 or NEON, detected at run time, with `std`; the
//!   table-driven engine without (a `no_std` TEE). About 4 (table) to 20
//!   (SIMD) times fewer instructions than the constant-time decoder
//!   (`docs/performance.md`): only for data that is public anyway (JWS
//!   payloads and signatures, protected headers, ciphertexts,
//!   certificates). [`encode_url_public`] is the matching encoder.

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine;
use base64ct::{Base64, Base64UrlUnpadded, Encoding};

use super::JoseError;
use fast::{standard, url_safe};

/// The strict engines for public data: padded standard base64 and
/// unpadded base64url, both refusing non-canonical trailing bits.
#[cfg(all(
    feature = "std",
    any(
        target_arch = "x86_64",
        all(target_arch = "aarch64", target_feature = "neon")
    )
))]
mod fast {
    use std::sync::LazyLock;

    use base64::engine::Simd;
    use base64::engine::general_purpose::{NO_PAD, PAD};

    /// The CPU is asked once, on first use.
    static STANDARD: LazyLock<Simd> = LazyLock::new(|| Simd::standard(PAD));
    static URL_SAFE: LazyLock<Simd> = LazyLock::new(|| Simd::url_safe(NO_PAD));

    pub(super) fn standard() -> &'static Simd {
        &STANDARD
    }

    pub(super) fn url_safe() -> &'static Simd {
        &URL_SAFE
    }
}

/// Without `std` (no run-time CPU detection) or SIMD: the table-driven
/// engines.
#[cfg(not(all(
    feature = "std",
    any(
        target_arch = "x86_64",
        all(target_arch = "aarch64", target_feature = "neon")
    )
)))]
mod fast {
    use base64::engine::GeneralPurpose;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    pub(super) fn standard() -> &'static GeneralPurpose {
        &STANDARD
    }

    pub(super) fn url_safe() -> &'static GeneralPurpose {
        &URL_SAFE_NO_PAD
    }
}

/// Encodes bytes as unpadded base64url (constant time: the bytes may be a
/// secret).
pub fn encode_url(data: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(data)
}

/// Decodes strict unpadded base64url in constant time (secrets); `what`
/// names the field in the error.
pub fn decode_url(text: &str, what: &'static str) -> Result<Vec<u8>, JoseError> {
    Base64UrlUnpadded::decode_vec(text).map_err(|_| JoseError::Base64(what))
}

/// Encodes public bytes (ciphertexts, signatures, JWS payloads of public
/// data) as unpadded base64url with the fastest engine (not constant time).
pub fn encode_url_public(data: &[u8]) -> String {
    url_safe().encode(data)
}

/// Decodes strict unpadded base64url of public data (not constant time).
pub fn decode_url_public(text: &str, what: &'static str) -> Result<Vec<u8>, JoseError> {
    decode_public(url_safe(), text, what)
}

/// Checks that `text` is strict unpadded base64url, as [`decode_url`]
/// would, without decoding it: the alphabet, the length, and zero trailing
/// bits in the last character. Public data only (not constant time).
pub fn check_url(text: &str, what: &'static str) -> Result<(), JoseError> {
    let bytes = text.as_bytes();

    // The bits of the last character that a canonical encoding leaves zero.
    let spare_bits = match bytes.len() % 4 {
        0 => 0,
        2 => 0b1111,
        3 => 0b11,
        _ => return Err(JoseError::Base64(what)),
    };
    if !is_url_alphabet(bytes) {
        return Err(JoseError::Base64(what));
    }
    let last = bytes.last().map_or(0, |&b| sextet(b));
    if last & spare_bits != 0 {
        return Err(JoseError::Base64(what));
    }
    Ok(())
}

/// Whether every byte of `bytes` is a base64url character (a piece of a
/// longer text; [`check_url`] checks a whole one). One fold over all bytes
/// without an early exit, with unsigned maximum, minimum and saturating
/// subtraction only: the compiler turns it into a few vector instructions
/// per 16 bytes and one reduction at the end (public data only).
pub fn is_url_alphabet(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(0u8, |worst, &b| worst.max(zero_if_url_char(b)))
        == 0
}

/// Zero exactly for a base64url character (`A-Z`, `a-z`, `0-9`, `-`, `_`):
/// the minimum of four values, each zero for one class.
#[inline(always)]
fn zero_if_url_char(b: u8) -> u8 {
    let letter = (b | 0x20).wrapping_sub(b'a').saturating_sub(25);
    let digit = b.wrapping_sub(b'0').saturating_sub(9);
    letter.min(digit).min(b ^ b'-').min(b ^ b'_')
}

/// The 6-bit value of a base64url character (already checked).
fn sextet(b: u8) -> u8 {
    match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'-' => 62,
        _ => 63,
    }
}

/// Encodes bytes as padded standard base64 (as `x5c` requires; constant
/// time).
pub fn encode_std(data: &[u8]) -> String {
    Base64::encode_string(data)
}

/// Encodes public bytes (certificates, encrypted TA data) as padded
/// standard base64 with the fastest engine (not constant time).
pub fn encode_std_public(data: &[u8]) -> String {
    standard().encode(data)
}

/// Decodes strict padded standard base64 in constant time (secrets, such
/// as PEM private keys); `what` names the field in the error.
pub fn decode_std(text: &str, what: &'static str) -> Result<Vec<u8>, JoseError> {
    Base64::decode_vec(text).map_err(|_| JoseError::Base64(what))
}

/// Decodes strict padded standard base64 of public data (not constant time).
pub fn decode_std_public(text: &str, what: &'static str) -> Result<Vec<u8>, JoseError> {
    decode_public(standard(), text, what)
}

/// Whether a chunk of a text decoded in steps ends with padding while more
/// text follows. The engine accepts padding at the end of each input it is
/// given and refuses it anywhere else, so this is the one place padding
/// could slip through the middle of a text (every chunk but the last is a
/// multiple of 4 characters, so its trailing bits are checked in full).
fn padded_early(chunk: &[u8], more_follows: bool) -> bool {
    more_follows && chunk.last() == Some(&b'=')
}

/// Input characters decoded per step of [`decode_public`]: a multiple of 4,
/// and an output buffer (3/4 of it) small enough to be cleared on the
/// stack without a string instruction.
const CHUNK: usize = 2048;

/// Decodes public `text` into a vector whose bytes are written once. For a
/// long text (a JWS payload, a JWE ciphertext) base64's own `decode` would
/// zero-fill the whole output before decoding into it, a second pass over
/// every byte; the text is decoded in chunks through a stack buffer
/// instead. A short one (a certificate, a key) goes straight through.
fn decode_public(
    engine: &impl Engine,
    text: &str,
    what: &'static str,
) -> Result<Vec<u8>, JoseError> {
    if text.len() <= CHUNK {
        return engine.decode(text).map_err(|_| JoseError::Base64(what));
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut buf = [0u8; CHUNK / 4 * 3];
    let mut chunks = text.as_bytes().chunks(CHUNK).peekable();
    while let Some(chunk) = chunks.next() {
        if padded_early(chunk, chunks.peek().is_some()) {
            return Err(JoseError::Base64(what));
        }
        let n = engine
            .decode_slice(chunk, &mut buf)
            .map_err(|_| JoseError::Base64(what))?;
        out.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    Ok(out)
}

/// Input characters decoded per step of the in-place decoders: a multiple
/// of 4, so that only the last step can hold padding.
const IN_PLACE_CHUNK: usize = 4096;

/// Decodes the strict padded standard base64 (public data) at `buf[span]`
/// in place: the decoded bytes replace the text from `span.start`, and
/// their length is returned. The bytes after the decoded ones up to
/// `span.end` are left unspecified. No allocation: the output never
/// overtakes the input (3 bytes out for 4 in), so each chunk of text is
/// copied to the stack and decoded behind it.
pub fn decode_std_in_place(
    buf: &mut [u8],
    span: core::ops::Range<usize>,
    what: &'static str,
) -> Result<usize, JoseError> {
    decode_in_place(standard(), buf, span, what)
}

/// [`decode_std_in_place`] for strict unpadded base64url (public data).
pub fn decode_url_in_place(
    buf: &mut [u8],
    span: core::ops::Range<usize>,
    what: &'static str,
) -> Result<usize, JoseError> {
    decode_in_place(url_safe(), buf, span, what)
}

fn decode_in_place(
    engine: &impl Engine,
    buf: &mut [u8],
    span: core::ops::Range<usize>,
    what: &'static str,
) -> Result<usize, JoseError> {
    let err = || JoseError::Base64(what);
    if span.end > buf.len() || span.start > span.end {
        return Err(err());
    }
    let mut chunk = [0u8; IN_PLACE_CHUNK];
    let mut read = span.start;
    let mut written = span.start;
    while read < span.end {
        let n = (span.end - read).min(IN_PLACE_CHUNK);
        let text = chunk.get_mut(..n).ok_or_else(err)?;
        text.copy_from_slice(buf.get(read..read + n).ok_or_else(err)?);
        if padded_early(text, read + n < span.end) {
            return Err(err());
        }
        let out = buf.get_mut(written..read + n).ok_or_else(err)?;
        written += engine.decode_slice(&*text, out).map_err(|_| err())?;
        read += n;
    }
    Ok(written - span.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_round_trip_and_strictness() {
        for decode in [decode_url, decode_url_public] {
            assert_eq!(decode("Zm9v", "t").unwrap(), b"foo");
            // Padding, the standard alphabet, whitespace and a non-canonical
            // final character are all refused.
            for bad in ["Zm9vYg==", "+/8", "Zm9v YQ", "Zm9vYh", "Z", "Zm9\u{e9}"] {
                assert!(decode(bad, "t").is_err(), "{bad}");
            }
        }
        assert_eq!(encode_url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn the_url_alphabet_is_exactly_64_characters_at_every_position() {
        let alphabet: Vec<u8> = (0..=255u8)
            .filter(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            .collect();
        assert_eq!(alphabet.len(), 64);
        // Each byte value at each position of a text longer than a block,
        // so that both the block loop and the remainder see it.
        let good = [b'A'; 70];
        assert!(is_url_alphabet(&good));
        for b in 0..=255u8 {
            for at in [0, 31, 32, 63, 64, 69] {
                let mut text = good;
                text[at] = b;
                assert_eq!(is_url_alphabet(&text), alphabet.contains(&b), "{b} at {at}");
            }
        }
        assert!(is_url_alphabet(b""));
    }

    #[test]
    fn check_url_agrees_with_decoding() {
        let data: Vec<u8> = (0..=255u8).collect();
        for len in 0..40 {
            let text = encode_url(&data[len * 3..len * 3 + len]);
            assert!(check_url(&text, "t").is_ok(), "{text}");
        }
        let mut cases: Vec<String> = ["Zm9vYg==", "+/8", "Zm9v YQ", "Zm9vYh", "Z", "Zm9\u{e9}"]
            .iter()
            .map(|s| String::from(*s))
            .collect();
        // Every last character after two and three full ones.
        for c in (0..=127u8).map(char::from) {
            cases.push(alloc::format!("Zm{c}"));
            cases.push(alloc::format!("Zm9{c}"));
        }
        for text in cases {
            assert_eq!(
                check_url(&text, "t").is_ok(),
                decode_url(&text, "t").is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn std_requires_padding_and_canonical_bits() {
        for decode in [decode_std, decode_std_public] {
            assert_eq!(decode("Zm9vYg==", "t").unwrap(), b"foob");
            for bad in ["Zm9vYg", "Zm9vYh==", "-_8=", "Zm9v\nYg=="] {
                assert!(decode(bad, "t").is_err(), "{bad}");
            }
        }
    }

    #[test]
    fn fast_and_constant_time_decoders_agree() {
        let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        // Lengths around the chunk boundaries of the public decoders too
        // (1,536 bytes are 2,048 characters).
        for len in [
            0, 1, 2, 3, 4, 5, 63, 64, 65, 127, 128, 129, 997, 1000, 1534, 1535, 1536, 1537, 1538,
            3071, 3072, 3073, 5000,
        ] {
            let part = &data[..len];
            let url = encode_url(part);
            assert_eq!(encode_url_public(part), url);
            assert_eq!(encode_std_public(part), encode_std(part));
            assert_eq!(
                decode_url_public(&url, "t").unwrap(),
                decode_url(&url, "t").unwrap()
            );
            let std = encode_std(part);
            assert_eq!(decode_std_public(&std, "t").unwrap(), part);
            assert_eq!(decode_std(&std, "t").unwrap(), part);
        }
    }

    #[test]
    fn public_decoding_is_strict_at_chunk_boundaries() {
        let data = [7u8; 4000];
        let text = encode_std(&data);
        // Padding that would end the first chunk, with text after it.
        let mut padded = text.clone().into_bytes();
        padded[CHUNK - 2..CHUNK].copy_from_slice(b"==");
        let padded = String::from_utf8(padded).unwrap();
        assert!(decode_std_public(&padded, "t").is_err());
        assert!(decode_std(&padded, "t").is_err());
        // Padding inside a chunk, a character of the other alphabet just
        // after a boundary, and a text cut one character past it.
        let mut inner = text.clone().into_bytes();
        inner[CHUNK + 2] = b'=';
        assert!(decode_std_public(&String::from_utf8(inner).unwrap(), "t").is_err());
        let mut bad = text.clone().into_bytes();
        bad[CHUNK] = b'-';
        assert!(decode_std_public(&String::from_utf8(bad).unwrap(), "t").is_err());
        assert!(decode_std_public(&text[..CHUNK + 1], "t").is_err());
        assert_eq!(
            decode_std_public(&text[..CHUNK + 4], "t").unwrap(),
            &data[..1539]
        );
        let url = encode_url(&data);
        assert!(decode_url_public(&url[..CHUNK + 1], "t").is_err());
        assert_eq!(
            decode_url_public(&url[..CHUNK + 2], "t").unwrap(),
            &data[..1537]
        );
    }

    #[test]
    fn in_place_decoding_matches_and_is_strict() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for len in [0, 1, 2, 3, 3071, 3072, 3073, 9000, 20_000] {
            let text = encode_std(&data[..len]);
            let mut buf = [b"xx".as_slice(), text.as_bytes(), b"yy"].concat();
            let n = decode_std_in_place(&mut buf, 2..2 + text.len(), "t").unwrap();
            assert_eq!(&buf[2..2 + n], &data[..len]);
            assert_eq!(&buf[..2], b"xx");
            assert_eq!(&buf[buf.len() - 2..], b"yy");
        }
        // Padding inside, a bad character at a chunk boundary, a bad length,
        // non-canonical bits and a span outside the buffer are all refused.
        let text = encode_std(&data[..9000]);
        let mut bad = text.clone().into_bytes();
        bad[IN_PLACE_CHUNK - 1] = b'=';
        assert!(decode_std_in_place(&mut bad, 0..text.len(), "t").is_err());
        let mut bad = text.clone().into_bytes();
        bad[IN_PLACE_CHUNK] = b'-';
        assert!(decode_std_in_place(&mut bad, 0..text.len(), "t").is_err());
        let mut bad = text.into_bytes();
        assert!(decode_std_in_place(&mut bad, 0..5, "t").is_err());
        // base64url in place, with a short last chunk.
        let url = encode_url(&data[..5000]);
        let mut buf = url.clone().into_bytes();
        let n = decode_url_in_place(&mut buf, 0..url.len(), "t").unwrap();
        assert_eq!(&buf[..n], &data[..5000]);
        let mut buf = encode_std(&data[..5000]).into_bytes();
        let len = buf.len();
        assert!(decode_url_in_place(&mut buf, 0..len, "t").is_err());
        assert!(decode_std_in_place(&mut bad, 0..100_000, "t").is_err());
        let mut bad = b"Zm9vYh==".to_vec();
        assert!(decode_std_in_place(&mut bad, 0..8, "t").is_err());
    }
}
