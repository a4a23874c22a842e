//! SIGKILL crash harness: a child process applies a seeded stream of puts, updates, deletes,
//! batches and index creates and drops with `sync_writes`, acknowledging each operation; the
//! parent kills it at a random moment, reopens, and checks that every acknowledged operation is
//! there, that the one in flight is all there or not at all, that `verify()` is clean and that
//! every index (single-field or compound) answers like a full scan.
//!
//! `CRASH_ITERS=N` runs N kills (default 50), `CRASH_SEED=S` picks the run; a failure prints
//! both so it can be replayed (iterations build on each other, so replay from the start).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::ops::Bound;
use std::process::{Command, Stdio};

use fielddb::{FieldDb, Query, QueryOptions, Record, ScanOptions};
use fielddb_suite::crash_workload::{active_indexes, Model, Rng, Workload, INDEXES};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn all_records(db: &FieldDb) -> BTreeMap<String, Record> {
    db.scan(&ScanOptions::new())
        .unwrap()
        .rows
        .into_iter()
        .map(|(k, r)| (String::from_utf8(k).unwrap(), r))
        .collect()
}

/// Runs the child until it has acknowledged `stop_after` operations, kills it, and returns
/// the last acknowledged operation number (None when none was).
fn run_and_kill(dir: &std::path::Path, seed: u64, stop_after: u64) -> Option<u64> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fielddb_test_workload"))
        .args(["crash", dir.to_str().unwrap(), &seed.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut last = None;
    for line in lines.by_ref() {
        let Ok(line) = line else { break };
        let n: u64 = line
            .strip_prefix("ack ")
            .and_then(|n| n.parse().ok())
            .unwrap();
        last = Some(n);
        if n + 1 >= stop_after {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    // Acknowledgements written before the kill and not read yet still count.
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("ack ").and_then(|n| n.parse().ok()) {
            last = Some(n);
        }
    }
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.is_empty() && !status.success(),
        "the workload failed on its own: {stderr}"
    );
    last
}

#[test]
fn acknowledged_operations_survive_sigkill_and_indexes_stay_consistent() {
    let iterations = env_or("CRASH_ITERS", 50);
    let base_seed = env_or("CRASH_SEED", 0x5EED);
    let dir = tempfile::tempdir().unwrap();
    let mut model = Model::default();
    let mut rng = Rng::new(base_seed);
    let mut in_flight_seen = 0;
    for iteration in 0..iterations {
        let replay = format!(
            "replay: CRASH_SEED={base_seed} CRASH_ITERS={}",
            iteration + 1
        );
        let seed = rng.next_u64();
        let stop_after = 1 + rng.below(300);
        let last_acked = run_and_kill(dir.path(), seed, stop_after);

        // Replay the stream: acknowledged operations, then the one that may have been in flight.
        let mut workload = Workload::new(seed, model.indexes.clone());
        let acked = last_acked.map_or(0, |n| n + 1);
        for _ in 0..acked {
            model.apply(&workload.next_op());
        }
        let in_flight = workload.next_op();
        let mut with_in_flight = model.clone();
        with_in_flight.apply(&in_flight);

        let db = FieldDb::open(dir.path()).unwrap();
        let records = all_records(&db);
        let indexes = active_indexes(&db);
        let seen = Model { records, indexes };
        if seen == with_in_flight && seen != model {
            in_flight_seen += 1;
            model = with_in_flight;
        } else {
            assert!(
                seen == model,
                "iteration {iteration}: the database is neither the acknowledged state nor that \
                 plus the operation in flight ({in_flight:?}); {replay}"
            );
        }

        db.wait_for_tasks();
        let report = db.verify().unwrap();
        assert!(
            report.is_clean(),
            "iteration {iteration}: {report:?}; {replay}"
        );
        assert_eq!(report.indexes.len(), model.indexes.len(), "{replay}");
        for field in &model.indexes {
            for query in [
                Query::ge(0),
                Query::between(10, 40),
                Query::prefix("v1"),
                Query::lt(50.5),
            ] {
                let mut from_index = db
                    .query_keys_by_index(field, &query, &QueryOptions::new())
                    .unwrap()
                    .rows;
                from_index.sort();
                // An index answers a condition on its first field, over the records holding
                // all its fields (a range open at both ends matches any value).
                let fields: Vec<&str> = field.split(',').collect();
                let mut scan = ScanOptions::new().filter(fields[0], query.clone());
                for other in &fields[1..] {
                    scan = scan.filter(*other, Query::range(Bound::Unbounded, Bound::Unbounded));
                }
                let from_scan: Vec<Vec<u8>> = db
                    .scan(&scan)
                    .unwrap()
                    .rows
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect();
                assert_eq!(
                    from_index, from_scan,
                    "iteration {iteration}: {field} {query:?}; {replay}"
                );
            }
        }
        assert!(
            INDEXES
                .iter()
                .filter(|f| model.indexes.contains(**f))
                .count()
                == model.indexes.len()
        );
    }
    eprintln!(
        "{iterations} SIGKILLs survived; the operation in flight had landed in {in_flight_seen} of them ({} records, indexes {:?})",
        model.records.len(),
        model.indexes
    );
}
