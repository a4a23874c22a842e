//! `DbHandle`: what keeps a database open — its shared state (`DbInner`) and its background
//! worker (`TaskQueue`). Every `FieldDb` clone and every `IndexBuild` holds an `Arc` of it; when
//! the last one is dropped, the worker stops between two build steps and RocksDB is closed (an
//! unfinished build resumes from its cursor on the next open).

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
    }
}
