//! A process killed with SIGKILL while it builds an index by ingestion, with a writer
//! overwriting and deleting records all along, leaves a database that, reopened, starts the
//! build over and ends with an index that agrees with the records, its counts included; at
//! several kill points, from just after the index is created to after it is ready.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fielddb::{FieldDb, IndexState, Query, QueryOptions, ScanOptions};

const RECORDS: u64 = 100_000;

/// Kills the child when dropped, so a failing assertion leaves no process behind.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn an_ingestion_build_killed_at_any_point_starts_over_and_verifies_clean_after_reopen() {
    let mut found_building = 0;
    for delay_ms in [0u64, 20, 60, 150, 400] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Killed(
            Command::new(env!("CARGO_BIN_EXE_fielddb_test_workload"))
                .args(["ingest", dir.path().to_str().unwrap(), &RECORDS.to_string()])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
        let first = lines.next().map(|l| l.unwrap());
        assert_eq!(first.as_deref(), Some("started"), "delay {delay_ms} ms");
        std::thread::sleep(Duration::from_millis(delay_ms));
        drop(child); // SIGKILL

        let db = FieldDb::open(dir.path()).unwrap();
        let a = db.indexes().into_iter().find(|i| i.field == "a").unwrap();
        eprintln!(
            "killed {delay_ms} ms after the index was created: {:?}",
            a.state
        );
        match a.state {
            IndexState::Building { .. } => found_building += 1,
            IndexState::Ready => {}
            other => panic!("delay {delay_ms} ms: unexpected state {other:?}"),
        }
        db.wait_for_tasks();
        let a = db.indexes().into_iter().find(|i| i.field == "a").unwrap();
        assert_eq!(a.state, IndexState::Ready, "delay {delay_ms} ms");
        let report = db.verify().unwrap();
        assert!(report.is_clean(), "delay {delay_ms} ms: {report:?}");
        assert!(
            report.records > RECORDS / 2,
            "delay {delay_ms} ms: {report:?}"
        );

        let query = Query::between(1_000, 30_000);
        let mut from_index = db
            .query_keys_by_index("a", &query, &QueryOptions::new())
            .unwrap()
            .rows;
        from_index.sort();
        let from_scan: Vec<Vec<u8>> = db
            .scan(&ScanOptions::new().filter("a", query.clone()))
            .unwrap()
            .rows
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(from_index, from_scan, "delay {delay_ms} ms");
        assert_eq!(
            db.count_by_index("a", &query).unwrap(),
            from_scan.len() as u64
        );
        // No table file of the build is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("ingest-"))
            .collect();
        assert!(leftovers.is_empty(), "delay {delay_ms} ms: {leftovers:?}");
    }
    assert!(
        found_building > 0,
        "every kill came after the build; make the workload longer"
    );
}
