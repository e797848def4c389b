//! The TA data of an InstallTA or UpdateTA payload (`ciphertadata`,
//! `ciphernewtadata`, sections 9.3.1.1 and 9.3.2.1) read in place: almost
//! all of such a payload is that one BASE64 string, so instead of copying
//! it into a JSON tree and decoding the copy, it is decoded where it lies
//! and the payload's own buffer becomes the member's bytes. The rest of the
//! payload is parsed strictly as usual, with the member's value replaced by
//! an empty string.

use alloc::vec::Vec;
use core::ops::Range;

use super::MessageError;
use super::json::{Path, invalid};
use super::limits::member_start;
use crate::jose::b64;

/// A TA payload split in two: the rest (the payload with the member's
/// value `""`) and the member's decoded bytes.
pub(crate) struct Split {
    pub(crate) rest: Vec<u8>,
    pub(crate) data: Vec<u8>,
}

/// Where `<tbs>.encrypted_ta.<member>` is, as a JSON string without
/// escapes: the span of its text between the quotes. The payload is
/// descended member by member, and the string (nearly all of it) read
/// once, to its closing quote.
fn locate(payload: &[u8], tbs: &str, member: &str) -> Option<Range<usize>> {
    let mut at = 0;
    // Each level's value must be what the path needs (an object, then the
    // string), or the next search would run on past it.
    for (name, opens) in [(tbs, b'{'), ("encrypted_ta", b'{'), (member, b'"')] {
        at += member_start(payload.get(at..)?, name)?;
        if payload.get(at) != Some(&opens) {
            return None;
        }
    }
    let start = at.checked_add(1)?;
    let text = payload.get(start..)?;
    match memchr::memchr2(b'\\', b'"', text) {
        Some(len) if text.get(len) == Some(&b'"') => Some(start..start + len),
        _ => None,
    }
}

/// Splits `payload` at `<tbs>.encrypted_ta.<member>`. Gives the payload
/// back untouched (`Err`) when the member is not a plain string there, for
/// the regular parse to read (and to report what is wrong).
pub(crate) fn split(payload: Vec<u8>, tbs: &str, member: &str) -> Result<Split, Vec<u8>> {
    let Some(span) = locate(&payload, tbs, member) else {
        return Err(payload);
    };
    let (Some(head), Some(tail)) = (payload.get(..span.start), payload.get(span.end..)) else {
        return Err(payload);
    };
    let rest = [head, tail].concat();
    let mut data = payload;
    // The TA data is moved to the front of the buffer (a memmove, no
    // allocation) and the buffer shrunk to it.
    data.truncate(span.end);
    data.drain(..span.start);
    Ok(Split { rest, data })
}

/// Decodes OTrP BASE64 (padded standard base64, or unpadded base64url, as
/// `Base64Bytes` accepts) in place in `data`, which then holds exactly the
/// decoded bytes. `path` names the member in the error.
pub(crate) fn decode(data: &mut Vec<u8>, path: &Path<'_>) -> Result<(), MessageError> {
    let url = memchr::memchr2(b'-', b'_', data).is_some() || !data.len().is_multiple_of(4);
    let len = data.len();
    let n = if url {
        b64::decode_url_in_place(data, 0..len, "base64url")
    } else {
        b64::decode_std_in_place(data, 0..len, "base64")
    }
    .map_err(|_| invalid(path, "not base64 or base64url"))?;
    data.truncate(n);
    data.shrink_to_fit();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(data: &str) -> Vec<u8> {
        alloc::format!(
            r#"{{"InstallTATBSRequest":{{"ver":"1.0","encrypted_ta":{{"key":{{"a":"b"}},"ciphertadata":{data},"iv":"x"}}}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn splits_and_decodes_in_place() {
        let text = b64::encode_std(b"the TA data, encrypted");
        let Ok(mut s) = split(
            payload(&alloc::format!("\"{text}\"")),
            "InstallTATBSRequest",
            "ciphertadata",
        ) else {
            panic!("not split");
        };
        assert_eq!(s.rest, payload("\"\""));
        decode(&mut s.data, &Path::Root("x")).unwrap();
        assert_eq!(s.data, b"the TA data, encrypted");
        // base64url without padding is accepted as well.
        let mut url = b64::encode_url(b"\xfb\xff data").into_bytes();
        decode(&mut url, &Path::Root("x")).unwrap();
        assert_eq!(url, b"\xfb\xff data");
        let mut bad = b"Zm9v!".to_vec();
        assert!(matches!(
            decode(&mut bad, &Path::Root("x")),
            Err(MessageError::Invalid { .. })
        ));
    }

    #[test]
    fn anything_but_a_plain_string_is_left_to_the_parse() {
        for value in ["\"a\\/b\"", "12", "{\"x\":1}", "null"] {
            let p = payload(value);
            assert_eq!(
                split(p.clone(), "InstallTATBSRequest", "ciphertadata").err(),
                Some(p)
            );
        }
        // A level that is not an object is not searched past its end.
        let p = br#"{"InstallTATBSRequest":"x","o":{"encrypted_ta":{"ciphertadata":"AAAA"}}}"#;
        assert!(split(p.to_vec(), "InstallTATBSRequest", "ciphertadata").is_err());
        let p = br#"{"InstallTATBSRequest":{"encrypted_ta":[{"ciphertadata":"AAAA"}]}}"#;
        assert!(split(p.to_vec(), "InstallTATBSRequest", "ciphertadata").is_err());
        let p = payload("\"AAAA\"");
        assert!(split(p.clone(), "UpdateTATBSRequest", "ciphertadata").is_err());
        assert!(split(p, "InstallTATBSRequest", "ciphernewtadata").is_err());
    }
}
