//! Five backups taken while 4 threads write, an index built during one and dropped during
//! another: every backup restores to a database that opens, finishes the index work it was
//! doing, verifies clean, and holds exactly what the writers had acknowledged at one instant
//! between the start and the end of that backup.
//!
//! How the test knows which instant: each writer puts `w<t>-<n>` for n = 0, 1, 2, ... one after
//! the other, noting when each put was called and when it returned. A restored backup must hold,
//! per writer, exactly the keys 0..=s (a prefix: writes are atomic and in order). The backup's
//! instant P is after put s was called (it is in the backup) and before put s + 1 returned (it
//! is not); the test intersects these intervals over the writers with [start, end] of the
//! backup, and fails when the intersection is empty.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fielddb::{BackupId, FieldDb, IndexSpec, IndexState, Record, ScanOptions};
use support::wait_indexes_ready;

const WRITERS: usize = 4;

/// Per writer, per put n: (called, returned), as nanoseconds since the test's start.
type Timeline = Vec<Vec<(u128, u128)>>;

#[test]
fn backups_taken_under_writes_restore_to_one_acknowledged_instant_each() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(FieldDb::open(dir.path().join("db")).unwrap());
    let backups = dir.path().join("backups");
    let clock = Instant::now();
    let now = move || clock.elapsed().as_nanos();
    let stop = Arc::new(AtomicBool::new(false));
    let timeline: Arc<Mutex<Timeline>> = Arc::new(Mutex::new(vec![Vec::new(); WRITERS]));
    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let (db, stop, timeline) = (db.clone(), stop.clone(), timeline.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let called = now();
                    let record = Record::new()
                        .set("writer", t as i64)
                        .set("n", n as i64)
                        .set("city", format!("c{}", n % 17));
                    db.put(format!("w{t}-{n:07}"), record).unwrap();
                    timeline.lock().unwrap()[t].push((called, now()));
                    n += 1;
                }
            })
        })
        .collect();

    let mut taken = Vec::new();
    for round in 0..5 {
        std::thread::sleep(Duration::from_millis(150));
        if round == 1 {
            db.create_index(IndexSpec::on("city").counted()).unwrap();
        }
        if round == 3 {
            db.drop_index("city").unwrap();
        }
        let start = now();
        let info = db.backup_to(&backups).unwrap();
        taken.push((info, start, now()));
    }
    stop.store(true, Ordering::Release);
    for writer in writers {
        writer.join().unwrap();
    }
    let timeline = timeline.lock().unwrap().clone();
    let listed = fielddb::list_backups(&backups).unwrap();
    assert_eq!(listed.len(), 5);

    for (info, start, end) in taken {
        assert_eq!(listed.iter().find(|l| l.id == info.id), Some(&info));
        fielddb::verify_backup(&backups, BackupId::Id(info.id), true).unwrap();
        let target = dir.path().join(format!("restored-{}", info.id));
        fielddb::restore_backup(&backups, BackupId::Id(info.id), &target).unwrap();
        let restored = FieldDb::open(&target).unwrap();
        wait_indexes_ready(&restored);
        let report = restored.verify().unwrap();
        assert!(report.is_clean(), "backup {}: {report:?}", info.id);

        let mut held = vec![Vec::new(); WRITERS];
        for (key, record) in restored.scan(&ScanOptions::new()).unwrap().rows {
            let t = record.get("writer").and_then(|v| v.as_i64()).unwrap() as usize;
            let n = record.get("n").and_then(|v| v.as_i64()).unwrap() as u64;
            assert_eq!(key, format!("w{t}-{n:07}").into_bytes());
            held[t].push(n);
        }
        let (mut lo, mut hi) = (start, end);
        for t in 0..WRITERS {
            let count = held[t].len() as u64;
            assert_eq!(
                held[t],
                (0..count).collect::<Vec<_>>(),
                "backup {}: writer {t} holds a prefix",
                info.id
            );
            if count > 0 {
                // Put count - 1 is in the backup: P is after it was called.
                lo = lo.max(timeline[t][count as usize - 1].0);
            }
            if let Some(next) = timeline[t].get(count as usize) {
                // Put count is not: P is before it returned.
                hi = hi.min(next.1);
            }
        }
        assert!(
            lo < hi,
            "backup {} holds no state acknowledged at one instant of [{start}, {end}] ns: the \
             writers' intervals meet at [{lo}, {hi}]",
            info.id
        );
        eprintln!(
            "backup {}: {} records, taken in {:.1} ms, consistent with the instant window \
             [{:.3}, {:.3}] ms",
            info.id,
            held.iter().map(Vec::len).sum::<usize>(),
            (end - start) as f64 / 1e6,
            lo as f64 / 1e6,
            hi as f64 / 1e6
        );
        // The index: building in backups 2 and 3 (resumed and finished on open), gone after the
        // drop in backups 4 and 5 (or its drop finished on open).
        let city = restored.indexes().into_iter().find(|i| i.field == "city");
        match info.id {
            1 => assert!(city.is_none()),
            2 | 3 => assert_eq!(city.map(|c| c.state), Some(IndexState::Ready)),
            _ => assert!(city.is_none(), "{city:?}"),
        }
    }
}
