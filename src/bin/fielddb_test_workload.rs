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
//! `ready` at the end.

use std::io::Write;

use fielddb::{Batch, FieldDb, IndexSpec, IndexState, Options, Record};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(dir), Some(number)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!(
            "usage: fielddb_test_workload build-and-drop DIR RECORDS [compound] | crash DIR SEED | backup DIR SEED"
        );
        std::process::exit(2);
    };
    let number: u64 = number.parse().unwrap_or(100_000);
    let result = match mode.as_str() {
        "build-and-drop" => {
            build_and_drop(dir, number, args.get(4).is_some_and(|a| a == "compound"))
        }
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

fn build_and_drop(dir: &str, records: u64, compound: bool) -> fielddb::Result<()> {
    let db = FieldDb::open_with(dir, Options::default().build_chunk_records(200))?;
    let mut stdout = std::io::stdout();
    for start in (0..records).step_by(10_000) {
        let mut batch = Batch::new();
        for i in start..(start + 10_000).min(records) {
            let record = Record::new()
                .set("a", (i * 7919 % 100_003) as i64)
                .set("b", format!("b{}", i % 1000))
                .set("pad", "p".repeat(60));
            batch.put(format!("key{i:09}"), record);
        }
        db.write_batch(batch)?;
    }
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
