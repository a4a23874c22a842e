//! Backup and restore throughput, FieldDB against the sqlite3 shell, over the same N records
//! (id, name, city, score; about 100 bytes of data each), one after the other in one run:
//!
//! - FieldDB: `backup_to` into an empty directory (MB/s over the bytes the backup holds), then
//!   1% of the records rewritten and a second `backup_to` (the bytes it added against the
//!   first's), then `restore_backup` of the first into a new directory;
//! - SQLite: the same rows in one table with an index on `city` (loaded by rusqlite in one
//!   transaction), then `sqlite3 DB ".backup OUT"` and `sqlite3 NEW ".restore OUT"`, timed as
//!   whole processes.
//!
//! `cargo bench --bench backup [-- --records N --rounds R]` (default 1,000,000 and 3 rounds,
//! medians printed); `cargo test` runs it with 20,000 records and 1 round as a smoke test.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fielddb::{BackupId, Batch, FieldDb, IndexSpec, Record};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

struct Row {
    id: i64,
    name: String,
    city: String,
    score: f64,
}

fn rows(n: u64, seed: u64) -> Vec<Row> {
    let mut rng = Rng(seed | 1);
    (0..n)
        .map(|i| Row {
            id: i as i64,
            name: format!("user-{:016x}-{:016x}", rng.next(), rng.next()),
            city: format!("city-{:04}", rng.next() % 2000),
            score: (rng.next() % 10_000) as f64 / 10.0,
        })
        .collect()
}

fn key(i: i64) -> String {
    format!("k{i:010}")
}

fn tree_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return std::fs::metadata(dir).map_or(0, |m| m.len());
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_bytes(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

fn mb_per_s(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64().max(1e-9)
}

struct Round {
    fielddb_backup: (u64, Duration),
    fielddb_second_new: u64,
    fielddb_restore: (u64, Duration),
    sqlite_backup: (u64, Duration),
    sqlite_restore: (u64, Duration),
}

fn sqlite3(args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = Command::new("sqlite3")
        .args(args)
        .status()
        .expect("run the sqlite3 shell (Debian: apt install sqlite3)");
    assert!(status.success(), "sqlite3 {args:?}");
    started.elapsed()
}

fn round(dir: &Path, data: &[Row]) -> Round {
    // FieldDB.
    let db = FieldDb::open(dir.join("fielddb")).unwrap();
    for chunk in data.chunks(10_000) {
        let mut batch = Batch::new();
        for r in chunk {
            batch.put(
                key(r.id),
                Record::new()
                    .set("id", r.id)
                    .set("name", r.name.as_str())
                    .set("city", r.city.as_str())
                    .set("score", r.score),
            );
        }
        db.write_batch(batch).unwrap();
    }
    db.create_index(IndexSpec::on("city"))
        .unwrap()
        .wait()
        .unwrap();
    let target = dir.join("fielddb-backups");
    let started = Instant::now();
    let first = db.backup_to(&target).unwrap();
    let backup_time = started.elapsed();
    let mut rng = Rng(7);
    let mut batch = Batch::new();
    for _ in 0..data.len() / 100 {
        let i = (rng.next() % data.len() as u64) as i64;
        batch.put(
            key(i),
            Record::new()
                .set("id", i)
                .set("name", "rewritten")
                .set("city", "city-0000")
                .set("score", 0.5),
        );
    }
    db.write_batch(batch).unwrap();
    let second = db.backup_to(&target).unwrap();
    drop(db);
    let restored = dir.join("fielddb-restored");
    let started = Instant::now();
    fielddb::restore_backup(&target, BackupId::Id(first.id), &restored).unwrap();
    let restore_time = started.elapsed();

    // SQLite.
    let sqlite_path = dir.join("sqlite.db");
    {
        let mut conn = rusqlite::Connection::open(&sqlite_path).unwrap();
        conn.execute_batch(
            "CREATE TABLE rows (key TEXT PRIMARY KEY, id INTEGER, name TEXT, city TEXT, score REAL);
             CREATE INDEX by_city ON rows(city);",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare("INSERT INTO rows VALUES (?1, ?2, ?3, ?4, ?5)")
                .unwrap();
            for r in data {
                insert
                    .execute(rusqlite::params![key(r.id), r.id, r.name, r.city, r.score])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let out = dir.join("sqlite-backup.db");
    let sqlite_backup = sqlite3(&[
        sqlite_path.to_str().unwrap(),
        &format!(".backup '{}'", out.display()),
    ]);
    let fresh = dir.join("sqlite-restored.db");
    let sqlite_restore = sqlite3(&[
        fresh.to_str().unwrap(),
        &format!(".restore '{}'", out.display()),
    ]);

    Round {
        fielddb_backup: (first.size, backup_time),
        fielddb_second_new: second.new_bytes.unwrap_or(0),
        fielddb_restore: (tree_bytes(&restored), restore_time),
        sqlite_backup: (tree_bytes(&out), sqlite_backup),
        sqlite_restore: (tree_bytes(&fresh), sqlite_restore),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut records, mut rounds) = (20_000u64, 1usize);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => {
                records = 1_000_000;
                rounds = 3;
            }
            "--records" => records = args.next().and_then(|v| v.parse().ok()).unwrap_or(records),
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(rounds),
            _ => {}
        }
    }
    let data = rows(records, 42);
    println!("{records} records, {rounds} rounds");
    println!("| round | FieldDB backup | FieldDB restore | sqlite3 .backup | sqlite3 .restore | FieldDB backup size | 2nd backup (1% rewritten) adds |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut all = Vec::new();
    for r in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let round = round(dir.path(), &data);
        println!(
            "| {} | {:.0} MB/s ({:.2} s) | {:.0} MB/s ({:.2} s) | {:.0} MB/s ({:.2} s) | {:.0} MB/s ({:.2} s) | {:.1} MB | {:.2} MB ({:.1}%) |",
            r + 1,
            mb_per_s(round.fielddb_backup.0, round.fielddb_backup.1),
            round.fielddb_backup.1.as_secs_f64(),
            mb_per_s(round.fielddb_restore.0, round.fielddb_restore.1),
            round.fielddb_restore.1.as_secs_f64(),
            mb_per_s(round.sqlite_backup.0, round.sqlite_backup.1),
            round.sqlite_backup.1.as_secs_f64(),
            mb_per_s(round.sqlite_restore.0, round.sqlite_restore.1),
            round.sqlite_restore.1.as_secs_f64(),
            round.fielddb_backup.0 as f64 / 1e6,
            round.fielddb_second_new as f64 / 1e6,
            100.0 * round.fielddb_second_new as f64 / round.fielddb_backup.0.max(1) as f64,
        );
        all.push(round);
    }
    let m = |f: &dyn Fn(&Round) -> f64| median(all.iter().map(f).collect());
    println!(
        "medians: FieldDB backup {:.2} s, restore {:.2} s; sqlite3 .backup {:.2} s, .restore {:.2} s; time ratios (sqlite3 / FieldDB) backup {:.2}, restore {:.2}",
        m(&|r| r.fielddb_backup.1.as_secs_f64()),
        m(&|r| r.fielddb_restore.1.as_secs_f64()),
        m(&|r| r.sqlite_backup.1.as_secs_f64()),
        m(&|r| r.sqlite_restore.1.as_secs_f64()),
        m(&|r| r.sqlite_backup.1.as_secs_f64() / r.fielddb_backup.1.as_secs_f64()),
        m(&|r| r.sqlite_restore.1.as_secs_f64() / r.fielddb_restore.1.as_secs_f64()),
    );
}
