//! The layout of one index entry in the `index` column family, and the id that names an index.
//!
//! | part            | bytes                                  |
//! |-----------------|----------------------------------------|
//! | index id        | u32 big-endian                         |
//! | value           | `keycode` encoding (self-delimiting)   |
//! | user key        | the record's key, unescaped, to the end |
//!
//! The RocksDB value is empty. Logically the key is `field | value | key`; the id in place of
//! the field lets a dropped index be deleted by range while a new index on the same field is
//! built under a new id.

use crate::encoding::{keycode, prefix_successor};
use crate::error::{corrupt, Result};
use crate::value::Value;

/// The id of an index: allocated once, never reused, so a dropped index's entries can be
/// deleted by range while a new index on the same field is built under a new id.
pub(crate) type IndexId = u32;

/// The first bytes of every entry of index `id`.
pub(crate) fn id_prefix(id: IndexId) -> [u8; 4] {
    id.to_be_bytes()
}

/// The entry of `key` having `value` in index `id`.
pub(crate) fn entry_key(id: IndexId, value: &Value, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 20 + key.len());
    out.extend_from_slice(&id_prefix(id));
    keycode::encode_value(value, &mut out);
    out.extend_from_slice(key);
    out
}

/// The prefix shared by all entries of `value` in index `id`.
pub(crate) fn value_prefix(id: IndexId, value: &Value) -> Vec<u8> {
    let mut out = id_prefix(id).to_vec();
    keycode::encode_value(value, &mut out);
    out
}

/// The byte range `[start, end)` holding every entry of index `id`.
pub(crate) fn id_range(id: IndexId) -> (Vec<u8>, Vec<u8>) {
    let start = id_prefix(id).to_vec();
    let end = prefix_successor(&start).unwrap_or_else(|| vec![0xFF; 5]);
    (start, end)
}

/// The encoded value inside `entry`, an entry key of index `id` for a user key of `key_len`
/// bytes (sliced out, not decoded).
pub(crate) fn encoded_value(entry: &[u8], key_len: usize) -> &[u8] {
    &entry[4..entry.len() - key_len]
}

/// Splits the part of an entry after the id prefix into its value and its user key.
pub(crate) fn split_suffix(suffix: &[u8]) -> Result<(Value, &[u8])> {
    let (value, used) = keycode::decode_value(suffix)?;
    let key = &suffix[used..];
    if key.is_empty() {
        return corrupt!("index entry has no user key");
    }
    Ok((value, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_split_back_into_value_and_key() {
        let e = entry_key(3, &Value::Str("a\0b".into()), b"key\0");
        assert!(e.starts_with(&value_prefix(3, &Value::Str("a\0b".into()))));
        let (v, k) = split_suffix(&e[4..]).unwrap();
        assert_eq!(v, Value::Str("a\0b".into()));
        assert_eq!(k, b"key\0");
        assert_eq!(
            encoded_value(&e, 4),
            &keycode::encode_to_vec(&Value::Str("a\0b".into()))[..]
        );
        let (start, end) = id_range(3);
        assert!(e >= start && e < end);
    }
}
