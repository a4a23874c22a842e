//! SIGKILL during backups: a child process writes (and creates and drops an index) while it
//! backs the database up again and again; the parent kills it at a random moment, often in the
//! middle of a backup. After each kill the database opens and verifies clean, the backup
//! directory lists every backup the child reported and nothing half-written (each listed one
//! passes `verify_backup`), and the newest restores to a database that verifies clean.
//!
//! `CRASH_BACKUP_ITERS=N` runs N kills (default 6); `CRASH_SEED=S` picks the run.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use fielddb::{BackupId, FieldDb};
use support::wait_indexes_ready;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn a_kill_during_a_backup_leaves_the_database_intact_and_only_complete_backups() {
    let iterations = env_or("CRASH_BACKUP_ITERS", 6);
    let mut seed = env_or("CRASH_SEED", 0xBAC0);
    let dir = tempfile::tempdir().unwrap();
    let db_dir = dir.path().join("db");
    let target = dir.path().join("db.backups");
    let mut reported = 0u32;
    let mut interrupted = 0;
    for iteration in 0..iterations {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut child = Command::new(env!("CARGO_BIN_EXE_fielddb_test_workload"))
            .args([
                "backup",
                db_dir.to_str().unwrap(),
                &(seed >> 33).to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let wanted = 1 + (seed >> 20) % 3;
        let mut seen = 0;
        for line in lines.by_ref() {
            let id: u32 = line
                .unwrap()
                .strip_prefix("backup ")
                .unwrap()
                .parse()
                .unwrap();
            reported = reported.max(id);
            seen += 1;
            if seen == wanted {
                break;
            }
        }
        // Into the next backup, most of the time.
        std::thread::sleep(Duration::from_millis((seed >> 40) % 25));
        child.kill().unwrap();
        child.wait().unwrap();
        for line in lines.map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("backup ").and_then(|n| n.parse().ok()) {
                reported = reported.max(id);
            }
        }

        let leftovers = unfinished(&target);
        if leftovers > 0 {
            interrupted += 1;
        }

        let db = FieldDb::open(&db_dir).unwrap();
        wait_indexes_ready(&db);
        let report = db.verify().unwrap();
        assert!(report.is_clean(), "iteration {iteration}: {report:?}");
        drop(db);
        let listed = fielddb::list_backups(&target).unwrap();
        let ids: Vec<u32> = listed.iter().map(|b| b.id).collect();
        assert!(
            ids.last().copied().unwrap_or(0) >= reported,
            "iteration {iteration}: every reported backup is listed ({ids:?}, reported {reported})"
        );
        for id in &ids {
            fielddb::verify_backup(&target, BackupId::Id(*id), false)
                .unwrap_or_else(|e| panic!("iteration {iteration}: backup {id}: {e}"));
        }
        let restored = dir.path().join(format!("restored-{iteration}"));
        fielddb::restore_backup(&target, BackupId::Latest, &restored).unwrap();
        let copy = FieldDb::open(&restored).unwrap();
        wait_indexes_ready(&copy);
        let report = copy.verify().unwrap();
        assert!(
            report.is_clean(),
            "iteration {iteration}: the newest backup: {report:?}"
        );
        eprintln!(
            "iteration {iteration}: killed after {seen} backups this run{}; {} listed, {} records \
             in the newest",
            if leftovers > 0 {
                ", in the middle of the next"
            } else {
                ""
            },
            ids.len(),
            report.records
        );
        drop(copy);
        let _ = std::fs::remove_dir_all(&restored);
    }
    eprintln!("{iterations} kills, {interrupted} of them during a backup");
}

/// Backups begun and not finished: a `private/<id>` directory without its `meta/<id>` (RocksDB
/// writes a backup's meta file last, and removes such leftovers when the directory is next
/// opened).
fn unfinished(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir.join("private")) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| !dir.join("meta").join(e.file_name()).exists())
        .count()
}
