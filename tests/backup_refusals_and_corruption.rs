//! Backups refuse what they cannot do with a clear error and change nothing: a target that is a
//! file, a directory of another database's backups, a restore into a non-empty directory, an
//! unknown backup. One failing target of several does not stop the others. A flipped byte in a
//! backed-up table file fails verification naming the file, and the restore refuses it. Purge
//! keeps the newest.

use std::path::PathBuf;

use fielddb::{BackupId, FieldDb, Record};

fn filled(dir: &std::path::Path, n: i64) -> FieldDb {
    let db = FieldDb::open(dir).unwrap();
    for i in 0..n {
        db.put(
            format!("k{i:05}"),
            Record::new()
                .set("n", i)
                .set("text", "some text to fill a block"),
        )
        .unwrap();
    }
    db
}

#[test]
fn bad_targets_are_refused_by_name_and_the_other_targets_still_get_their_backup() {
    let dir = tempfile::tempdir().unwrap();
    let db = filled(&dir.path().join("db"), 500);
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let good = dir.path().join("good");
    let results = db.backup_to_all(&[file.clone(), good.clone()]);
    let refused = results[0].1.as_ref().unwrap_err().to_string();
    assert!(
        refused.contains("a-file") && refused.contains("is a file"),
        "{refused}"
    );
    let info = results[1].1.as_ref().unwrap();
    assert_eq!(info.id, 1);
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
    assert_eq!(
        db.get("k00042").unwrap(),
        Some(
            Record::new()
                .set("n", 42)
                .set("text", "some text to fill a block")
        )
    );

    // Another database's backups are not mixed in.
    let other = filled(&dir.path().join("other"), 10);
    let refused = other.backup_to(&good).unwrap_err().to_string();
    assert!(refused.contains("another database"), "{refused}");
    assert_eq!(fielddb::list_backups(&good).unwrap().len(), 1);

    // A restore goes into a new directory only, and names a backup that exists.
    let occupied = dir.path().join("occupied");
    std::fs::create_dir(&occupied).unwrap();
    std::fs::write(occupied.join("x"), b"x").unwrap();
    let refused = fielddb::restore_backup(&good, BackupId::Latest, &occupied)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("not empty"), "{refused}");
    let refused = fielddb::restore_backup(&good, BackupId::Id(9), dir.path().join("new"))
        .unwrap_err()
        .to_string();
    assert!(refused.contains("no backup 9"), "{refused}");
    assert!(!dir.path().join("new").exists());
    let refused = fielddb::list_backups(dir.path().join("nowhere"))
        .unwrap_err()
        .to_string();
    assert!(refused.contains("no backup directory"), "{refused}");
}

#[test]
fn a_flipped_byte_in_a_backed_up_table_file_is_named_and_the_backup_is_not_restored() {
    let dir = tempfile::tempdir().unwrap();
    let db = filled(&dir.path().join("db"), 2000);
    let backups = dir.path().join("backups");
    db.backup_to(&backups).unwrap();
    fielddb::verify_backup(&backups, BackupId::Latest, true).unwrap();
    let ssts: Vec<PathBuf> = std::fs::read_dir(backups.join("shared_checksum"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sst"))
        .collect();
    let victim = ssts
        .iter()
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(victim).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(victim, &bytes).unwrap();

    let refused = fielddb::verify_backup(&backups, BackupId::Latest, false)
        .unwrap_err()
        .to_string();
    let name = victim.file_name().unwrap().to_string_lossy().into_owned();
    assert!(refused.contains(&name), "the error names {name}: {refused}");
    let target = dir.path().join("restored");
    let refused = fielddb::restore_backup(&backups, BackupId::Latest, &target)
        .unwrap_err()
        .to_string();
    assert!(refused.contains(&name), "{refused}");
    assert!(!target.exists(), "nothing restored");
}

#[test]
fn purge_keeps_the_newest_backups_and_a_second_backup_copies_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let db = filled(&dir.path().join("db"), 20_000);
    let backups = dir.path().join("backups");
    let first = db.backup_to(&backups).unwrap();
    for i in 0..200 {
        db.put(format!("new{i:04}"), Record::new().set("n", i))
            .unwrap();
    }
    let second = db.backup_to(&backups).unwrap();
    let (first_bytes, second_bytes) = (first.new_bytes.unwrap(), second.new_bytes.unwrap());
    assert!(
        second_bytes * 10 <= first_bytes,
        "the second backup added {second_bytes} bytes, the first {first_bytes}"
    );
    db.backup_to(&backups).unwrap();
    db.backup_to(&backups).unwrap();
    assert!(fielddb::purge_backups(&backups, 0).is_err());
    fielddb::purge_backups(&backups, 2).unwrap();
    let ids: Vec<u32> = fielddb::list_backups(&backups)
        .unwrap()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, vec![3, 4]);
    let restored = dir.path().join("restored");
    fielddb::restore_backup(&backups, BackupId::Id(3), &restored).unwrap();
    assert_eq!(
        FieldDb::open(&restored).unwrap().get("new0199").unwrap(),
        Some(Record::new().set("n", 199))
    );
}
