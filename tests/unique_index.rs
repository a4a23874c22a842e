//! A unique index refuses a second key for a value, in single writes, in batches, under
//! concurrency, and when built over records that already hold a duplicate.

use std::sync::{Arc, Barrier};

use fielddb::{Batch, Error, FieldDb, IndexSpec, Query, QueryOptions, Record};

fn user(email: &str) -> Record {
    Record::new().set("email", email)
}

#[test]
fn a_second_key_with_the_same_value_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.create_index(IndexSpec::on("email").unique())
        .unwrap()
        .wait()
        .unwrap();
    db.put("u1", user("a@x")).unwrap();
    db.put("u1", user("a@x").set("name", "again")).unwrap(); // same key, same value: fine
    match db.put("u2", user("a@x")) {
        Err(Error::UniqueViolation {
            field,
            value,
            existing_key,
        }) => {
            assert_eq!(field, "email");
            assert_eq!(value, "a@x".into());
            assert_eq!(existing_key, b"u1");
        }
        other => panic!("expected UniqueViolation, got {other:?}"),
    }
    assert_eq!(db.get("u2").unwrap(), None);

    let mut batch = Batch::new();
    batch.put("u3", user("c@x")).put("u4", user("a@x"));
    assert!(matches!(
        db.write_batch(batch),
        Err(Error::UniqueViolation { .. })
    ));
    assert_eq!(db.get("u3").unwrap(), None, "the whole batch was refused");

    // Moving a value within one batch is allowed: free it, then claim it.
    let mut batch = Batch::new();
    batch.put("u1", user("b@x")).put("u5", user("a@x"));
    db.write_batch(batch).unwrap();
    let mut twice = Batch::new();
    twice.put("u6", user("d@x")).put("u7", user("d@x"));
    assert!(matches!(
        db.write_batch(twice),
        Err(Error::UniqueViolation { .. })
    ));

    db.delete("u5").unwrap();
    db.put("u8", user("a@x")).unwrap();
    let keys = db
        .query_keys_by_index("email", &Query::eq("a@x"), &QueryOptions::new())
        .unwrap();
    assert_eq!(keys.rows, [b"u8".to_vec()]);
    assert!(db.verify().unwrap().is_clean());
}

#[test]
fn two_concurrent_writers_of_one_value_cannot_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.create_index(IndexSpec::on("email").unique())
        .unwrap()
        .wait()
        .unwrap();
    for round in 0..200 {
        let barrier = Arc::new(Barrier::new(4));
        let email = format!("r{round}@x");
        let winners: usize = (0..4)
            .map(|t| {
                let db = db.clone();
                let barrier = Arc::clone(&barrier);
                let email = email.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    db.put(format!("k{round}-{t}"), user(&email)).is_ok() as usize
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(winners, 1, "round {round}");
        assert_eq!(
            db.count_by_index("email", &Query::eq(email.as_str()))
                .unwrap(),
            1
        );
    }
    assert!(db.verify().unwrap().is_clean());
}

#[test]
fn building_a_unique_index_over_duplicates_fails_and_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    for i in 0..5000 {
        db.put(format!("k{i:05}"), user(&format!("{i}@x"))).unwrap();
    }
    db.put("zdup", user("42@x")).unwrap();
    let err = db
        .create_index(IndexSpec::on("email").unique())
        .unwrap()
        .wait()
        .unwrap_err();
    match err {
        Error::UniqueViolation { existing_key, .. } => {
            assert!(
                existing_key == b"k00042" || existing_key == b"zdup",
                "{existing_key:?}"
            )
        }
        other => panic!("expected UniqueViolation, got {other:?}"),
    }
    db.wait_for_tasks();
    assert!(db.indexes().is_empty());
    db.delete("zdup").unwrap();
    db.create_index(IndexSpec::on("email").unique())
        .unwrap()
        .wait()
        .unwrap();
    assert!(db.verify().unwrap().is_clean());
}
