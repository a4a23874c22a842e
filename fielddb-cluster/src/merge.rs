//! Merging the pages of a scattered read: each shard answered at most `limit` rows in the
//! read's order from the same cursor; the merged page is the first `limit` rows of all of them
//! in that order, and its cursor the position of its last row, which resumes every shard
//! exactly (a row is in one shard only, and positions are unique: a scan's position is its key,
//! an index query's `fielddb::index_position` of its value and key, or of each of its values in
//! turn for a compound index).

use fielddb::{Page, Record};

/// A row: its key and record.
type Row = (Vec<u8>, Record);

/// The order of a scattered read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order<'a> {
    /// Key order (a scan).
    Key,
    /// (value, key) order on the index of this name (an index query): its field, or for a
    /// compound index its fields joined by `,`, (values, key) in turn.
    Index(&'a str),
}

/// A row's position in `order`.
fn position(order: Order<'_>, key: &[u8], record: &Record) -> Vec<u8> {
    match order {
        Order::Key => key.to_vec(),
        // A field named like the index is a single-field index (its name may hold a `,`).
        Order::Index(name) => match record.get(name) {
            Some(value) => fielddb::index_position(value, key),
            None => {
                let fields: Vec<&str> = name.split(',').collect();
                // Each value's encoding in turn, then the key: built from the last field out.
                let mut position = key.to_vec();
                for field in fields.iter().rev() {
                    match record.get(field) {
                        Some(value) => position = fielddb::index_position(value, &position),
                        // A row an index answered has its fields; sort a malformed one first.
                        None => return Vec::new(),
                    }
                }
                position
            }
        },
    }
}

/// The first `limit` rows of `pages` in `order` (descending when `reverse`), with the cursor of
/// the last when more rows follow in any shard.
pub fn merge_pages(
    pages: Vec<Page<Row>>,
    order: Order<'_>,
    reverse: bool,
    limit: usize,
) -> Page<Row> {
    let more_in_a_shard = pages.iter().any(|p| p.next.is_some());
    let mut rows: Vec<(Vec<u8>, Row)> = pages
        .into_iter()
        .flat_map(|p| p.rows)
        .map(|(key, record)| (position(order, &key, &record), (key, record)))
        .collect();
    rows.sort_by(|a, b| {
        if reverse {
            b.0.cmp(&a.0)
        } else {
            a.0.cmp(&b.0)
        }
    });
    let cut = rows.len() > limit;
    rows.truncate(limit);
    let next = if cut || more_in_a_shard {
        rows.last().map(|(position, _)| position.clone())
    } else {
        None
    };
    Page {
        rows: rows.into_iter().map(|(_, row)| row).collect(),
        next,
    }
}

#[cfg(test)]
mod tests {
    use fielddb::{FieldDb, IndexSpec, Query, QueryOptions, ScanOptions, Value};
    use proptest::prelude::*;

    use super::*;
    use crate::placement::shard_of;

    /// Pages through `read` (one shard's page from a cursor) merged over `shards`, until done.
    fn page_through(
        shards: usize,
        order: Order<'_>,
        reverse: bool,
        limit: usize,
        read: impl Fn(usize, Option<&[u8]>) -> Page<(Vec<u8>, Record)>,
    ) -> Vec<Vec<u8>> {
        let mut seen = Vec::new();
        let mut cursor: Option<Vec<u8>> = None;
        loop {
            let pages = (0..shards).map(|s| read(s, cursor.as_deref())).collect();
            let page = merge_pages(pages, order, reverse, limit);
            seen.extend(page.rows.into_iter().map(|(k, _)| k));
            match page.next {
                Some(next) => cursor = Some(next),
                None => return seen,
            }
            assert!(seen.len() < 10_000, "paging does not end");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        #[test]
        fn paging_a_sharded_result_returns_every_row_once_in_order(
            rows in proptest::collection::btree_map("[a-z]{1,4}", (-5i64..5, 0i64..3), 0..60),
            shards in 1usize..5,
            limit in 1usize..7,
            reverse in any::<bool>(),
        ) {
            let dirs: Vec<_> = (0..shards).map(|_| tempfile::tempdir().unwrap()).collect();
            let dbs: Vec<FieldDb> = dirs.iter().map(|d| FieldDb::open(d.path()).unwrap()).collect();
            let whole_dir = tempfile::tempdir().unwrap();
            let whole = FieldDb::open(whole_dir.path()).unwrap();
            for (key, (n, m)) in &rows {
                let record = Record::new().set("n", *n).set("m", *m);
                dbs[shard_of(key.as_bytes(), shards as u32) as usize].put(key, record.clone()).unwrap();
                whole.put(key, record).unwrap();
            }
            for db in dbs.iter().chain([&whole]) {
                db.create_index(IndexSpec::on("n")).unwrap().wait().unwrap();
                db.create_index(IndexSpec::on_fields(["n", "m"])).unwrap().wait().unwrap();
            }
            let query = Query::range(std::ops::Bound::Included(Value::Int(-3)), std::ops::Bound::Unbounded);
            // The single-field index, then the compound one in (n, m, key) order, each merged
            // and resumed the same way.
            for index in ["n", "n,m"] {
                let merged = page_through(shards, Order::Index(index), reverse, limit, |s, cursor| {
                    let mut options = QueryOptions::new().limit(limit).reverse(reverse);
                    if let Some(c) = cursor { options = options.start_after(c.to_vec()); }
                    dbs[s].query_by_index(index, &query, &options).unwrap()
                });
                let expected: Vec<Vec<u8>> = whole
                    .query_by_index(index, &query, &QueryOptions::new().reverse(reverse))
                    .unwrap().rows.into_iter().map(|(k, _)| k).collect();
                prop_assert_eq!(merged, expected, "index {}", index);
            }

            let by_key = page_through(shards, Order::Key, reverse, limit, |s, cursor| {
                let mut options = ScanOptions::new().limit(limit).reverse(reverse);
                if let Some(c) = cursor { options = options.start_after(c); }
                dbs[s].scan(&options).unwrap()
            });
            let expected: Vec<Vec<u8>> = whole
                .scan(&ScanOptions::new().reverse(reverse))
                .unwrap().rows.into_iter().map(|(k, _)| k).collect();
            prop_assert_eq!(by_key, expected);
        }
    }
}
