//! `DbHandle`: what keeps a database open — its shared state (`DbInner`) and its background
//! worker (`TaskQueue`). Every `FieldDb` clone and every `IndexBuild` holds an `Arc` of it; when
//! the last one is dropped, the worker stops between two build steps, the memtables are flushed
//! and RocksDB is closed (an unfinished build resumes on the next open).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::error::Result;
use crate::inner::DbInner;
use crate::tasks::TaskQueue;

pub(crate) struct DbHandle {
    inner: Arc<DbInner>,
    tasks: TaskQueue,
}

impl DbHandle {
    /// Starts the background worker over `inner`.
    pub(crate) fn start(inner: DbInner) -> Result<DbHandle> {
        let inner = Arc::new(inner);
        let tasks = TaskQueue::start(Arc::clone(&inner))?;
        Ok(DbHandle { inner, tasks })
    }

    pub(crate) fn inner(&self) -> &DbInner {
        &self.inner
    }

    pub(crate) fn tasks(&self) -> &TaskQueue {
        &self.tasks
    }
}

impl Drop for DbHandle {
    fn drop(&mut self) {
        self.inner.stopping.store(true, Ordering::Release);
        self.tasks.shut_down();
        // The memtables go to table files now, so the next open replays no write-ahead log
        // (replaying a large import's log cost the shell's next command more than a second).
        // Everything is in the log already, so a failure here loses nothing.
        if self.inner.storage.check_writable().is_ok() {
            let _ = self.inner.storage.flush_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{FieldDb, Record};

    /// Bytes of RocksDB's write-ahead log files in `dir`.
    fn log_bytes(dir: &std::path::Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
            .map(|e| e.metadata().unwrap().len())
            .sum()
    }

    #[test]
    fn closing_the_last_handle_leaves_no_log_to_replay() {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        for i in 0..5_000 {
            db.put(
                format!("k{i:05}"),
                Record::new().set("pad", "x".repeat(100)),
            )
            .unwrap();
        }
        let clone = db.clone();
        drop(db);
        assert!(log_bytes(dir.path()) > 500_000, "the writes are in the log");
        drop(clone);
        assert!(log_bytes(dir.path()) < 4_096, "{}", log_bytes(dir.path()));
        let db = FieldDb::open(dir.path()).unwrap();
        assert!(db.storage_stats().unwrap().kv_file_bytes > 0);
        assert_eq!(
            db.get("k04999").unwrap(),
            Some(Record::new().set("pad", "x".repeat(100)))
        );
    }
}
