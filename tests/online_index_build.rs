//! An index builds in the background while four writers update and delete records; afterwards
//! the index agrees exactly with the records. Odd seeds build a counted index, whose per-value
//! counts must then equal the records too; seeds 2 and 3 mod 4 build the compound index `f,n`
//! (through the same code paths), which must then answer two conditions like a scan; seeds 0
//! to 3 mod 8 build by ingestion (the default), 4 to 7 mod 8 in steps; seeds 0 mod 3 cover the
//! field `pad`, which the writers also change alone, so the covered copies must match too. Seeded;
//! `ONLINE_BUILD_RUNS` and `ONLINE_BUILD_RECORDS` scale it (defaults: 20 runs over 200,000
//! records).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use fielddb::{
    Batch, FieldDb, Filter, IndexSpec, IndexState, Options, Query, QueryOptions, Record,
    ScanOptions, Value,
};
use fielddb_suite::rng::Rng;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn key(i: u64) -> String {
    format!("key{i:08}")
}

fn random_value(rng: &mut Rng) -> Option<Value> {
    match rng.below(10) {
        0 => None,
        1 => Some(Value::Float(rng.below(1000) as f64 + 0.5)),
        _ => Some(Value::Int(rng.below(1000) as i64)),
    }
}

fn record(value: Option<Value>, i: u64) -> Record {
    let r = Record::new().set("n", i as i64).set("pad", "x".repeat(40));
    match value {
        Some(v) => r.set("f", v),
        None => r,
    }
}

fn one_run(seed: u64, records: u64) {
    let dir = tempfile::tempdir().unwrap();
    let by_ingestion = seed % 8 < 4;
    let options = Options::default().build_by_ingestion(by_ingestion);
    let db = FieldDb::open_with(dir.path(), options).unwrap();
    let mut rng = Rng::new(seed);
    for chunk in (0..records).collect::<Vec<_>>().chunks(5_000) {
        let mut batch = Batch::new();
        for &i in chunk {
            batch.put(key(i), record(random_value(&mut rng), i));
        }
        db.write_batch(batch).unwrap();
    }

    let building = Arc::new(AtomicBool::new(true));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let db = db.clone();
            let building = Arc::clone(&building);
            std::thread::spawn(move || {
                let mut rng = Rng::new(seed * 31 + w);
                let mut ops = 0u64;
                // Keep writing until the build is over, then a little more.
                let mut after = 200;
                while after > 0 {
                    if !building.load(Ordering::Acquire) {
                        after -= 1;
                    }
                    let i = rng.below(records + records / 10);
                    match rng.below(10) {
                        0..=1 => {
                            db.delete(key(i)).unwrap();
                        }
                        3 => {
                            // Only the covered field changes: the entry stays, its copy not.
                            if let Some(r) = db.get(key(i)).unwrap() {
                                let pad = format!("{:040}", rng.below(1_000));
                                db.put(key(i), r.set("pad", pad)).unwrap();
                            }
                        }
                        2 => {
                            let mut batch = Batch::new();
                            batch.put(key(i), record(random_value(&mut rng), i));
                            batch.delete(key(rng.below(records)));
                            db.write_batch(batch).unwrap();
                        }
                        _ => db.put(key(i), record(random_value(&mut rng), i)).unwrap(),
                    }
                    ops += 1;
                }
                ops
            })
        })
        .collect();

    let started = std::time::Instant::now();
    let counted = seed % 2 == 1;
    let compound = seed % 4 >= 2;
    let spec = IndexSpec::on_fields(if compound { vec!["f", "n"] } else { vec!["f"] });
    let name = spec.name();
    let spec = if counted { spec.counted() } else { spec };
    let spec = match seed % 3 {
        0 => spec.include(["pad"]),
        _ => spec,
    };
    let build = db.create_index(spec).unwrap();
    let mut saw_building = false;
    while !matches!(build.info().map(|i| i.state), Some(IndexState::Ready)) {
        saw_building = true;
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    build.wait().unwrap();
    let build_time = started.elapsed();
    building.store(false, Ordering::Release);
    let ops: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(
        saw_building,
        "seed {seed}: the build finished before writers could interfere"
    );
    assert!(ops > 800, "seed {seed}: writers made only {ops} writes");

    let report = db.verify().unwrap();
    eprintln!(
        "seed {seed}: build (by ingestion: {by_ingestion}) over {records} records took {build_time:.2?} under {ops} concurrent writes; {} entries verified",
        report.indexes[0].entries
    );
    assert_eq!(
        (
            report.missing(),
            report.stale(),
            report.wrong_counts(),
            report.wrong_covered()
        ),
        (0, 0, 0, 0),
        "seed {seed}: {report:?}"
    );
    assert!(report.corrupt_records.is_empty());

    for query in [
        Query::between(100, 200),
        Query::eq(7),
        Query::gt(990.5),
        Query::lt(3),
    ] {
        let from_index: Vec<Vec<u8>> = {
            let mut keys = db
                .query_keys_by_index(&name, &query, &QueryOptions::new())
                .unwrap()
                .rows;
            keys.sort();
            keys
        };
        let from_scan: Vec<Vec<u8>> = db
            .scan(&ScanOptions::new().filter("f", query.clone()))
            .unwrap()
            .rows
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(from_index, from_scan, "seed {seed}: {query:?}");
        let counted_here = db.count_by_index(&name, &query).unwrap();
        assert_eq!(
            counted_here,
            from_scan.len() as u64,
            "seed {seed}: {query:?}"
        );
    }
    // Every value the records hold, counted (one read each on a counted index).
    let mut tally: std::collections::BTreeMap<String, (Value, u64)> = Default::default();
    for (_, record) in db.scan(&ScanOptions::new()).unwrap().rows {
        if let Some(v) = record.get("f") {
            tally.entry(format!("{v:?}")).or_insert((v.clone(), 0)).1 += 1;
        }
    }
    assert!(
        tally.len() > 100,
        "seed {seed}: only {} values",
        tally.len()
    );
    for (v, expected) in tally.into_values() {
        let n = db.count_by_index(&name, &Query::eq(v.clone())).unwrap();
        assert_eq!(n, expected, "seed {seed} counted {counted}: count of {v:?}");
    }
    for absent in [Value::Int(5_000), Value::Str("none".into())] {
        assert_eq!(db.count_by_index(&name, &Query::eq(absent)).unwrap(), 0);
    }
    if compound {
        // Two conditions through the compound index: an equality then a range, and two
        // equalities (one read of the counts on a counted index), against a scan.
        let filter = Filter::eq("f", 7).and(Filter::between("n", 0, records as i64 / 2));
        assert_eq!(db.explain(&filter).unwrap().index, "f,n");
        let from_index: Vec<Vec<u8>> = db
            .query(&filter, &QueryOptions::new())
            .unwrap()
            .rows
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let scan = ScanOptions::new()
            .filter("f", Query::eq(7))
            .filter("n", Query::between(0, records as i64 / 2));
        let from_scan: Vec<Vec<u8>> = db
            .scan(&scan)
            .unwrap()
            .rows
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let mut sorted = from_index.clone();
        sorted.sort();
        assert_eq!(sorted, from_scan, "seed {seed}");
        assert_eq!(db.count(&filter).unwrap(), from_scan.len() as u64);
        for (key, record) in db.scan(&ScanOptions::new().limit(50)).unwrap().rows {
            let (Some(f), Some(n)) = (record.get("f"), record.get("n")) else {
                continue;
            };
            let exact = Filter::eq("f", f.clone()).and(Filter::eq("n", n.clone()));
            // Each record has its own `n`, so the tuple is unique to it.
            assert_eq!(db.count(&exact).unwrap(), 1, "seed {seed}: {key:?}");
        }
    }
}

#[test]
fn an_index_built_under_four_concurrent_writers_matches_the_records() {
    let runs = env_or("ONLINE_BUILD_RUNS", 20);
    let records = env_or("ONLINE_BUILD_RECORDS", 200_000);
    for seed in 1..=runs {
        one_run(seed, records);
    }
}
