//! Records name their fields by ids in a dictionary kept in `meta` (record version 3): names are
//! stored once, survive a reopen, keep their ids, stop being interned once the dictionary is
//! full (the rest are written inline), and readers never meet an id they cannot resolve while
//! writers bring new names.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use fielddb::{Batch, FieldDb, IndexSpec, Query, QueryOptions, Record, ScanOptions};

const CFS: [&str; 3] = ["kv", "index", "meta"];

/// The raw value at `key` in column family `cf`.
fn raw_value(dir: &std::path::Path, cf: &str, key: &[u8]) -> Option<Vec<u8>> {
    let raw =
        rocksdb::DB::open_cf_for_read_only(&rocksdb::Options::default(), dir, CFS, false).unwrap();
    raw.get_cf(raw.cf_handle(cf).unwrap(), key).unwrap()
}

fn name_key(id: u32) -> Vec<u8> {
    [&b"names/"[..], &id.to_be_bytes()].concat()
}

#[test]
fn each_name_is_stored_once_and_keeps_its_id_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = FieldDb::open(dir.path()).unwrap();
        db.put("a", Record::new().set("city", "x").set("age", 1))
            .unwrap();
        db.put("b", Record::new().set("age", 2).set("city", "y"))
            .unwrap();
    }
    {
        let db = FieldDb::open(dir.path()).unwrap();
        db.put("c", Record::new().set("age", 3).set("name", "z"))
            .unwrap();
        assert_eq!(
            db.get("a").unwrap(),
            Some(Record::new().set("city", "x").set("age", 1))
        );
    }
    assert_eq!(
        raw_value(dir.path(), "meta", &name_key(0)).unwrap(),
        b"city"
    );
    assert_eq!(raw_value(dir.path(), "meta", &name_key(1)).unwrap(), b"age");
    assert_eq!(
        raw_value(dir.path(), "meta", &name_key(2)).unwrap(),
        b"name"
    );
    assert_eq!(raw_value(dir.path(), "meta", &name_key(3)), None);
    // `c`: version 3, two fields, `age` (id 1, written 2), int 3 (zigzag 6), `name` (id 2).
    let c = raw_value(dir.path(), "kv", b"c").unwrap();
    assert_eq!(c, vec![3, 2, 2, 2, 6, 4, 4, 1, b'z']);

    let db = FieldDb::open(dir.path()).unwrap();
    let rows = db.scan(&ScanOptions::new()).unwrap().rows;
    let keys: Vec<&[u8]> = rows.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(keys, [&b"a"[..], b"b", b"c"]);
    assert_eq!(rows[2].1, Record::new().set("age", 3).set("name", "z"));
    assert!(db.verify().unwrap().is_clean());
}

#[test]
fn past_the_dictionary_s_limit_names_are_written_inline_and_read_back() {
    // 5,000 distinct names, more than the dictionary's 4,096: one per record, next to `g`.
    let dir = tempfile::tempdir().unwrap();
    let record = |i: usize| {
        Record::new()
            .set("g", (i % 7) as i64)
            .set(format!("only{i}"), i as i64)
    };
    {
        let db = FieldDb::open(dir.path()).unwrap();
        db.create_index(IndexSpec::on("g").include_all())
            .unwrap()
            .wait()
            .unwrap();
        for chunk in (0..5_000).collect::<Vec<_>>().chunks(500) {
            let mut batch = Batch::new();
            for &i in chunk {
                batch.put(format!("k{i:04}"), record(i));
            }
            db.write_batch(batch).unwrap();
        }
    }
    assert!(raw_value(dir.path(), "meta", &name_key(4_095)).is_some());
    assert_eq!(raw_value(dir.path(), "meta", &name_key(4_096)), None);
    // The last record's own name is inline: it appears in the record's bytes.
    let last = raw_value(dir.path(), "kv", b"k4999").unwrap();
    assert!(last.windows(8).any(|w| w == b"only4999"));

    let db = FieldDb::open(dir.path()).unwrap();
    for i in [0, 4_094, 4_095, 4_096, 4_999] {
        assert_eq!(db.get(format!("k{i:04}")).unwrap(), Some(record(i)), "{i}");
    }
    // Through the covering index too, whose payloads are records.
    let page = db
        .query_by_index("g", &Query::eq(3), &QueryOptions::new())
        .unwrap();
    let expected: Vec<(Vec<u8>, Record)> = (0..5_000)
        .filter(|i| i % 7 == 3)
        .map(|i| (format!("k{i:04}").into_bytes(), record(i)))
        .collect();
    assert_eq!(page.rows, expected);
    // Rewriting a record gives the same bytes (its names resolve the same way).
    db.put("k4999", record(4_999)).unwrap();
    drop(db);
    assert_eq!(raw_value(dir.path(), "kv", b"k4999").unwrap(), last);
    let db = FieldDb::open(dir.path()).unwrap();
    assert!(db.verify().unwrap().is_clean());
}

#[test]
fn readers_never_meet_a_name_they_cannot_resolve_while_writers_bring_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(FieldDb::open(dir.path()).unwrap());
    db.create_index(IndexSpec::on("g")).unwrap().wait().unwrap();
    db.create_index(IndexSpec::on("h").include_all())
        .unwrap()
        .wait()
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let db = db.clone();
            thread::spawn(move || {
                for i in 0..1_500i64 {
                    // Every record brings a name no record had before.
                    let record = Record::new()
                        .set("g", i % 5)
                        .set("h", i % 3)
                        .set(format!("w{w}-{i}"), i);
                    db.put(format!("w{w}-{:04}", i % 400), record).unwrap();
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (db, done) = (db.clone(), done.clone());
            thread::spawn(move || {
                let mut rounds = 0u64;
                while !done.load(Ordering::Acquire) || rounds == 0 {
                    let g = (rounds % 5) as i64;
                    db.query_by_index("g", &Query::eq(g), &QueryOptions::new())
                        .unwrap();
                    db.query_by_index("h", &Query::eq(g % 3), &QueryOptions::new())
                        .unwrap();
                    db.get(format!("w{r}-{:04}", rounds % 400)).unwrap();
                    db.scan(&ScanOptions::new().limit(50)).unwrap();
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        assert!(reader.join().unwrap() > 0);
    }
    assert!(db.verify().unwrap().is_clean());
}
