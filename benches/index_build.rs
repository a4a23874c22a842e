//! Index build benchmark: time to build an index over N records of about 100 bytes while a
//! writer keeps writing, and the writer's latency (p50, p99, max) during the build against the
//! same writes with no build running. `cargo bench --bench index_build -- --records N`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fielddb::{Batch, FieldDb, Record};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn record(rng: &mut Rng, i: u64) -> Record {
    Record::new()
        .set("id", i as i64)
        .set("name", format!("user-{:016x}", rng.next()))
        .set("city", format!("city-{:04}", rng.next() % 2000))
        .set("score", (rng.next() % 10_000) as f64 / 10.0)
}

fn key(i: u64) -> String {
    format!("k{i:010}")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs a writer until `stop`, returning each write's latency.
fn writer(db: FieldDb, records: u64, stop: Arc<AtomicBool>, seed: u64) -> Vec<Duration> {
    let mut rng = Rng(seed);
    let mut lat = Vec::new();
    while !stop.load(Ordering::Acquire) {
        let i = rng.next() % records;
        let r = record(&mut rng, i);
        let t = Instant::now();
        db.put(key(i), r).expect("put");
        lat.push(t.elapsed());
    }
    lat
}

fn summary(label: &str, mut lat: Vec<Duration>) {
    lat.sort();
    println!(
        "{label:<28} writes {:>8}  p50 {:>8.1?}  p99 {:>8.1?}  max {:>8.1?}",
        lat.len(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or_default()
    );
}

fn main() -> fielddb::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let records: u64 = args
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let db = FieldDb::open(dir.path())?;
    let mut rng = Rng(0x5eed);
    let load = Instant::now();
    for start in (0..records).step_by(1000) {
        let mut batch = Batch::new();
        for i in start..(start + 1000).min(records) {
            batch.put(key(i), record(&mut rng, i));
        }
        db.write_batch(batch)?;
    }
    // Encoded: 5 header + 4 x 9 per-field overhead + 15 name bytes + 46 value bytes = 102.
    println!(
        "loaded {records} records of 102 encoded bytes in {:.2?}",
        load.elapsed()
    );

    // Baseline: the same writer with no build running, for two seconds.
    let stop = Arc::new(AtomicBool::new(false));
    let w = {
        let (db, stop) = (db.clone(), Arc::clone(&stop));
        std::thread::spawn(move || writer(db, records, stop, 1))
    };
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Release);
    let baseline = w.join().expect("writer");

    let stop = Arc::new(AtomicBool::new(false));
    let w = {
        let (db, stop) = (db.clone(), Arc::clone(&stop));
        std::thread::spawn(move || writer(db, records, stop, 2))
    };
    let start = Instant::now();
    db.create_index_on_field("city")?.wait()?;
    let build = start.elapsed();
    stop.store(true, Ordering::Release);
    let during = w.join().expect("writer");

    println!("index build over {records} records: {build:.2?}");
    summary("writes, no build (2 s)", baseline);
    summary("writes during the build", during);
    let report = db.verify()?;
    println!(
        "verify: {} records, {} missing, {} stale",
        report.records,
        report.missing(),
        report.stale()
    );
    Ok(())
}
