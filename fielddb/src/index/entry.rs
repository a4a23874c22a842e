//! The layout of one index entry in the `index` column family, and byte-range helpers.
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

use crate::catalog::IndexId;
use crate::error::{corrupt, Result};
use crate::keycode;
use crate::value::Value;

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

/// The smallest byte string greater than every string that starts with `prefix`, or `None`
/// when there is none (all bytes 0xFF).
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last != 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
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
    fn successor_carries_over_0xff() {
        assert_eq!(prefix_successor(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_successor(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xFF, 0xFF]), None);
    }

    #[test]
    fn entries_split_back_into_value_and_key() {
        let e = entry_key(3, &Value::Str("a\0b".into()), b"key\0");
        assert!(e.starts_with(&value_prefix(3, &Value::Str("a\0b".into()))));
        let (v, k) = split_suffix(&e[4..]).unwrap();
        assert_eq!(v, Value::Str("a\0b".into()));
        assert_eq!(k, b"key\0");
    }
}
