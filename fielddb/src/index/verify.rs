//! `verify`: recomputes every ready index from the records and compares it with the stored
//! entries, reporting entries that are missing and entries that are stale, and records that do
//! not decode. Everything is read from one snapshot, so it runs while writers write.

use rocksdb::ReadOptions;

use crate::catalog::{IndexDef, StoredState};
use crate::engine::Engine;
use crate::error::Result;
use crate::index::entry::{entry_key, id_prefix, prefix_successor};
use crate::record_codec;

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
    /// True when nothing is missing, stale or corrupt.
    pub fn is_clean(&self) -> bool {
        self.missing() == 0 && self.stale() == 0 && self.corrupt_records.is_empty()
    }
}

pub(crate) fn verify(engine: &Engine) -> Result<VerifyReport> {
    let storage = &engine.storage;
    let catalog = engine.catalog.read();
    let ready: Vec<IndexDef> = catalog
        .all()
        .filter(|d| d.state == StoredState::Ready)
        .cloned()
        .collect();
    let snapshot = storage.db.snapshot();
    drop(catalog);

    let mut report = VerifyReport::default();
    let mut expected: Vec<Vec<Vec<u8>>> = vec![Vec::new(); ready.len()];
    let mut records = snapshot.raw_iterator_cf(storage.kv()?);
    records.seek_to_first();
    while let (Some(key), Some(bytes)) = (records.key(), records.value()) {
        report.records += 1;
        match record_codec::decode(bytes) {
            Ok(record) => {
                for (def, wanted) in ready.iter().zip(expected.iter_mut()) {
                    if let Some(value) = record.get(&def.field) {
                        wanted.push(entry_key(def.id, value, key));
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
        wanted.sort_unstable();
        let start = id_prefix(def.id).to_vec();
        let mut read = ReadOptions::default();
        read.set_iterate_lower_bound(start.clone());
        if let Some(end) = prefix_successor(&start) {
            read.set_iterate_upper_bound(end);
        }
        let mut stored = snapshot.raw_iterator_cf_opt(storage.index()?, read);
        stored.seek_to_first();
        let mut index = IndexReport {
            field: def.field.clone(),
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
                (Some(have), Some(w)) => match have.cmp(w.as_slice()) {
                    std::cmp::Ordering::Equal => {
                        index.entries += 1;
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
        report.indexes.push(index);
    }
    Ok(report)
}
