//! The write path: validated operations become ONE RocksDB batch holding the records and every
//! index change they cause, so data and indexes can never disagree (DESIGN.md section 5).
//!
//! 1. Take the catalog's read guard, held until the batch is committed, so an index state change
//!    or build step (which take the write guard) is ordered against this write.
//! 2. No index to maintain: write blindly, without reading anything.
//! 3. Otherwise lock the keys' stripes, read each old record (or the version left by an earlier
//!    operation of the same batch), and for every maintained index whose value changed, delete
//!    the old entry and put the new one; for a counted index, add the change of each value's
//!    count (`index::counts`) to the same batch.
//! 4. For unique indexes, lock the claimed values' stripes and check that no other key holds
//!    them; a conflict is `Error::UniqueViolation` and nothing is written.
//! 5. Write the batch.

use std::collections::{BTreeMap, HashMap};

use rocksdb::WriteBatch;

use crate::batch::PreparedOp;
use crate::catalog::IndexDef;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::index::counts::{self, CountDeltas};
use crate::index::entry;
use crate::keycode;
use crate::record::Record;
use crate::record_codec;
use crate::value::Value;

/// A unique value a put wants to hold.
struct Claim<'a> {
    def: &'a IndexDef,
    value: &'a Value,
    key: &'a [u8],
    value_prefix: Vec<u8>,
    entry: Vec<u8>,
}

/// Applies `ops` atomically. When `report_existed` is set, returns for each op whether its key
/// held a record just before it.
pub(crate) fn apply(
    engine: &Engine,
    ops: &[PreparedOp],
    report_existed: bool,
) -> Result<Vec<bool>> {
    engine.storage.check_writable()?;
    let catalog = engine.catalog.read();
    let indexes: Vec<&IndexDef> = catalog.maintained().collect();
    let storage = &engine.storage;
    let kv = storage.kv()?;
    let mut batch = WriteBatch::default();

    if indexes.is_empty() && !report_existed {
        for op in ops {
            match &op.put {
                Some((_, encoded)) => batch.put_cf(kv, &op.key, encoded),
                None => batch.delete_cf(kv, &op.key),
            }
        }
        storage.write(batch)?;
        return Ok(Vec::new());
    }

    let _key_guards = engine
        .key_locks
        .lock_all(ops.iter().map(|op| op.key.as_slice()));

    // The state of each key after the operations seen so far: `Some(record)` or `None` (absent).
    let mut latest: HashMap<&[u8], Option<Record>> = HashMap::new();
    let mut existed = Vec::with_capacity(ops.len());
    // Final fate of each index entry touched: true = put, false = delete.
    let mut entry_changes: BTreeMap<Vec<u8>, bool> = BTreeMap::new();
    let mut count_deltas = CountDeltas::default();
    let mut claims: Vec<Claim> = Vec::new();

    for op in ops {
        let mut unreadable = false;
        let old: Option<Record> = match latest.get(op.key.as_slice()) {
            Some(state) => state.clone(),
            None if indexes.is_empty() => {
                // Only existence is wanted.
                let present = storage.db.get_pinned_cf(kv, &op.key)?.is_some();
                present.then(Record::new)
            }
            None => match read_record(engine, &op.key) {
                Ok(record) => record,
                Err(Error::Corruption(_)) => {
                    // The old record cannot be read, so its index entries cannot be computed
                    // from it: find them by their key instead, so this write repairs the damage.
                    for &def in &indexes {
                        for (entry, value) in entries_pointing_to(engine, def, &op.key)? {
                            entry_changes.insert(entry, false);
                            if counts::writer_counts(def, &op.key) {
                                count_deltas.add_encoded(def.id, value, -1);
                            }
                        }
                    }
                    unreadable = true;
                    None
                }
                Err(other) => return Err(other),
            },
        };
        existed.push(old.is_some() || unreadable);
        let new = op.put.as_ref().map(|(record, _)| record);
        for &def in &indexes {
            let old_value = old.as_ref().and_then(|r| r.get(&def.field));
            let new_value = new.and_then(|r| r.get(&def.field));
            if same_indexed_value(old_value, new_value) {
                continue;
            }
            let counted = counts::writer_counts(def, &op.key);
            if let Some(v) = old_value {
                let entry = entry::entry_key(def.id, v, &op.key);
                if counted {
                    count_deltas.add_for_entry(def.id, &entry, op.key.len(), -1);
                }
                entry_changes.insert(entry, false);
            }
            if let Some(v) = new_value {
                let entry = entry::entry_key(def.id, v, &op.key);
                if counted {
                    count_deltas.add_for_entry(def.id, &entry, op.key.len(), 1);
                }
                entry_changes.insert(entry.clone(), true);
                if def.unique {
                    claims.push(Claim {
                        def,
                        value: v,
                        key: &op.key,
                        value_prefix: entry::value_prefix(def.id, v),
                        entry,
                    });
                }
            }
        }
        latest.insert(&op.key, new.cloned());
        match &op.put {
            Some((_, encoded)) => batch.put_cf(kv, &op.key, encoded),
            None => batch.delete_cf(kv, &op.key),
        }
    }

    // A claim whose entry a later operation of the batch removed claims nothing.
    claims.retain(|c| entry_changes.get(&c.entry) == Some(&true));
    let _value_guards = engine
        .value_locks
        .lock_all(claims.iter().map(|c| c.value_prefix.as_slice()));
    check_claims(engine, &claims, &entry_changes)?;

    let index_cf = storage.index()?;
    for (entry, put) in &entry_changes {
        if *put {
            batch.put_cf(index_cf, entry, []);
        } else {
            batch.delete_cf(index_cf, entry);
        }
    }
    count_deltas.stage(storage, &mut batch)?;
    storage.write(batch)?;
    Ok(existed)
}

/// The entries of index `def` whose user key is `key`, with their encoded values, found by
/// walking the whole index (the repair path for a record that no longer decodes).
fn entries_pointing_to(
    engine: &Engine,
    def: &IndexDef,
    key: &[u8],
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let storage = &engine.storage;
    let prefix = entry::id_prefix(def.id);
    let mut found = Vec::new();
    let mut it = storage.db.raw_iterator_cf(storage.index()?);
    it.seek(prefix);
    while let Some(raw) = it.key() {
        let Some(suffix) = raw.strip_prefix(&prefix[..]) else {
            break;
        };
        if let Ok((_, holder)) = entry::split_suffix(suffix) {
            if holder == key {
                let value = suffix[..suffix.len() - holder.len()].to_vec();
                found.push((raw.to_vec(), value));
            }
        }
        it.next();
    }
    it.status()?;
    Ok(found)
}

/// True when both sides index to the same entry (both absent, or equal encodings).
fn same_indexed_value(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => keycode::encode_to_vec(a) == keycode::encode_to_vec(b),
        _ => false,
    }
}

/// Reads and decodes the record at `key`, naming the key if it is corrupt.
pub(crate) fn read_record(engine: &Engine, key: &[u8]) -> Result<Option<Record>> {
    let storage = &engine.storage;
    match storage.db.get_pinned_cf(storage.kv()?, key)? {
        Some(bytes) => record_codec::decode(&bytes)
            .map(Some)
            .map_err(|e| corrupt_at(key, e)),
        None => Ok(None),
    }
}

/// Prefixes a corruption message with the key it was found at.
pub(crate) fn corrupt_at(key: &[u8], error: Error) -> Error {
    match error {
        Error::Corruption(msg) => Error::Corruption(format!(
            "record at key {}: {msg}",
            crate::error::display_key(key)
        )),
        other => other,
    }
}

fn check_claims(
    engine: &Engine,
    claims: &[Claim],
    entry_changes: &BTreeMap<Vec<u8>, bool>,
) -> Result<()> {
    let storage = &engine.storage;
    let index_cf = storage.index()?;
    for (i, claim) in claims.iter().enumerate() {
        let violation = |existing_key: &[u8]| Error::UniqueViolation {
            field: claim.def.field.clone(),
            value: claim.value.clone(),
            existing_key: existing_key.to_vec(),
        };
        // Two puts of one batch claiming the same value for different keys.
        if let Some(other) = claims[..i]
            .iter()
            .find(|o| o.value_prefix == claim.value_prefix && o.key != claim.key)
        {
            return Err(violation(other.key));
        }
        let mut it = storage.db.raw_iterator_cf(index_cf);
        it.seek(&claim.value_prefix);
        while let Some(found) = it.key() {
            let Some(holder) = found.strip_prefix(claim.value_prefix.as_slice()) else {
                break;
            };
            let removed_here = entry_changes.get(found) == Some(&false);
            if holder != claim.key && !removed_here {
                return Err(violation(holder));
            }
            it.next();
        }
        it.status()?;
    }
    Ok(())
}
