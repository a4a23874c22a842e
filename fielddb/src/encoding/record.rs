//! The on-disk encoding of a record (the values of the `kv` column family).
//!
//! | bytes        | content                                                         |
//! |--------------|-----------------------------------------------------------------|
//! | u8           | format version, 1                                               |
//! | u32 LE       | field count                                                     |
//! | per field:   |                                                                 |
//! | u32 LE, n    | name length, then the name (UTF-8, non-empty, unique)           |
//! | u8           | type tag: 0 null, 1 bool, 2 int, 3 float, 4 string, 5 bytes     |
//! | u32 LE, n    | value length, then the value (bool 1 byte, int/float 8 bytes LE)|
//!
//! Length-prefixed, never escaped. The decoder checks every length against the input left, so
//! malformed bytes give `Error::Corruption` and never a panic or an allocation larger than the
//! input.

use std::collections::HashSet;

use byteorder::{ByteOrder, LittleEndian, WriteBytesExt};

use crate::error::{corrupt, invalid, Result};
use crate::record::{FieldName, Record, MAX_RECORD_LEN};
use crate::value::Value;

const FORMAT_VERSION: u8 = 1;
const TAG_NULL: u8 = 0;
const TAG_BOOL: u8 = 1;
const TAG_INT: u8 = 2;
const TAG_FLOAT: u8 = 3;
const TAG_STR: u8 = 4;
const TAG_BYTES: u8 = 5;
/// The smallest encoded field: name length, a one-byte name, tag, value length.
const MIN_FIELD_LEN: usize = 4 + 1 + 1 + 4;

/// The size of the encoding, computed without encoding.
pub(crate) fn encoded_len(record: &Record) -> usize {
    1 + 4
        + record
            .fields()
            .iter()
            .map(|(name, value)| 4 + name.len() + 1 + 4 + value_len(value))
            .sum::<usize>()
}

fn value_len(value: &Value) -> usize {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) => 8,
        Value::Str(s) => s.len(),
        Value::Bytes(b) => b.len(),
    }
}

/// Encodes a record that [`Record::validate`] accepted. Refuses one whose encoding would be
/// over [`MAX_RECORD_LEN`].
pub(crate) fn encode(record: &Record) -> Result<Vec<u8>> {
    let len = encoded_len(record);
    if len > MAX_RECORD_LEN {
        return invalid!("record of {len} encoded bytes is over the limit of {MAX_RECORD_LEN}");
    }
    let mut out = Vec::with_capacity(len);
    out.push(FORMAT_VERSION);
    // Lengths fit in u32: the whole record is below MAX_RECORD_LEN.
    put_len(&mut out, record.len());
    for (name, value) in record.fields() {
        put_len(&mut out, name.len());
        out.extend_from_slice(name.as_bytes());
        let (tag, payload): (u8, &[u8]) = match value {
            Value::Null => (TAG_NULL, &[]),
            Value::Bool(b) => (TAG_BOOL, if *b { &[1] } else { &[0] }),
            Value::Int(i) => {
                out.push(TAG_INT);
                put_len(&mut out, 8);
                let _ = out.write_i64::<LittleEndian>(*i);
                continue;
            }
            Value::Float(f) => {
                out.push(TAG_FLOAT);
                put_len(&mut out, 8);
                let _ = out.write_f64::<LittleEndian>(*f);
                continue;
            }
            Value::Str(s) => (TAG_STR, s.as_bytes()),
            Value::Bytes(b) => (TAG_BYTES, b),
        };
        out.push(tag);
        put_len(&mut out, payload.len());
        out.extend_from_slice(payload);
    }
    debug_assert_eq!(out.len(), len);
    Ok(out)
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    let _ = out.write_u32::<LittleEndian>(len as u32);
}

/// A cursor over the bytes being decoded; every read is checked against what is left.
struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return corrupt!(
                "record truncated: {what} needs {n} bytes at offset {}, {} left",
                self.pos,
                self.remaining()
            );
        }
        let bytes = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<usize> {
        Ok(LittleEndian::read_u32(self.take(4, what)?) as usize)
    }
}

/// Decodes a record, checking everything; malformed input is `Error::Corruption`.
pub(crate) fn decode(input: &[u8]) -> Result<Record> {
    // Bounded by what the input can hold; a typical record fits without growing.
    let mut fields = Vec::with_capacity((input.len() / MIN_FIELD_LEN).min(16));
    walk(input, |name, value| {
        fields.push((FieldName::from(name), value.to_value()));
    })?;
    Ok(Record::from_fields_unchecked(fields))
}

/// The values of `names` in one encoded record, in the order of `names` (`None` for a field
/// the record lacks), from one walk that checks the whole record.
pub(crate) fn decode_fields(input: &[u8], names: &[String]) -> Result<Vec<Option<Value>>> {
    let mut found = vec![None; names.len()];
    walk(input, |field, value| {
        if let Some(i) = names.iter().position(|n| n == field) {
            found[i] = Some(value.to_value());
        }
    })?;
    Ok(found)
}

/// A field's value as it lies in the input, already checked.
enum RawValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
}

impl RawValue<'_> {
    fn to_value(&self) -> Value {
        match *self {
            RawValue::Null => Value::Null,
            RawValue::Bool(b) => Value::Bool(b),
            RawValue::Int(i) => Value::Int(i),
            RawValue::Float(f) => Value::Float(f),
            RawValue::Str(s) => Value::Str(s.to_owned()),
            RawValue::Bytes(b) => Value::Bytes(b.to_vec()),
        }
    }
}

/// Below this many fields, duplicate names are found by comparing with every earlier name,
/// which is cheaper than hashing; above it, with a hash set.
const LINEAR_NAME_CHECK: usize = 16;

/// Walks an encoded record, checking every length, tag, name and value, and calls `visit` with
/// each field in order.
fn walk<'a>(input: &'a [u8], mut visit: impl FnMut(&'a str, RawValue<'a>)) -> Result<()> {
    let mut r = Reader { input, pos: 0 };
    let version = r.u8("format version")?;
    if version != FORMAT_VERSION {
        return corrupt!("record format version {version} is unknown (expected {FORMAT_VERSION})");
    }
    let count = r.u32("field count")?;
    if count > r.remaining() / MIN_FIELD_LEN {
        return corrupt!(
            "record claims {count} fields but only {} bytes follow",
            r.remaining()
        );
    }
    // The names seen so far: on the stack up to LINEAR_NAME_CHECK fields (no allocation per
    // record decoded), in a hash set beyond.
    let mut names: [&str; LINEAR_NAME_CHECK] = [""; LINEAR_NAME_CHECK];
    let mut name_set: HashSet<&str> = HashSet::new();
    if count > LINEAR_NAME_CHECK {
        name_set.reserve(count);
    }
    for index in 0..count {
        let name_len = r.u32("field name length")?;
        let name = std::str::from_utf8(r.take(name_len, "field name")?)
            .map_err(|_| crate::Error::Corruption(format!("field {index}: name is not UTF-8")))?;
        if name.is_empty() {
            return corrupt!("field {index}: empty name");
        }
        let repeated = if count <= LINEAR_NAME_CHECK {
            let seen = names[..index].contains(&name);
            names[index] = name;
            seen
        } else {
            !name_set.insert(name)
        };
        if repeated {
            return corrupt!("field {index}: name `{name}` appears twice");
        }
        let tag = r.u8("type tag")?;
        let value_len = r.u32("value length")?;
        let payload = r.take(value_len, "value")?;
        let expect_len = |n: usize| -> Result<()> {
            if value_len == n {
                Ok(())
            } else {
                corrupt!("field `{name}`: value length {value_len}, expected {n}")
            }
        };
        let value = match tag {
            TAG_NULL => {
                expect_len(0)?;
                RawValue::Null
            }
            TAG_BOOL => {
                expect_len(1)?;
                match payload[0] {
                    0 => RawValue::Bool(false),
                    1 => RawValue::Bool(true),
                    b => return corrupt!("field `{name}`: bool byte {b}"),
                }
            }
            TAG_INT => {
                expect_len(8)?;
                RawValue::Int(LittleEndian::read_i64(payload))
            }
            TAG_FLOAT => {
                expect_len(8)?;
                let f = LittleEndian::read_f64(payload);
                if f.is_nan() {
                    // Writes refuse NaN, so a stored one was not written by FieldDB.
                    return corrupt!("field `{name}`: NaN float");
                }
                RawValue::Float(f)
            }
            TAG_STR => RawValue::Str(std::str::from_utf8(payload).map_err(|_| {
                crate::Error::Corruption(format!("field `{name}`: string is not UTF-8"))
            })?),
            TAG_BYTES => RawValue::Bytes(payload),
            t => return corrupt!("field `{name}`: unknown type tag {t}"),
        };
        visit(name, value);
    }
    if r.remaining() != 0 {
        return corrupt!("{} trailing bytes after the last field", r.remaining());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(record: &Record) -> Record {
        decode(&encode(record).unwrap()).unwrap()
    }

    #[test]
    fn every_value_type_round_trips_with_edge_cases() {
        let record = Record::new()
            .set("null", Value::Null)
            .set("t", true)
            .set("f", false)
            .set("min", i64::MIN)
            .set("max", i64::MAX)
            .set("zero", 0)
            .set("negzero", -0.0)
            .set("inf", f64::INFINITY)
            .set("neginf", f64::NEG_INFINITY)
            .set("tiny", f64::MIN_POSITIVE)
            .set("empty", "")
            .set("unicode", "Grüße, 世界 🚀")
            .set("nul", "a\0b")
            .set("nobytes", Vec::<u8>::new())
            .set("bytes", vec![0u8, 255, 0, 1]);
        let back = round_trip(&record);
        assert_eq!(back, record);
        let bits = |r: &Record, n: &str| r.get(n).unwrap().as_f64().unwrap().to_bits();
        assert_eq!(bits(&back, "negzero"), (-0.0f64).to_bits());
    }

    #[test]
    fn a_one_mebibyte_value_round_trips() {
        let big: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        let record = Record::new().set("blob", big);
        assert_eq!(round_trip(&record), record);
    }

    #[test]
    fn ten_thousand_fields_round_trip_in_order() {
        let mut record = Record::new();
        for i in 0..10_000 {
            record.push(format!("field{i}"), i);
        }
        record.validate().unwrap();
        let back = round_trip(&record);
        assert_eq!(back, record);
        assert_eq!(back.iter().nth(9_999).unwrap().0, "field9999");
    }

    #[test]
    fn malformed_inputs_are_corruption() {
        let good = encode(&Record::new().set("a", 1).set("b", "x")).unwrap();
        for cut in 0..good.len() {
            assert!(matches!(
                decode(&good[..cut]),
                Err(crate::Error::Corruption(_))
            ));
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(decode(&trailing).is_err());
        // A count that claims more fields than the bytes can hold is refused before allocating.
        let huge = [1u8, 0xff, 0xff, 0xff, 0xff];
        assert!(decode(&huge).is_err());
        let mut bad_tag = good.clone();
        bad_tag[5 + 4 + 1] = 9;
        assert!(decode(&bad_tag).is_err());
    }

    #[test]
    fn a_stored_nan_is_corruption() {
        // Found by the record_decoder fuzz target: a NaN float decoded, although no write
        // can store one (crash-30728f4af593fe0749ae82a490de08927b1ee0ce).
        let input = b"\x01\x01\x00\x00\x00\x01\x00\x00\x00a\x03\x08\x00\x00\x00*\x00\x00\x00\x00\x00\xff\xff";
        assert!(matches!(decode(input), Err(crate::Error::Corruption(m)) if m.contains("NaN")));
    }

    #[test]
    fn a_repeated_name_among_many_fields_is_corruption() {
        // Past LINEAR_NAME_CHECK fields, names are checked with a hash set.
        let mut record = Record::new();
        for i in 0..40 {
            record = record.set(format!("f{i:02}"), i);
        }
        let mut bytes = encode(&record).unwrap();
        // Rename field 39 (`f39`) to `f07`: same length, so the layout stays valid.
        let at = bytes.windows(3).rposition(|w| w == b"f39").unwrap();
        bytes[at..at + 3].copy_from_slice(b"f07");
        let err = decode(&bytes).unwrap_err().to_string();
        assert!(err.contains("`f07` appears twice"), "{err}");
        assert!(decode_fields(&bytes, &["f01".to_string()]).is_err());
    }

    #[test]
    fn duplicate_and_empty_names_on_disk_are_corruption() {
        let mut r = Record::new();
        r.push("x", 1);
        r.push("x", 2);
        assert!(decode(&encode(&r).unwrap()).is_err());
        let empty_name = Record::from_fields_unchecked(vec![(FieldName::default(), Value::Null)]);
        assert!(decode(&encode(&empty_name).unwrap()).is_err());
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>()
                .prop_filter("no NaN", |f| !f.is_nan())
                .prop_map(Value::Float),
            ".*".prop_map(Value::Str),
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(Value::Bytes),
        ]
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn mutated_records_never_panic_the_decoder(
            values in proptest::collection::vec(arb_value(), 0..8),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        ) {
            let record: Record = values.into_iter().enumerate().map(|(i, v)| (format!("f{i}"), v)).collect();
            let mut bytes = encode(&record).unwrap();
            for (pos, byte) in flips {
                let len = bytes.len();
                bytes[pos % len] = byte;
            }
            let _ = decode(&bytes);
        }

        #[test]
        fn random_records_round_trip(values in proptest::collection::vec(arb_value(), 0..16)) {
            let record: Record = values.into_iter().enumerate().map(|(i, v)| (format!("f{i}"), v)).collect();
            prop_assert_eq!(round_trip(&record), record);
        }

        #[test]
        fn decode_field_finds_what_decode_finds(
            values in proptest::collection::vec(arb_value(), 0..40),
            wanted in 0usize..45,
        ) {
            let record: Record = values.into_iter().enumerate().map(|(i, v)| (format!("f{i}"), v)).collect();
            let bytes = encode(&record).unwrap();
            let name = format!("f{wanted}");
            let found = decode_fields(&bytes, std::slice::from_ref(&name)).unwrap().pop().flatten();
            prop_assert_eq!(found.as_ref(), record.get(&name));
        }

        #[test]
        fn decode_field_refuses_exactly_what_decode_refuses(
            bytes in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            prop_assert_eq!(decode_fields(&bytes, &["a".to_string()]).is_ok(), decode(&bytes).is_ok());
        }
    }
}
