//! A database on a small tmpfs written until the disk is full: writes fail with an error (no
//! panic), the handle then refuses writes until reopened, and once space is freed and the
//! database reopened every acknowledged write is there and `verify()` is clean.
//! Needs root to mount the tmpfs; skipped with a message otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

use fielddb::{Error, FieldDb, Options, Record};

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?.keep();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn record(i: u64) -> Record {
    // Compressible, so the flush on reopen needs little space.
    Record::new()
        .set("n", (i % 100) as i64)
        .set("payload", "p".repeat(4096))
}

fn reopen(path: &Path) -> FieldDb {
    FieldDb::open_with(path, Options::default().sync_writes(true)).unwrap()
}

#[test]
fn a_full_disk_fails_writes_cleanly_and_loses_no_acknowledged_write() {
    let Some(fs) = Tmpfs::mount("48m") else {
        eprintln!(
            "skipped: mounting a tmpfs needs root (run the suite as root to test a full disk)"
        );
        return;
    };
    let filler = fs.0.join("filler");
    std::fs::write(&filler, vec![0u8; 16 * 1024 * 1024]).unwrap();
    let path = fs.0.join("db");
    let db = reopen(&path);
    db.create_index_on_field("n").unwrap().wait().unwrap();

    let mut acknowledged = 0u64;
    let first_error = loop {
        match db.put(format!("k{acknowledged:08}"), record(acknowledged)) {
            Ok(()) => acknowledged += 1,
            Err(e) => break e,
        }
        assert!(acknowledged < 100_000, "the disk never filled");
    };
    assert!(matches!(first_error, Error::Storage(_)), "{first_error}");
    assert!(
        acknowledged > 100,
        "only {acknowledged} writes before the disk was full"
    );
    // The handle now refuses writes, even small ones, until the database is reopened.
    let refused = db.put("small", Record::new().set("n", 1)).unwrap_err();
    assert!(matches!(refused, Error::Poisoned(_)), "{refused}");
    assert!(refused.to_string().contains("reopen"), "{refused}");
    drop(db);

    std::fs::remove_file(&filler).unwrap();
    let db = reopen(&path);
    for i in 0..acknowledged {
        let got = db.get(format!("k{i:08}")).unwrap();
        assert_eq!(got, Some(record(i)), "acknowledged write {i} is missing");
    }
    let report = db.verify().unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert!(report.records >= acknowledged);
    db.put("after", Record::new().set("n", 1)).unwrap();
    eprintln!("disk full after {acknowledged} acknowledged writes: {first_error}");
}
