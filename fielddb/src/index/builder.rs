//! The index builder: filling a new index from the records already stored, in the background, while
//! writers keep writing.
//!
//! The build walks `kv` in key order in steps of `Options::build_chunk_records` records. Each
//! step holds the catalog's write guard (writers pause for that step only), reads the current
//! records after the cursor, and commits their entries (with the covered fields of a covering
//! index as payload) together with the new cursor in one batch. Writers maintain a building index themselves, on every key, so nothing is missed and
//! nothing goes stale. A counted index's counts of the step's records ride in the same batch
//! (writers count only keys the cursor has passed). The last step flips the state to `Ready` in
//! its batch. A crash loses no
//! committed step: the next open resumes from the persisted cursor.
//!
//! A unique index whose records turn out to hold a duplicate value fails: its entries and
//! definition are removed and `IndexBuild::wait` reports the two keys.

use std::collections::HashMap;

use parking_lot::RwLockWriteGuard;

use crate::catalog::Catalog;
use crate::encoding::index_def::{IndexDef, StoredState};
use crate::encoding::index_entry::{self, IndexId};
use crate::error::Error;
use crate::index::counts::CountDeltas;
use crate::index::{dropper, ingest};
use crate::inner::{BuildFailure, DbInner};
use crate::read::corrupt_at;
use crate::storage::{Cf, KeyRange, WriteSet};

/// Where a build stands after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    More,
    Finished,
}

/// Runs a build task to its end, or until the database stops: by ingestion (`index::ingest`)
/// when the index was created for it, else in steps.
pub(crate) fn run(inner: &DbInner, id: IndexId) {
    let by_ingestion = inner
        .catalog
        .read()
        .get(id)
        .is_some_and(|def| matches!(def.state, StoredState::Ingesting { .. }));
    if by_ingestion {
        if let Err(error) = ingest::run(inner, id) {
            let field = inner.catalog.read().get(id).map(IndexDef::name);
            fail(inner, id, other(&field.unwrap_or_default(), error));
        }
        inner.notify_changed();
        return;
    }
    while !inner.is_stopping() {
        match step(inner, id) {
            Ok(Step::More) => inner.notify_changed(),
            Ok(Step::Finished) => break,
            Err(failure) => {
                fail(inner, id, failure);
                break;
            }
        }
    }
    inner.notify_changed();
}

/// Records why the build of index `id` failed, and removes the index; should that fail too,
/// the next open finishes the drop.
fn fail(inner: &DbInner, id: IndexId, failure: BuildFailure) {
    inner.failures.lock().insert(id, failure);
    let _ = mark_dropping(inner, id);
    let _ = dropper::remove_index(inner, id);
}

fn mark_dropping(inner: &DbInner, id: IndexId) -> crate::Result<()> {
    let mut catalog = inner.catalog.write();
    catalog.commit_state(&inner.storage, id, StoredState::Dropping)?;
    Ok(())
}

fn other(field: &str, error: Error) -> BuildFailure {
    BuildFailure::Other {
        field: field.to_owned(),
        reason: error.to_string(),
    }
}

/// Indexes the next chunk of records under the catalog's write guard.
fn step(inner: &DbInner, id: IndexId) -> Result<Step, BuildFailure> {
    let mut catalog = inner.catalog.write();
    let chunk = inner.options.build_chunk_records;
    let outcome = step_locked(inner, &mut catalog, id, chunk, |_| {});
    // Hand the lock to the writers queued during this step before the next step takes it again.
    RwLockWriteGuard::unlock_fair(catalog);
    outcome
}

/// Indexes up to `chunk` records after the cursor of index `id`, committing their entries,
/// counts and the new cursor (or the flip to `Ready`) in one batch, to which `extra` may add
/// keys of its own. The caller holds the catalog's write guard. On a failure nothing is
/// written.
pub(crate) fn step_locked(
    inner: &DbInner,
    catalog: &mut Catalog,
    id: IndexId,
    chunk: usize,
    extra: impl FnOnce(&mut WriteSet<'_>),
) -> Result<Step, BuildFailure> {
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
    let name = def.name();
    let field = name.as_str();
    let storage = &inner.storage;
    let mut batch = storage.batch().map_err(|e| other(field, e))?;
    let mut records = storage
        .iter(Cf::Kv, KeyRange::all())
        .map_err(|e| other(field, e))?;
    match cursor {
        Some(after) => {
            let mut first = after.clone();
            first.push(0); // the smallest key after the cursor
            records.seek(&first);
        }
        None => records.seek_to_first(),
    }
    let mut claimed: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let mut count_deltas = CountDeltas::default();
    let mut count = 0u64;
    let mut last_key: Option<Vec<u8>> = None;
    // The indexed fields, then any the entries cover.
    let names = def.covering.fields_to_read(&def.fields);
    // Taken after the iterator, so it names every field of what the iterator reads.
    let dictionary = inner.names.current();
    while count < chunk as u64 {
        let (Some(key), Some(bytes)) = (records.key(), records.value()) else {
            break;
        };
        // Only those fields are copied out; the whole record is still checked. A record
        // lacking one of the indexed fields has no entry.
        let found = index_entry::entry_of_stored(
            id,
            (&def.fields, &def.covering),
            &names,
            (key, bytes),
            &dictionary,
        )
        .map_err(|e| other(field, corrupt_at(key, e)))?;
        if let Some((entry, payload)) = found {
            if def.unique {
                let values = &entry[index_entry::id_prefix(id).len()..entry.len() - key.len()];
                check_unique(inner, &def, values, key, &mut claimed)?;
            }
            if def.counted {
                count_deltas.add_for_entry(id, &entry, key.len(), 1);
            }
            batch.put(Cf::Index, &entry, &payload);
        }
        last_key = Some(key.to_vec());
        count += 1;
        records.next();
    }
    records.status().map_err(|e| other(field, e))?;
    let finished = !records.valid();
    drop(records);

    count_deltas.stage(&mut batch);
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
    let field = name;
    let def = IndexDef { state, ..def };
    Catalog::stage_put(&def, &mut batch);
    extra(&mut batch);
    storage.write(batch).map_err(|e| other(&field, e))?;
    catalog.apply(def);
    Ok(if finished { Step::Finished } else { Step::More })
}

/// Fails the build if another key already holds the encoded values `values` in the unique
/// index.
fn check_unique(
    inner: &DbInner,
    def: &IndexDef,
    values: &[u8],
    key: &[u8],
    claimed: &mut HashMap<Vec<u8>, Vec<u8>>,
) -> Result<(), BuildFailure> {
    let name = def.name();
    let violation = |holder: &[u8]| BuildFailure::Unique {
        field: name.clone(),
        value: index_entry::encoded_values_for_message(values),
        existing_key: holder.to_vec(),
    };
    let prefix = index_entry::value_prefix(def.id, values);
    if let Some(holder) = claimed.get(&prefix) {
        return Err(violation(holder));
    }
    let mut it = inner
        .storage
        .iter(Cf::Index, KeyRange::all())
        .map_err(|e| other(&name, e))?;
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
    it.status().map_err(|e| other(&name, e))?;
    claimed.insert(prefix, key.to_vec());
    Ok(())
}
