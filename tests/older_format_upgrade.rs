//! A database written in format 1 (records in version 1 of their encoding: u32 lengths, ints
//! and floats in 8 bytes) or format 2 (version 2: varints, every field named) opens in this
//! build: its records and covering entries read as they were, `verify` finds nothing wrong, new
//! writes use version 3 (fields named by the dictionary's ids), and the directory is marked
//! format 3 so that builds reading only older formats refuse it.

use fielddb::{FieldDb, IndexSpec, Query, QueryOptions, Record, Value, FORMAT_VERSION};

const CFS: [&str; 3] = ["kv", "index", "meta"];

/// A key and its value as RocksDB's iterator gives them.
type KeyValue = (Box<[u8]>, Box<[u8]>);

/// Record version 1, as FieldDB wrote it in format 1.
fn encode_v1(record: &Record) -> Vec<u8> {
    let mut out = vec![1u8];
    let put = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u32).to_le_bytes());
    put(&mut out, record.len());
    for (name, value) in record.iter() {
        put(&mut out, name.len());
        out.extend_from_slice(name.as_bytes());
        let (tag, payload): (u8, Vec<u8>) = match value {
            Value::Null => (0, vec![]),
            Value::Bool(b) => (1, vec![u8::from(*b)]),
            Value::Int(i) => (2, i.to_le_bytes().to_vec()),
            Value::Float(f) => (3, f.to_le_bytes().to_vec()),
            Value::Str(s) => (4, s.as_bytes().to_vec()),
            Value::Bytes(b) => (5, b.clone()),
        };
        out.push(tag);
        put(&mut out, payload.len());
        out.extend_from_slice(&payload);
    }
    out
}

fn record(i: i64) -> Record {
    Record::new()
        .set("name", format!("user-{i}"))
        .set("city", format!("city-{}", i % 4))
        .set("score", i * 1_000 - 7)
        .set("balance", i as f64 / 4.0)
        .set("active", i % 2 == 0)
}

/// Rewrites every record, and every entry payload, in record `version` (1 or 2), and marks the
/// directory format `version`: the state a build of that format would have left. The records
/// are `record(i)` at `key(i)`; the entries of the first index created cover `name` and
/// `balance`, the second's the whole record. Returns how many values it rewrote in `kv` and in
/// `index`.
fn downgrade(dir: &std::path::Path, version: u32) -> (usize, usize) {
    let encode = |record: &Record| match version {
        1 => encode_v1(record),
        _ => fielddb::encode_record(record).unwrap(),
    };
    let raw = rocksdb::DB::open_cf(&rocksdb::Options::default(), dir, CFS).unwrap();
    let mut rewritten = [0, 0];
    let mut first_index: Option<Vec<u8>> = None;
    for (n, cf) in ["kv", "index"].into_iter().enumerate() {
        let handle = raw.cf_handle(cf).unwrap();
        let pairs: Vec<KeyValue> = raw
            .iterator_cf(handle, rocksdb::IteratorMode::Start)
            .map(Result::unwrap)
            .collect();
        for (key, value) in pairs {
            // Count keys (after every entry) start with FF FF FF FF and hold an i64.
            if value.is_empty() || key.starts_with(&[0xff; 4]) {
                continue;
            }
            assert_eq!(
                value[0], 3,
                "{cf} holds a value of record version {}",
                value[0]
            );
            // A user key is `k` and two digits: the last 3 bytes of an entry.
            let i: i64 = std::str::from_utf8(&key[key.len() - 2..])
                .unwrap()
                .parse()
                .unwrap();
            let record = match cf {
                "kv" => record(i),
                _ if *first_index.get_or_insert_with(|| key[..4].to_vec()) == key[..4] => {
                    let r = record(i);
                    Record::new()
                        .set("name", r.get("name").unwrap().clone())
                        .set("balance", r.get("balance").unwrap().clone())
                }
                _ => record(i),
            };
            raw.put_cf(handle, &key, encode(&record)).unwrap();
            rewritten[n] += 1;
        }
    }
    // Older formats kept no field-name dictionary.
    let meta = raw.cf_handle("meta").unwrap();
    let names: Vec<KeyValue> = raw
        .prefix_iterator_cf(meta, b"names/")
        .map(Result::unwrap)
        .take_while(|(key, _)| key.starts_with(b"names/"))
        .collect();
    assert_eq!(names.len(), 5, "the records' five field names");
    for (key, _) in names {
        raw.delete_cf(meta, key).unwrap();
    }
    raw.put_cf(meta, b"format_version", version.to_be_bytes())
        .unwrap();
    (rewritten[0], rewritten[1])
}

/// The first byte (the record version) of the value at `key` in `kv`, and the directory's
/// format version.
fn stored_versions(dir: &std::path::Path, key: &str) -> (u8, Vec<u8>) {
    let raw =
        rocksdb::DB::open_cf_for_read_only(&rocksdb::Options::default(), dir, CFS, false).unwrap();
    let kv = raw
        .get_cf(raw.cf_handle("kv").unwrap(), key)
        .unwrap()
        .unwrap();
    let meta = raw.cf_handle("meta").unwrap();
    (kv[0], raw.get_cf(meta, b"format_version").unwrap().unwrap())
}

#[test]
fn a_format_one_database_reads_as_before_and_is_marked_format_three() {
    reads_as_before_and_is_marked_format_three(1);
}

#[test]
fn a_format_two_database_reads_as_before_and_is_marked_format_three() {
    reads_as_before_and_is_marked_format_three(2);
}

fn reads_as_before_and_is_marked_format_three(version: u32) {
    let dir = tempfile::tempdir().unwrap();
    let key = |i: i64| format!("k{i:02}");
    {
        let db = FieldDb::open(dir.path()).unwrap();
        for i in 0..40 {
            db.put(key(i), record(i)).unwrap();
        }
        db.create_index(IndexSpec::on("city").include(["name", "balance"]))
            .unwrap()
            .wait()
            .unwrap();
        db.create_index(IndexSpec::on("score").include_all())
            .unwrap()
            .wait()
            .unwrap();
    }
    let (records, payloads) = downgrade(dir.path(), version);
    assert_eq!((records, payloads), (40, 80));
    assert_eq!(
        stored_versions(dir.path(), "k03"),
        (version as u8, version.to_be_bytes().to_vec())
    );

    {
        let db = FieldDb::open(dir.path()).unwrap();
        for i in 0..40 {
            assert_eq!(db.get(key(i)).unwrap(), Some(record(i)), "{}", key(i));
        }
        // Answered from the covering entries' payloads of the older version.
        let wanted = QueryOptions::new().fields(["name", "balance"]);
        let page = db
            .query_by_index("city", &Query::eq("city-1"), &wanted)
            .unwrap();
        let expected: Vec<(Vec<u8>, Record)> = (0..40)
            .filter(|i| i % 4 == 1)
            .map(|i| {
                let r = record(i);
                let fields = Record::new()
                    .set("name", r.get("name").unwrap().clone())
                    .set("balance", r.get("balance").unwrap().clone());
                (key(i).into_bytes(), fields)
            })
            .collect();
        assert_eq!(page.rows, expected);
        let page = db
            .query_by_index("score", &Query::between(0, 10_000), &QueryOptions::new())
            .unwrap();
        let expected: Vec<(Vec<u8>, Record)> =
            (1..=10).map(|i| (key(i).into_bytes(), record(i))).collect();
        assert_eq!(page.rows, expected);
        // Covered values written in the older version are the values the records hold.
        let report = db.verify().unwrap();
        assert!(report.is_clean(), "{report:?}");

        // A new write is version 3; its index entries follow it.
        db.put(key(5), record(5).set("city", "city-9")).unwrap();
        let page = db
            .query_by_index("city", &Query::eq("city-9"), &wanted)
            .unwrap();
        assert_eq!(page.rows.len(), 1);
        assert!(db.verify().unwrap().is_clean());
    }
    assert_eq!(
        stored_versions(dir.path(), "k05"),
        (3, FORMAT_VERSION.to_be_bytes().to_vec())
    );
    assert_eq!(stored_versions(dir.path(), "k06").0, version as u8);
}
