//! Input limits (checked by the parse itself: the size before it starts,
//! the depth as it goes, `json::parse_value`), and [`member_span`], the byte
//! range of a member's value in an already parsed object.

use core::ops::Range;

/// Size and nesting limits for untrusted input: the size is checked before
/// parsing, the nesting during it.
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

/// The byte range of the value of top-level member `name` in a JSON object
/// that has already been parsed successfully (so it is well-formed). Keys
/// with escapes are compared after unescaping.
pub(crate) fn member_span(bytes: &[u8], name: &str) -> Option<Range<usize>> {
    find_member(bytes, name, true)
}

/// Where the value of top-level member `name` starts in a JSON object that
/// has already been parsed successfully: [`member_span`] without reading
/// the value to its end, to descend into it.
pub(crate) fn member_start(bytes: &[u8], name: &str) -> Option<usize> {
    find_member(bytes, name, false).map(|span| span.start)
}

/// [`member_span`], or with `to_end` false an empty range where the value
/// starts.
fn find_member(bytes: &[u8], name: &str, to_end: bool) -> Option<Range<usize>> {
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
                if !to_end && depth == 1 && matched && !expect_key {
                    return Some(start..start);
                }
                i += 1;
                // To the closing quote, skipping escapes (memchr: a TA's
                // data is one string of megabytes).
                // An unterminated string ends the search.
                loop {
                    i += memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
                    if bytes.get(i) == Some(&b'"') {
                        break;
                    }
                    i += 2;
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
        if let (false, Some(start)) = (to_end, value_start) {
            return Some(start..start);
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
    super::json::key_text(raw_with_quotes).is_some_and(|key| key == name)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Escaped quotes and backslashes inside strings, and unterminated
        // strings.
        let text = br#"{"a":"x\\","b":"q\"}","dsi":"v\\\""}"#;
        assert_eq!(&text[member_span(text, "dsi").unwrap()], br#""v\\\"""#);
        assert!(member_span(br#"{"dsi":"v"#, "dsi").is_none());
        assert!(member_span(br#"{"a":"x\"#, "dsi").is_none());
    }

    #[test]
    fn member_start_is_where_member_span_starts() {
        let texts: [&[u8]; 4] = [
            br#"{"did":"x,}" , "dsi" : { "a" : [1,{"b":"}"}] } , "z":2, "s" : "t\"u"}"#,
            br#"{"a":1,"dsi":true,"q":[1,2],"r":null}"#,
            br#"{"\u0064si":"v","a":{"dsi":1}}"#,
            br#"{"a":"x\","b":"q\"}","dsi":"v\\\""}"#,
        ];
        for text in texts {
            for name in ["did", "dsi", "z", "s", "a", "b", "q", "r", "absent"] {
                assert_eq!(
                    member_start(text, name),
                    member_span(text, name).map(|span| span.start),
                    "{name} in {}",
                    alloc::string::String::from_utf8_lossy(text)
                );
            }
        }
        // Only the value's first byte is needed: a string is not read to
        // its end.
        assert_eq!(member_start(br#"{"dsi":"unterminated"#, "dsi"), Some(7));
    }
}
