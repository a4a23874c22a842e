//! The index builder: filling a new index from the records already stored, in the background, while
//! writers keep writing.
//!
//! The build walks `kv` in key order in steps of `Options::build_chunk_records` records. Each
//! step holds the catalog's write guard (writers pause for that step only), reads the current
//! records after the cursor, and commits their entries together with the new cursor in one
//! batch. Writers maintain a building index themselves, on every key, so nothing is missed and
//! nothing goes stale. A counted index's counts of the step's records ride in the same batch
//! (writers count only keys the cursor has passed). The last step flips the state to `Ready` in
//! its batch. A crash loses no
//! committed step: the next open resumes from the persisted cursor.
//!
//! A unique index whose records turn out to hold a duplicate value fails: its entries and
//! definition are removed and `IndexBuild::wait` reports the two keys.

use std::collections::HashMap;

use parking_lot::RwLockWriteGuard;
use rocksdb::WriteBatch;

use crate::catalog::{Catalog, IndexDef, IndexId, StoredState};
use crate::engine::{BuildFailure, Engine};
use crate::error::Error;
use crate::index::counts::CountDeltas;
use crate::index::entry;
use crate::record_codec;
use crate::write::corrupt_at;

enum Step {
    More,
    Finished,
}

/// Runs a build task to its end, or until the engine stops.
pub(crate) fn run(engine: &Engine, id: IndexId) {
    while !engine.is_stopping() {
        match step(engine, id) {
            Ok(Step::More) => engine.notify_changed(),
            Ok(Step::Finished) => break,
            Err(failure) => {
                engine.failures.lock().insert(id, failure);
                // The index is removed; should that fail too, the next open finishes the drop.
                let _ = mark_dropping(engine, id);
                let _ = crate::index::dropper::remove_index(engine, id);
                break;
            }
        }
    }
    engine.notify_changed();
}

fn mark_dropping(engine: &Engine, id: IndexId) -> crate::Result<()> {
    let mut catalog = engine.catalog.write();
    catalog.commit_state(&engine.storage, id, StoredState::Dropping)?;
    Ok(())
}

fn other(field: &str, error: Error) -> BuildFailure {
    BuildFailure::Other {
        field: field.to_owned(),
        reason: error.to_string(),
    }
}

/// Indexes the next chunk of records under the catalog's write guard.
fn step(engine: &Engine, id: IndexId) -> Result<Step, BuildFailure> {
    let mut catalog = engine.catalog.write();
    let Some(def) = catalog.get(id).cloned() else {
        return Ok(Step::Finished);
    };
    let StoredState::Building {
        cursor,
        done,
        total,
    } = &def.state
    else {
        return Ok(Step::Finished);
    };
    let field = def.field.as_str();
    let storage = &engine.storage;
    let (kv, index_cf) = match (storage.kv(), storage.index()) {
        (Ok(kv), Ok(index)) => (kv, index),
        (Err(e), _) | (_, Err(e)) => return Err(other(field, e)),
    };

    let mut records = storage.db.raw_iterator_cf(kv);
    match cursor {
        Some(after) => {
            let mut first = after.clone();
            first.push(0); // the smallest key after the cursor
            records.seek(&first);
        }
        None => records.seek_to_first(),
    }
    let mut batch = WriteBatch::default();
    let mut claimed: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let mut count_deltas = CountDeltas::default();
    let mut count = 0u64;
    let mut last_key: Option<Vec<u8>> = None;
    while count < engine.options.build_chunk_records as u64 {
        let (Some(key), Some(bytes)) = (records.key(), records.value()) else {
            break;
        };
        // Only the indexed field is copied out; the whole record is still checked.
        let value = record_codec::decode_field(bytes, field)
            .map_err(|e| other(field, corrupt_at(key, e)))?;
        if let Some(value) = &value {
            if def.unique {
                check_unique(engine, &def, value, key, &mut claimed)?;
            }
            let entry = entry::entry_key(id, value, key);
            if def.counted {
                count_deltas.add_for_entry(id, &entry, key.len(), 1);
            }
            batch.put_cf(index_cf, entry, []);
        }
        last_key = Some(key.to_vec());
        count += 1;
        records.next();
    }
    records
        .status()
        .map_err(|e| other(field, Error::Storage(e)))?;
    let finished = !records.valid();
    drop(records);

    count_deltas
        .stage(storage, &mut batch)
        .map_err(|e| other(field, e))?;
    let done = done + count;
    let state = if finished {
        StoredState::Ready
    } else {
        StoredState::Building {
            cursor: last_key.or_else(|| cursor.clone()),
            done,
            total: (*total).max(done),
        }
    };
    let field = field.to_owned();
    let def = IndexDef { state, ..def };
    Catalog::stage_put(storage, &def, &mut batch).map_err(|e| other(&field, e))?;
    storage.write(batch).map_err(|e| other(&field, e))?;
    catalog.apply(def);
    // Hand the lock to the writers queued during this step before the next step takes it again.
    RwLockWriteGuard::unlock_fair(catalog);
    Ok(if finished { Step::Finished } else { Step::More })
}

/// Fails the build if another key already holds `value` in the unique index.
fn check_unique(
    engine: &Engine,
    def: &IndexDef,
    value: &crate::Value,
    key: &[u8],
    claimed: &mut HashMap<Vec<u8>, Vec<u8>>,
) -> Result<(), BuildFailure> {
    let violation = |holder: &[u8]| BuildFailure::Unique {
        field: def.field.clone(),
        value: value.clone(),
        existing_key: holder.to_vec(),
    };
    let prefix = entry::value_prefix(def.id, value);
    if let Some(holder) = claimed.get(&prefix) {
        return Err(violation(holder));
    }
    let storage = &engine.storage;
    let index_cf = storage.index().map_err(|e| other(&def.field, e))?;
    let mut it = storage.db.raw_iterator_cf(index_cf);
    it.seek(&prefix);
    while let Some(found) = it.key() {
        let Some(holder) = found.strip_prefix(prefix.as_slice()) else {
            break;
        };
        if holder != key {
            return Err(violation(holder));
        }
        it.next();
    }
    it.status()
        .map_err(|e| other(&def.field, Error::Storage(e)))?;
    claimed.insert(prefix, key.to_vec());
    Ok(())
}
