//! Index lookups: answering a [`Scope`] (equalities on an index's first fields, then at most
//! one condition on the next) from an index: resolve the name to a ready index, turn the scope
//! into a range of entry keys, walk it, and fetch the records — all from one RocksDB snapshot,
//! taken while the catalog said the index was ready, so a result never mixes two versions.
//! When the entries hold every field wanted (`Covering::covers`), the rows are made from the
//! entries and no record is fetched.

use std::ops::Deref;

use crate::catalog::Catalog;
use crate::encoding::count;
use crate::encoding::index_def::{IndexDef, StoredState};
use crate::encoding::index_entry::{self, id_prefix, CoveredRows};
use crate::encoding::names::NameTable;
use crate::encoding::prefix_successor;
use crate::encoding::record as record_codec;
use crate::error::{display_key, invalid, Error, Result};
use crate::index::counts;
use crate::index::{IndexInfo, IndexState};
use crate::inner::DbInner;
use crate::prefetch::prefetch;
use crate::query::{Page, Query, QueryOptions};
use crate::read::{corrupt_at, decode_at};
use crate::record::{FieldName, Record};
use crate::record_view::RecordView;
use crate::storage::{Cf, KeyRange, Snapshot};
use crate::value::Value;

/// Lists the indexes and their states for error messages: `age (ready), city (building 45%)`.
pub(crate) fn describe_indexes(catalog: &Catalog) -> String {
    let list: Vec<String> = catalog
        .all()
        .map(|d| format!("{} ({})", d.name(), state_words(d)))
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

/// The part of an index a read covers: the values of its first fields (equalities), then at
/// most one condition on the next field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scope {
    pub(crate) equal: Vec<Value>,
    pub(crate) next: Option<Query>,
}

impl Scope {
    /// One condition on an index's first field (an equality joins `equal`).
    pub(crate) fn of(query: &Query) -> Scope {
        match query {
            Query::Eq(v) => Scope {
                equal: vec![v.clone()],
                next: None,
            },
            other => Scope {
                equal: Vec::new(),
                next: Some(other.clone()),
            },
        }
    }

    /// The number of the index's fields the scope constrains.
    fn width(&self) -> usize {
        self.equal.len() + usize::from(self.next.is_some())
    }
}

/// The entry keys a scope covers: `[lower, upper)`, both including the index id.
struct EntryRange {
    prefix_len: usize,
    lower: Vec<u8>,
    upper: Vec<u8>,
}

fn entry_range(def: &IndexDef, scope: &Scope, options: &QueryOptions) -> Result<EntryRange> {
    if scope.width() > def.fields.len() {
        return invalid!(
            "the index {} has {} field(s); {} conditions cannot all lead it",
            def.name(),
            def.fields.len(),
            scope.width()
        );
    }
    let prefix = id_prefix(def.id);
    let mut fixed = prefix.to_vec();
    for value in &scope.equal {
        // An equality's bounds refuse NaN; its lower bound is the value's encoding.
        let (encoded, _) = Query::Eq(value.clone()).encoded_bounds()?;
        fixed.extend_from_slice(&encoded);
    }
    let (lo, hi) = match &scope.next {
        Some(query) => query.encoded_bounds()?,
        None => (Vec::new(), None),
    };
    let mut lower = [&fixed[..], &lo].concat();
    let mut upper = match hi {
        Some(hi) => [&fixed[..], &hi].concat(),
        None => prefix_successor(&fixed).unwrap_or_else(|| index_entry::id_range(def.id).1),
    };
    let arity = def.fields.len();
    if let Some(cursor) = &options.start_after {
        if index_entry::split_suffix(cursor, arity).is_err() {
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

/// Resolves `name` to its ready index and runs `f` on a snapshot taken under the catalog guard.
fn with_ready_index<R>(
    inner: &DbInner,
    name: &str,
    f: impl FnOnce(&IndexDef, &Snapshot<'_>) -> Result<R>,
) -> Result<R> {
    let catalog = inner.catalog.read();
    let Some(def) = catalog.active_on(name).cloned() else {
        return Err(Error::NoSuchIndex {
            field: name.to_owned(),
            indexes: describe_indexes(&catalog),
        });
    };
    if def.state != StoredState::Ready {
        return Err(Error::IndexNotReady {
            field: name.to_owned(),
            indexes: describe_indexes(&catalog),
        });
    }
    let snapshot = inner.storage.snapshot();
    drop(catalog);
    f(&def, &snapshot)
}

/// Walks the entries of a range in order, calling `visit` with each entry's suffix (values and
/// key) and payload until it returns false.
fn walk(
    snapshot: &Snapshot<'_>,
    range: &EntryRange,
    reverse: bool,
    mut visit: impl FnMut(&[u8], &[u8]) -> Result<bool>,
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
    while let (Some(key), Some(payload)) = (it.key(), it.value()) {
        if !visit(&key[range.prefix_len..], payload)? {
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

/// The rows of an index read (what `collect_hits` made of each entry) and, when asked for,
/// each one's position (the suffix of its entry: the cursor of a page ending at it), in order.
struct Hits<T> {
    rows: Vec<T>,
    /// Every row's position, or (when not asked for) only the last row's.
    positions: Vec<Vec<u8>>,
    /// More rows follow the limit.
    more: bool,
}

impl<T> Hits<T> {
    /// The cursor of the page these hits make.
    fn next(&self) -> Option<Vec<u8>> {
        self.more.then(|| self.positions.last().cloned()).flatten()
    }
}

/// Collects up to the options' limit of hits, each made by `row` from the entry's suffix and
/// payload, with every row's position when `every_position` (else the last one's only).
fn collect_hits<T>(
    snapshot: &Snapshot<'_>,
    def: &IndexDef,
    scope: &Scope,
    options: &QueryOptions,
    every_position: bool,
    mut row: impl FnMut(&[u8], &[u8]) -> Result<T>,
) -> Result<Hits<T>> {
    let range = entry_range(def, scope, options)?;
    let limit = options.limit.unwrap_or(usize::MAX);
    let mut hits = Hits {
        rows: Vec::new(),
        positions: Vec::new(),
        more: false,
    };
    walk(snapshot, &range, options.reverse, |suffix, payload| {
        if hits.rows.len() == limit {
            hits.more = true;
            return Ok(false);
        }
        hits.rows.push(row(suffix, payload)?);
        match hits.positions.last_mut() {
            Some(last) if !every_position => {
                last.clear();
                last.extend_from_slice(suffix);
            }
            _ => hits.positions.push(suffix.to_vec()),
        }
        Ok(true)
    })?;
    Ok(hits)
}

/// The keys matching `query` on the index's first field, a page at a time.
pub(crate) fn keys(
    inner: &DbInner,
    name: &str,
    query: &Query,
    options: &QueryOptions,
) -> Result<Page<Vec<u8>>> {
    with_ready_index(inner, name, |def, snapshot| {
        let arity = def.fields.len();
        let hits = collect_hits(snapshot, def, &Scope::of(query), options, false, |s, _| {
            Ok(index_entry::suffix_key(s, arity)?.to_vec())
        })?;
        let next = hits.next();
        Ok(Page {
            rows: hits.rows,
            next,
        })
    })
}

/// The rows of an index read with their records, in order: (key, record), and the positions
/// [`Hits`] kept.
pub(crate) struct RecordRows {
    pub(crate) rows: Vec<(Vec<u8>, Record)>,
    /// Every row's position, or only the last row's (see [`scoped_records`]).
    pub(crate) positions: Vec<Vec<u8>>,
    /// More rows follow the limit.
    pub(crate) more: bool,
}

/// The rows in `scope` of the index `name`, up to the options' limit, from one snapshot, with
/// every row's position when `every_position` (else the last one's only). Each record holds
/// the fields of `wanted` in its order, or all of them when `wanted` is `None`; from the
/// entries alone when the index covers them, else from the records (decoding only those).
pub(crate) fn scoped_records(
    inner: &DbInner,
    name: &str,
    scope: &Scope,
    options: &QueryOptions,
    wanted: Option<&[String]>,
    every_position: bool,
) -> Result<RecordRows> {
    with_ready_index(inner, name, |def, snapshot| {
        // Taken after the snapshot, so it names every field of what the snapshot holds.
        let dictionary = inner.names.current();
        let arity = def.fields.len();
        if def.covering.covers(&def.fields, wanted) {
            let covered = CoveredRows::new(&def.covering, &def.fields, wanted);
            let hits = collect_hits(snapshot, def, scope, options, every_position, |s, p| {
                let (key, record) = covered_row(&covered, name, (s, p), &dictionary)?;
                Ok((key.to_vec(), record))
            })?;
            return Ok(RecordRows {
                rows: hits.rows,
                positions: hits.positions,
                more: hits.more,
            });
        }
        let hits = collect_hits(snapshot, def, scope, options, every_position, |s, _| {
            Ok(index_entry::suffix_key(s, arity)?.to_vec())
        })?;
        let values = fetch_records(snapshot, name, &hits.rows)?;
        let mut rows = Vec::with_capacity(hits.rows.len());
        // The wanted fields' names, made once, and the wanted values of each record in turn.
        let wanted_names: Vec<FieldName> = wanted
            .unwrap_or_default()
            .iter()
            .map(|name| FieldName::from(name.as_str()))
            .collect();
        let mut found = vec![None; wanted_names.len()];
        for (i, (key, bytes)) in hits.rows.into_iter().zip(&values).enumerate() {
            prefetch_record(&values, i);
            let record = match wanted {
                Some(wanted) => decode_wanted_at(
                    &key,
                    bytes,
                    (wanted, &wanted_names),
                    &dictionary,
                    &mut found,
                )?,
                None => decode_at(&key, bytes, &dictionary)?,
            };
            rows.push((key, record));
        }
        Ok(RecordRows {
            rows,
            positions: hits.positions,
            more: hits.more,
        })
    })
}

/// The stored records at `keys`, the keys of index `name`'s entries, read in one batch; an
/// entry whose record is missing is corruption.
fn fetch_records<'s>(
    snapshot: &'s Snapshot<'_>,
    name: &str,
    keys: &[Vec<u8>],
) -> Result<Vec<impl Deref<Target = [u8]> + 's>> {
    let values = snapshot.multi_get(Cf::Kv, keys)?;
    keys.iter()
        .zip(values)
        .map(|(key, value)| {
            value.ok_or_else(|| {
                Error::Corruption(format!(
                    "index {name} has an entry for key {} that holds no record",
                    display_key(key)
                ))
            })
        })
        .collect()
}

/// How many records ahead of the one being decoded the next is asked into the cache.
const PREFETCH_AHEAD: usize = 4;

/// Asks the processor to bring the start of the record `PREFETCH_AHEAD` after the `i`th into
/// its cache, so that decoding it does not wait for memory: a batch's records lie scattered in
/// the block cache or the memtable, and each one's first byte was otherwise a cache miss.
#[inline(always)]
fn prefetch_record(records: &[impl Deref<Target = [u8]>], i: usize) {
    if let Some(ahead) = records.get(i + PREFETCH_AHEAD) {
        prefetch(ahead);
    }
}

/// The rows in `scope` of the index `name` as [`scoped_records`] reads them (one snapshot, up
/// to the options' limit, the fields of `wanted` in its order or all of them), each handed to
/// `each` as it is made: the key and a view of the record that borrows the stored bytes, so
/// no row is collected and no field copied. Returns the cursor of the page's end.
pub(crate) fn scoped_each(
    inner: &DbInner,
    name: &str,
    scope: &Scope,
    options: &QueryOptions,
    wanted: Option<&[String]>,
    each: &mut dyn FnMut(&[u8], RecordView<'_>),
) -> Result<Option<Vec<u8>>> {
    with_ready_index(inner, name, |def, snapshot| {
        // Taken after the snapshot, so it names every field of what the snapshot holds.
        let dictionary = inner.names.current();
        let arity = def.fields.len();
        if def.covering.covers(&def.fields, wanted) {
            let covered = CoveredRows::new(&def.covering, &def.fields, wanted);
            let hits = collect_hits(snapshot, def, scope, options, false, |s, p| {
                covered
                    .view_row((s, p), &dictionary, &mut *each)
                    .map_err(|e| corrupt_entry(name, s, e))
            })?;
            return Ok(hits.next());
        }
        let hits = collect_hits(snapshot, def, scope, options, false, |s, _| {
            Ok(index_entry::suffix_key(s, arity)?.to_vec())
        })?;
        let values = fetch_records(snapshot, name, &hits.rows)?;
        // Reused for every row: the record's fields, and those of them wanted, in its order.
        let mut fields = Vec::new();
        let mut chosen = Vec::new();
        for (i, (key, bytes)) in hits.rows.iter().zip(&values).enumerate() {
            prefetch_record(&values, i);
            record_codec::decode_borrowed(bytes, &dictionary, &mut fields)
                .map_err(|e| corrupt_at(key, e))?;
            let view =
                match wanted {
                    None => RecordView::new(&fields),
                    Some(wanted) => {
                        chosen.clear();
                        chosen.extend(wanted.iter().filter_map(|w| {
                            fields.iter().find(|(n, _)| *n == w.as_str()).copied()
                        }));
                        RecordView::new(&chosen)
                    }
                };
            each(key, view);
        }
        Ok(hits.next())
    })
}

/// The row the entry (`suffix`, `payload`) of the covering index `name` answers, made from
/// the entry alone ([`CoveredRows::row`]).
fn covered_row<'s>(
    covered: &CoveredRows<'_>,
    name: &str,
    (suffix, payload): (&'s [u8], &[u8]),
    dictionary: &NameTable,
) -> Result<(&'s [u8], Record)> {
    covered
        .row(suffix, payload, dictionary)
        .map_err(|e| corrupt_entry(name, suffix, e))
}

/// The corruption of an entry (its values, key or payload), naming the index and the entry.
fn corrupt_entry(name: &str, suffix: &[u8], error: Error) -> Error {
    match error {
        Error::Corruption(msg) => Error::Corruption(format!(
            "index {name}: the entry {} is malformed: {msg}",
            display_key(suffix)
        )),
        other => other,
    }
}

/// The fields `wanted` of the stored record `bytes` at `key`, in the order of `wanted` and
/// named by `names` (the same names, made once for the page), read through `found` (one slot
/// per wanted field, which the caller keeps for all its records).
fn decode_wanted_at(
    key: &[u8],
    bytes: &[u8],
    (wanted, names): (&[String], &[FieldName]),
    dictionary: &NameTable,
    found: &mut [Option<Value>],
) -> Result<Record> {
    record_codec::decode_fields_into(bytes, wanted, dictionary, found)
        .map_err(|e| corrupt_at(key, e))?;
    let fields = names
        .iter()
        .zip(found.iter_mut())
        .filter_map(|(name, value)| value.take().map(|v| (name.clone(), v)))
        .collect();
    Ok(Record::from_fields_unchecked(fields))
}

/// The (key, record) pairs matching `query` on the index's first field, a page at a time,
/// from one snapshot.
pub(crate) fn records(
    inner: &DbInner,
    name: &str,
    query: &Query,
    options: &QueryOptions,
) -> Result<Page<(Vec<u8>, Record)>> {
    options.check_fields()?;
    let wanted = options.fields.as_deref();
    let found = scoped_records(inner, name, &Scope::of(query), options, wanted, false)?;
    let next = if found.more {
        found.positions.last().cloned()
    } else {
        None
    };
    Ok(Page {
        rows: found.rows,
        next,
    })
}

/// Like [`records`], handing each row to `each` as it is read (see [`scoped_each`]) instead of
/// collecting owned records; returns where the next page starts.
pub(crate) fn records_each(
    inner: &DbInner,
    name: &str,
    query: &Query,
    options: &QueryOptions,
    each: &mut dyn FnMut(&[u8], RecordView<'_>),
) -> Result<Option<Vec<u8>>> {
    options.check_fields()?;
    let wanted = options.fields.as_deref();
    scoped_each(inner, name, &Scope::of(query), options, wanted, each)
}

/// The number of records matching `query` on the index's first field (limit and cursor
/// ignored).
pub(crate) fn count(inner: &DbInner, name: &str, query: &Query) -> Result<u64> {
    scoped_count(inner, name, &Scope::of(query))
}

/// The number of records in `scope` of the index `name`: one read of the stored count when the
/// index is counted and the scope holds an equality on every one of its fields, a walk over
/// the matching entries otherwise.
pub(crate) fn scoped_count(inner: &DbInner, name: &str, scope: &Scope) -> Result<u64> {
    with_ready_index(inner, name, |def, snapshot| {
        if let Some(stored) = stored_count(snapshot, def, scope)? {
            return Ok(stored);
        }
        let range = entry_range(def, scope, &QueryOptions::default())?;
        let mut n = 0u64;
        walk(snapshot, &range, false, |_, _| {
            n += 1;
            Ok(true)
        })?;
        Ok(n)
    })
}

/// The stored count answering `scope`, when the index keeps counts and the scope fixes every
/// one of its fields by equality.
fn stored_count(snapshot: &Snapshot<'_>, def: &IndexDef, scope: &Scope) -> Result<Option<u64>> {
    if !def.counted || scope.next.is_some() || scope.equal.len() != def.fields.len() {
        return Ok(None);
    }
    let range = entry_range(def, scope, &QueryOptions::default())?;
    let encoded = &range.lower[range.prefix_len..];
    let stored = snapshot.get(Cf::Index, &count::count_key(def.id, encoded))?;
    counts::to_records(&def.name(), stored.as_deref()).map(Some)
}

/// How many records a scope holds, as far as a cheap look can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowEstimate {
    /// Exactly this many, read from a counted index's counts.
    Counted(u64),
    /// Exactly this many, found by walking the range (it was short).
    Walked(u64),
    /// About this many, at least the number walked before giving up, extrapolated from
    /// RocksDB's approximate sizes of the range in SST files.
    Approximate(u64),
}

impl RowEstimate {
    /// The number of rows.
    pub fn rows(&self) -> u64 {
        match *self {
            RowEstimate::Counted(n) | RowEstimate::Walked(n) | RowEstimate::Approximate(n) => n,
        }
    }
}

/// The most entries an estimate walks before extrapolating.
const ESTIMATE_WALK: u64 = 10_000;

/// Estimates the records in `scope` of the index `name`: the stored count if there is one; else
/// a walk of up to [`ESTIMATE_WALK`] entries; past that, the walked number scaled by the
/// approximate file bytes of the whole range over those of the walked part (the walked number
/// alone when the files hold none of it, all in memtables).
pub(crate) fn estimate(inner: &DbInner, name: &str, scope: &Scope) -> Result<RowEstimate> {
    with_ready_index(inner, name, |def, snapshot| {
        if let Some(stored) = stored_count(snapshot, def, scope)? {
            return Ok(RowEstimate::Counted(stored));
        }
        let range = entry_range(def, scope, &QueryOptions::default())?;
        let mut n = 0u64;
        let mut stopped_at: Option<Vec<u8>> = None;
        walk(snapshot, &range, false, |suffix, _| {
            if n == ESTIMATE_WALK {
                stopped_at = Some([&range.lower[..range.prefix_len], suffix].concat());
                return Ok(false);
            }
            n += 1;
            Ok(true)
        })?;
        let Some(stop) = stopped_at else {
            return Ok(RowEstimate::Walked(n));
        };
        let storage = &inner.storage;
        let walked = storage.approximate_file_bytes(Cf::Index, &range.lower, &stop)?;
        let whole = storage.approximate_file_bytes(Cf::Index, &range.lower, &range.upper)?;
        let scaled = if walked == 0 {
            n
        } else {
            (n as f64 * whole as f64 / walked as f64) as u64
        };
        Ok(RowEstimate::Approximate(scaled.max(n)))
    })
}
