//! `FieldDb::append`: a string onto a string field or bytes onto a bytes field, creating the
//! field and the record when absent; a type mismatch changes nothing; indexes and counts follow;
//! concurrent appends to one key lose nothing; and any sequence of puts, appends and deletes
//! matches a simple model.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use fielddb::{Error, FieldDb, IndexSpec, Query, QueryOptions, Record, Value};
use proptest::prelude::*;

#[test]
fn append_creates_the_record_and_the_field_then_concatenates() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    let first = db.append("k", "text", "ab").unwrap();
    assert_eq!(first, Record::new().set("text", "ab"));
    db.append("k", "text", "cd").unwrap();
    db.append("k", "raw", Value::Bytes(vec![0, 1])).unwrap();
    let last = db.append("k", "raw", Value::Bytes(vec![2])).unwrap();
    let stored = db.get("k").unwrap().unwrap();
    assert_eq!(stored, last);
    assert_eq!(stored.get("text"), Some(&"abcd".into()));
    assert_eq!(stored.get("raw"), Some(&Value::Bytes(vec![0, 1, 2])));
}

#[test]
fn a_type_mismatch_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.create_index(IndexSpec::on("n").counted())
        .unwrap()
        .wait()
        .unwrap();
    db.put("k", Record::new().set("n", 5).set("s", "x"))
        .unwrap();
    let before = db.get("k").unwrap();
    for (field, value) in [
        ("n", Value::from("text")),     // a string onto an int
        ("s", Value::Bytes(vec![1])),   // bytes onto a string
        ("s", Value::Int(1)),           // an int is never appended
        ("missing", Value::Float(1.5)), // not even to create a field
    ] {
        match db.append("k", field, value) {
            Err(Error::InvalidArgument(_)) => {}
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }
    assert!(matches!(
        db.append("", "s", "x"),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(db.get("k").unwrap(), before);
    assert_eq!(db.count_by_index("n", &Query::eq(5)).unwrap(), 1);
    assert!(db.verify().unwrap().is_clean());
}

#[test]
fn indexes_and_counts_follow_appends() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.create_index(IndexSpec::on("tag").counted())
        .unwrap()
        .wait()
        .unwrap();
    db.append("a", "tag", "red").unwrap();
    db.append("b", "tag", "red").unwrap();
    db.append("b", "tag", "dish").unwrap();
    assert_eq!(db.count_by_index("tag", &Query::eq("red")).unwrap(), 1);
    assert_eq!(db.count_by_index("tag", &Query::eq("reddish")).unwrap(), 1);
    let page = db
        .query_keys_by_index("tag", &Query::prefix("red"), &QueryOptions::new())
        .unwrap();
    assert_eq!(page.rows, vec![b"a".to_vec(), b"b".to_vec()]);
    assert!(db.verify().unwrap().is_clean());
}

#[test]
fn a_unique_index_refuses_an_append_that_makes_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.create_index(IndexSpec::on("name").unique())
        .unwrap()
        .wait()
        .unwrap();
    db.put("a", Record::new().set("name", "ab")).unwrap();
    db.put("b", Record::new().set("name", "a")).unwrap();
    assert!(matches!(
        db.append("b", "name", "b"),
        Err(Error::UniqueViolation { existing_key, .. }) if existing_key == b"a"
    ));
    assert_eq!(db.get("b").unwrap().unwrap().get("name"), Some(&"a".into()));
    assert!(db.verify().unwrap().is_clean());
}

#[test]
fn concurrent_appends_to_one_key_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.create_index(IndexSpec::on("other"))
        .unwrap()
        .wait()
        .unwrap();
    const THREADS: usize = 4;
    const APPENDS: usize = 200;
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (db, barrier) = (db.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..APPENDS {
                    db.append("shared", "log", char::from(b'a' + t as u8).to_string())
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let log = match db.get("shared").unwrap().unwrap().get("log") {
        Some(Value::Str(s)) => s.to_string(),
        other => panic!("expected a string, got {other:?}"),
    };
    assert_eq!(log.len(), THREADS * APPENDS);
    for t in 0..THREADS {
        let c = char::from(b'a' + t as u8);
        assert_eq!(log.chars().filter(|&x| x == c).count(), APPENDS);
    }
}

#[derive(Debug, Clone)]
enum Op {
    Put(u8, String),
    Append(u8, String),
    AppendInt(u8),
    Delete(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..4;
    prop_oneof![
        (key.clone(), "[ab]{0,3}").prop_map(|(k, s)| Op::Put(k, s)),
        (key.clone(), "[ab]{0,3}").prop_map(|(k, s)| Op::Append(k, s)),
        key.clone().prop_map(Op::AppendInt),
        key.prop_map(Op::Delete),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn puts_appends_and_deletes_match_a_model(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        db.create_index(IndexSpec::on("s").counted()).unwrap().wait().unwrap();
        let mut model: BTreeMap<u8, String> = BTreeMap::new();
        for op in &ops {
            match op {
                Op::Put(k, s) => {
                    db.put([*k], Record::new().set("s", s.as_str())).unwrap();
                    model.insert(*k, s.clone());
                }
                Op::Append(k, s) => {
                    let record = db.append([*k], "s", s.as_str()).unwrap();
                    let expected = model.entry(*k).or_default();
                    expected.push_str(s);
                    prop_assert_eq!(record.get("s"), Some(&Value::from(expected.as_str())));
                }
                Op::AppendInt(k) => {
                    prop_assert!(db.append([*k], "s", 7).is_err());
                }
                Op::Delete(k) => {
                    db.delete([*k]).unwrap();
                    model.remove(k);
                }
            }
        }
        for k in 0u8..4 {
            let stored = db.get([k]).unwrap().map(|r| r.get("s").cloned());
            prop_assert_eq!(stored, model.get(&k).map(|s| Some(Value::from(s.as_str()))));
        }
        for s in model.values() {
            let n = model.values().filter(|v| *v == s).count() as u64;
            prop_assert_eq!(db.count_by_index("s", &Query::eq(s.as_str())).unwrap(), n);
        }
        prop_assert!(db.verify().unwrap().is_clean());
    }
}
