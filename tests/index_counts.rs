//! A counted index (`IndexSpec::counted`) answers every equality count with the number of
//! records a `BTreeMap` model holds for that value, through puts, deletes, batches that touch a
//! key twice, builds over existing records, drops and re-creations, and reopening.

mod support;

use std::collections::BTreeMap;

use fielddb::{Batch, Error, FieldDb, IndexSpec, Query, Record, Value};
use proptest::prelude::*;
use support::model_matches;

#[derive(Debug, Clone)]
enum Op {
    Put(u8, Option<Value>),
    Delete(u8),
    /// Two puts and a delete in one batch, the first key possibly written twice.
    Batch(u8, Option<Value>, Option<Value>, u8),
    DropAndRecreate,
    Reopen,
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        (-3i64..3).prop_map(Value::Int),
        (-3i64..3).prop_map(|i| Value::Float(i as f64)),
        Just(Value::Float(0.5)),
        "[ab]{0,1}".prop_map(Value::from),
    ]
}

fn arb_op() -> impl Strategy<Value = Op> {
    let key = 0u8..24;
    prop_oneof![
        6 => (key.clone(), proptest::option::of(arb_value())).prop_map(|(k, v)| Op::Put(k, v)),
        2 => key.clone().prop_map(Op::Delete),
        2 => (
            key.clone(),
            proptest::option::of(arb_value()),
            proptest::option::of(arb_value()),
            key
        )
            .prop_map(|(k, a, b, d)| Op::Batch(k, a, b, d)),
        1 => Just(Op::DropAndRecreate),
        1 => Just(Op::Reopen),
    ]
}

fn record(v: &Option<Value>) -> Record {
    match v {
        Some(v) => Record::new().set("v", v.clone()).set("pad", "x"),
        None => Record::new().set("pad", "x"),
    }
}

fn key(k: u8) -> Vec<u8> {
    format!("key{k:02}").into_bytes()
}

/// Checks the count of every value the model holds, and of values nobody holds.
fn check_counts(db: &FieldDb, model: &BTreeMap<Vec<u8>, Value>) -> Result<(), TestCaseError> {
    let probes = [
        Value::Null,
        Value::Int(-3),
        Value::Int(0),
        Value::Float(0.0),
        Value::Int(2),
        Value::Float(0.5),
        Value::from(""),
        Value::Str("a".into()),
        Value::Str("b".into()),
        Value::Int(99),
    ];
    for probe in probes {
        let query = Query::eq(probe.clone());
        let expected = model.values().filter(|v| model_matches(&query, v)).count() as u64;
        prop_assert_eq!(
            db.count_by_index("v", &query).unwrap(),
            expected,
            "{:?}",
            probe
        );
    }
    let report = db.verify().unwrap();
    prop_assert!(report.is_clean(), "{:?}", report);
    Ok(())
}

fn open(path: &std::path::Path) -> FieldDb {
    FieldDb::open_with(path, fielddb::Options::default().build_chunk_records(3)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn equality_counts_of_a_counted_index_match_the_model(
        before in proptest::collection::vec((0u8..24, proptest::option::of(arb_value())), 0..30),
        ops in proptest::collection::vec(arb_op(), 1..40),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(dir.path());
        let mut model: BTreeMap<Vec<u8>, Value> = BTreeMap::new();
        let apply_put = |model: &mut BTreeMap<Vec<u8>, Value>, k: u8, v: &Option<Value>| {
            match v {
                Some(v) => model.insert(key(k), v.clone()),
                None => model.remove(&key(k)),
            };
        };
        // Records written before the index exists are counted by its build (3 per step).
        for (k, v) in &before {
            db.put(key(*k), record(v)).unwrap();
            apply_put(&mut model, *k, v);
        }
        db.create_index(IndexSpec::on("v").counted()).unwrap().wait().unwrap();
        check_counts(&db, &model)?;

        for op in &ops {
            match op {
                Op::Put(k, v) => {
                    db.put(key(*k), record(v)).unwrap();
                    apply_put(&mut model, *k, v);
                }
                Op::Delete(k) => {
                    db.delete(key(*k)).unwrap();
                    model.remove(&key(*k));
                }
                Op::Batch(k, a, b, d) => {
                    let mut batch = Batch::new();
                    batch.put(key(*k), record(a));
                    batch.put(key(*k), record(b));
                    batch.delete(key(*d));
                    db.write_batch(batch).unwrap();
                    apply_put(&mut model, *k, b);
                    model.remove(&key(*d));
                }
                Op::DropAndRecreate => {
                    db.drop_index("v").unwrap();
                    db.create_index(IndexSpec::on("v").counted()).unwrap().wait().unwrap();
                }
                Op::Reopen => {
                    drop(db);
                    db = open(dir.path());
                    db.wait_for_tasks();
                }
            }
            check_counts(&db, &model)?;
        }
    }
}

#[test]
fn an_index_remembers_that_it_is_counted_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = FieldDb::open(dir.path()).unwrap();
        db.put("a", Record::new().set("city", "Oslo")).unwrap();
        db.create_index(IndexSpec::on("city").counted())
            .unwrap()
            .wait()
            .unwrap();
        db.create_index(IndexSpec::on("pad"))
            .unwrap()
            .wait()
            .unwrap();
    }
    let db = FieldDb::open(dir.path()).unwrap();
    let counted: Vec<(String, bool)> = db
        .indexes()
        .into_iter()
        .map(|i| (i.field, i.counted))
        .collect();
    assert_eq!(
        counted,
        vec![("city".to_string(), true), ("pad".to_string(), false)]
    );
    db.put("b", Record::new().set("city", "Oslo")).unwrap();
    assert_eq!(db.count_by_index("city", &Query::eq("Oslo")).unwrap(), 2);
}

#[test]
fn counting_a_nan_or_an_unknown_index_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.create_index(IndexSpec::on("v").counted())
        .unwrap()
        .wait()
        .unwrap();
    assert!(matches!(
        db.count_by_index("v", &Query::eq(f64::NAN)),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        db.count_by_index("w", &Query::eq(1)),
        Err(Error::NoSuchIndex { .. })
    ));
}
