//! Every query form, paged and reversed, answers exactly what a `BTreeMap` model says.

mod support;

use std::collections::BTreeMap;
use std::ops::Bound;

use fielddb::{Error, FieldDb, IndexSpec, Query, QueryOptions, Record, Value};
use proptest::prelude::*;
use support::{all_pages, model_answer};

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-20i64..20).prop_map(Value::Int),
        (-40i64..40).prop_map(|i| Value::Float(i as f64 / 2.0)),
        prop_oneof![Just(i64::MAX), Just(i64::MIN), Just((1 << 53) + 1)].prop_map(Value::Int),
        "[ab\\x00]{0,3}".prop_map(Value::from),
        proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8), Just(0xffu8)], 0..3)
            .prop_map(Value::Bytes),
    ]
}

fn arb_bound() -> impl Strategy<Value = Bound<Value>> {
    prop_oneof![
        Just(Bound::Unbounded),
        arb_value().prop_map(Bound::Included),
        arb_value().prop_map(Bound::Excluded),
    ]
}

fn arb_query() -> impl Strategy<Value = Query> {
    prop_oneof![
        arb_value().prop_map(Query::Eq),
        (arb_bound(), arb_bound()).prop_map(|(lo, hi)| Query::Range { lo, hi }),
        "[ab\\x00]{0,2}".prop_map(|s| Query::Prefix(Value::from(s))),
        proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8)], 0..2)
            .prop_map(|b| Query::Prefix(Value::Bytes(b))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn every_query_form_matches_the_model(
        values in proptest::collection::vec(proptest::option::of(arb_value()), 0..60),
        queries in proptest::collection::vec(arb_query(), 1..12),
        page in 1usize..7,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        let mut model = BTreeMap::new();
        // Half the records are written before the index exists, half after.
        let (before, after) = values.split_at(values.len() / 2);
        let mut put = |db: &FieldDb, i: usize, v: &Option<Value>| {
            let key = format!("k{:03}", (i * 7) % 61).into_bytes();
            let record = match v {
                Some(v) => Record::new().set("v", v.clone()).set("i", i as i64),
                None => Record::new().set("i", i as i64),
            };
            db.put(&key, record).unwrap();
            match v {
                Some(v) => model.insert(key, v.clone()),
                None => model.remove(&key),
            };
        };
        for (i, v) in before.iter().enumerate() { put(&db, i, v); }
        db.create_index(IndexSpec::on("v")).unwrap().wait().unwrap();
        for (i, v) in after.iter().enumerate() { put(&db, i + before.len(), v); }

        for query in &queries {
            let expected = model_answer(&model, query);
            prop_assert_eq!(&all_pages(&db, "v", query, page, false).unwrap(), &expected, "{:?}", query);
            let mut reversed = expected.clone();
            reversed.reverse();
            prop_assert_eq!(&all_pages(&db, "v", query, page, true).unwrap(), &reversed, "reverse {:?}", query);
            prop_assert_eq!(db.count_by_index("v", query).unwrap(), expected.len() as u64);
            let with_records = db.query_by_index("v", query, &QueryOptions::new()).unwrap();
            for (key, record) in &with_records.rows {
                prop_assert_eq!(record.get("v"), model.get(key));
            }
        }
        prop_assert!(db.verify().unwrap().is_clean());
    }
}

fn people_db() -> (tempfile::TempDir, FieldDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    for i in 0..300i64 {
        let score = if i % 2 == 0 {
            Value::Int(i)
        } else {
            Value::Float(i as f64 + 0.5)
        };
        db.put(
            format!("p{i:03}"),
            Record::new()
                .set("score", score)
                .set("tag", vec![0u8, (i % 3) as u8, 7]),
        )
        .unwrap();
    }
    db.create_index_on_field("score").unwrap().wait().unwrap();
    db.create_index_on_field("tag").unwrap().wait().unwrap();
    (dir, db)
}

#[test]
fn pagination_walks_a_result_larger_than_the_limit() {
    let (_dir, db) = people_db();
    let query = Query::between(10, 250);
    let mut seen = Vec::new();
    let mut options = QueryOptions::new().limit(17);
    let mut pages = 0;
    loop {
        let page = db.query_by_index("score", &query, &options).unwrap();
        pages += 1;
        seen.extend(page.rows.into_iter().map(|(k, _)| k));
        match page.next {
            Some(c) => options = QueryOptions::new().limit(17).start_after(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 241);
    assert_eq!(pages, 15);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, seen, "scores rise with the key here");
}

#[test]
fn a_numeric_range_returns_ints_and_floats_together() {
    let (_dir, db) = people_db();
    let page = db
        .query_by_index(
            "score",
            &Query::range(
                Bound::Excluded(Value::Float(3.0)),
                Bound::Included(Value::Int(8)),
            ),
            &QueryOptions::new(),
        )
        .unwrap();
    let scores: Vec<Value> = page
        .rows
        .iter()
        .map(|(_, r)| r.get("score").unwrap().clone())
        .collect();
    assert_eq!(
        scores,
        [
            Value::Float(3.5),
            Value::Int(4),
            Value::Float(5.5),
            Value::Int(6),
            Value::Float(7.5),
            Value::Int(8)
        ]
    );
    assert_eq!(
        db.count_by_index("score", &Query::eq(4.0)).unwrap(),
        1,
        "4.0 finds the int 4"
    );
    let desc = db
        .query_keys_by_index("score", &Query::lt(3), &QueryOptions::new().reverse(true))
        .unwrap();
    assert_eq!(
        desc.rows,
        [b"p002".to_vec(), b"p001".to_vec(), b"p000".to_vec()]
    );
}

#[test]
fn a_bytes_prefix_containing_zero_matches_exactly() {
    let (_dir, db) = people_db();
    assert_eq!(
        db.count_by_index("tag", &Query::prefix(vec![0u8, 1]))
            .unwrap(),
        100
    );
    assert_eq!(
        db.count_by_index("tag", &Query::prefix(vec![0u8])).unwrap(),
        300
    );
    assert_eq!(
        db.count_by_index("tag", &Query::prefix(vec![0u8, 0, 7]))
            .unwrap(),
        100
    );
    assert_eq!(
        db.count_by_index("tag", &Query::prefix(vec![0u8, 0, 7, 0]))
            .unwrap(),
        0
    );
}

#[test]
fn empty_results_have_no_cursor() {
    let (_dir, db) = people_db();
    for query in [
        Query::eq(1_000_000),
        Query::prefix("x"),
        Query::between(50, 10),
        Query::gt("zzz"),
    ] {
        let page = db
            .query_by_index("score", &query, &QueryOptions::new().limit(5))
            .unwrap();
        assert!(page.rows.is_empty() && page.next.is_none(), "{query:?}");
    }
}

#[test]
fn queries_without_a_ready_index_name_the_field_and_the_indexes() {
    let (_dir, db) = people_db();
    let err = db
        .query_by_index("age", &Query::eq(1), &QueryOptions::new())
        .unwrap_err();
    assert!(matches!(err, Error::NoSuchIndex { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("`age`") && msg.contains("score (ready)") && msg.contains("tag (ready)"),
        "{msg}"
    );
    let err = db
        .query_by_index("score", &Query::eq(f64::NAN), &QueryOptions::new())
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    let err = db
        .query_by_index(
            "score",
            &Query::eq(1),
            &QueryOptions::new().start_after(b"junk".to_vec()),
        )
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
}
