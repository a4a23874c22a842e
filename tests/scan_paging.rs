//! `scan` returns records in key order within a range, pages with a cursor, runs in reverse, and
//! filters on a field — checked against a `BTreeMap` model.

use std::collections::BTreeMap;
use std::ops::Bound;

use fielddb::{FieldDb, Query, Record, ScanOptions};
use proptest::prelude::*;

fn collect_all_pages(db: &FieldDb, base: ScanOptions, page_size: usize) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    let mut options = base.clone().limit(page_size);
    loop {
        let page = db.scan(&options).unwrap();
        assert!(page.rows.len() <= page_size);
        keys.extend(page.rows.iter().map(|(k, _)| k.clone()));
        match page.next {
            Some(cursor) => options = base.clone().limit(page_size).start_after(cursor),
            None => return keys,
        }
    }
}

#[test]
fn scan_pages_through_a_range_with_a_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    for i in 0..50 {
        db.put(format!("k{i:02}"), Record::new().set("i", i))
            .unwrap();
    }
    let page = db
        .scan(&ScanOptions::new().from("k10").to("k20").limit(4))
        .unwrap();
    let keys: Vec<_> = page
        .rows
        .iter()
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert_eq!(keys, ["k10", "k11", "k12", "k13"]);
    assert_eq!(page.next.as_deref(), Some(&b"k13"[..]));
    let all = collect_all_pages(&db, ScanOptions::new().from("k10").to("k20"), 3);
    assert_eq!(all.len(), 10);
    let reversed = collect_all_pages(&db, ScanOptions::new().reverse(true), 7);
    assert_eq!(reversed.first().map(|k| k.as_slice()), Some(&b"k49"[..]));
    assert_eq!(reversed.len(), 50);
    let exact = db.scan(&ScanOptions::new().limit(50)).unwrap();
    assert_eq!(exact.rows.len(), 50);
    assert_eq!(exact.next, None, "no cursor when nothing follows");
}

#[test]
fn a_filtered_scan_keeps_only_matching_records() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    for i in 0..30i64 {
        let r = if i % 3 == 0 {
            Record::new().set("n", i as f64 + 0.5)
        } else if i % 3 == 1 {
            Record::new().set("n", i)
        } else {
            Record::new().set("other", i)
        };
        db.put(format!("k{i:02}"), r).unwrap();
    }
    let page = db
        .scan(&ScanOptions::new().filter("n", Query::between(10, 20)))
        .unwrap();
    let keys: Vec<_> = page
        .rows
        .iter()
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert_eq!(keys, ["k10", "k12", "k13", "k15", "k16", "k18", "k19"]);
    let paged = collect_all_pages(&db, ScanOptions::new().filter("n", Query::ge(0)), 4);
    assert_eq!(paged.len(), 20);
}

fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![Just(0u8), Just(b'a'), Just(b'b'), Just(0xff)],
        1..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn scan_matches_a_btreemap_model(
        keys in proptest::collection::vec(key_strategy(), 0..40),
        from in proptest::option::of(key_strategy()),
        to in proptest::option::of(key_strategy()),
        page_size in 1usize..6,
        reverse in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        let mut model = BTreeMap::new();
        for (i, k) in keys.iter().enumerate() {
            db.put(k, Record::new().set("i", i as i64)).unwrap();
            model.insert(k.clone(), i as i64);
        }
        let lo = from.clone().map_or(Bound::Unbounded, Bound::Included);
        let hi = to.clone().map_or(Bound::Unbounded, Bound::Excluded);
        let mut expected: Vec<Vec<u8>> = if matches!((&from, &to), (Some(f), Some(t)) if f >= t) {
            Vec::new()
        } else {
            model.range((lo, hi)).map(|(k, _)| k.clone()).collect()
        };
        if reverse {
            expected.reverse();
        }
        let mut base = ScanOptions::new().reverse(reverse);
        if let Some(f) = &from { base = base.from(f); }
        if let Some(t) = &to { base = base.to(t); }
        prop_assert_eq!(collect_all_pages(&db, base, page_size), expected);
    }
}
