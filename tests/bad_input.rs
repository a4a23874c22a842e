//! Bad input gets `InvalidArgument` with a clear message and changes nothing.

use fielddb::{Error, FieldDb, Record, MAX_FIELD_NAME_LEN, MAX_KEY_LEN};

fn assert_invalid(result: fielddb::Result<impl std::fmt::Debug>, needle: &str) {
    match result {
        Err(Error::InvalidArgument(msg)) => {
            assert!(msg.contains(needle), "{msg:?} lacks {needle:?}")
        }
        other => panic!("expected InvalidArgument({needle}), got {other:?}"),
    }
}

#[test]
fn bad_keys_and_records_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.put("k", Record::new().set("v", 1)).unwrap();

    assert_invalid(db.put("", Record::new()), "empty");
    assert_invalid(db.put(vec![b'k'; MAX_KEY_LEN + 1], Record::new()), "limit");
    assert_invalid(db.put("k", Record::new().set("", 1)), "empty");
    assert_invalid(
        db.put(
            "k",
            Record::new().set("n".repeat(MAX_FIELD_NAME_LEN + 1), 1),
        ),
        "limit",
    );
    let mut dup = Record::new();
    dup.push("a", 1);
    dup.push("a", 2);
    assert_invalid(db.put("k", dup), "twice");
    assert_invalid(db.put("k", Record::new().set("x", f64::NAN)), "NaN");
    assert_invalid(db.get(""), "empty");
    assert_invalid(db.delete(""), "empty");

    assert_eq!(db.get("k").unwrap(), Some(Record::new().set("v", 1)));
    assert_eq!(db.len().unwrap(), 1);
}

#[test]
fn a_key_at_the_limit_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    let key = vec![b'k'; MAX_KEY_LEN];
    db.put(&key, Record::new().set("v", 1)).unwrap();
    assert!(db.get(&key).unwrap().is_some());
}
