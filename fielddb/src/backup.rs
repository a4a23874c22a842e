//! Backups: consistent copies of a live database into backup directories, on RocksDB's
//! BackupEngine, taken while writers write, incremental (a table file already in the directory
//! is shared, not copied again), listed, verified, restored and purged.
//!
//! A backup directory is RocksDB's (`meta/<id>`, `shared_checksum/`, `private/<id>/`) plus one
//! file of FieldDB's, `FIELDDB-BACKUPS`, text, rewritten atomically after each backup:
//!
//! | line            | holds                                                                 |
//! |-----------------|-----------------------------------------------------------------------|
//! | 1               | `fielddb-backups 1 <identity>`: the format, and the RocksDB identity of the database backed up there |
//! | 2 and after     | `<id> <records> <new_bytes> [<position>]`: per backup, the records (RocksDB's estimate), the bytes it added, and for a replica the log position it had applied (hex), when it did not change during the backup |
//!
//! A directory holds backups of one database only: a backup of another one into it is refused
//! (not checked for a replica, whose RocksDB identity is its leader's after it installs a
//! snapshot).
//! A backup interrupted by a crash is not in RocksDB's `meta/` (RocksDB writes a backup's meta
//! file last, and removes what an unfinished one left on the next open), so it is never listed.
//! `verify_backup` checks every file's size and CRC32C against the backup's meta file, naming a
//! file that differs; `deep` also restores the backup into a temporary directory, opens it and
//! runs `FieldDb::verify`.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use rocksdb::backup::{BackupEngine, BackupEngineOptions, RestoreOptions};
use rocksdb::Env;

use crate::db::FieldDb;
use crate::error::{invalid, Error, Result};

const SIDECAR: &str = "FIELDDB-BACKUPS";
const SIDECAR_FORMAT: &str = "fielddb-backups 1";

/// One backup in a backup directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// Its id in the directory (increasing).
    pub id: u32,
    /// When it was taken, in seconds since the Unix epoch.
    pub timestamp: i64,
    /// The bytes of all its files (shared ones included).
    pub size: u64,
    /// The bytes it added to the directory (the files it did not share); `None` when unknown.
    pub new_bytes: Option<u64>,
    /// The records it holds (RocksDB's estimate when it was taken); `None` when unknown.
    pub records: Option<u64>,
    /// For a replica, the position of its log it had applied (`FieldDb::applied_position`),
    /// when that did not change while the backup was taken (back up a checkpoint of a replica
    /// that is applying to get it).
    pub position: Option<Vec<u8>>,
}

/// Which backup of a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupId {
    /// The newest.
    Latest,
    /// This one.
    Id(u32),
}

fn storage_error(dir: &Path, e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("backup directory {}: {e}", dir.display()))
}

/// Opens the engine of backup directory `dir` (created when `create`).
fn engine(dir: &Path, create: bool) -> Result<BackupEngine> {
    if dir.is_file() {
        return invalid!("backup directory {} is a file", dir.display());
    }
    if !dir.exists() {
        if !create {
            return invalid!("no backup directory at {}", dir.display());
        }
        fs::create_dir_all(dir).map_err(|e| storage_error(dir, e))?;
    }
    let options = BackupEngineOptions::new(dir).map_err(|e| storage_error(dir, e))?;
    let env = Env::new().map_err(|e| storage_error(dir, e))?;
    BackupEngine::open(&options, &env).map_err(|e| storage_error(dir, e))
}

/// One backup's line of the sidecar.
struct SidecarLine {
    id: u32,
    records: u64,
    new_bytes: u64,
    position: Option<Vec<u8>>,
}

/// The lines of the sidecar: the identity, and per backup its line.
struct Sidecar {
    identity: Option<String>,
    backups: Vec<SidecarLine>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn read_sidecar(dir: &Path) -> Result<Sidecar> {
    let text = match fs::read_to_string(dir.join(SIDECAR)) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Sidecar {
                identity: None,
                backups: Vec::new(),
            })
        }
        Err(e) => return Err(storage_error(dir, e)),
    };
    let bad = || storage_error(dir, format!("{SIDECAR} is malformed"));
    let mut lines = text.lines();
    let identity = lines
        .next()
        .and_then(|l| l.strip_prefix(SIDECAR_FORMAT))
        .map(|rest| rest.trim().to_owned())
        .ok_or_else(bad)?;
    let parse_line = |line: &str| -> Option<SidecarLine> {
        let parts: Vec<&str> = line.split(' ').collect();
        let (id, records, new_bytes, position) = match parts[..] {
            [id, records, new_bytes] => (id, records, new_bytes, None),
            [id, records, new_bytes, position] => (id, records, new_bytes, Some(unhex(position)?)),
            _ => return None,
        };
        Some(SidecarLine {
            id: id.parse().ok()?,
            records: records.parse().ok()?,
            new_bytes: new_bytes.parse().ok()?,
            position,
        })
    };
    let backups = lines
        .filter(|l| !l.is_empty())
        .map(|line| parse_line(line).ok_or_else(bad))
        .collect::<Result<_>>()?;
    Ok(Sidecar {
        identity: Some(identity),
        backups,
    })
}

fn write_sidecar(dir: &Path, sidecar: &Sidecar) -> Result<()> {
    let mut text = format!(
        "{SIDECAR_FORMAT} {}\n",
        sidecar.identity.as_deref().unwrap_or("")
    );
    for line in &sidecar.backups {
        text.push_str(&format!("{} {} {}", line.id, line.records, line.new_bytes));
        if let Some(position) = &line.position {
            text.push_str(&format!(" {}", hex(position)));
        }
        text.push('\n');
    }
    let tmp = dir.join(format!("{SIDECAR}.tmp"));
    let write = || -> io::Result<()> {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, dir.join(SIDECAR))?;
        fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| storage_error(dir, e))
}

/// The bytes of every file under `dir`.
fn tree_bytes(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => tree_bytes(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

fn identity_of(db_dir: &Path) -> Result<String> {
    Ok(fs::read_to_string(db_dir.join("IDENTITY"))?
        .trim()
        .to_owned())
}

impl FieldDb {
    /// Backs the database up, as of now, into backup directory `dir` (created if needed), while
    /// writers go on. Files already in the directory are shared, not copied again. Refuses a
    /// directory holding backups of another database.
    pub fn backup_to(&self, dir: impl AsRef<Path>) -> Result<BackupInfo> {
        let dir = dir.as_ref();
        let storage = &self.inner().storage;
        let replica = self.inner().options.replica;
        let identity = if replica {
            "replica".to_owned()
        } else {
            identity_of(storage.path())?
        };
        let mut engine = engine(dir, true)?;
        let mut sidecar = read_sidecar(dir)?;
        match &sidecar.identity {
            Some(theirs) if *theirs != identity && !theirs.is_empty() && !replica => {
                return invalid!(
                    "backup directory {} holds backups of another database (identity {theirs}, \
                     this one {identity})",
                    dir.display()
                )
            }
            _ => sidecar.identity = Some(identity),
        }
        let before = tree_bytes(dir);
        let records = storage.estimated_records()?;
        let position_before = if replica {
            self.applied_position()?
        } else {
            None
        };
        storage
            .backup_into(&mut engine)
            .map_err(|e| storage_error(dir, e))?;
        let new_bytes = tree_bytes(dir).saturating_sub(before);
        let position = match position_before {
            Some(p) if self.applied_position()?.as_ref() == Some(&p) => Some(p),
            _ => None,
        };
        let info = engine
            .get_backup_info()
            .into_iter()
            .max_by_key(|i| i.backup_id)
            .ok_or_else(|| storage_error(dir, "the new backup is not listed"))?;
        sidecar.backups.push(SidecarLine {
            id: info.backup_id,
            records,
            new_bytes,
            position: position.clone(),
        });
        write_sidecar(dir, &sidecar)?;
        Ok(BackupInfo {
            id: info.backup_id,
            timestamp: info.timestamp,
            size: info.size,
            new_bytes: Some(new_bytes),
            records: Some(records),
            position,
        })
    }

    /// Backs the database up into each of `dirs`; a failure at one is reported with it and does
    /// not stop the others.
    pub fn backup_to_all(&self, dirs: &[PathBuf]) -> Vec<(PathBuf, Result<BackupInfo>)> {
        dirs.iter()
            .map(|dir| (dir.clone(), self.backup_to(dir)))
            .collect()
    }
}

/// The backups in directory `dir`, oldest first.
pub fn list_backups(dir: impl AsRef<Path>) -> Result<Vec<BackupInfo>> {
    let dir = dir.as_ref();
    let engine = engine(dir, false)?;
    let sidecar = read_sidecar(dir)?;
    let mut infos: Vec<BackupInfo> = engine
        .get_backup_info()
        .into_iter()
        .map(|info| {
            let ours = sidecar.backups.iter().find(|b| b.id == info.backup_id);
            BackupInfo {
                id: info.backup_id,
                timestamp: info.timestamp,
                size: info.size,
                new_bytes: ours.map(|b| b.new_bytes),
                records: ours.map(|b| b.records),
                position: ours.and_then(|b| b.position.clone()),
            }
        })
        .collect();
    infos.sort_by_key(|i| i.id);
    Ok(infos)
}

fn resolve(dir: &Path, engine: &BackupEngine, which: BackupId) -> Result<u32> {
    let ids: Vec<u32> = engine
        .get_backup_info()
        .iter()
        .map(|i| i.backup_id)
        .collect();
    match which {
        BackupId::Latest => ids
            .into_iter()
            .max()
            .ok_or_else(|| Error::InvalidArgument(format!("no backup in {}", dir.display()))),
        BackupId::Id(id) if ids.contains(&id) => Ok(id),
        BackupId::Id(id) => invalid!("no backup {id} in {} (backups: {ids:?})", dir.display()),
    }
}

/// The files of backup `id` with their sizes and CRC32Cs, from its meta file
/// (`meta/<id>`: the timestamp, the sequence number, optional `metadata`/schema lines, the file
/// count, then `<path> crc32 <checksum>` per file; the size is in a shared file's name
/// `<number>_<crc32c>_<size>.<ext>`).
fn backup_files(dir: &Path, id: u32) -> Result<Vec<(PathBuf, u32)>> {
    let meta = fs::read_to_string(dir.join("meta").join(id.to_string()))
        .map_err(|e| storage_error(dir, format!("backup {id}'s meta file: {e}")))?;
    Ok(meta
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            let path = parts.next()?;
            (parts.next()? == "crc32")
                .then(|| parts.next()?.parse::<u32>().ok())
                .flatten()
                .map(|crc| (dir.join(path), crc))
        })
        .collect())
}

/// Verifies backup `which` in `dir`: every file's size (RocksDB) and CRC32C (against the
/// backup's meta file), naming a file that differs; with `deep`, also restores it into a
/// temporary directory, opens it and runs `FieldDb::verify`, which must be clean.
pub fn verify_backup(dir: impl AsRef<Path>, which: BackupId, deep: bool) -> Result<u32> {
    let dir = dir.as_ref();
    let mut engine = engine(dir, false)?;
    let id = resolve(dir, &engine, which)?;
    engine
        .verify_backup(id)
        .map_err(|e| Error::Corruption(format!("backup {id} in {}: {e}", dir.display())))?;
    for (path, crc) in backup_files(dir, id)? {
        let bytes = fs::read(&path)?;
        let actual = crc32c::crc32c(&bytes);
        if actual != crc {
            return Err(Error::Corruption(format!(
                "backup {id} in {}: file {} has CRC32C {actual}, its meta file says {crc}",
                dir.display(),
                path.display()
            )));
        }
    }
    if deep {
        let scratch = tempfile_dir(dir)?;
        let restored = scratch.join("db");
        let outcome = (|| {
            restore_with(dir, &mut engine, id, &restored)?;
            let db = FieldDb::open(&restored)?;
            let report = db.verify()?;
            if report.is_clean() {
                Ok(id)
            } else {
                Err(Error::Corruption(format!(
                    "backup {id} in {} restores to a database whose verify is not clean: {report:?}",
                    dir.display()
                )))
            }
        })();
        let _ = fs::remove_dir_all(&scratch);
        return outcome;
    }
    Ok(id)
}

/// A fresh scratch directory beside `dir` (in the system's temporary directory).
fn tempfile_dir(dir: &Path) -> Result<PathBuf> {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let scratch =
        std::env::temp_dir().join(format!("fielddb-verify-{}-{nonce}", std::process::id()));
    fs::create_dir_all(&scratch).map_err(|e| storage_error(dir, e))?;
    Ok(scratch)
}

fn restore_with(dir: &Path, engine: &mut BackupEngine, id: u32, target: &Path) -> Result<()> {
    engine
        .restore_from_backup(target, target, &RestoreOptions::default(), id)
        .map_err(|e| Error::Corruption(format!("backup {id} in {}: {e}", dir.display())))
}

/// Restores backup `which` of `dir` into `target`, which must not exist or be empty. The
/// backup's files are checked as they are copied; a corrupt one fails the restore.
pub fn restore_backup(
    dir: impl AsRef<Path>,
    which: BackupId,
    target: impl AsRef<Path>,
) -> Result<u32> {
    let (dir, target) = (dir.as_ref(), target.as_ref());
    if target.exists() {
        let empty = target.is_dir()
            && fs::read_dir(target)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
        if !empty {
            return invalid!(
                "restore target {} is not empty: restore into a new directory",
                target.display()
            );
        }
    }
    let id = resolve(dir, &engine(dir, false)?, which)?;
    verify_backup(dir, BackupId::Id(id), false)?;
    restore_with(dir, &mut engine(dir, false)?, id, target)?;
    Ok(id)
}

/// Deletes all but the newest `keep` backups of `dir` (files no kept backup shares go too).
pub fn purge_backups(dir: impl AsRef<Path>, keep: usize) -> Result<()> {
    let dir = dir.as_ref();
    if keep == 0 {
        return invalid!("purge keeps at least one backup");
    }
    let mut engine = engine(dir, false)?;
    engine
        .purge_old_backups(keep)
        .map_err(|e| storage_error(dir, e))?;
    let kept: Vec<u32> = engine
        .get_backup_info()
        .iter()
        .map(|i| i.backup_id)
        .collect();
    let mut sidecar = read_sidecar(dir)?;
    sidecar.backups.retain(|b| kept.contains(&b.id));
    if sidecar.identity.is_some() {
        write_sidecar(dir, &sidecar)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Record;

    #[test]
    fn a_checkpoint_keeps_the_identity_of_its_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path().join("db")).unwrap();
        db.put("a", Record::new().set("n", 1)).unwrap();
        db.checkpoint(dir.path().join("copy")).unwrap();
        // RocksDB writes a checkpoint's IDENTITY when it is opened, from the id in its manifest.
        drop(FieldDb::open(dir.path().join("copy")).unwrap());
        assert_eq!(
            identity_of(&dir.path().join("db")).unwrap(),
            identity_of(&dir.path().join("copy")).unwrap()
        );
    }
}
