//! Compact JSON output, byte for byte what `serde_json::to_vec` writes, with
//! a string escaper that copies clean runs whole.
//!
//! serde_json tests every byte of a string through a table and cannot be
//! told that base64 never needs escaping; this writer finds the clean runs
//! with [`json_text::plain_len`](crate::json_text::plain_len), 32 bytes at
//! a time. Numbers, `null`, booleans and the shapes of structs, maps,
//! sequences and enum variants are written exactly as serde_json writes
//! them (tests compare the two).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::ser::{self, Error as _, Serialize};
use serde_json::Error;

use crate::json_text::{RAW_VALUE_TOKEN, plain_len};

/// `value` as compact JSON, the bytes `serde_json::to_vec` gives.
pub(crate) fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(128);
    extend(&mut out, value)?;
    Ok(out)
}

/// Appends `value` as compact JSON to `out` (no intermediate buffer).
pub(crate) fn extend<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(&mut Writer { out })
}

/// `value` as compact JSON text, what `serde_json::to_string` gives.
pub(crate) fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    String::from_utf8(to_vec(value)?).map_err(|_| Error::custom("JSON output not UTF-8"))
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut rest = s.as_bytes();
    while let Some((run, after)) = rest.split_at_checked(plain_len(rest)) {
        out.extend_from_slice(run);
        let Some((&b, after)) = after.split_first() else {
            break;
        };
        write_escape(out, b);
        rest = after;
    }
    out.push(b'"');
}

/// One escaped byte: the short forms serde_json uses, else `\u00XX`.
fn write_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => 0,
    };
    if short != 0 {
        out.extend_from_slice(&[b'\\', short]);
    } else {
        let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
        let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
        out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hi, lo]);
    }
}

/// Appends the decimal digits of `n`.
fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
}

/// Appends what serde_json writes for `value` (floats: its shortest
/// round-trip form, `null` when not finite; 128-bit integers).
fn write_via_serde_json<T: Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    out.extend_from_slice(&serde_json::to_vec(value)?);
    Ok(())
}

/// The serializer: writes into `out`.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// A sequence, map or struct being written: whether its first element is
/// still to come, what closes it (enum variants are written
/// `{"variant":...}`, so theirs close twice), and whether it is serde_json's
/// raw text, whose one field is written verbatim.
struct Compound<'w, 'a> {
    w: &'w mut Writer<'a>,
    first: bool,
    close: &'static [u8],
    raw: bool,
}

impl<'w, 'a> Compound<'w, 'a> {
    fn new(w: &'w mut Writer<'a>, close: &'static [u8]) -> Self {
        Compound {
            w,
            first: true,
            close,
            raw: false,
        }
    }

    fn comma(&mut self) {
        if !self.first {
            self.w.out.push(b',');
        }
        self.first = false;
    }

    fn end(self) -> Result<(), Error> {
        self.w.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        write_i64(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        write_via_serde_json(self.out, &v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        write_u64(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        write_via_serde_json(self.out, &v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        write_via_serde_json(self.out, &v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        write_via_serde_json(self.out, &v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        // serde_json writes bytes as an array of numbers.
        self.out.push(b'[');
        for (i, b) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write_u64(self.out, u64::from(*b));
        }
        self.out.push(b']');
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'w, 'a>, Error> {
        self.out.push(b'[');
        Ok(Compound::new(self, b"]"))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Compound<'w, 'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'w, 'a>, Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":[");
        Ok(Compound::new(self, b"]}"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'w, 'a>, Error> {
        self.out.push(b'{');
        Ok(Compound::new(self, b"}"))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound<'w, 'a>, Error> {
        if name == RAW_VALUE_TOKEN {
            // The raw text's one field is written as it is.
            return Ok(Compound {
                raw: true,
                ..Compound::new(self, b"")
            });
        }
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'w, 'a>, Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":{");
        Ok(Compound::new(self, b"}}"))
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.comma();
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

/// The tuple shapes are written as sequences (their variant's wrapper, if
/// any, was opened by the serializer and is closed by `end`).
macro_rules! as_seq {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                ser::SerializeSeq::serialize_element(self, value)
            }
            fn end(self) -> Result<(), Error> {
                Compound::end(self)
            }
        }
    )*};
}

as_seq!(
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        key.serialize(MapKey { out: self.w.out })?;
        self.w.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if self.raw {
            // serde_json's raw text: its one field, verbatim.
            return value.serialize(RawText { out: self.w.out });
        }
        self.comma();
        write_str(self.w.out, key);
        self.w.out.push(b':');
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

/// A map key: strings as strings; integers, booleans and characters
/// quoted, as serde_json writes them; anything else refused.
struct MapKey<'a> {
    out: &'a mut Vec<u8>,
}

/// The text of a serde_json `RawValue`, appended verbatim.
struct RawText<'a> {
    out: &'a mut Vec<u8>,
}

macro_rules! refuse {
    ($what:literal; $($name:ident($($arg:ty),*)),* $(,)?) => {$(
        fn $name(self, $(_: $arg),*) -> Result<(), Error> {
            Err(Error::custom($what))
        }
    )*};
}

macro_rules! refuse_compounds {
    ($what:literal) => {
        type SerializeSeq = ser::Impossible<(), Error>;
        type SerializeTuple = ser::Impossible<(), Error>;
        type SerializeTupleStruct = ser::Impossible<(), Error>;
        type SerializeTupleVariant = ser::Impossible<(), Error>;
        type SerializeMap = ser::Impossible<(), Error>;
        type SerializeStruct = ser::Impossible<(), Error>;
        type SerializeStructVariant = ser::Impossible<(), Error>;
        refuse!($what; serialize_f32(f32), serialize_f64(f64), serialize_bytes(&[u8]),
            serialize_none(), serialize_unit(), serialize_unit_struct(&'static str));
        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Error> {
            Err(Error::custom($what))
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self, _: &'static str, _: u32, _: &'static str, _: &T,
        ) -> Result<(), Error> {
            Err(Error::custom($what))
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
            Err(Error::custom($what))
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
            Err(Error::custom($what))
        }
        fn serialize_tuple_struct(
            self, _: &'static str, _: usize,
        ) -> Result<Self::SerializeTupleStruct, Error> {
            Err(Error::custom($what))
        }
        fn serialize_tuple_variant(
            self, _: &'static str, _: u32, _: &'static str, _: usize,
        ) -> Result<Self::SerializeTupleVariant, Error> {
            Err(Error::custom($what))
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
            Err(Error::custom($what))
        }
        fn serialize_struct(
            self, _: &'static str, _: usize,
        ) -> Result<Self::SerializeStruct, Error> {
            Err(Error::custom($what))
        }
        fn serialize_struct_variant(
            self, _: &'static str, _: u32, _: &'static str, _: usize,
        ) -> Result<Self::SerializeStructVariant, Error> {
            Err(Error::custom($what))
        }
    };
}

/// Integer map keys, written quoted as serde_json writes them.
macro_rules! quoted_numbers {
    ($($name:ident($ty:ty)),* $(,)?) => {$(
        fn $name(self, v: $ty) -> Result<(), Error> {
            self.quoted(&v.to_string())
        }
    )*};
}

impl MapKey<'_> {
    fn quoted(self, text: &str) -> Result<(), Error> {
        self.out.push(b'"');
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(b'"');
        Ok(())
    }
}

impl ser::Serializer for MapKey<'_> {
    type Ok = ();
    type Error = Error;
    refuse_compounds!("key must be a string");

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.quoted(if v { "true" } else { "false" })
    }
    quoted_numbers!(
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128)
    );
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
}

impl ser::Serializer for RawText<'_> {
    type Ok = ();
    type Error = Error;
    refuse_compounds!("raw JSON text must be a string");
    refuse!("raw JSON text must be a string";
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_i128(i128), serialize_u8(u8), serialize_u16(u16),
        serialize_u32(u32), serialize_u64(u64), serialize_u128(u128), serialize_char(char));

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.out.extend_from_slice(v.as_bytes());
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Error> {
        Err(Error::custom("raw JSON text must be a string"))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(Error::custom("raw JSON text must be a string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::format;
    use alloc::vec;
    use serde::Serialize;
    use serde_json::Value;
    use serde_json::value::RawValue;

    fn same<T: Serialize + ?Sized>(value: &T) {
        assert_eq!(
            to_vec(value).unwrap(),
            serde_json::to_vec(value).unwrap(),
            "{}",
            serde_json::to_string(value).unwrap()
        );
    }

    #[test]
    fn every_byte_in_every_position_is_escaped_as_serde_json_escapes_it() {
        for b in 0u8..=0x7f {
            for len in [1, 31, 32, 33, 64, 70] {
                for at in [0, len / 2, len - 1] {
                    let mut text = vec![b'A'; len];
                    if let Some(slot) = text.get_mut(at) {
                        *slot = b;
                    }
                    same(core::str::from_utf8(&text).unwrap());
                }
            }
        }
        same("é \u{2028} 😀 \u{7f} \"\\\" \u{0}\u{1f}");
    }

    #[derive(Serialize)]
    enum E {
        Unit,
        New(u8),
        Tuple(i32, bool),
        Struct { a: Option<u64>, b: &'static str },
    }

    #[derive(Serialize)]
    struct S<'a> {
        n: i64,
        m: u64,
        f: f64,
        nan: f32,
        big: i128,
        c: char,
        bytes: &'a [u8],
        opt: Option<()>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        list: Vec<E>,
        tuple: (u8, &'a str),
        unit: (),
        keyed: BTreeMap<u32, bool>,
        bools: BTreeMap<bool, u8>,
        raw: &'a RawValue,
    }

    #[test]
    fn shapes_and_numbers_are_written_as_serde_json_writes_them() {
        let raw: Box<RawValue> = serde_json::from_str(r#"{ "x" : [1, 2] }"#).unwrap();
        same(&S {
            n: i64::MIN,
            m: u64::MAX,
            f: 0.1,
            nan: f32::NAN,
            big: -(1 << 100),
            c: '\n',
            bytes: &[0, 9, 255],
            opt: Some(()),
            skipped: None,
            list: vec![
                E::Unit,
                E::New(7),
                E::Tuple(-1, true),
                E::Struct { a: None, b: "q\"" },
            ],
            tuple: (0, ""),
            unit: (),
            keyed: [(1, true), (20, false)].into_iter().collect(),
            bools: [(true, 1)].into_iter().collect(),
            raw: &raw,
        });
        let value: Value = serde_json::from_str(
            r#"{"a":[1,-2,3.5,1e300,null,true,{"b":"\u0001x"}],"":{},"c":[]}"#,
        )
        .unwrap();
        same(&value);
        for n in [0u64, 9, 10, 99, 100, 12345678901234567890] {
            same(&n);
            same(&format!("{n}"));
        }
        for n in [0i64, -1, -10, i64::MAX] {
            same(&n);
        }
    }

    #[test]
    fn a_map_key_that_is_not_text_or_a_number_is_refused() {
        let map: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into_iter().collect();
        assert!(to_vec(&map).is_err());
        assert!(serde_json::to_vec(&map).is_err());
    }
}
