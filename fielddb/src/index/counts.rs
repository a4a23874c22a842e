//! Exact per-value counts of a counted index (`IndexSpec::counted`), so that an equality count
//! is one read instead of a walk over every matching entry.
//!
//! | part        | bytes                                              |
//! |-------------|----------------------------------------------------|
//! | marker      | `FF FF FF FF` (an id no index can have)            |
//! | index id    | u32 big-endian                                     |
//! | value       | `keycode` encoding, as in the index's entries      |
//!
//! The RocksDB value is an i64 little-endian. Counts live in the `index` column family, after
//! every index's entries, and change only through merge operands (`+n` / `-n`) that the
//! column family's merge operator adds up; each operand rides in the batch that adds or removes
//! the entries it counts, so a count never disagrees with its entries.
//!
//! Who counts what while an index is building: the builder adds the records it indexes (keys
//! up to its cursor); a writer changes counts only for keys the builder has passed. A key
//! beyond the cursor is counted once, when the builder reaches it, from the record it reads.

use std::collections::BTreeMap;

use rocksdb::{MergeOperands, WriteBatch};

use crate::catalog::{IndexDef, IndexId, StoredState};
use crate::error::{Error, Result};
use crate::index::entry::{self, prefix_successor};
use crate::storage::Storage;

/// The name under which the merge operator is registered with RocksDB.
pub(crate) const MERGE_OPERATOR_NAME: &str = "fielddb.count_add";

/// Merge operands one key may pile up in a memtable before a write resolves them (RocksDB's
/// `max_successive_merges`), bounding the work of a count read that finds them there.
pub(crate) const MAX_SUCCESSIVE_MERGES: usize = 8;

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

/// True when a writer changing `key` must count its change in `def`: the index keeps counts,
/// and the builder (if any) has already passed `key`.
pub(crate) fn writer_counts(def: &IndexDef, key: &[u8]) -> bool {
    if !def.counted {
        return false;
    }
    match &def.state {
        StoredState::Ready => true,
        StoredState::Building { cursor, .. } => cursor.as_deref().is_some_and(|c| key <= c),
        StoredState::Dropping => false,
    }
}

/// Count changes gathered for one batch: (index id, encoded value) -> delta.
#[derive(Default)]
pub(crate) struct CountDeltas {
    deltas: BTreeMap<(IndexId, Vec<u8>), i64>,
}

impl CountDeltas {
    /// Counts `delta` for the value of `entry`, an entry key of index `id` for a user key of
    /// `key_len` bytes (its value is already encoded there, so it is sliced, not re-encoded).
    pub(crate) fn add_for_entry(&mut self, id: IndexId, entry: &[u8], key_len: usize, delta: i64) {
        let value = &entry[entry::id_prefix(id).len()..entry.len() - key_len];
        self.add_encoded(id, value.to_vec(), delta);
    }

    pub(crate) fn add_encoded(&mut self, id: IndexId, encoded_value: Vec<u8>, delta: i64) {
        *self.deltas.entry((id, encoded_value)).or_insert(0) += delta;
    }

    /// Adds one merge operand per nonzero delta to `batch`.
    pub(crate) fn stage(&self, storage: &Storage, batch: &mut WriteBatch) -> Result<()> {
        let index_cf = storage.index()?;
        for ((id, value), delta) in &self.deltas {
            if *delta != 0 {
                batch.merge_cf(index_cf, count_key(*id, value), delta.to_le_bytes());
            }
        }
        Ok(())
    }
}

/// Decodes a stored count or operand.
pub(crate) fn decode(bytes: &[u8]) -> Option<i64> {
    <[u8; 8]>::try_from(bytes).ok().map(i64::from_le_bytes)
}

/// The merge operator: the sum of the existing count and every operand. A malformed one fails
/// the merge, which RocksDB reports as corruption on the read that needed it.
pub(crate) fn merge_add(
    _key: &[u8],
    existing: Option<&[u8]>,
    operands: &MergeOperands,
) -> Option<Vec<u8>> {
    let mut sum = match existing {
        Some(bytes) => decode(bytes)?,
        None => 0,
    };
    for operand in operands.iter() {
        sum = sum.wrapping_add(decode(operand)?);
    }
    Some(sum.to_le_bytes().to_vec())
}

/// Turns a stored count into the number of records, refusing what cannot be one.
pub(crate) fn to_records(field: &str, stored: Option<&[u8]>) -> Result<u64> {
    let Some(bytes) = stored else {
        return Ok(0);
    };
    match decode(bytes) {
        Some(n) if n >= 0 => Ok(n as u64),
        Some(n) => Err(Error::Corruption(format!(
            "the count kept by the index on `{field}` is negative ({n})"
        ))),
        None => Err(Error::Corruption(format!(
            "a count kept by the index on `{field}` is {} bytes, not 8",
            bytes.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keycode;
    use crate::value::Value;

    #[test]
    fn count_keys_sort_after_every_index_entry() {
        let entry = crate::index::entry::entry_key(u32::MAX - 1, &Value::Int(1), b"k");
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
        assert!(to_records("f", Some(&(-1i64).to_le_bytes())).is_err());
        assert!(to_records("f", Some(&[0u8; 3])).is_err());
        assert_eq!(to_records("f", None).unwrap(), 0);
        assert_eq!(to_records("f", Some(&3i64.to_le_bytes())).unwrap(), 3);
    }
}
