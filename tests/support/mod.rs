//! Helpers shared by the scenario files: a seeded random generator, model comparisons, and
//! waiting for index work to finish.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::ops::Bound;

use std::collections::BTreeMap;

use fielddb::{FieldDb, Query, QueryOptions, Value};

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) => 2,
        Value::Str(_) => 3,
        Value::Bytes(_) => 4,
    }
}

/// The model of a query: does `value` match it? Written from the documented semantics, not
/// from the encoding.
pub fn model_matches(query: &Query, value: &Value) -> bool {
    match query {
        Query::Eq(v) => value.cmp_order(v) == Ordering::Equal,
        Query::Prefix(p) => match (p, value) {
            (Value::Str(p), Value::Str(s)) => s.starts_with(p.as_str()),
            (Value::Bytes(p), Value::Bytes(b)) => b.starts_with(p),
            _ => false,
        },
        Query::Range { lo, hi } => {
            let above = match lo {
                Bound::Included(b) => value.cmp_order(b) != Ordering::Less,
                Bound::Excluded(b) => value.cmp_order(b) == Ordering::Greater,
                Bound::Unbounded => match hi {
                    Bound::Included(h) | Bound::Excluded(h) => type_rank(value) >= type_rank(h),
                    Bound::Unbounded => true,
                },
            };
            let below = match hi {
                Bound::Included(b) => value.cmp_order(b) != Ordering::Greater,
                Bound::Excluded(b) => value.cmp_order(b) == Ordering::Less,
                Bound::Unbounded => match lo {
                    Bound::Included(l) | Bound::Excluded(l) => type_rank(value) <= type_rank(l),
                    Bound::Unbounded => true,
                },
            };
            above && below
        }
    }
}

/// The model's answer to a query: the keys whose value matches, ordered by (value, key).
pub fn model_answer<'a, I>(values: I, query: &Query) -> Vec<Vec<u8>>
where
    I: IntoIterator<Item = (&'a Vec<u8>, &'a Value)>,
{
    let mut hits: Vec<(&Value, &Vec<u8>)> = values
        .into_iter()
        .filter(|(_, v)| model_matches(query, v))
        .map(|(k, v)| (v, k))
        .collect();
    hits.sort_by(|a, b| a.0.cmp_order(b.0).then_with(|| a.1.cmp(b.1)));
    hits.into_iter().map(|(_, k)| k.clone()).collect()
}

/// The values of `field` in a map of records, for `model_answer`.
pub fn field_values<'a>(
    records: &'a BTreeMap<Vec<u8>, fielddb::Record>,
    field: &'a str,
) -> impl Iterator<Item = (&'a Vec<u8>, &'a Value)> {
    records
        .iter()
        .filter_map(move |(k, r)| r.get(field).map(|v| (k, v)))
}

/// Every page of an index query, concatenated; checks that no page exceeds its limit.
pub fn all_pages(
    db: &FieldDb,
    field: &str,
    query: &Query,
    page: usize,
    reverse: bool,
) -> fielddb::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut options = QueryOptions::new().limit(page).reverse(reverse);
    loop {
        let result = db.query_keys_by_index(field, query, &options)?;
        assert!(result.rows.len() <= page);
        out.extend(result.rows);
        match result.next {
            Some(cursor) => {
                options = QueryOptions::new()
                    .limit(page)
                    .reverse(reverse)
                    .start_after(cursor)
            }
            None => return Ok(out),
        }
    }
}

/// Waits until every index of `db` is ready (a build resumed on open, a drop finishing); panics
/// after a minute, showing the indexes.
pub fn wait_indexes_ready(db: &FieldDb) {
    let start = std::time::Instant::now();
    while db
        .indexes()
        .iter()
        .any(|i| i.state != fielddb::IndexState::Ready)
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "{:?}",
            db.indexes()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
