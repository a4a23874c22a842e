//! put, get, delete, len and overwrite behave like a map, and survive a reopen.

use fielddb::{FieldDb, Options, Record};

#[test]
fn put_overwrites_delete_reports_and_reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = FieldDb::open(dir.path()).unwrap();
        assert!(db.is_empty().unwrap());
        db.put("a", Record::new().set("v", 1)).unwrap();
        db.put("b", Record::new().set("v", 2)).unwrap();
        db.put("a", Record::new().set("w", "x")).unwrap();
        assert_eq!(db.get("a").unwrap(), Some(Record::new().set("w", "x")));
        assert!(db.delete("b").unwrap());
        assert!(!db.delete("b").unwrap());
        assert!(!db.delete("never").unwrap());
        assert_eq!(db.get("b").unwrap(), None);
        db.put(b"\x00\xffbin", Record::new()).unwrap();
        assert_eq!(db.len().unwrap(), 2);
    }
    let db = FieldDb::open(dir.path()).unwrap();
    assert_eq!(db.len().unwrap(), 2);
    assert_eq!(db.get("a").unwrap(), Some(Record::new().set("w", "x")));
    assert_eq!(db.get(b"\x00\xffbin").unwrap(), Some(Record::new()));
    assert_eq!(db.get("b").unwrap(), None);
}

#[test]
fn synced_writes_are_readable_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = FieldDb::open_with(dir.path(), Options::default().sync_writes(true)).unwrap();
        for i in 0..100 {
            db.put(format!("k{i:03}"), Record::new().set("i", i))
                .unwrap();
        }
    }
    let db = FieldDb::open(dir.path()).unwrap();
    assert_eq!(db.len().unwrap(), 100);
}

#[test]
fn handles_are_cheap_clones_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<FieldDb>();
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open(dir.path()).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in 0..250 {
                    db.put(format!("t{t}-{i}"), Record::new().set("i", i))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(db.len().unwrap(), 1000);
}
