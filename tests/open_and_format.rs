//! Opening creates the column families and the format version, and refuses what it cannot read.

use fielddb::{Error, FieldDb, Options, Record, FORMAT_VERSION};

fn raw_cfs() -> Vec<&'static str> {
    vec!["kv", "index", "meta"]
}

#[test]
fn the_first_open_creates_three_column_families_and_the_format_version() {
    let dir = tempfile::tempdir().unwrap();
    drop(FieldDb::open(dir.path()).unwrap());
    let mut cfs = rocksdb::DB::list_cf(&rocksdb::Options::default(), dir.path()).unwrap();
    cfs.sort();
    assert_eq!(cfs, ["default", "index", "kv", "meta"]);
    let raw = rocksdb::DB::open_cf_for_read_only(
        &rocksdb::Options::default(),
        dir.path(),
        raw_cfs(),
        false,
    )
    .unwrap();
    let meta = raw.cf_handle("meta").unwrap();
    let version = raw.get_cf(meta, b"format_version").unwrap().unwrap();
    assert_eq!(version, FORMAT_VERSION.to_be_bytes());
}

#[test]
fn an_unknown_format_version_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = FieldDb::open(dir.path()).unwrap();
        db.put("k", Record::new().set("v", 1)).unwrap();
    }
    {
        let raw =
            rocksdb::DB::open_cf(&rocksdb::Options::default(), dir.path(), raw_cfs()).unwrap();
        let meta = raw.cf_handle("meta").unwrap();
        raw.put_cf(meta, b"format_version", 99u32.to_be_bytes())
            .unwrap();
    }
    match FieldDb::open(dir.path()) {
        Err(Error::UnsupportedFormat {
            found: 99,
            supported,
        }) => assert_eq!(supported, FORMAT_VERSION),
        other => panic!("expected UnsupportedFormat, got {other:?}"),
    }
}

#[test]
fn a_plain_rocksdb_database_is_not_mistaken_for_fielddb() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        let raw = rocksdb::DB::open(&opts, dir.path()).unwrap();
        raw.put(b"x", b"y").unwrap();
    }
    let err = FieldDb::open(dir.path()).unwrap_err();
    assert!(err.to_string().contains("not a FieldDB"), "{err}");
}

#[test]
fn create_if_missing_off_refuses_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let err =
        FieldDb::open_with(dir.path(), Options::default().create_if_missing(false)).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
}
