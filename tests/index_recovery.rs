//! A process killed with SIGKILL in the middle of an index build and a drop leaves a database
//! that, reopened, resumes the build from its cursor, finishes the drop, and verifies clean; for
//! a single-field index and for a compound one, through the same code paths.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use fielddb::{FieldDb, IndexState, Query, QueryOptions, ScanOptions};

const RECORDS: u64 = 120_000;

/// Counts the raw entries of index id `id` and says whether its definition is still stored.
fn raw_index_state(dir: &std::path::Path, id: u32) -> (usize, bool) {
    let raw = rocksdb::DB::open_cf_for_read_only(
        &rocksdb::Options::default(),
        dir,
        ["kv", "index", "meta"],
        false,
    )
    .unwrap();
    let index = raw.cf_handle("index").unwrap();
    let entries = raw
        .prefix_iterator_cf(index, id.to_be_bytes())
        .map(|item| item.unwrap())
        .take_while(|(k, _)| k.starts_with(&id.to_be_bytes()))
        .count();
    let meta = raw.cf_handle("meta").unwrap();
    let mut def_key = b"index/".to_vec();
    def_key.extend_from_slice(&id.to_be_bytes());
    (entries, raw.get_cf(meta, def_key).unwrap().is_some())
}

#[test]
fn a_build_and_a_drop_killed_midway_resume_and_finish_after_reopen() {
    killed_midway_then_reopened("a");
}

#[test]
fn a_compound_build_killed_midway_resumes_and_finishes_after_reopen() {
    killed_midway_then_reopened("a,b");
}

/// Kills the workload while it builds the index `name` (`a`, or the compound `a,b`) and drops
/// the one on `b`, then checks what the reopened database makes of it.
fn killed_midway_then_reopened(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "build-and-drop".to_string(),
        dir.path().to_str().unwrap().to_string(),
        RECORDS.to_string(),
    ];
    if name.contains(',') {
        args.push("compound".into());
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_fielddb_test_workload"))
        .args(&args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut reported_done = 0;
    for line in lines {
        let line = line.unwrap();
        assert_ne!(
            line, "ready",
            "the build finished before the kill; make it longer"
        );
        let parts: Vec<&str> = line.split(' ').collect();
        if parts[0] == "progress" {
            reported_done = parts[1].parse::<u64>().unwrap();
            if reported_done >= RECORDS / 4 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(reported_done >= RECORDS / 4);

    // Index 1 (`b`) was being dropped: its entries and definition are still on disk.
    let (b_entries, b_defined) = raw_index_state(dir.path(), 1);
    assert_eq!((b_entries as u64, b_defined), (RECORDS, true));

    let db = FieldDb::open(dir.path()).unwrap();
    let a = db.indexes().into_iter().find(|i| i.field == name).unwrap();
    match a.state {
        IndexState::Building { done, .. } => assert!(
            done >= reported_done,
            "resumed at {done}, but {reported_done} were reported done before the kill"
        ),
        IndexState::Ready => {}
        other => panic!("unexpected state {other:?}"),
    }
    db.wait_for_tasks();
    let states: Vec<_> = db
        .indexes()
        .into_iter()
        .map(|i| (i.field, i.state))
        .collect();
    assert_eq!(states, [(name.to_string(), IndexState::Ready)]);
    let report = db.verify().unwrap();
    assert_eq!(report.records, RECORDS);
    assert!(report.is_clean(), "{report:?}");
    let query = Query::between(1000, 5000);
    let mut from_index = db
        .query_keys_by_index(name, &query, &QueryOptions::new())
        .unwrap()
        .rows;
    from_index.sort();
    let from_scan: Vec<Vec<u8>> = db
        .scan(&ScanOptions::new().filter("a", query))
        .unwrap()
        .rows
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(from_index, from_scan);
    drop(db);
    assert_eq!(
        raw_index_state(dir.path(), 1),
        (0, false),
        "the drop finished"
    );
}
