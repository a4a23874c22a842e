//! Workloads the recovery and crash tests run in a child process and kill with SIGKILL.
//!
//! `fielddb_test_workload crash DIR SEED`: opens DIR with `sync_writes`, then applies the
//! seeded operation stream of `fielddb_suite::crash_workload`, printing `ack N` after operation
//! N returns, until killed (or 100,000 operations).
//!
//! `fielddb_test_workload backup DIR SEED`: opens DIR; a thread writes
//! records of 1 KiB (and now and then creates or drops an index) while the main thread backs
//! the database up into `DIR.backups` again and again, printing `backup ID` after each, until
//! killed.
//!
//! `fielddb_test_workload build-and-drop DIR RECORDS [compound]`: loads RECORDS records (fields
//! `a`, `b`), builds an index on `b`, then starts building a counted index on `a` (with
//! `compound`, the compound index `a,b`) and drops the one on `b` (the drop waits behind the
//! build in the task queue), printing `progress DONE TOTAL` lines as the build advances and
//! `ready` at the end. The build goes in steps (`Options::build_by_ingestion(false)`), whose
//! cursor the test follows.
//!
//! `fielddb_test_workload ingest DIR RECORDS`: loads RECORDS records (fields `a`, `b`), then,
//! while a thread overwrites and deletes random keys, builds a counted index on `a` by
//! ingestion, printing `started` when it is created and `ready` when it is ready, and keeps
//! writing until killed.

use std::io::Write;

use fielddb::{Batch, FieldDb, IndexSpec, IndexState, Options, Record};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(dir), Some(number)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!(
            "usage: fielddb_test_workload build-and-drop DIR RECORDS [compound] | ingest DIR RECORDS | crash DIR SEED | backup DIR SEED"
        );
        std::process::exit(2);
    };
    let number: u64 = number.parse().unwrap_or(100_000);
    let result = match mode.as_str() {
        "build-and-drop" => {
            build_and_drop(dir, number, args.get(4).is_some_and(|a| a == "compound"))
        }
        "ingest" => ingest(dir, number),
        "crash" => crash(dir, number),
        "backup" => backup(dir, number),
        _ => {
            eprintln!("unknown mode {mode}");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("workload failed: {e}");
        std::process::exit(1);
    }
}

/// The record the build workloads store at key number `i`, version `v`.
fn ab_record(i: u64, v: u64) -> Record {
    Record::new()
        .set("a", ((i + v * 31) * 7919 % 100_003) as i64)
        .set("b", format!("b{}", i % 1000))
        .set("pad", "p".repeat(60))
}

/// Loads `records` records of `ab_record` in batches of 10,000.
fn load_ab(db: &FieldDb, records: u64) -> fielddb::Result<()> {
    for start in (0..records).step_by(10_000) {
        let mut batch = Batch::new();
        for i in start..(start + 10_000).min(records) {
            batch.put(format!("key{i:09}"), ab_record(i, 0));
        }
        db.write_batch(batch)?;
    }
    Ok(())
}

fn build_and_drop(dir: &str, records: u64, compound: bool) -> fielddb::Result<()> {
    let options = Options::default()
        .build_chunk_records(200)
        .build_by_ingestion(false);
    let db = FieldDb::open_with(dir, options)?;
    let mut stdout = std::io::stdout();
    load_ab(&db, records)?;
    db.create_index_on_field("b")?.wait()?;
    // Counted, so a build resumed after a kill is checked against its counts too.
    let spec = if compound {
        IndexSpec::on_fields(["a", "b"])
    } else {
        IndexSpec::on("a")
    };
    let a = db.create_index(spec.counted())?;
    db.drop_index("b")?;
    let _ = writeln!(stdout, "started");
    loop {
        match a.info().map(|i| i.state) {
            Some(IndexState::Building { done, total }) => {
                let _ = writeln!(stdout, "progress {done} {total}");
            }
            Some(IndexState::Ready) => {
                let _ = writeln!(stdout, "ready");
                return Ok(());
            }
            other => {
                eprintln!("unexpected state {other:?}");
                std::process::exit(1);
            }
        }
        let _ = stdout.flush();
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

fn ingest(dir: &str, records: u64) -> fielddb::Result<()> {
    let db = FieldDb::open(dir)?;
    load_ab(&db, records)?;
    let writer = db.clone();
    std::thread::spawn(move || {
        let mut x = records | 1;
        for v in 1u64.. {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = x % (records + records / 10);
            let key = format!("key{i:09}");
            let written = match v % 5 {
                0 => writer.delete(&key).map(drop),
                _ => writer.put(&key, ab_record(i, v)),
            };
            if written.is_err() {
                return;
            }
        }
    });
    let mut stdout = std::io::stdout();
    let a = db.create_index(IndexSpec::on("a").counted())?;
    let _ = writeln!(stdout, "started");
    let _ = stdout.flush();
    a.wait()?;
    let _ = writeln!(stdout, "ready");
    let _ = stdout.flush();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn backup(dir: &str, seed: u64) -> fielddb::Result<()> {
    let db = FieldDb::open(dir)?;
    let writer = db.clone();
    std::thread::spawn(move || {
        let mut x = seed | 1;
        for n in 0u64.. {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let blob = format!("{x:016x}").repeat(64);
            let record = Record::new()
                .set("n", n as i64)
                .set("tag", format!("t{}", x % 13))
                .set("blob", blob);
            if writer.put(format!("s{seed:016x}-{n:08}"), record).is_err() {
                return;
            }
            if n % 500 == 250 {
                let _ = match writer.indexes().iter().any(|i| i.field == "tag") {
                    true => writer.drop_index("tag"),
                    false => writer
                        .create_index(IndexSpec::on("tag").counted())
                        .map(drop),
                };
            }
        }
    });
    let target = format!("{dir}.backups");
    let mut stdout = std::io::stdout();
    loop {
        let info = db.backup_to(&target)?;
        let _ = writeln!(stdout, "backup {}", info.id);
        let _ = stdout.flush();
    }
}

fn crash(dir: &str, seed: u64) -> fielddb::Result<()> {
    use fielddb_suite::crash_workload::{active_indexes, execute, Workload};
    let db = FieldDb::open_with(
        dir,
        Options::default()
            .sync_writes(true)
            .build_chunk_records(100),
    )?;
    let mut workload = Workload::new(seed, active_indexes(&db));
    let mut stdout = std::io::stdout();
    for n in 0..100_000u64 {
        let op = workload.next_op();
        execute(&db, &op)?;
        let _ = writeln!(stdout, "ack {n}");
        let _ = stdout.flush();
    }
    Ok(())
}
