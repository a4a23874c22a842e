//! A stored record overwritten with garbage (through raw RocksDB access) is reported, by `get`
//! and `verify`, naming its key; it stops neither reads of other keys nor queries; and writing
//! or deleting that key repairs the database.

use fielddb::{Error, FieldDb, Query, QueryOptions, Record, ScanOptions};

fn damage(dir: &std::path::Path, key: &[u8], bytes: &[u8]) {
    let raw =
        rocksdb::DB::open_cf(&rocksdb::Options::default(), dir, ["kv", "index", "meta"]).unwrap();
    let kv = raw.cf_handle("kv").unwrap();
    raw.put_cf(kv, key, bytes).unwrap();
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    for i in 0..100 {
        db.put(
            format!("k{i:03}"),
            Record::new().set("n", i % 10).set("s", format!("v{i}")),
        )
        .unwrap();
    }
    db.create_index_on_field("n").unwrap().wait().unwrap();
    dir
}

#[test]
fn a_corrupt_record_is_reported_with_its_key_and_others_still_work() {
    let dir = setup();
    damage(dir.path(), b"k042", b"\x01\xff\xff\xff\x7fgarbage");
    let db = FieldDb::open(dir.path()).unwrap();

    match db.get("k042") {
        Err(Error::Corruption(msg)) => assert!(msg.contains("\"k042\""), "{msg}"),
        other => panic!("expected Corruption naming the key, got {other:?}"),
    }
    assert!(db.get("k041").unwrap().is_some());

    let report = db.verify().unwrap();
    assert_eq!(report.corrupt_records, [b"k042".to_vec()]);
    assert_eq!(report.records, 100);
    // The undecodable record's entry (n = 2) is now stale, as far as verify can tell.
    assert_eq!(report.stale(), 1);

    // Scans of other ranges work; a scan that reaches the record names it.
    assert_eq!(
        db.scan(&ScanOptions::new().to("k042")).unwrap().rows.len(),
        42
    );
    assert_eq!(
        db.scan(&ScanOptions::new().from("k043"))
            .unwrap()
            .rows
            .len(),
        57
    );
    let err = db.scan(&ScanOptions::new()).unwrap_err();
    assert!(err.to_string().contains("\"k042\""), "{err}");

    // Queries for other values work; the one that needs the record names it.
    assert_eq!(db.count_by_index("n", &Query::eq(3)).unwrap(), 10);
    assert_eq!(
        db.query_by_index("n", &Query::eq(3), &QueryOptions::new())
            .unwrap()
            .rows
            .len(),
        10
    );
    let err = db
        .query_by_index("n", &Query::eq(2), &QueryOptions::new())
        .unwrap_err();
    assert!(err.to_string().contains("\"k042\""), "{err}");
}

#[test]
fn overwriting_or_deleting_a_corrupt_record_repairs_it_and_its_index_entries() {
    let dir = setup();
    damage(dir.path(), b"k042", b"junk");
    damage(dir.path(), b"k043", b"");
    let db = FieldDb::open(dir.path()).unwrap();
    db.put("k042", Record::new().set("n", 77)).unwrap();
    assert!(
        db.delete("k043").unwrap(),
        "the corrupt record counted as present"
    );
    let report = db.verify().unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(db.count_by_index("n", &Query::eq(77)).unwrap(), 1);
    assert_eq!(db.count_by_index("n", &Query::eq(2)).unwrap(), 9);
    assert_eq!(db.count_by_index("n", &Query::eq(3)).unwrap(), 9);
}
