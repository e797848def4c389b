//! Base64url (RFC 7515 section 2, no padding) and standard base64 (for
//! `x5c`), both strict: padding where none belongs, stray characters and
//! non-canonical trailing bits are errors, never panics.

use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64, Base64UrlUnpadded, Encoding};

use super::JoseError;

/// Encodes bytes as unpadded base64url.
pub fn encode_url(data: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(data)
}

/// Decodes strict unpadded base64url; `what` names the field in the error.
pub fn decode_url(text: &str, what: &'static str) -> Result<Vec<u8>, JoseError> {
    Base64UrlUnpadded::decode_vec(text).map_err(|_| JoseError::Base64(what))
}

/// Encodes bytes as padded standard base64 (as `x5c` requires).
pub fn encode_std(data: &[u8]) -> String {
    Base64::encode_string(data)
}

/// Decodes strict padded standard base64; `what` names the field in the error.
pub fn decode_std(text: &str, what: &'static str) -> Result<Vec<u8>, JoseError> {
    Base64::decode_vec(text).map_err(|_| JoseError::Base64(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_round_trip_and_strictness() {
        assert_eq!(decode_url("Zm9v", "t").unwrap(), b"foo");
        assert_eq!(encode_url(&[0xfb, 0xff]), "-_8");
        // Padding, the standard alphabet, whitespace and a non-canonical
        // final character are all refused.
        for bad in ["Zm9vYg==", "+/8", "Zm9v YQ", "Zm9vYh", "Z", "Zm9\u{e9}"] {
            assert!(decode_url(bad, "t").is_err(), "{bad}");
        }
    }

    #[test]
    fn std_requires_padding_and_canonical_bits() {
        assert_eq!(decode_std("Zm9vYg==", "t").unwrap(), b"foob");
        for bad in ["Zm9vYg", "Zm9vYh==", "-_8="] {
            assert!(decode_std(bad, "t").is_err(), "{bad}");
        }
    }
}
