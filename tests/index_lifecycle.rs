//! Creating, listing, dropping and re-creating indexes, and what writers do to them meanwhile.

use fielddb::{Batch, Error, FieldDb, IndexSpec, IndexState, Options, Query, QueryOptions, Record};

fn filled(records: usize) -> (tempfile::TempDir, FieldDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open_with(dir.path(), Options::default().build_chunk_records(100)).unwrap();
    for start in (0..records).step_by(1_000) {
        let mut batch = Batch::new();
        for i in start..(start + 1_000).min(records) {
            batch.put(format!("k{i:06}"), Record::new().set("n", (i % 10) as i64));
        }
        db.write_batch(batch).unwrap();
    }
    (dir, db)
}

#[test]
fn create_returns_at_once_and_the_handle_reports_progress_to_ready() {
    let (_dir, db) = filled(100_000);
    let build = db.create_index_on_field("n").unwrap();
    assert_eq!(build.name(), "n");
    let first = build.progress();
    assert!((0.0..1.0).contains(&first), "{first}");
    build.wait().unwrap();
    assert_eq!(build.progress(), 1.0);
    assert_eq!(db.indexes()[0].state, IndexState::Ready);
    assert_eq!(db.count_by_index("n", &Query::eq(3)).unwrap(), 10_000);
}

#[test]
fn a_second_index_on_a_field_is_refused_and_bad_fields_are_invalid() {
    let (_dir, db) = filled(10);
    db.create_index_on_field("n").unwrap().wait().unwrap();
    assert!(matches!(db.create_index_on_field("n"), Err(Error::IndexExists(f)) if f == "n"));
    assert!(matches!(
        db.create_index(IndexSpec::on("")),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        db.drop_index("nope"),
        Err(Error::NoSuchIndex { .. })
    ));
}

#[test]
fn a_dropped_index_refuses_queries_and_can_be_recreated_at_once() {
    let (_dir, db) = filled(5_000);
    db.create_index_on_field("n").unwrap().wait().unwrap();
    db.drop_index("n").unwrap();
    let err = db
        .query_by_index("n", &Query::eq(1), &QueryOptions::new())
        .unwrap_err();
    assert!(matches!(err, Error::NoSuchIndex { .. }), "{err}");
    // Writes during and after the drop do not touch the dropped index.
    db.put("extra", Record::new().set("n", 1)).unwrap();
    let again = db.create_index_on_field("n").unwrap();
    again.wait().unwrap();
    db.wait_for_tasks();
    assert_eq!(db.indexes().len(), 1);
    assert_eq!(db.count_by_index("n", &Query::eq(1)).unwrap(), 501);
    assert!(db.verify().unwrap().is_clean());
}

#[test]
fn a_query_on_a_building_index_says_it_is_not_ready() {
    let (_dir, db) = filled(30_000);
    let build = db.create_index_on_field("n").unwrap();
    match db.query_by_index("n", &Query::eq(1), &QueryOptions::new()) {
        Err(Error::IndexNotReady { field, indexes }) => {
            assert_eq!(field, "n");
            assert!(indexes.contains("n (building"), "{indexes}");
        }
        Ok(_) => assert_eq!(build.progress(), 1.0, "only a finished build may answer"),
        Err(other) => panic!("unexpected {other}"),
    }
    build.wait().unwrap();
}

#[test]
fn dropping_a_building_index_makes_its_wait_fail() {
    let (_dir, db) = filled(100_000);
    let build = db.create_index_on_field("n").unwrap();
    db.drop_index("n").unwrap();
    assert!(build.wait().is_err());
    db.wait_for_tasks();
    assert!(db.indexes().is_empty());
}

#[test]
fn indexes_and_their_states_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = FieldDb::open(dir.path()).unwrap();
        db.put("a", Record::new().set("x", 1).set("y", "s"))
            .unwrap();
        db.create_index(IndexSpec::on("x").unique())
            .unwrap()
            .wait()
            .unwrap();
        db.create_index_on_field("y").unwrap().wait().unwrap();
    }
    let db = FieldDb::open(dir.path()).unwrap();
    let list = db.indexes();
    assert_eq!(list.len(), 2);
    assert!(list[0].unique && !list[1].unique);
    assert!(matches!(
        db.put("b", Record::new().set("x", 1)),
        Err(Error::UniqueViolation { .. })
    ));
    assert_eq!(db.count_by_index("y", &Query::prefix("s")).unwrap(), 1);
}
