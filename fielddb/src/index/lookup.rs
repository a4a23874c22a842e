//! Index lookups: answering a `Query` from an index: resolve the field to a ready index, turn the query into a
//! range of entry keys, walk it, and fetch the records — all from one RocksDB snapshot, taken
//! while the catalog said the index was ready, so a result never mixes two versions.

use crate::catalog::Catalog;
use crate::encoding::count;
use crate::encoding::index_def::{IndexDef, StoredState};
use crate::encoding::index_entry::{self, id_prefix};
use crate::error::{display_key, invalid, Error, Result};
use crate::index::counts;
use crate::index::{IndexInfo, IndexState};
use crate::inner::DbInner;
use crate::query::{Page, Query, QueryOptions};
use crate::read::decode_at;
use crate::record::Record;
use crate::storage::{Cf, KeyRange, Snapshot};

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
        None => index_entry::id_range(def.id).1,
    };
    if let Some(cursor) = &options.start_after {
        if index_entry::split_suffix(cursor).is_err() {
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
    inner: &DbInner,
    field: &str,
    f: impl FnOnce(&IndexDef, &Snapshot<'_>) -> Result<R>,
) -> Result<R> {
    let catalog = inner.catalog.read();
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
    let snapshot = inner.storage.snapshot();
    drop(catalog);
    f(&def, &snapshot)
}

/// Walks the entries of a query in order, calling `visit` with each entry's suffix (value and
/// key) until it returns false.
fn walk(
    snapshot: &Snapshot<'_>,
    range: &EntryRange,
    reverse: bool,
    mut visit: impl FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    if range.lower >= range.upper {
        return Ok(());
    }
    let bounds = KeyRange::between(range.lower.clone(), range.upper.clone());
    let mut it = snapshot.iter(Cf::Index, bounds)?;
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
    snapshot: &Snapshot<'_>,
    def: &IndexDef,
    query: &Query,
    options: &QueryOptions,
) -> Result<Page<Vec<u8>>> {
    let range = entry_range(def, query, options)?;
    let limit = options.limit.unwrap_or(usize::MAX);
    let mut rows = Vec::new();
    let mut last_suffix: Option<Vec<u8>> = None;
    let mut more = false;
    walk(snapshot, &range, options.reverse, |suffix| {
        if rows.len() == limit {
            more = true;
            return Ok(false);
        }
        let (_, key) = index_entry::split_suffix(suffix)?;
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
    inner: &DbInner,
    field: &str,
    query: &Query,
    options: &QueryOptions,
) -> Result<Page<Vec<u8>>> {
    with_ready_index(inner, field, |def, snapshot| {
        collect_keys(snapshot, def, query, options)
    })
}

/// The (key, record) pairs matching `query`, a page at a time, from one snapshot.
pub(crate) fn records(
    inner: &DbInner,
    field: &str,
    query: &Query,
    options: &QueryOptions,
) -> Result<Page<(Vec<u8>, Record)>> {
    with_ready_index(inner, field, |def, snapshot| {
        let page = collect_keys(snapshot, def, query, options)?;
        let values = snapshot.multi_get(Cf::Kv, &page.rows)?;
        let mut rows = Vec::with_capacity(page.rows.len());
        for (key, value) in page.rows.into_iter().zip(values) {
            let Some(bytes) = value else {
                return Err(Error::Corruption(format!(
                    "index on `{field}` has an entry for key {} that holds no record",
                    display_key(&key)
                )));
            };
            let record = decode_at(&key, &bytes)?;
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
pub(crate) fn count(inner: &DbInner, field: &str, query: &Query) -> Result<u64> {
    with_ready_index(inner, field, |def, snapshot| {
        if let (true, Query::Eq(_)) = (def.counted, query) {
            let (encoded, _) = query.encoded_bounds()?;
            let stored = snapshot.get(Cf::Index, &count::count_key(def.id, &encoded))?;
            return counts::to_records(field, stored.as_deref());
        }
        let range = entry_range(def, query, &QueryOptions::default())?;
        let mut n = 0u64;
        walk(snapshot, &range, false, |_| {
            n += 1;
            Ok(true)
        })?;
        Ok(n)
    })
}
