//! A workload the recovery tests run in a child process and kill with SIGKILL.
//!
//! `fielddb_test_workload build-and-drop DIR RECORDS`: loads RECORDS records (fields `a`, `b`),
//! builds an index on `b`, then starts building an index on `a` and drops the one on `b` (the
//! drop waits behind the build in the task queue), printing `progress DONE TOTAL` lines as the
//! build advances and `ready` at the end.

use std::io::Write;

use fielddb::{Batch, FieldDb, IndexState, Options, Record};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(dir), Some(records)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: fielddb_test_workload build-and-drop DIR RECORDS");
        std::process::exit(2);
    };
    if mode != "build-and-drop" {
        eprintln!("unknown mode {mode}");
        std::process::exit(2);
    }
    let records: u64 = records.parse().unwrap_or(100_000);
    if let Err(e) = build_and_drop(dir, records) {
        eprintln!("workload failed: {e}");
        std::process::exit(1);
    }
}

fn build_and_drop(dir: &str, records: u64) -> fielddb::Result<()> {
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
    let a = db.create_index_on_field("a")?;
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
