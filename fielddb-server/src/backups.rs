//! `Backups`: the backup targets a server was started with (`--backup-dir`, one or more) and
//! what it backs up (the database of a single node; a cluster node's replica, with the log id
//! it had applied), backups into all of them on request (`POST /v1/admin/backups`) or on a schedule
//! (`--backup-every`, with `--backup-keep` to purge after each), and the last outcome per
//! target for `/metrics`. HTTP never names a path: only the command line does.
//!
//! One backup round runs at a time (a request during a round waits for it); targets are backed
//! up one after the other, each on the blocking pool, and a failing target does not stop the
//! others.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fielddb::{BackupInfo, FieldDb};
use fielddb_cluster::ClusterNode;

/// What a server backs up.
#[derive(Clone)]
pub enum BackupSource {
    /// A single node's database.
    Db(FieldDb),
    /// A cluster node's replica (of group 0).
    Node(Arc<ClusterNode>),
}

impl BackupSource {
    fn backup_to(&self, dir: &std::path::Path) -> fielddb::Result<BackupInfo> {
        match self {
            BackupSource::Db(db) => db.backup_to(dir),
            BackupSource::Node(node) => node.backup_to(dir),
        }
    }
}

/// The outcome of one target in a round.
pub(crate) struct TargetOutcome {
    pub(crate) dir: PathBuf,
    pub(crate) result: Result<BackupInfo, fielddb::Error>,
    pub(crate) seconds: f64,
}

/// The last round's figures of one target.
#[derive(Clone, Default)]
struct Last {
    /// When the last successful backup finished, in seconds since the epoch.
    finished: Option<f64>,
    seconds: f64,
    size: u64,
    new_bytes: u64,
    failures: u64,
}

/// A metric: its name, type, help, and its value from a target's figures.
type Series = (
    &'static str,
    &'static str,
    &'static str,
    fn(&Last) -> Option<f64>,
);

/// The server's backup targets and their state.
pub struct Backups {
    source: BackupSource,
    targets: Vec<PathBuf>,
    keep: Option<usize>,
    last: Mutex<BTreeMap<PathBuf, Last>>,
    round: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Backups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backups")
            .field("targets", &self.targets)
            .field("keep", &self.keep)
            .finish_non_exhaustive()
    }
}

impl Backups {
    /// Backups of `source` into `targets`, keeping the newest `keep` in each after a round when
    /// set.
    pub fn new(source: BackupSource, targets: Vec<PathBuf>, keep: Option<usize>) -> Backups {
        Backups {
            source,
            targets,
            keep,
            last: Mutex::new(BTreeMap::new()),
            round: tokio::sync::Mutex::new(()),
        }
    }

    /// Backs up into every target, one after the other; then purges when `keep` is set.
    pub(crate) async fn run_round(&self) -> Vec<TargetOutcome> {
        let _one = self.round.lock().await;
        let mut outcomes = Vec::with_capacity(self.targets.len());
        for dir in &self.targets {
            let (source, target, keep) = (self.source.clone(), dir.clone(), self.keep);
            let started = Instant::now();
            let result = tokio::task::spawn_blocking(move || {
                let info = source.backup_to(&target)?;
                if let Some(keep) = keep {
                    fielddb::purge_backups(&target, keep)?;
                }
                Ok(info)
            })
            .await
            .unwrap_or_else(|e| {
                Err(fielddb::Error::Io(std::io::Error::other(format!(
                    "the backup's task failed: {e}"
                ))))
            });
            let seconds = started.elapsed().as_secs_f64();
            self.record(dir, &result, seconds);
            match &result {
                Ok(info) => tracing::info!(
                    target: "fielddb_server",
                    dir = %dir.display(), id = info.id, seconds, "backup done"
                ),
                Err(e) => tracing::warn!(
                    target: "fielddb_server",
                    dir = %dir.display(), "backup failed: {e}"
                ),
            }
            outcomes.push(TargetOutcome {
                dir: dir.clone(),
                result,
                seconds,
            });
        }
        outcomes
    }

    fn record(
        &self,
        dir: &std::path::Path,
        result: &Result<BackupInfo, fielddb::Error>,
        seconds: f64,
    ) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let entry = last.entry(dir.to_path_buf()).or_default();
        match result {
            Ok(info) => {
                entry.finished = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .ok()
                    .map(|d| d.as_secs_f64());
                entry.seconds = seconds;
                entry.size = info.size;
                entry.new_bytes = info.new_bytes.unwrap_or(0);
            }
            Err(_) => entry.failures += 1,
        }
    }

    /// Every target's backups, between rounds (a round's backup and its purge are not seen
    /// half done).
    pub(crate) async fn list(self: Arc<Self>) -> Vec<(PathBuf, fielddb::Result<Vec<BackupInfo>>)> {
        let _between = self.round.lock().await;
        let this = Arc::clone(&self);
        match tokio::task::spawn_blocking(move || this.list_blocking()).await {
            Ok(listed) => listed,
            Err(e) => self
                .targets
                .iter()
                .map(|dir| {
                    let failed = std::io::Error::other(format!("the listing's task failed: {e}"));
                    (dir.clone(), Err(fielddb::Error::Io(failed)))
                })
                .collect(),
        }
    }

    fn list_blocking(&self) -> Vec<(PathBuf, fielddb::Result<Vec<BackupInfo>>)> {
        self.targets
            .iter()
            .map(|dir| {
                let listed = if dir.exists() {
                    fielddb::list_backups(dir)
                } else {
                    Ok(Vec::new())
                };
                (dir.clone(), listed)
            })
            .collect()
    }

    /// Runs a round every `every`, until the task is aborted.
    pub(crate) fn schedule(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // the first tick is now: wait a whole period first
            loop {
                ticks.tick().await;
                self.run_round().await;
            }
        })
    }

    /// The per-target gauges and counters, in Prometheus text.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let series: [Series; 5] = [
            (
                "fielddb_backup_last_success_timestamp_seconds",
                "gauge",
                "When the last successful backup into the target finished.",
                |l| l.finished,
            ),
            (
                "fielddb_backup_last_duration_seconds",
                "gauge",
                "How long the last successful backup into the target took.",
                |l| l.finished.map(|_| l.seconds),
            ),
            (
                "fielddb_backup_last_size_bytes",
                "gauge",
                "The size of the last successful backup (shared files included).",
                |l| l.finished.map(|_| l.size as f64),
            ),
            (
                "fielddb_backup_last_new_bytes",
                "gauge",
                "The bytes the last successful backup added to the target.",
                |l| l.finished.map(|_| l.new_bytes as f64),
            ),
            (
                "fielddb_backup_failures_total",
                "counter",
                "Backups into the target that failed.",
                |l| Some(l.failures as f64),
            ),
        ];
        for (name, kind, help, value) in series {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for dir in &self.targets {
                let figures = last.get(dir).cloned().unwrap_or_default();
                if let Some(v) = value(&figures) {
                    let target = dir
                        .display()
                        .to_string()
                        .replace('\\', "\\\\")
                        .replace('"', "\\\"");
                    let _ = writeln!(out, "{name}{{target=\"{target}\"}} {v}");
                }
            }
        }
    }
}
