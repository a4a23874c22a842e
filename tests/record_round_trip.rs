//! Every value type survives a put, a get, and a reopen, edge cases included.

use fielddb::{FieldDb, Record, Value};

#[test]
fn every_value_type_survives_put_get_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let record = Record::new()
        .set("null", Value::Null)
        .set("yes", true)
        .set("no", false)
        .set("min", i64::MIN)
        .set("max", i64::MAX)
        .set("neg_zero", -0.0)
        .set("inf", f64::INFINITY)
        .set("neg_inf", f64::NEG_INFINITY)
        .set("empty", "")
        .set("non_ascii", "Ünïcödé ✓ 日本語")
        .set("empty_bytes", Vec::<u8>::new())
        .set("bytes", vec![0u8, 0, 255, 1]);
    {
        let db = FieldDb::open(dir.path()).unwrap();
        db.put("k", record.clone()).unwrap();
        assert_eq!(db.get("k").unwrap(), Some(record.clone()));
    }
    let db = FieldDb::open(dir.path()).unwrap();
    let back = db.get("k").unwrap().unwrap();
    assert_eq!(back, record);
    let neg_zero = back.get("neg_zero").and_then(Value::as_f64).unwrap();
    assert!(neg_zero == 0.0 && neg_zero.is_sign_negative());
    let names: Vec<&str> = back.names().collect();
    assert_eq!(names.first(), Some(&"null"));
    assert_eq!(names.last(), Some(&"bytes"));
}

#[test]
fn a_one_mebibyte_bytes_value_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    let big: Vec<u8> = (0..1024 * 1024u32).map(|i| (i * 7 % 256) as u8).collect();
    db.put("big", Record::new().set("blob", big.clone()))
        .unwrap();
    drop(db);
    let db = FieldDb::open(dir.path()).unwrap();
    let back = db.get("big").unwrap().unwrap();
    assert_eq!(back.get("blob").and_then(Value::as_bytes), Some(&big[..]));
}

#[test]
fn a_record_of_ten_thousand_fields_round_trips_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    let mut record = Record::new();
    for i in 0..10_000 {
        record.push(format!("f{i:05}"), i);
    }
    db.put("wide", record.clone()).unwrap();
    let back = db.get("wide").unwrap().unwrap();
    assert_eq!(back.len(), 10_000);
    assert_eq!(back, record);
}
