//! `scan`: records in key order over a key range, with a limit, a resume cursor, an optional
//! reverse order, and optional field conditions (the explicit full-scan path, which needs no
//! index and reads every record in the range).

use crate::error::Result;
use crate::inner::DbInner;
use crate::query::{Page, Query};
use crate::read::decode_at;
use crate::record::Record;
use crate::storage::{Cf, KeyRange, Storage};

/// What to scan: a key range, paging, order and optional field conditions.
///
/// ```
/// use fielddb::{Query, ScanOptions};
/// let opts = ScanOptions::new().from("user:").to("user;").limit(100).filter("age", Query::ge(18));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    from: Option<Vec<u8>>,
    to: Option<Vec<u8>>,
    start_after: Option<Vec<u8>>,
    limit: Option<usize>,
    reverse: bool,
    filter: Vec<(String, Query)>,
}

impl ScanOptions {
    /// Every record, in ascending key order.
    pub fn new() -> Self {
        ScanOptions::default()
    }
    /// Start at this key (inclusive).
    pub fn from(mut self, key: impl AsRef<[u8]>) -> Self {
        self.from = Some(key.as_ref().to_vec());
        self
    }
    /// Stop before this key (exclusive).
    pub fn to(mut self, key: impl AsRef<[u8]>) -> Self {
        self.to = Some(key.as_ref().to_vec());
        self
    }
    /// Resume after this key (the `next` of the previous page).
    pub fn start_after(mut self, key: impl AsRef<[u8]>) -> Self {
        self.start_after = Some(key.as_ref().to_vec());
        self
    }
    /// Return at most `n` records.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }
    /// Descending key order.
    pub fn reverse(mut self, reverse: bool) -> Self {
        self.reverse = reverse;
        self
    }
    /// Keep only records whose `field` matches `query` (records without the field are
    /// skipped). Each call adds a condition; a record is kept when it meets all of them.
    pub fn filter(mut self, field: impl Into<String>, query: Query) -> Self {
        self.filter.push((field.into(), query));
        self
    }
    /// The first key (inclusive), if set.
    pub fn from_key(&self) -> Option<&[u8]> {
        self.from.as_deref()
    }
    /// The key to stop before (exclusive), if set.
    pub fn to_key(&self) -> Option<&[u8]> {
        self.to.as_deref()
    }
    /// The key to resume after, if set.
    pub fn after_key(&self) -> Option<&[u8]> {
        self.start_after.as_deref()
    }
    /// The most records to return, if set.
    pub fn max_rows(&self) -> Option<usize> {
        self.limit
    }
    /// Whether the order is descending.
    pub fn is_reverse(&self) -> bool {
        self.reverse
    }
    /// The field conditions, in the order given.
    pub fn conditions(&self) -> &[(String, Query)] {
        &self.filter
    }
}

pub(crate) fn scan(inner: &DbInner, options: &ScanOptions) -> Result<Page<(Vec<u8>, Record)>> {
    let storage = &inner.storage;
    let matchers = options
        .filter
        .iter()
        .map(|(field, query)| Ok((field.as_str(), query.matcher()?)))
        .collect::<Result<Vec<_>>>()?;
    let mut lower = options.from.clone();
    let mut upper = options.to.clone();
    if let Some(after) = &options.start_after {
        if options.reverse {
            upper = Some(match upper {
                Some(u) => u.min(after.clone()),
                None => after.clone(),
            });
        } else {
            let mut next = after.clone();
            next.push(0);
            lower = Some(match lower {
                Some(l) => l.max(next),
                None => next,
            });
        }
    }
    if let (Some(l), Some(u)) = (&lower, &upper) {
        if l >= u {
            return Ok(Page {
                rows: Vec::new(),
                next: None,
            });
        }
    }
    let mut it = storage.iter(Cf::Kv, KeyRange { lower, upper })?;
    // Taken after the iterator, so it names every field of what the iterator reads.
    let dictionary = inner.names.current();
    if options.reverse {
        it.seek_to_last();
    } else {
        it.seek_to_first();
    }
    let limit = options.limit.unwrap_or(usize::MAX);
    let mut rows = Vec::new();
    let mut more = false;
    while let (Some(key), Some(bytes)) = (it.key(), it.value()) {
        let record = decode_at(key, bytes, &dictionary)?;
        let keep = matchers
            .iter()
            .all(|(field, m)| record.get(field).is_some_and(|v| m.matches(v)));
        if keep {
            if rows.len() == limit {
                more = true;
                break;
            }
            rows.push((key.to_vec(), record));
        }
        if options.reverse {
            it.prev();
        } else {
            it.next();
        }
    }
    it.status()?;
    let next = if more {
        rows.last().map(|(k, _)| k.clone())
    } else {
        None
    };
    Ok(Page { rows, next })
}

/// The number of records (reads every key; O(n)).
pub(crate) fn count_all(storage: &Storage) -> Result<u64> {
    let mut it = storage.iter(Cf::Kv, KeyRange::all())?;
    it.seek_to_first();
    let mut n = 0u64;
    while it.valid() {
        n += 1;
        it.next();
    }
    it.status()?;
    Ok(n)
}
