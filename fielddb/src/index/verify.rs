//! `verify`: recomputes every ready index from the records and compares it with the stored
//! entries, reporting entries that are missing and entries that are stale, covered values (of a
//! covering index) that differ from the record's, counts (of a counted index) that differ from
//! the records, and records that do not decode. Everything is read from
//! one snapshot, so it runs while writers write.

use std::collections::BTreeMap;

use crate::encoding::count;
use crate::encoding::index_def::{IndexDef, StoredState};
use crate::encoding::index_entry::{self, entry_key, id_prefix, split_suffix};
use crate::encoding::names::NameTable;
use crate::encoding::record as record_codec;
use crate::error::Result;
use crate::inner::DbInner;
use crate::storage::{Cf, KeyRange, Snapshot};

/// What `FieldDb::verify` found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerifyReport {
    /// Records read.
    pub records: u64,
    /// Keys whose record does not decode.
    pub corrupt_records: Vec<Vec<u8>>,
    /// One report per ready index.
    pub indexes: Vec<IndexReport>,
}

/// The comparison of one index with the records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexReport {
    /// The indexed field.
    pub field: String,
    /// Entries stored in the index.
    pub entries: u64,
    /// Entries the records call for that the index lacks.
    pub missing: u64,
    /// Entries in the index that no record calls for.
    pub stale: u64,
    /// Entries of a covering index whose stored fields are not the record's.
    pub wrong_covered: u64,
    /// Values whose stored count (counted indexes only) is not the number of records holding
    /// them.
    pub wrong_counts: u64,
}

impl VerifyReport {
    /// Missing entries over all indexes.
    pub fn missing(&self) -> u64 {
        self.indexes.iter().map(|i| i.missing).sum()
    }
    /// Stale entries over all indexes.
    pub fn stale(&self) -> u64 {
        self.indexes.iter().map(|i| i.stale).sum()
    }
    /// Entries with wrong covered fields over all covering indexes.
    pub fn wrong_covered(&self) -> u64 {
        self.indexes.iter().map(|i| i.wrong_covered).sum()
    }
    /// Wrong counts over all counted indexes.
    pub fn wrong_counts(&self) -> u64 {
        self.indexes.iter().map(|i| i.wrong_counts).sum()
    }
    /// True when nothing is missing, stale, miscounted or corrupt.
    pub fn is_clean(&self) -> bool {
        self.missing() == 0
            && self.stale() == 0
            && self.wrong_covered() == 0
            && self.wrong_counts() == 0
            && self.corrupt_records.is_empty()
    }
}

pub(crate) fn verify(inner: &DbInner) -> Result<VerifyReport> {
    let storage = &inner.storage;
    let catalog = inner.catalog.read();
    let ready: Vec<IndexDef> = catalog
        .all()
        .filter(|d| d.state == StoredState::Ready)
        .cloned()
        .collect();
    let snapshot = storage.snapshot();
    drop(catalog);
    // Taken after the snapshot, so it names every field of what the snapshot holds.
    let dictionary = inner.names.current();

    let mut report = VerifyReport::default();
    // Per index, the (entry, payload) pairs the records call for.
    let mut expected: Vec<Vec<(Vec<u8>, Vec<u8>)>> = vec![Vec::new(); ready.len()];
    let mut records = snapshot.iter_once(Cf::Kv, KeyRange::all())?;
    records.seek_to_first();
    while let (Some(key), Some(bytes)) = (records.key(), records.value()) {
        report.records += 1;
        match record_codec::decode(bytes, &dictionary) {
            Ok(record) => {
                for (def, wanted) in ready.iter().zip(expected.iter_mut()) {
                    if let Some(values) = index_entry::record_values(&def.fields, &record) {
                        let payload = def.covering.payload(&record, Some(bytes), &dictionary)?;
                        wanted.push((entry_key(def.id, &values, key), payload));
                    }
                }
            }
            Err(_) => report.corrupt_records.push(key.to_vec()),
        }
        records.next();
    }
    records.status()?;
    drop(records);

    for (def, mut wanted) in ready.iter().zip(expected) {
        wanted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let (start, end) = index_entry::id_range(def.id);
        let mut stored = snapshot.iter_once(Cf::Index, KeyRange::between(start, end))?;
        stored.seek_to_first();
        let mut index = IndexReport {
            field: def.name(),
            ..IndexReport::default()
        };
        let mut want = wanted.iter().peekable();
        loop {
            match (stored.key(), want.peek()) {
                (None, None) => break,
                (Some(_), None) => {
                    index.entries += 1;
                    index.stale += 1;
                    stored.next();
                }
                (None, Some(_)) => {
                    index.missing += 1;
                    want.next();
                }
                (Some(have), Some((w, payload))) => match have.cmp(w.as_slice()) {
                    std::cmp::Ordering::Equal => {
                        index.entries += 1;
                        if !holds_payload(stored.value(), payload, &dictionary) {
                            index.wrong_covered += 1;
                        }
                        stored.next();
                        want.next();
                    }
                    std::cmp::Ordering::Less => {
                        index.entries += 1;
                        index.stale += 1;
                        stored.next();
                    }
                    std::cmp::Ordering::Greater => {
                        index.missing += 1;
                        want.next();
                    }
                },
            }
        }
        stored.status()?;
        drop(stored);
        if def.counted {
            index.wrong_counts = wrong_counts(&snapshot, def, &wanted)?;
        }
        report.indexes.push(index);
    }
    Ok(report)
}

/// Compares the stored counts of `def` with the number of `wanted` entries (sorted) per value.
fn wrong_counts(
    snapshot: &Snapshot<'_>,
    def: &IndexDef,
    wanted: &[(Vec<u8>, Vec<u8>)],
) -> Result<u64> {
    let mut expected: BTreeMap<&[u8], i64> = BTreeMap::new();
    for (entry, _) in wanted {
        let suffix = &entry[id_prefix(def.id).len()..];
        let (_, key) = split_suffix(suffix, def.fields.len())?;
        *expected
            .entry(&suffix[..suffix.len() - key.len()])
            .or_insert(0) += 1;
    }
    let (start, end) = count::id_range(def.id);
    let prefix_len = start.len();
    let mut stored = snapshot.iter_once(Cf::Index, KeyRange::between(start, end))?;
    stored.seek_to_first();
    let mut wrong = 0u64;
    while let (Some(key), Some(bytes)) = (stored.key(), stored.value()) {
        let value = &key[prefix_len..];
        let want = expected.remove(value).unwrap_or(0);
        if count::decode(bytes) != Some(want) {
            wrong += 1;
        }
        stored.next();
    }
    stored.status()?;
    // Values with records but no stored count at all.
    Ok(wrong + expected.len() as u64)
}

/// Whether a stored entry's payload holds what the record calls for, `wanted` (in record
/// version 3): the same bytes, or, for a payload an older format wrote in record version 1 or
/// 2, the same fields once decoded and written again.
fn holds_payload(stored: Option<&[u8]>, wanted: &[u8], dictionary: &NameTable) -> bool {
    match stored {
        Some(stored) if stored == wanted => true,
        Some(stored) if !stored.is_empty() => record_codec::decode(stored, dictionary)
            .and_then(|record| record_codec::encode(&record, dictionary))
            .is_ok_and(|again| again == wanted),
        _ => false,
    }
}
