//! Order-preserving, self-delimiting encoding of values for index keys ("memcomparable").
//!
//! `a < b` in index order iff `encode(a) < encode(b)` as bytes. Type order: null < bool <
//! number < string < bytes. Ints and floats are one numeric domain: `Int(3)` and `Float(3.0)`
//! encode to the same bytes, and a range over numbers returns both.
//!
//! | type   | bytes                                                                          |
//! |--------|--------------------------------------------------------------------------------|
//! | null   | `0x10`                                                                         |
//! | bool   | `0x20`, then `0x00` (false) or `0x01` (true)                                   |
//! | number | `0x30`, 8 bytes: the f64 nearest the value, sign-flipped IEEE big-endian        |
//! |        | (-0.0 written as +0.0), then 8 bytes: `value - nearest` as a sign-flipped i64   |
//! |        | big-endian (non-zero only for ints beyond 2^53, which keeps their exact order) |
//! | string | `0x40`, the UTF-8 bytes with `0x00` written `0x00 0xFF`, then `0x00 0x01`        |
//! | bytes  | `0x50`, the bytes with `0x00` written `0x00 0xFF`, then `0x00 0x01`              |
//!
//! A prefix query encodes the prefix the same way but without the terminator. NaN is never
//! stored (writes and queries refuse it); were it encoded, it would sort after +infinity.
//!
//! Decoding gives the canonical form of a number: an `Int` when the number is integral and fits
//! in an i64, else a `Float`, so `decode(encode(Float(3.0)))` is `Int(3)`, equal in index order.

use byteorder::{BigEndian, ByteOrder};

use crate::error::{corrupt, invalid, Result};
use crate::text::Text;
use crate::value::{Value, ValueRef};

const TAG_NULL: u8 = 0x10;
const TAG_BOOL: u8 = 0x20;
const TAG_NUMBER: u8 = 0x30;
const TAG_STR: u8 = 0x40;
const TAG_BYTES: u8 = 0x50;
const ESCAPE: u8 = 0x00;
const ESCAPED_ZERO: u8 = 0xFF;
const TERMINATOR: u8 = 0x01;
const SIGN_BIT: u64 = 1 << 63;

/// Appends the encoding of `value` to `out`.
pub(crate) fn encode_value(value: &Value, out: &mut Vec<u8>) {
    encode_value_ref(value.as_value_ref(), out);
}

/// Appends the encoding of `value`, borrowed from a stored record, to `out`.
pub(crate) fn encode_value_ref(value: ValueRef<'_>, out: &mut Vec<u8>) {
    match value {
        ValueRef::Null => out.push(TAG_NULL),
        ValueRef::Bool(b) => {
            out.push(TAG_BOOL);
            out.push(u8::from(b));
        }
        ValueRef::Int(i) => {
            let nearest = i as f64;
            // |i - nearest| is at most 1024 for any i64; i128 avoids overflow at 2^63.
            let diff = (i128::from(i) - nearest as i128) as i64;
            encode_number(nearest, diff, out);
        }
        ValueRef::Float(f) => encode_number(f, 0, out),
        ValueRef::Str(s) => encode_escaped(TAG_STR, s.as_bytes(), true, out),
        ValueRef::Bytes(b) => encode_escaped(TAG_BYTES, b, true, out),
    }
}

/// The encoding of `value` as a new vector.
pub(crate) fn encode_to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    encode_value(value, &mut out);
    out
}

/// The encoding of a string or bytes prefix: every encoded value that starts with the prefix
/// starts with these bytes.
pub(crate) fn encode_prefix(prefix: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    match prefix {
        Value::Str(s) => encode_escaped(TAG_STR, s.as_bytes(), false, &mut out),
        Value::Bytes(b) => encode_escaped(TAG_BYTES, b, false, &mut out),
        other => {
            return invalid!(
                "a prefix must be a string or bytes, not {}",
                other.type_name()
            )
        }
    }
    Ok(out)
}

fn encode_number(f: f64, diff: i64, out: &mut Vec<u8>) {
    let f = if f == 0.0 { 0.0 } else { f }; // -0.0 becomes +0.0
    let f = if f.is_nan() { f64::NAN } else { f };
    let bits = f.to_bits();
    let flipped = if bits & SIGN_BIT != 0 {
        !bits
    } else {
        bits ^ SIGN_BIT
    };
    out.push(TAG_NUMBER);
    let mut buf = [0u8; 16];
    BigEndian::write_u64(&mut buf[..8], flipped);
    BigEndian::write_u64(&mut buf[8..], (diff as u64) ^ SIGN_BIT);
    out.extend_from_slice(&buf);
}

fn encode_escaped(tag: u8, bytes: &[u8], terminate: bool, out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 3);
    out.push(tag);
    for &b in bytes {
        out.push(b);
        if b == ESCAPE {
            out.push(ESCAPED_ZERO);
        }
    }
    if terminate {
        out.push(ESCAPE);
        out.push(TERMINATOR);
    }
}

/// Decodes one value from the front of `input`; returns it and the number of bytes it took.
pub(crate) fn decode_value(input: &[u8]) -> Result<(Value, usize)> {
    let Some((&tag, rest)) = input.split_first() else {
        return corrupt!("index key: empty value encoding");
    };
    match tag {
        TAG_NULL => Ok((Value::Null, 1)),
        TAG_BOOL => match rest.first() {
            Some(0) => Ok((Value::Bool(false), 2)),
            Some(1) => Ok((Value::Bool(true), 2)),
            _ => corrupt!("index key: bad bool encoding"),
        },
        TAG_NUMBER => {
            if rest.len() < 16 {
                return corrupt!("index key: truncated number");
            }
            let flipped = BigEndian::read_u64(&rest[..8]);
            let bits = if flipped & SIGN_BIT != 0 {
                flipped ^ SIGN_BIT
            } else {
                !flipped
            };
            let f = f64::from_bits(bits);
            let diff = (BigEndian::read_u64(&rest[8..16]) ^ SIGN_BIT) as i64;
            Ok((canonical_number(f, diff)?, 17))
        }
        TAG_STR | TAG_BYTES => {
            let (bytes, used) = decode_escaped(rest)?;
            let value = if tag == TAG_STR {
                Value::Str(String::from_utf8(bytes).map(Text::from).map_err(|_| {
                    crate::Error::Corruption("index key: string is not UTF-8".into())
                })?)
            } else {
                Value::Bytes(bytes)
            };
            Ok((value, 1 + used))
        }
        t => corrupt!("index key: unknown value tag {t:#04x}"),
    }
}

/// The number of bytes the value at the front of `input` takes, found without decoding it
/// (no allocation; a string's UTF-8 is not checked).
pub(crate) fn encoded_len(input: &[u8]) -> Result<usize> {
    let Some((&tag, rest)) = input.split_first() else {
        return corrupt!("index key: empty value encoding");
    };
    match tag {
        TAG_NULL => Ok(1),
        TAG_BOOL if matches!(rest.first(), Some(0 | 1)) => Ok(2),
        TAG_BOOL => corrupt!("index key: bad bool encoding"),
        TAG_NUMBER if rest.len() >= 16 => Ok(17),
        TAG_NUMBER => corrupt!("index key: truncated number"),
        TAG_STR | TAG_BYTES => {
            let mut i = 0;
            while let Some(at) = rest[i..].iter().position(|&b| b == ESCAPE) {
                i += at;
                match rest.get(i + 1) {
                    Some(&ESCAPED_ZERO) => i += 2,
                    Some(&TERMINATOR) => return Ok(1 + i + 2),
                    _ => return corrupt!("index key: bad escape in string or bytes"),
                }
            }
            corrupt!("index key: unterminated string or bytes")
        }
        t => corrupt!("index key: unknown value tag {t:#04x}"),
    }
}

fn canonical_number(f: f64, diff: i64) -> Result<Value> {
    // Integral values inside the i64 range decode as Int; 2^63 itself is outside.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_finite() && f.fract() == 0.0 && (-TWO_63..TWO_63).contains(&f) || diff != 0 {
        let exact = f as i128 + i128::from(diff);
        return i64::try_from(exact)
            .map(Value::Int)
            .map_err(|_| crate::Error::Corruption("index key: number out of range".to_string()));
    }
    Ok(Value::Float(f))
}

fn decode_escaped(input: &[u8]) -> Result<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b != ESCAPE {
            out.push(b);
            i += 1;
            continue;
        }
        match input.get(i + 1) {
            Some(&ESCAPED_ZERO) => {
                out.push(0);
                i += 2;
            }
            Some(&TERMINATOR) => return Ok((out, i + 2)),
            _ => return corrupt!("index key: bad escape in string or bytes"),
        }
    }
    corrupt!("index key: unterminated string or bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Ordering;

    fn enc(v: &Value) -> Vec<u8> {
        encode_to_vec(v)
    }

    proptest! {
        #[test]
        fn encoded_len_skips_exactly_what_decoding_takes(v in arb_value(), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut bytes = enc(&v);
            let len = bytes.len();
            bytes.extend_from_slice(&tail);
            prop_assert_eq!(encoded_len(&bytes).unwrap(), len);
            prop_assert_eq!(decode_value(&bytes).unwrap().1, len);
        }

        #[test]
        fn encoded_len_fails_where_decoding_fails_on_structure(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
            // Decoding may also refuse what skipping accepts (a string that is not UTF-8, a
            // number out of range), never the other way round.
            if let Ok((_, used)) = decode_value(&bytes) {
                prop_assert_eq!(encoded_len(&bytes).unwrap(), used);
            }
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let special_floats = prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(9_007_199_254_740_993.0),
            Just(9_223_372_036_854_775_808.0),
            Just(-9_223_372_036_854_775_808.0),
            Just(f64::MIN_POSITIVE),
        ];
        let big_ints = (any::<i64>(), -4096i64..4096).prop_map(|(base, d)| {
            let near =
                [1i64 << 53, -(1i64 << 53), i64::MAX, i64::MIN, 1 << 62][(base as usize) % 5];
            Value::Int(near.saturating_add(d))
        });
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            (-100i64..100).prop_map(Value::Int),
            big_ints,
            any::<f64>()
                .prop_filter("no NaN", |f| !f.is_nan())
                .prop_map(Value::Float),
            (-100i64..100).prop_map(|i| Value::Float(i as f64 / 4.0)),
            special_floats.prop_map(Value::Float),
            "[a\\x00b]{0,6}".prop_map(Value::from),
            ".{0,8}".prop_map(Value::from),
            proptest::collection::vec(
                prop_oneof![Just(0u8), Just(1), Just(255), any::<u8>()],
                0..8
            )
            .prop_map(Value::Bytes),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn encoding_order_is_value_order(a in arb_value(), b in arb_value()) {
            prop_assert_eq!(enc(&a).cmp(&enc(&b)), crate::value::compare_values(&a, &b), "{:?} vs {:?}", a, b);
        }

        #[test]
        fn decoding_round_trips_to_an_equal_value(v in arb_value(), suffix in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut bytes = enc(&v);
            let len = bytes.len();
            bytes.extend_from_slice(&suffix);
            let (back, used) = decode_value(&bytes).unwrap();
            prop_assert_eq!(used, len);
            prop_assert_eq!(crate::value::compare_values(&back, &v), Ordering::Equal);
            if !matches!(v, Value::Float(_)) {
                prop_assert_eq!(back, v);
            }
        }

        #[test]
        fn prefixes_bound_exactly_the_values_that_start_with_them(s in "[a\\x00b]{0,5}", p in "[a\\x00b]{0,3}") {
            let prefix = encode_prefix(&Value::from(p.as_str())).unwrap();
            prop_assert_eq!(enc(&Value::from(s.as_str())).starts_with(&prefix), s.starts_with(&p));
        }

        #[test]
        fn random_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode_value(&bytes);
        }
    }

    #[test]
    fn ints_and_floats_are_one_numeric_domain() {
        assert_eq!(enc(&Value::Int(3)), enc(&Value::Float(3.0)));
        assert!(enc(&Value::Int(2)) < enc(&Value::Float(2.5)));
        assert!(enc(&Value::Float(2.5)) < enc(&Value::Int(3)));
        let big = 1i64 << 53;
        assert!(enc(&Value::Int(big)) < enc(&Value::Int(big + 1)));
        assert!(enc(&Value::Float(big as f64)) < enc(&Value::Int(big + 1)));
        assert!(enc(&Value::Int(i64::MAX)) < enc(&Value::Float(f64::INFINITY)));
        assert!(enc(&Value::Int(i64::MAX)) < enc(&Value::Float(9_223_372_036_854_775_808.0)));
        assert_eq!(enc(&Value::Float(-0.0)), enc(&Value::Float(0.0)));
    }

    #[test]
    fn type_order_is_null_bool_number_string_bytes() {
        let ordered = [
            Value::Null,
            Value::Bool(false),
            Value::Bool(true),
            Value::Float(f64::NEG_INFINITY),
            Value::Int(0),
            Value::Float(f64::INFINITY),
            Value::from(""),
            Value::Str("z".into()),
            Value::Bytes(vec![]),
        ];
        for pair in ordered.windows(2) {
            assert!(
                enc(&pair[0]) < enc(&pair[1]),
                "{:?} < {:?}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn numbers_decode_to_their_canonical_form() {
        let (v, _) = decode_value(&enc(&Value::Float(3.0))).unwrap();
        assert_eq!(v, Value::Int(3));
        let (v, _) = decode_value(&enc(&Value::Float(0.5))).unwrap();
        assert_eq!(v, Value::Float(0.5));
        let (v, _) = decode_value(&enc(&Value::Int(i64::MIN))).unwrap();
        assert_eq!(v, Value::Int(i64::MIN));
        let (v, _) = decode_value(&enc(&Value::Int(i64::MAX))).unwrap();
        assert_eq!(v, Value::Int(i64::MAX));
    }
}
