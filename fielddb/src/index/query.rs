//! Answering a `Query` from an index: resolve the field to a ready index, turn the query into a
//! range of entry keys, walk it, and fetch the records — all from one RocksDB snapshot, taken
//! while the catalog said the index was ready, so a result never mixes two versions.

use rocksdb::{ReadOptions, SnapshotWithThreadMode, DB};

use crate::catalog::{Catalog, IndexDef, StoredState};
use crate::engine::Engine;
use crate::error::{display_key, invalid, Error, Result};
use crate::index::counts;
use crate::index::entry::{self, id_prefix, prefix_successor};
use crate::indexes::{IndexInfo, IndexState};
use crate::query::{Page, Query, QueryOptions};
use crate::record::Record;
use crate::record_codec;

/// Lists the indexes and their states for error messages: `age (ready), city (building 45%)`.
pub(crate) fn describe_indexes(catalog: &Catalog) -> String {
    let list: Vec<String> = catalog
        .all()
        .map(|d| format!("{} ({})", d.field, state_words(d)))
        .collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

fn state_words(def: &IndexDef) -> String {
    let info = IndexInfo::from_def(def);
    let unique = if info.unique { "unique, " } else { "" };
    match info.state {
        IndexState::Ready => format!("{unique}ready"),
        IndexState::Dropping => format!("{unique}dropping"),
        IndexState::Building { .. } => {
            format!("{unique}building {:.0}%", info.progress() * 100.0)
        }
    }
}

/// The entry keys a query covers: `[lower, upper)`, both including the index id.
struct EntryRange {
    prefix_len: usize,
    lower: Vec<u8>,
    upper: Vec<u8>,
}

fn entry_range(def: &IndexDef, query: &Query, options: &QueryOptions) -> Result<EntryRange> {
    let prefix = id_prefix(def.id);
    let (lo, hi) = query.encoded_bounds()?;
    let mut lower = [&prefix[..], &lo].concat();
    let mut upper = match hi {
        Some(hi) => [&prefix[..], &hi].concat(),
        None => prefix_successor(&prefix).unwrap_or_else(|| vec![0xFF; 5]),
    };
    if let Some(cursor) = &options.start_after {
        if entry::split_suffix(cursor).is_err() {
            return invalid!(
                "cursor {} is not one an index query returned",
                display_key(cursor)
            );
        }
        let position = [&prefix[..], cursor].concat();
        if options.reverse {
            upper = upper.min(position);
        } else {
            let mut after = position;
            after.push(0);
            lower = lower.max(after);
        }
    }
    Ok(EntryRange {
        prefix_len: prefix.len(),
        lower,
        upper,
    })
}

/// Resolves `field` to its ready index and runs `f` on a snapshot taken under the catalog guard.
fn with_ready_index<R>(
    engine: &Engine,
    field: &str,
    f: impl FnOnce(&IndexDef, &SnapshotWithThreadMode<'_, DB>) -> Result<R>,
) -> Result<R> {
    let catalog = engine.catalog.read();
    let Some(def) = catalog.active_on(field).cloned() else {
        return Err(Error::NoSuchIndex {
            field: field.to_owned(),
            indexes: describe_indexes(&catalog),
        });
    };
    if def.state != StoredState::Ready {
        return Err(Error::IndexNotReady {
            field: field.to_owned(),
            indexes: describe_indexes(&catalog),
        });
    }
    let snapshot = engine.storage.db.snapshot();
    drop(catalog);
    f(&def, &snapshot)
}

/// Walks the entries of a query in order, calling `visit` with each entry's suffix (value and
/// key) until it returns false.
fn walk(
    engine: &Engine,
    snapshot: &SnapshotWithThreadMode<'_, DB>,
    range: &EntryRange,
    reverse: bool,
    mut visit: impl FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    if range.lower >= range.upper {
        return Ok(());
    }
    let mut read = ReadOptions::default();
    read.set_iterate_lower_bound(range.lower.clone());
    read.set_iterate_upper_bound(range.upper.clone());
    let mut it = snapshot.raw_iterator_cf_opt(engine.storage.index()?, read);
    if reverse {
        it.seek_to_last();
    } else {
        it.seek_to_first();
    }
    while let Some(key) = it.key() {
        if !visit(&key[range.prefix_len..])? {
            break;
        }
        if reverse {
            it.prev();
        } else {
            it.next();
        }
    }
    it.status()?;
    Ok(())
}

/// Collects up to `limit` keys, and the cursor of the last one when more follow.
fn collect_keys(
    engine: &Engine,
    snapshot: &SnapshotWithThreadMode<'_, DB>,
    def: &IndexDef,
    query: &Query,
    options: &QueryOptions,
) -> Result<Page<Vec<u8>>> {
    let range = entry_range(def, query, options)?;
    let limit = options.limit.unwrap_or(usize::MAX);
    let mut rows = Vec::new();
    let mut last_suffix: Option<Vec<u8>> = None;
    let mut more = false;
    walk(engine, snapshot, &range, options.reverse, |suffix| {
        if rows.len() == limit {
            more = true;
            return Ok(false);
        }
        let (_, key) = entry::split_suffix(suffix)?;
        rows.push(key.to_vec());
        last_suffix = Some(suffix.to_vec());
        Ok(true)
    })?;
    Ok(Page {
        rows,
        next: if more { last_suffix } else { None },
    })
}

/// The keys matching `query`, a page at a time.
pub(crate) fn keys(
    engine: &Engine,
    field: &str,
    query: &Query,
    options: &QueryOptions,
) -> Result<Page<Vec<u8>>> {
    with_ready_index(engine, field, |def, snapshot| {
        collect_keys(engine, snapshot, def, query, options)
    })
}

/// The (key, record) pairs matching `query`, a page at a time, from one snapshot.
pub(crate) fn records(
    engine: &Engine,
    field: &str,
    query: &Query,
    options: &QueryOptions,
) -> Result<Page<(Vec<u8>, Record)>> {
    with_ready_index(engine, field, |def, snapshot| {
        let page = collect_keys(engine, snapshot, def, query, options)?;
        let mut read = ReadOptions::default();
        read.set_snapshot(snapshot);
        let kv = engine.storage.kv()?;
        let values = engine
            .storage
            .db
            .batched_multi_get_cf_opt(kv, &page.rows, false, &read);
        let mut rows = Vec::with_capacity(page.rows.len());
        for (key, value) in page.rows.into_iter().zip(values) {
            let Some(bytes) = value? else {
                return Err(Error::Corruption(format!(
                    "index on `{field}` has an entry for key {} that holds no record",
                    display_key(&key)
                )));
            };
            let record =
                record_codec::decode(&bytes).map_err(|e| crate::write::corrupt_at(&key, e))?;
            rows.push((key, record));
        }
        Ok(Page {
            rows,
            next: page.next,
        })
    })
}

/// The number of records matching `query` (limit and cursor ignored): one read of the stored
/// count for an equality on a counted index, a walk over the matching entries otherwise.
pub(crate) fn count(engine: &Engine, field: &str, query: &Query) -> Result<u64> {
    with_ready_index(engine, field, |def, snapshot| {
        if let (true, Query::Eq(_)) = (def.counted, query) {
            let (encoded, _) = query.encoded_bounds()?;
            let mut read = ReadOptions::default();
            read.set_snapshot(snapshot);
            let stored = engine.storage.db.get_pinned_cf_opt(
                engine.storage.index()?,
                counts::count_key(def.id, &encoded),
                &read,
            )?;
            return counts::to_records(field, stored.as_deref());
        }
        let range = entry_range(def, query, &QueryOptions::default())?;
        let mut n = 0u64;
        walk(engine, snapshot, &range, false, |_| {
            n += 1;
            Ok(true)
        })?;
        Ok(n)
    })
}
