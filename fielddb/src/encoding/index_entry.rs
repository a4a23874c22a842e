//! The layout of one index entry in the `index` column family, and the id that names an index.
//!
//! | part            | bytes                                                          |
//! |-----------------|----------------------------------------------------------------|
//! | index id        | u32 big-endian                                                 |
//! | values          | the `keycode` encoding of each indexed field's value, in the    |
//! |                 | index's field order (one for a single-field index); each is    |
//! |                 | self-delimiting, so the entries sort by the tuple of values    |
//! | user key        | the record's key, unescaped, to the end                        |
//!
//! The RocksDB value is empty. Logically the key is `fields | values | key`; the id in place of
//! the fields lets a dropped index be deleted by range while a new index on the same fields is
//! built under a new id. A record missing any of the indexed fields has no entry.

use crate::encoding::{keycode, prefix_successor};
use crate::error::{corrupt, Result};
use crate::record::Record;
use crate::value::Value;

/// The id of an index: allocated once, never reused, so a dropped index's entries can be
/// deleted by range while a new index on the same field is built under a new id.
pub(crate) type IndexId = u32;

/// The first bytes of every entry of index `id`.
pub(crate) fn id_prefix(id: IndexId) -> [u8; 4] {
    id.to_be_bytes()
}

/// The encoded values `record` holds in `fields`, or `None` when it lacks one of them (it then
/// has no entry in the index).
pub(crate) fn record_values(fields: &[String], record: &Record) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(16 * fields.len());
    for field in fields {
        keycode::encode_value(record.get(field)?, &mut out);
    }
    Some(out)
}

/// The encoding of `values`, one after the other.
pub(crate) fn encode_values<'a>(values: impl IntoIterator<Item = &'a Value>) -> Vec<u8> {
    let mut out = Vec::new();
    for value in values {
        keycode::encode_value(value, &mut out);
    }
    out
}

/// The entry of `key` having the encoded values `values` in index `id`.
pub(crate) fn entry_key(id: IndexId, values: &[u8], key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + values.len() + key.len());
    out.extend_from_slice(&id_prefix(id));
    out.extend_from_slice(values);
    out.extend_from_slice(key);
    out
}

/// The prefix shared by all entries of the encoded values `values` in index `id`.
pub(crate) fn value_prefix(id: IndexId, values: &[u8]) -> Vec<u8> {
    [&id_prefix(id)[..], values].concat()
}

/// The byte range `[start, end)` holding every entry of index `id`.
pub(crate) fn id_range(id: IndexId) -> (Vec<u8>, Vec<u8>) {
    let start = id_prefix(id).to_vec();
    let end = prefix_successor(&start).unwrap_or_else(|| vec![0xFF; 5]);
    (start, end)
}

/// The encoded values inside `entry`, an entry key of index `id` for a user key of `key_len`
/// bytes (sliced out, not decoded).
pub(crate) fn encoded_value(entry: &[u8], key_len: usize) -> &[u8] {
    &entry[4..entry.len() - key_len]
}

/// Splits the part of an entry after the id prefix into its `arity` values and its user key.
pub(crate) fn split_suffix(suffix: &[u8], arity: usize) -> Result<(Vec<Value>, &[u8])> {
    let mut values = Vec::with_capacity(arity);
    let mut rest = suffix;
    for _ in 0..arity {
        let (value, used) = keycode::decode_value(rest)?;
        values.push(value);
        rest = &rest[used..];
    }
    if rest.is_empty() {
        return corrupt!("index entry has no user key");
    }
    Ok((values, rest))
}

/// The user key of the part of an entry after the id prefix, found by skipping its `arity`
/// values without decoding them.
pub(crate) fn suffix_key(suffix: &[u8], arity: usize) -> Result<&[u8]> {
    let mut at = 0;
    for _ in 0..arity {
        at += keycode::encoded_len(&suffix[at..])?;
    }
    let key = &suffix[at..];
    if key.is_empty() {
        return corrupt!("index entry has no user key");
    }
    Ok(key)
}

/// The values of an index entry as one [`Value`] for a message: the value itself for a
/// single-field index, the tuple written `("UA", "IAH")` as a string for a compound one.
pub(crate) fn values_for_message(mut values: Vec<Value>) -> Value {
    if values.len() == 1 {
        return values.pop().unwrap_or(Value::Null);
    }
    let parts: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    Value::Str(format!("({})", parts.join(", ")))
}

/// Decodes encoded values (as [`record_values`] makes them) for a message, see
/// [`values_for_message`]; undecodable bytes are shown as bytes.
pub(crate) fn encoded_values_for_message(encoded: &[u8]) -> Value {
    let mut values = Vec::new();
    let mut rest = encoded;
    while !rest.is_empty() {
        match keycode::decode_value(rest) {
            Ok((value, used)) => {
                values.push(value);
                rest = &rest[used..];
            }
            Err(_) => return Value::Bytes(encoded.to_vec()),
        }
    }
    values_for_message(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_split_back_into_values_and_key() {
        let v = Value::Str("a\0b".into());
        let e = entry_key(3, &encode_values([&v]), b"key\0");
        assert!(e.starts_with(&value_prefix(3, &keycode::encode_to_vec(&v))));
        let (values, k) = split_suffix(&e[4..], 1).unwrap();
        assert_eq!(values, vec![v.clone()]);
        assert_eq!(k, b"key\0");
        assert_eq!(encoded_value(&e, 4), &keycode::encode_to_vec(&v)[..]);
        let (start, end) = id_range(3);
        assert!(e >= start && e < end);
    }

    #[test]
    fn compound_entries_sort_by_the_tuple_then_the_key() {
        let entry = |a: &str, b: i64, key: &[u8]| {
            entry_key(1, &encode_values([&Value::from(a), &Value::Int(b)]), key)
        };
        // "a" < "ab" as the first value, whatever the second value and the key.
        assert!(entry("a", 9, b"z") < entry("ab", 0, b"a"));
        assert!(entry("a", 1, b"z") < entry("a", 2, b"a"));
        assert!(entry("a", 1, b"a") < entry("a", 1, b"b"));
        let e = entry("UA", 7, b"k1");
        let (values, key) = split_suffix(&e[4..], 2).unwrap();
        assert_eq!(values, vec![Value::from("UA"), Value::Int(7)]);
        assert_eq!(key, b"k1");
        assert_eq!(suffix_key(&e[4..], 2).unwrap(), b"k1");
        assert_eq!(suffix_key(&e[4..], 1).unwrap().len(), e.len() - 4 - 5);
        assert!(split_suffix(&e[4..], 3).is_err() || split_suffix(&e[4..], 3).unwrap().1 != b"k1");
    }

    #[test]
    fn a_record_lacking_an_indexed_field_has_no_values() {
        let fields = ["a".to_string(), "b".to_string()];
        assert_eq!(record_values(&fields, &Record::new().set("a", 1)), None);
        let both = Record::new().set("a", 1).set("b", "x");
        assert_eq!(
            record_values(&fields, &both),
            Some(encode_values([&Value::Int(1), &Value::from("x")]))
        );
        assert_eq!(
            encoded_values_for_message(&record_values(&fields, &both).unwrap()),
            Value::Str("(1, \"x\")".into())
        );
    }
}
