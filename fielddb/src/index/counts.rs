//! Keeping the per-value counts of a counted index (`IndexSpec::counted`) exact, so that an
//! equality count is one read instead of a walk over every matching entry. The byte format is
//! `encoding::count`; this module decides who counts what and stages the changes.
//!
//! Each merge operand rides in the batch that adds or removes the entries it counts, so a count
//! never disagrees with its entries. Who counts what while an index is building: the builder
//! adds the records it indexes (keys up to its cursor); a writer changes counts only for keys
//! the builder has passed. A key beyond the cursor is counted once, when the builder reaches
//! it, from the record it reads.

use std::collections::BTreeMap;

use crate::encoding::count;
use crate::encoding::index_def::{IndexDef, StoredState};
use crate::encoding::index_entry::{self, IndexId};
use crate::error::{Error, Result};
use crate::storage::{Cf, WriteSet};

/// True when a writer changing `key` must count its change in `def`: the index keeps counts,
/// and the builder (if any) has already passed `key`.
pub(crate) fn writer_counts(def: &IndexDef, key: &[u8]) -> bool {
    if !def.counted {
        return false;
    }
    match &def.state {
        // A merging index's writers count as a ready one's; the merge counts the difference
        // between the snapshot the files were made from and the record writers took over.
        StoredState::Ready | StoredState::Merging { .. } => true,
        StoredState::Building { cursor, .. } => cursor.as_deref().is_some_and(|c| key <= c),
        // The build counts every record from its snapshot and the keys writers marked.
        StoredState::Ingesting { .. } | StoredState::Dropping => false,
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
        let value = index_entry::encoded_value(entry, key_len);
        self.add_encoded(id, value.to_vec(), delta);
    }

    pub(crate) fn add_encoded(&mut self, id: IndexId, encoded_value: Vec<u8>, delta: i64) {
        *self.deltas.entry((id, encoded_value)).or_insert(0) += delta;
    }

    /// Adds every delta of `other` to these.
    pub(crate) fn absorb(&mut self, other: CountDeltas) {
        if self.deltas.is_empty() {
            self.deltas = other.deltas;
            return;
        }
        for (key, delta) in other.deltas {
            *self.deltas.entry(key).or_insert(0) += delta;
        }
    }

    /// Adds one merge operand per nonzero delta to `batch`.
    pub(crate) fn stage(&self, batch: &mut WriteSet<'_>) {
        for ((id, value), delta) in &self.deltas {
            if *delta != 0 {
                batch.merge(
                    Cf::Index,
                    &count::count_key(*id, value),
                    &count::encode(*delta),
                );
            }
        }
    }
}

/// Turns a stored count into the number of records, refusing what cannot be one.
pub(crate) fn to_records(field: &str, stored: Option<&[u8]>) -> Result<u64> {
    let Some(bytes) = stored else {
        return Ok(0);
    };
    match count::decode(bytes) {
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

    #[test]
    fn stored_counts_become_record_numbers_or_corruption() {
        assert!(to_records("f", Some(&(-1i64).to_le_bytes())).is_err());
        assert!(to_records("f", Some(&[0u8; 3])).is_err());
        assert_eq!(to_records("f", None).unwrap(), 0);
        assert_eq!(to_records("f", Some(&3i64.to_le_bytes())).unwrap(), 3);
    }
}
