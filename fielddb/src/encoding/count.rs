//! The per-value counts of a counted index (`IndexSpec::counted`): their keys, their values and
//! the merge that adds them up.
//!
//! | part        | bytes                                              |
//! |-------------|----------------------------------------------------|
//! | marker      | `FF FF FF FF` (an id no index can have)            |
//! | index id    | u32 big-endian                                     |
//! | value       | `keycode` encoding, as in the index's entries      |
//!
//! The value is an i64 little-endian. Counts live in the `index` column family, after every
//! index's entries, and change only through merge operands (`+n` / `-n`, each an i64 LE) that
//! the column family's merge operator ([`merge_add`]) adds up.

use crate::encoding::index_entry::IndexId;
use crate::encoding::prefix_successor;

/// The name under which the merge operator is registered with RocksDB.
pub(crate) const MERGE_OPERATOR_NAME: &str = "fielddb.count_add";

const MARKER: [u8; 4] = [0xFF; 4];

/// The first bytes of every count of index `id`.
pub(crate) fn id_prefix(id: IndexId) -> Vec<u8> {
    let mut out = MARKER.to_vec();
    out.extend_from_slice(&id.to_be_bytes());
    out
}

/// The byte range `[start, end)` holding every count of index `id`.
pub(crate) fn id_range(id: IndexId) -> (Vec<u8>, Vec<u8>) {
    let start = id_prefix(id);
    let end = prefix_successor(&start).unwrap_or_else(|| vec![0xFF; 9]);
    (start, end)
}

/// The count key of the entries of index `id` whose encoded value is `encoded_value`.
pub(crate) fn count_key(id: IndexId, encoded_value: &[u8]) -> Vec<u8> {
    let mut out = id_prefix(id);
    out.extend_from_slice(encoded_value);
    out
}

/// Encodes a count, or a merge operand adding `delta`.
pub(crate) fn encode(delta: i64) -> [u8; 8] {
    delta.to_le_bytes()
}

/// Decodes a stored count or operand.
pub(crate) fn decode(bytes: &[u8]) -> Option<i64> {
    <[u8; 8]>::try_from(bytes).ok().map(i64::from_le_bytes)
}

/// The merge: the sum of the existing count and every operand (wrapping, so it is associative
/// in any grouping). A malformed one fails the merge (`None`), which RocksDB reports as
/// corruption on the read that needed it.
pub(crate) fn merge_add<'a>(
    existing: Option<&[u8]>,
    operands: impl IntoIterator<Item = &'a [u8]>,
) -> Option<Vec<u8>> {
    let mut sum = match existing {
        Some(bytes) => decode(bytes)?,
        None => 0,
    };
    for operand in operands {
        sum = sum.wrapping_add(decode(operand)?);
    }
    Some(encode(sum).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::{index_entry, keycode};
    use crate::value::Value;

    #[test]
    fn count_keys_sort_after_every_index_entry() {
        let entry =
            index_entry::entry_key(u32::MAX - 1, &keycode::encode_to_vec(&Value::Int(1)), b"k");
        assert!(count_key(0, b"") > entry);
        let (start, end) = id_range(7);
        assert!(count_key(7, &keycode::encode_to_vec(&Value::Int(-5))) >= start);
        assert!(count_key(7, &[0xFF, 0xFF]) < end);
        assert!(count_key(8, b"") >= end);
    }

    #[test]
    fn decoding_refuses_other_lengths() {
        assert_eq!(decode(&5i64.to_le_bytes()), Some(5));
        assert_eq!(decode(&[1, 2, 3]), None);
    }

    #[test]
    fn merging_adds_operands_to_the_existing_count() {
        let (two, minus_three) = (encode(2), encode(-3));
        let sum = merge_add(Some(&encode(10)), [&two[..], &minus_three[..]]).unwrap();
        assert_eq!(decode(&sum), Some(9));
        assert_eq!(decode(&merge_add(None, [&two[..]]).unwrap()), Some(2));
        assert_eq!(merge_add(None, [&[1u8, 2][..]]), None);
    }
}
