//! Eight threads of mixed writes, reads and queries for a fixed time while another thread
//! creates and drops indexes in a loop; afterwards every index agrees with the records.
//! `STRESS_SECS` sets the budget (default 5 s).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fielddb::{
    Batch, Error, FieldDb, IndexSpec, Options, Query, QueryOptions, Record, ScanOptions, Value,
};
use fielddb_suite::rng::Rng;

const KEYS: u64 = 5_000;
const FIELDS: [&str; 3] = ["a", "b", "c"];

fn record(rng: &mut Rng) -> Record {
    let mut r = Record::new().set("pad", "y".repeat(rng.below(40) as usize));
    if rng.below(8) > 0 {
        r = r.set("a", rng.below(200) as i64);
    }
    if rng.below(8) > 0 {
        r = r.set("b", format!("s{}", rng.below(300)));
    }
    if rng.below(2) > 0 {
        r = r.set("c", Value::Float(rng.below(400) as f64 / 4.0));
    }
    r
}

fn key(rng: &mut Rng) -> String {
    format!("key{:05}", rng.below(KEYS))
}

/// Errors a query may meet while indexes come and go.
fn expected_query_error(e: &Error) -> bool {
    matches!(e, Error::NoSuchIndex { .. } | Error::IndexNotReady { .. })
}

#[test]
fn mixed_operations_and_index_churn_leave_every_index_consistent() {
    let secs = std::env::var("STRESS_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let db = FieldDb::open_with(dir.path(), Options::default().build_chunk_records(250)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(AtomicU64::new(0));

    let workers: Vec<_> = (0..8u64)
        .map(|t| {
            let (db, stop, ops) = (db.clone(), Arc::clone(&stop), Arc::clone(&ops));
            std::thread::spawn(move || {
                let mut rng = Rng::new(1000 + t);
                while !stop.load(Ordering::Relaxed) {
                    match rng.below(20) {
                        0..=7 => db.put(key(&mut rng), record(&mut rng)).unwrap(),
                        8..=9 => {
                            db.delete(key(&mut rng)).unwrap();
                        }
                        10..=12 => {
                            let mut batch = Batch::new();
                            for _ in 0..1 + rng.below(8) {
                                if rng.below(4) == 0 {
                                    batch.delete(key(&mut rng));
                                } else {
                                    batch.put(key(&mut rng), record(&mut rng));
                                }
                            }
                            db.write_batch(batch).unwrap();
                        }
                        13..=14 => {
                            db.get(key(&mut rng)).unwrap();
                        }
                        15 => {
                            db.scan(&ScanOptions::new().from(key(&mut rng)).limit(50))
                                .unwrap();
                        }
                        _ => {
                            let field = FIELDS[rng.below(3) as usize];
                            let q = Query::between(rng.below(100) as i64, 150);
                            if let Err(e) =
                                db.query_by_index(field, &q, &QueryOptions::new().limit(20))
                            {
                                assert!(expected_query_error(&e), "{e}");
                            }
                        }
                    }
                    ops.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    let churn = {
        let (db, stop) = (db.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut rng = Rng::new(7);
            let mut cycles = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let field = FIELDS[rng.below(3) as usize];
                match db.create_index(IndexSpec::on(field)) {
                    Ok(build) => {
                        if rng.below(2) == 0 {
                            build.wait().unwrap();
                        }
                    }
                    Err(Error::IndexExists(_)) => {
                        db.drop_index(field).unwrap();
                    }
                    Err(e) => panic!("{e}"),
                }
                cycles += 1;
                std::thread::sleep(Duration::from_millis(rng.below(30)));
            }
            cycles
        })
    };

    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let cycles = churn.join().unwrap();
    db.wait_for_tasks();
    let elapsed = started.elapsed();

    let report = db.verify().unwrap();
    assert!(report.is_clean(), "{report:?}");
    for index in &report.indexes {
        for q in [Query::ge(0), Query::lt(100), Query::prefix("s1")] {
            let mut from_index = db
                .query_keys_by_index(&index.field, &q, &QueryOptions::new())
                .unwrap()
                .rows;
            from_index.sort();
            let from_scan: Vec<Vec<u8>> = db
                .scan(&ScanOptions::new().filter(index.field.as_str(), q.clone()))
                .unwrap()
                .rows
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            assert_eq!(from_index, from_scan, "{} {q:?}", index.field);
        }
    }
    eprintln!(
        "{} operations by 8 threads and {cycles} index create/drop cycles in {elapsed:.1?}; {} indexes verified clean",
        ops.load(Ordering::Relaxed),
        report.indexes.len()
    );
}
