//! Input limits and the cheap byte pre-scan that enforces them before any
//! JSON parsing.

use core::ops::Range;

use super::MessageError;

/// Size and nesting limits for untrusted input, checked before parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest InstallTA or UpdateTA message (they carry a whole TA binary).
    pub max_ta_message_size: usize,
    /// Largest message of any other kind, and of any decrypted plaintext.
    pub max_message_size: usize,
    /// Deepest JSON nesting of objects and arrays.
    pub max_depth: usize,
}

impl Limits {
    /// 64 MiB for InstallTA/UpdateTA, 256 KiB for the rest, depth 32.
    pub const DEFAULT: Limits = Limits {
        max_ta_message_size: 64 * 1024 * 1024,
        max_message_size: 256 * 1024,
        max_depth: 32,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// What the pre-scan learned: the byte range of the first member name of the
/// top-level object (without quotes, still escaped), if there is one.
pub(crate) struct Scan {
    pub first_key: Option<Range<usize>>,
}

/// Checks `bytes.len() <= max` and the nesting depth, in one pass that
/// respects JSON strings and escapes. Malformed JSON is left to the parser.
pub(crate) fn prescan(bytes: &[u8], max: usize, max_depth: usize) -> Result<Scan, MessageError> {
    if bytes.len() > max {
        return Err(MessageError::TooLarge {
            size: bytes.len(),
            limit: max,
        });
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut string_start = 0usize;
    let mut first_key = None;
    let mut seen_top_object = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
                if depth == 1 && seen_top_object && first_key.is_none() {
                    first_key = Some(string_start..i);
                }
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                string_start = i + 1;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return Err(MessageError::TooDeep { limit: max_depth });
                }
                if depth == 1 && b == b'{' {
                    seen_top_object = true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(Scan { first_key })
}

/// The byte range of the value of top-level member `name` in a JSON object
/// that has already been parsed successfully (so it is well-formed). Keys
/// with escapes are compared after unescaping.
pub(crate) fn member_span(bytes: &[u8], name: &str) -> Option<Range<usize>> {
    let mut depth = 0usize;
    let mut i = 0usize;
    // At depth 1: after `{` or `,` a key follows; after `:` a value.
    let mut expect_key = false;
    let mut matched = false;
    let mut value_start: Option<usize> = None;
    while i < bytes.len() {
        let b = *bytes.get(i)?;
        match b {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() {
                    match bytes.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                if depth == 1 && expect_key {
                    let raw = bytes.get(start..=i)?;
                    matched = key_equals(raw, name);
                    expect_key = false;
                } else if depth == 1 && matched && value_start.is_none() {
                    value_start = Some(start);
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth == 1 {
                    expect_key = true;
                } else if depth == 2 && matched && value_start.is_none() {
                    value_start = Some(i);
                }
            }
            b'}' | b']' => {
                if depth == 1 {
                    return end_span(bytes, value_start, i);
                }
                depth = depth.saturating_sub(1);
            }
            b',' if depth == 1 => {
                if let Some(span) = end_span(bytes, value_start, i) {
                    return Some(span);
                }
                expect_key = true;
                matched = false;
            }
            b' ' | b'\t' | b'\r' | b'\n' | b':' => {}
            _ => {
                if depth == 1 && matched && value_start.is_none() {
                    value_start = Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

fn end_span(bytes: &[u8], start: Option<usize>, end: usize) -> Option<Range<usize>> {
    let start = start?;
    let mut end = end;
    while end > start && matches!(bytes.get(end - 1), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        end -= 1;
    }
    Some(start..end)
}

fn key_equals(raw_with_quotes: &[u8], name: &str) -> bool {
    if !raw_with_quotes.contains(&b'\\') {
        return raw_with_quotes.get(1..raw_with_quotes.len().saturating_sub(1))
            == Some(name.as_bytes());
    }
    serde_json::from_slice::<alloc::string::String>(raw_with_quotes)
        .map(|k| k == name)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_only_outside_strings() {
        assert!(prescan(br#"{"a":"[[[[[[\"[[["}"#, 100, 2).is_ok());
        assert_eq!(
            prescan(b"[[[]]]", 100, 2).err(),
            Some(MessageError::TooDeep { limit: 2 })
        );
        assert!(matches!(
            prescan(b"{}", 1, 2),
            Err(MessageError::TooLarge { size: 2, limit: 1 })
        ));
    }

    #[test]
    fn first_key_is_found() {
        let text = br#" { "Cre\"ate" : {"x":1} }"#;
        let scan = prescan(text, 100, 4).unwrap();
        assert_eq!(&text[scan.first_key.unwrap()], br#"Cre\"ate"#);
    }

    #[test]
    fn member_span_finds_exact_value_bytes() {
        let text = br#"{"did":"x,}" , "dsi" : { "a" : [1,{"b":"}"}] } , "z":2}"#;
        let span = member_span(text, "dsi").unwrap();
        assert_eq!(&text[span], br#"{ "a" : [1,{"b":"}"}] }"#);
        let text = br#"{"a":1,"dsi":true}"#;
        assert_eq!(&text[member_span(text, "dsi").unwrap()], b"true");
        let text = br#"{"\u0064si":"v"}"#;
        assert_eq!(&text[member_span(text, "dsi").unwrap()], br#""v""#);
        assert!(member_span(br#"{"a":{"dsi":1}}"#, "dsi").is_none());
    }
}
