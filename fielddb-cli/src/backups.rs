//! The shell's backup commands: `backup DIR [DIR...]`, `backups DIR`, `restore DIR [ID] --to
//! NEWDB`, `verify-backup DIR [ID] [--deep]` and `purge-backups DIR --keep N`, each answering
//! its JSON fields and its human text. A backup or restore shows a progress bar on a terminal:
//! the bytes the target directory has grown by, against the bytes it may copy.

use std::path::Path;
use std::time::{Duration, Instant};

use fielddb::{BackupId, BackupInfo, FieldDb};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value as Json};

use crate::render::{human_bytes, table};

/// What a command answers: its JSON fields and its text.
pub type Answer = (Json, String);

/// The bytes of every file under `dir`.
fn tree_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_bytes(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// Runs `work` while a bar (when `progress`) shows `dir` growing toward `total` bytes.
fn watching<T: Send>(
    progress: bool,
    label: &str,
    dir: &Path,
    total: u64,
    work: impl FnOnce() -> T + Send,
) -> T {
    if !progress {
        return work();
    }
    let start = tree_bytes(dir);
    let bar = ProgressBar::new(total.max(1));
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_owned());
    let done = std::sync::atomic::AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                bar.set_position(tree_bytes(dir).saturating_sub(start).min(total));
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        let result = work();
        done.store(true, std::sync::atomic::Ordering::Release);
        result
    });
    bar.finish_and_clear();
    result
}

/// A Unix time as a UTC date and time, `2026-11-28 11:04:12`.
fn when(timestamp: i64) -> String {
    let (days, secs) = (timestamp.div_euclid(86_400), timestamp.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (H. Hinnant's `civil_from_days`).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn info_json(info: &BackupInfo) -> Json {
    json!({"id": info.id, "timestamp": info.timestamp, "size": info.size, "new_bytes": info.new_bytes, "records": info.records})
}

fn unknown_or(n: Option<u64>, f: impl Fn(u64) -> String) -> String {
    n.map_or_else(|| "?".into(), f)
}

/// `backup DIR [DIR...]`: every target gets its backup; one failing is reported by name and
/// fails the command once the others are done.
pub fn backup(db: &FieldDb, dirs: &[String], progress: bool) -> Result<Answer, fielddb::Error> {
    let stats = db.storage_stats()?;
    let total =
        stats.kv_file_bytes + stats.index_file_bytes + stats.meta_file_bytes + stats.memtable_bytes;
    let mut results = Vec::new();
    let mut lines = Vec::new();
    let mut failed = Vec::new();
    for dir in dirs {
        let started = Instant::now();
        let path = Path::new(dir);
        let outcome = watching(progress, &format!("backup to {dir}"), path, total, || {
            db.backup_to(path)
        });
        let secs = started.elapsed().as_secs_f64();
        match outcome {
            Ok(info) => {
                lines.push(format!(
                    "{dir}: backup {} of {} records, {} ({} new) in {secs:.2} s",
                    info.id,
                    unknown_or(info.records, |n| n.to_string()),
                    human_bytes(info.size),
                    unknown_or(info.new_bytes, human_bytes),
                ));
                results.push(json!({"dir": dir, "backup": info_json(&info), "seconds": secs}));
            }
            Err(e) => {
                lines.push(format!("{dir}: failed: {e}"));
                results.push(
                    json!({"dir": dir, "error": {"code": e.code(), "message": e.to_string()}}),
                );
                failed.push(format!("{dir}: {e}"));
            }
        }
    }
    if !failed.is_empty() {
        let done: Vec<&String> = lines.iter().filter(|l| !l.contains(": failed: ")).collect();
        let rest = if done.is_empty() {
            String::new()
        } else {
            format!(
                "; done: {}",
                done.iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        return Err(fielddb::Error::InvalidArgument(format!(
            "{} of {} backups failed: {}{rest}",
            failed.len(),
            dirs.len(),
            failed.join("; "),
        )));
    }
    Ok((json!({"backups": results}), lines.join("\n")))
}

/// `backups DIR`: a table of the directory's backups.
pub fn list(dir: &str) -> Result<Answer, fielddb::Error> {
    let infos = fielddb::list_backups(dir)?;
    let text = if infos.is_empty() {
        format!("no backups in {dir}")
    } else {
        let rows: Vec<Vec<String>> = infos
            .iter()
            .map(|i| {
                vec![
                    i.id.to_string(),
                    when(i.timestamp),
                    human_bytes(i.size),
                    unknown_or(i.new_bytes, human_bytes),
                    unknown_or(i.records, |n| n.to_string()),
                ]
            })
            .collect();
        table(
            &[
                "id".into(),
                "time (UTC)".into(),
                "size".into(),
                "new bytes".into(),
                "records".into(),
            ],
            &rows,
        )
    };
    let list: Vec<Json> = infos.iter().map(info_json).collect();
    Ok((json!({"backups": list}), text))
}

fn which(id: Option<u32>) -> BackupId {
    id.map_or(BackupId::Latest, BackupId::Id)
}

/// `restore DIR [ID] --to NEWDB`.
pub fn restore(
    dir: &str,
    id: Option<u32>,
    to: &str,
    progress: bool,
) -> Result<Answer, fielddb::Error> {
    let infos = fielddb::list_backups(dir)?;
    let total = match id {
        Some(id) => infos.iter().find(|i| i.id == id).map_or(0, |i| i.size),
        None => infos.last().map_or(0, |i| i.size),
    };
    let started = Instant::now();
    let restored = watching(
        progress,
        &format!("restore to {to}"),
        Path::new(to),
        total,
        || fielddb::restore_backup(dir, which(id), to),
    )?;
    let secs = started.elapsed().as_secs_f64();
    Ok((
        json!({"restored": restored, "to": to, "seconds": secs}),
        format!("restored backup {restored} of {dir} into {to} in {secs:.2} s"),
    ))
}

/// `verify-backup DIR [ID] [--deep]`.
pub fn verify(dir: &str, id: Option<u32>, deep: bool) -> Result<Answer, fielddb::Error> {
    let verified = fielddb::verify_backup(dir, which(id), deep)?;
    let how = if deep {
        "files, and the restored database's indexes"
    } else {
        "files"
    };
    Ok((
        json!({"verified": verified, "deep": deep}),
        format!("backup {verified} of {dir}: {how} check out"),
    ))
}

/// `purge-backups DIR --keep N`.
pub fn purge(dir: &str, keep: usize) -> Result<Answer, fielddb::Error> {
    let before = fielddb::list_backups(dir)?.len();
    fielddb::purge_backups(dir, keep)?;
    let kept: Vec<u32> = fielddb::list_backups(dir)?.iter().map(|i| i.id).collect();
    Ok((
        json!({"deleted": before - kept.len(), "kept": kept}),
        format!(
            "deleted {} of {before} backups of {dir}; kept {kept:?}",
            before - kept.len()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_read_as_utc_dates() {
        assert_eq!(when(0), "1970-01-01 00:00:00");
        assert_eq!(when(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(when(1_795_863_812), "2026-11-28 11:03:32");
    }
}
