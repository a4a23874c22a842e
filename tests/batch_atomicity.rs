//! A batch applies all its operations, in order, or none of them.

use fielddb::{Batch, Error, FieldDb, Record};

#[test]
fn a_batch_applies_its_operations_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.put("old", Record::new().set("v", 0)).unwrap();
    let mut batch = Batch::new();
    batch
        .put("a", Record::new().set("v", 1))
        .put("a", Record::new().set("v", 2))
        .put("b", Record::new().set("v", 3))
        .delete("b")
        .delete("old");
    assert_eq!(batch.len(), 5);
    db.write_batch(batch).unwrap();
    assert_eq!(db.get("a").unwrap(), Some(Record::new().set("v", 2)));
    assert_eq!(db.get("b").unwrap(), None);
    assert_eq!(db.get("old").unwrap(), None);
    assert_eq!(db.len().unwrap(), 1);
}

#[test]
fn a_batch_with_one_invalid_record_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.put("keep", Record::new().set("v", 1)).unwrap();
    let mut dup = Record::new();
    dup.push("x", 1);
    dup.push("x", 2);
    for bad in [
        dup,
        Record::new().set("", 1),
        Record::new().set("nan", f64::NAN),
    ] {
        let mut batch = Batch::new();
        batch
            .put("new1", Record::new().set("v", 1))
            .delete("keep")
            .put("new2", bad)
            .put("new3", Record::new().set("v", 3));
        let err = db.write_batch(batch).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        assert_eq!(db.len().unwrap(), 1);
        assert!(db.get("keep").unwrap().is_some());
    }
    let mut empty_key = Batch::new();
    empty_key.put("new1", Record::new()).delete("");
    assert!(db.write_batch(empty_key).is_err());
    assert_eq!(db.get("new1").unwrap(), None);
}

#[test]
fn an_empty_batch_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    db.write_batch(Batch::new()).unwrap();
    assert!(db.is_empty().unwrap());
}
