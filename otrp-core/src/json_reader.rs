//! Strict JSON input (RFC 8259) as a serde `Deserializer` over bytes: the
//! values `serde_json::from_slice` reads, with string text scanned 32 bytes
//! at a time ([`plain_len`]) instead of eight.
//!
//! An OTrP message is mostly long base64 strings (the JWS payload, the JWE
//! ciphertext inside it, certificates); finding their ends cost serde_json
//! about two instructions a byte, on every message both sides read.
//! Values follow serde_json: numbers (floats are parsed by serde_json
//! itself), escapes and the surrogate rules, the recursion limit, enums,
//! and `RawValue` through serde_json's own token. The tests below hold the
//! two readers to the same answers on valid, invalid and random input.
//! Errors are `serde_json::Error`s, so callers keep their mapping.
//!
//! Where the two differ, this reader refuses what serde_json lets through
//! unread or reads into types no OTrP message has (tests pin each case):
//! - an ignored member (one a struct does not name) is read like any other
//!   value: invalid UTF-8, a lone surrogate escape, a number out of range
//!   or nesting past 127 levels in it is refused, where serde_json skips it
//!   unchecked; a raw value's nesting is limited the same way;
//! - map keys are text only (serde_json also reads numbers and booleans out
//!   of quoted keys), integers beyond 64 bits are read as floats (as
//!   without serde_json's `arbitrary_precision`, but also for `u128` and
//!   `i128`), and byte buffers are read as text.

use alloc::vec::Vec;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Error as _, IntoDeserializer, MapAccess,
    SeqAccess, VariantAccess, Visitor,
};
use serde_json::Error;

use crate::json_text::{RAW_VALUE_TOKEN, plain_len};

/// serde_json's recursion limit: at most 127 arrays and objects open at
/// once, which bounds the stack on hostile input.
const NESTING: u8 = 128;

/// `T` read from `input`, which must hold one JSON value and white space.
pub(crate) fn from_slice<'de, T: de::Deserialize<'de>>(input: &'de [u8]) -> Result<T, Error> {
    let mut reader = Reader::new(input);
    let value = T::deserialize(&mut reader)?;
    reader.end()?;
    Ok(value)
}

/// The reader: a position in the input, and a buffer for strings with
/// escapes (strings without are borrowed from the input).
pub(crate) struct Reader<'de> {
    input: &'de [u8],
    pos: usize,
    scratch: Vec<u8>,
    nesting_left: u8,
}

/// Where a number's parts lie in the input.
struct Number {
    start: usize,
    negative: bool,
    digits: core::ops::Range<usize>,
    integer: bool,
}

/// A string's text: borrowed from the input, or unescaped into the scratch
/// buffer.
enum Text<'de, 's> {
    Input(&'de str),
    Scratch(&'s str),
}

impl<'de> Reader<'de> {
    /// A reader at the start of `input`.
    pub(crate) fn new(input: &'de [u8]) -> Self {
        Reader {
            input,
            pos: 0,
            scratch: Vec::new(),
            nesting_left: NESTING,
        }
    }

    /// Refuses anything but white space after the value read.
    pub(crate) fn end(&mut self) -> Result<(), Error> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters")),
        }
    }

    fn error(&self, what: &str) -> Error {
        Error::custom(format_args!("{what} at byte {}", self.pos))
    }

    /// The next byte that is not white space, left unread.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.input.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// The first byte of the next value.
    fn peek_value(&mut self) -> Result<u8, Error> {
        self.peek()
            .ok_or_else(|| self.error("EOF while parsing a value"))
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        let end = self.pos + word.len();
        if self.input.get(self.pos..end) != Some(word) {
            return Err(self.error("expected value"));
        }
        self.pos = end;
        Ok(())
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.nesting_left -= 1;
        if self.nesting_left == 0 {
            self.nesting_left += 1;
            return Err(self.error("recursion limit exceeded"));
        }
        self.pos += 1;
        Ok(())
    }

    /// Closes the container entered: `close` must follow, after white space.
    fn leave<T>(&mut self, value: Result<T, Error>, close: u8) -> Result<T, Error> {
        self.nesting_left += 1;
        let value = value?;
        match self.peek() {
            Some(b) if b == close => {
                self.pos += 1;
                Ok(value)
            }
            Some(b',') => Err(self.error("trailing comma or extra elements")),
            Some(_) => Err(self.error("expected the container's end")),
            None => Err(self.error("EOF while parsing a container")),
        }
    }

    /// The string whose opening quote is at the position.
    fn string(&mut self) -> Result<Text<'de, '_>, Error> {
        let input = self.input;
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let rest = input.get(self.pos..).unwrap_or_default();
            let run = plain_len(rest);
            if escaped {
                self.scratch
                    .extend_from_slice(rest.get(..run).unwrap_or_default());
            }
            self.pos += run;
            match input.get(self.pos) {
                Some(b'"') => break,
                Some(b'\\') => {
                    if !escaped {
                        escaped = true;
                        self.scratch.clear();
                        self.scratch
                            .extend_from_slice(input.get(start..self.pos).unwrap_or_default());
                    }
                    self.pos += 1;
                    self.escape()?;
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("EOF while parsing a string")),
            }
        }
        let end = self.pos;
        self.pos += 1;
        let not_utf8 =
            |_| Error::custom(format_args!("invalid UTF-8 in the string at byte {start}"));
        if escaped {
            core::str::from_utf8(&self.scratch)
                .map(Text::Scratch)
                .map_err(not_utf8)
        } else {
            core::str::from_utf8(input.get(start..end).unwrap_or_default())
                .map(Text::Input)
                .map_err(not_utf8)
        }
    }

    /// One escape, after its backslash, unescaped into the scratch buffer.
    fn escape(&mut self) -> Result<(), Error> {
        let Some(&b) = self.input.get(self.pos) else {
            return Err(self.error("EOF while parsing a string"));
        };
        self.pos += 1;
        let byte = match b {
            b'"' | b'\\' | b'/' => b,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => return self.unicode_escape(),
            _ => return Err(self.error("invalid escape")),
        };
        self.scratch.push(byte);
        Ok(())
    }

    /// `\uXXXX`, or a surrogate pair of two; a lone surrogate is refused.
    fn unicode_escape(&mut self) -> Result<(), Error> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.input.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(self.error("lone leading surrogate in hex escape"));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("lone leading surrogate in hex escape"));
                }
                0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("lone trailing surrogate in hex escape")),
            _ => u32::from(first),
        };
        let c = char::from_u32(code).ok_or_else(|| self.error("invalid code point"))?;
        let mut utf8 = [0u8; 4];
        self.scratch
            .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16, Error> {
        let digits = self
            .input
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("EOF while parsing a string"))?;
        let mut n = 0u16;
        for &d in digits {
            let v = char::from(d)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid escape"))?;
            n = n << 4 | v as u16;
        }
        self.pos += 4;
        Ok(n)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.input.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Scans a number (RFC 8259, section 6): whether it is negative, its
    /// integer digits, and whether it has a fraction or an exponent.
    fn scan_number(&mut self) -> Result<Number, Error> {
        let input = self.input;
        let start = self.pos;
        let negative = input.get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        match input.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        let int_end = self.pos;
        let mut integer = true;
        if input.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
            integer = false;
        }
        if matches!(input.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(input.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
            integer = false;
        }
        Ok(Number {
            start,
            negative,
            digits: int_start..int_end,
            integer,
        })
    }

    /// A number, visited as serde_json visits it: a `u64`, a negative
    /// `i64`, else (fractions, exponents, integers out of range, `-0`) the
    /// `f64` serde_json itself parses from the text.
    fn number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        let number = self.scan_number()?;
        let input = self.input;
        if number.integer {
            let magnitude = input
                .get(number.digits)
                .unwrap_or_default()
                .iter()
                .try_fold(0u64, |n, &d| {
                    n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
                });
            match (number.negative, magnitude) {
                (false, Some(m)) => return visitor.visit_u64(m),
                (true, Some(m)) if m != 0 => {
                    if let Some(n) = 0i64.checked_sub_unsigned(m) {
                        return visitor.visit_i64(n);
                    }
                }
                _ => {}
            }
        }
        let text = input.get(number.start..self.pos).unwrap_or_default();
        let f: f64 = serde_json::from_slice(text).map_err(|_| self.error("number out of range"))?;
        visitor.visit_f64(f)
    }

    /// Skips one value, checked as strictly as a read but building nothing:
    /// escapes are checked, not kept, and strings are not validated as
    /// UTF-8 one by one (the caller validates the whole span once).
    fn skip_value(&mut self) -> Result<(), Error> {
        match self.peek_value()? {
            b'n' => self.literal(b"null"),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'"' => self.skip_string(),
            b'[' => {
                self.enter()?;
                let skipped = self.skip_items(b']', false);
                self.leave(skipped, b']')
            }
            b'{' => {
                self.enter()?;
                let skipped = self.skip_items(b'}', true);
                self.leave(skipped, b'}')
            }
            b'-' | b'0'..=b'9' => self.scan_number().map(drop),
            _ => Err(self.error("expected value")),
        }
    }

    /// The elements of an array or the members of an object, up to (not
    /// including) `close`.
    fn skip_items(&mut self, close: u8, members: bool) -> Result<(), Error> {
        let mut first = true;
        while self.next_item(&mut first, close, members)? {
            if members {
                self.skip_string()?;
                self.colon()?;
            }
            self.skip_value()?;
        }
        Ok(())
    }

    /// The `:` between a member's name and its value.
    fn colon(&mut self) -> Result<(), Error> {
        if self.peek() != Some(b':') {
            return Err(self.error("expected `:`"));
        }
        self.pos += 1;
        Ok(())
    }

    /// Moves to the next element or member of the container being read:
    /// `false` at its end (left unread, for [`Reader::leave`]), else past
    /// the comma before it. A member must start with its name.
    fn next_item(&mut self, first: &mut bool, close: u8, members: bool) -> Result<bool, Error> {
        match self.peek() {
            Some(b) if b == close => return Ok(false),
            Some(b',') if !*first => self.pos += 1,
            Some(_) if *first => {}
            Some(_) => return Err(self.error("expected `,` or the container's end")),
            None => return Err(self.error("EOF while parsing a container")),
        }
        *first = false;
        if members && self.peek() != Some(b'"') {
            return Err(self.error("expected a member name"));
        }
        Ok(true)
    }

    /// Skips the string whose opening quote is at the position.
    fn skip_string(&mut self) -> Result<(), Error> {
        self.pos += 1;
        loop {
            self.pos += plain_len(self.input.get(self.pos..).unwrap_or_default());
            match self.input.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    // Any four hex digits after `\u`, as serde_json skips
                    // them: whether a surrogate is lone is for the read of
                    // the text that follows.
                    self.pos += 1;
                    if self.input.get(self.pos) == Some(&b'u') {
                        self.pos += 1;
                        self.hex4()?;
                    } else {
                        self.escape()?;
                        self.scratch.clear();
                    }
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("EOF while parsing a string")),
            }
        }
    }

    fn visit_text<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        match self.string()? {
            Text::Input(s) => visitor.visit_borrowed_str(s),
            Text::Scratch(s) => visitor.visit_str(s),
        }
    }
}

impl<'de> Deserializer<'de> for &mut Reader<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek_value()? {
            b'n' => {
                self.literal(b"null")?;
                visitor.visit_unit()
            }
            b't' => {
                self.literal(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                visitor.visit_bool(false)
            }
            b'"' => self.visit_text(visitor),
            b'[' => {
                self.enter()?;
                let value = visitor.visit_seq(Seq {
                    reader: &mut *self,
                    first: true,
                });
                self.leave(value, b']')
            }
            b'{' => {
                self.enter()?;
                let value = visitor.visit_map(Map {
                    reader: &mut *self,
                    first: true,
                });
                self.leave(value, b'}')
            }
            b'-' | b'0'..=b'9' => self.number(visitor),
            _ => Err(self.error("expected value")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek_value()? == b'n' {
            self.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name != RAW_VALUE_TOKEN {
            return visitor.visit_newtype_struct(self);
        }
        self.peek_value()?;
        let start = self.pos;
        self.skip_value()?;
        let raw = self.input.get(start..self.pos).unwrap_or_default();
        let raw = core::str::from_utf8(raw).map_err(|_| self.error("invalid UTF-8"))?;
        visitor.visit_map(RawMap(Some(raw)))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.peek_value()? {
            b'"' => match self.string()? {
                Text::Input(s) => visitor.visit_enum(BorrowedStrDeserializer::new(s)),
                Text::Scratch(s) => {
                    visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(s))
                }
            },
            b'{' => {
                self.enter()?;
                let value = visitor.visit_enum(Variant { reader: &mut *self });
                self.leave(value, b'}')
            }
            _ => Err(self.error("expected an enum: a string or an object")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// The elements of an array.
struct Seq<'a, 'de> {
    reader: &'a mut Reader<'de>,
    first: bool,
}

impl<'de> SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if !self.reader.next_item(&mut self.first, b']', false)? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

/// The members of an object.
struct Map<'a, 'de> {
    reader: &'a mut Reader<'de>,
    first: bool,
}

impl<'de> MapAccess<'de> for Map<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if !self.reader.next_item(&mut self.first, b'}', true)? {
            return Ok(None);
        }
        seed.deserialize(Key {
            reader: &mut *self.reader,
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.reader.colon()?;
        seed.deserialize(&mut *self.reader)
    }
}

/// A member name (always a string; the position is at its quote).
struct Key<'a, 'de> {
    reader: &'a mut Reader<'de>,
}

impl<'de> Deserializer<'de> for Key<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.reader.visit_text(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.reader.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// An enum written as `{"<variant>": <content>}`.
struct Variant<'a, 'de> {
    reader: &'a mut Reader<'de>,
}

impl<'de> EnumAccess<'de> for Variant<'_, 'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        if self.reader.peek() != Some(b'"') {
            return Err(self.reader.error("expected a variant name"));
        }
        let variant = seed.deserialize(Key {
            reader: &mut *self.reader,
        })?;
        self.reader.colon()?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for Variant<'_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(self.reader)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self.reader)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.reader.deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.reader.deserialize_any(visitor)
    }
}

/// The one-member map through which `RawValue` takes its text.
struct RawMap<'de>(Option<&'de str>);

impl<'de> MapAccess<'de> for RawMap<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.0.is_none() {
            return Ok(None);
        }
        seed.deserialize(BorrowedStrDeserializer::new(RAW_VALUE_TOKEN))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let raw = self
            .0
            .take()
            .ok_or_else(|| Error::custom("raw JSON text read twice"))?;
        seed.deserialize(BorrowedStrDeserializer::new(raw))
    }
}

#[cfg(test)]
mod tests {
    use alloc::borrow::Cow;
    use alloc::boxed::Box;
    use alloc::string::String;
    use alloc::vec;

    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::Value;
    use serde_json::value::RawValue;

    use super::*;

    /// Both readers accept `input` or both refuse it, and agree on the value.
    fn same(input: &[u8]) {
        let theirs = serde_json::from_slice::<Value>(input).ok();
        let ours = from_slice::<Value>(input).ok();
        assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(input));
    }

    /// The same for `input` read as raw JSON text inside an object.
    fn same_raw(input: &[u8]) {
        #[derive(Deserialize)]
        struct Raw<'a> {
            #[serde(borrow)]
            raw: &'a RawValue,
        }
        let text = [&br#"{"raw": "#[..], input, b" }"].concat();
        let theirs = serde_json::from_slice::<Raw<'_>>(&text)
            .ok()
            .map(|r| r.raw.get());
        let ours = from_slice::<Raw<'_>>(&text).ok().map(|r| r.raw.get());
        assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(input));
    }

    #[test]
    fn accepts_and_refuses_what_serde_json_does() {
        let cases: &[&[u8]] = &[
            b"",
            b" ",
            b"null",
            b" null ",
            b"nul",
            b"nulll",
            b"true",
            b"false",
            b"tru",
            b"0",
            b"-0",
            b"01",
            b"-01",
            b"1.",
            b".5",
            b"-",
            b"+1",
            b"1e",
            b"1e+",
            b"1E5",
            b"-1.5e-3",
            b"1.0",
            b"18446744073709551615",
            b"18446744073709551616",
            b"-9223372036854775808",
            b"-9223372036854775809",
            b"1e400",
            b"-1e400",
            b"123456789012345678901234567890",
            b"0.1e-400",
            b"2.5E+3",
            b"1 2",
            br#""""#,
            br#""abc""#,
            br#""a\"b""#,
            br#""\/\\\"\b\f\n\r\t""#,
            br#""\u0041\u00e9\u20AC""#,
            br#""\uD83D\uDE00""#,
            br#""\uD83D""#,
            br#""\uD83Dx""#,
            br#""\uD83D\u0041""#,
            br#""\uDE00""#,
            br#""\u12""#,
            br#""\u12G4""#,
            br#""\x""#,
            br#""\""#,
            br#""abc"#,
            b"\"a\x01b\"",
            b"\"a\x7fb\"",
            b"\"\xc3\xa9\"",
            b"\"\xc3\"",
            b"\"\xff\"",
            b"\"\xed\xa0\x80\"",
            b"\"\xc3\\n\xa9\"",
            "\"\u{10348} caf\u{e9}\"".as_bytes(),
            b"[]",
            b"[ ]",
            b"[1,2]",
            b"[1,]",
            b"[,1]",
            b"[1 2]",
            b"[",
            b"]",
            b"[1",
            b"{}",
            b"{ }",
            br#"{"a":1}"#,
            br#"{"a":1,}"#,
            br#"{,"a":1}"#,
            br#"{"a" 1}"#,
            br#"{"a":}"#,
            br#"{a:1}"#,
            br#"{1:1}"#,
            br#"{"a":1 "b":2}"#,
            br#"{"a":1,"a":2}"#,
            br#"{"a":[{"b":null}],"c":{"d":[true,false,-1.25]}}"#,
            br#"{"a""#,
            b" \t\r\n[ 1 , { \"x\" : \"y\" } ] \n",
            b"\xef\xbb\xbf{}",
            b"{}x",
            b"{} {}",
            b"\x0c{}",
            b"[1e5,-0.0,0e0,1E-2]",
        ];
        for case in cases {
            same(case);
            same_raw(case);
        }
        for depth in [1, 126, 127, 128, 200] {
            same(&[b"[".repeat(depth), b"]".repeat(depth)].concat());
            same(&[br#"{"a":"#.repeat(depth), b"1".to_vec(), b"}".repeat(depth)].concat());
        }
    }

    #[test]
    fn every_escape_and_control_byte_in_every_position() {
        for b in 0u8..=0x7f {
            for len in [0, 1, 31, 32, 33, 64, 70] {
                for at in [0, len / 2, len] {
                    let mut text = vec![b'x'; len];
                    text.insert(at, b);
                    same(&[b"\"", &text[..], b"\""].concat());
                    let escaped = format!("\\u{b:04x}");
                    let mut text = vec![b'x'; len];
                    text.splice(at..at, escaped.bytes());
                    same(&[b"\"", &text[..], b"\""].concat());
                }
            }
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(u8, String),
        Struct { a: i64 },
    }

    #[derive(Debug, Deserialize)]
    struct Typed<'a> {
        #[serde(borrow)]
        text: Cow<'a, str>,
        number: Option<u32>,
        shapes: Vec<Shape>,
        #[serde(borrow)]
        raw: &'a RawValue,
        boxed: Box<RawValue>,
        #[serde(default)]
        absent: Option<String>,
    }

    impl Typed<'_> {
        fn parts(&self) -> (&str, Option<u32>, &[Shape], &str, &str, Option<&str>) {
            let Typed {
                text,
                number,
                shapes,
                raw,
                boxed,
                absent,
            } = self;
            (
                text,
                *number,
                shapes,
                raw.get(),
                boxed.get(),
                absent.as_deref(),
            )
        }
    }

    #[test]
    fn typed_reads_enums_options_and_raw_text_as_serde_json_does() {
        let input = br#" { "text" : "plain", "number": null,
            "shapes": ["Unit", {"Unit": null}, {"Newtype": 7}, {"Tuple": [1, "x"]},
                       {"Struct": {"a": -3}}],
            "raw" :  { "k" : [1, "\u0041", {}] } , "boxed": "s" , "extra": [[]] } "#;
        let ours: Typed<'_> = from_slice(input).unwrap();
        let theirs: Typed<'_> = serde_json::from_slice(input).unwrap();
        assert_eq!(ours.raw.get(), r#"{ "k" : [1, "\u0041", {}] }"#);
        assert!(matches!(ours.text, Cow::Borrowed("plain")));
        assert_eq!(ours.parts(), theirs.parts());
        for bad in [
            &br#"{"text":"","number":1,"shapes":["Newtype"],"raw":1,"boxed":1}"#[..],
            br#"{"text":"","number":1,"shapes":[{"Unit":1}],"raw":1,"boxed":1}"#,
            br#"{"text":"","number":1,"shapes":[{"Struct":{"a":1},"x":1}],"raw":1,"boxed":1}"#,
            br#"{"text":"","number":1,"shapes":[],"raw":[1,],"boxed":1}"#,
            br#"{"text":"","text":"","number":1,"shapes":[],"raw":1,"boxed":1}"#,
        ] {
            assert!(serde_json::from_slice::<Typed<'_>>(bad).is_err());
            assert!(
                from_slice::<Typed<'_>>(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn refuses_what_serde_json_lets_through_unread() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct S {
            a: u8,
        }
        let deep = [
            &br#"{"a":1,"b":"#[..],
            &b"[".repeat(200),
            &b"]".repeat(200),
            b"}",
        ]
        .concat();
        for input in [
            &br#"{"a":1,"b":1e400}"#[..],
            br#"{"a":1,"b":"\ud800"}"#,
            b"{\"a\":1,\"b\":\"\xff\"}",
            &deep,
        ] {
            assert!(serde_json::from_slice::<S>(input).is_ok());
            assert!(
                from_slice::<S>(input).is_err(),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
        let keyed = br#"{"1":2}"#;
        assert!(serde_json::from_slice::<alloc::collections::BTreeMap<u32, u8>>(keyed).is_ok());
        assert!(from_slice::<alloc::collections::BTreeMap<u32, u8>>(keyed).is_err());
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e30f64..1e30).prop_map(Value::from),
            "\\PC{0,8}|[\\x00-\\x7f]{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn random_values_read_back_the_same(value in json_value(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_vec_pretty(&value).unwrap()
            } else {
                serde_json::to_vec(&value).unwrap()
            };
            // Compared with serde_json's reading, not with `value`: without
            // its float_roundtrip feature, serde_json may read a float back
            // one unit in the last place away, and floats are its to parse.
            let theirs: Value = serde_json::from_slice(&text).unwrap();
            prop_assert_eq!(from_slice::<Value>(&text).ok(), Some(theirs));
        }

        #[test]
        fn damaged_values_are_refused_or_read_as_serde_json_reads_them(
            value in json_value(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
        ) {
            let mut text = serde_json::to_vec(&value).unwrap();
            for (at, byte, kind) in edits {
                let i = at.index(text.len() + 1);
                match kind {
                    0 => text.insert(i, byte),
                    1 if i < text.len() => { text.remove(i); }
                    _ if i < text.len() => text[i] = byte,
                    _ => text.push(byte),
                }
            }
            same(&text);
            same_raw(&text);
        }

        #[test]
        fn short_texts_over_json_bytes_agree(
            text in prop::collection::vec(prop::sample::select(
                b"{}[]\",:\\/u0189aAdDfFeE.-+ \tnrtulsb\x00\x1f\xc3\xa9\xff".to_vec()), 0..24),
        ) {
            same(&text);
            same_raw(&text);
        }
    }
}
