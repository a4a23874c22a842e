//! `TaskQueue`: the background worker that builds and drops indexes, one task at a time, fed
//! by a `crossbeam-channel`.
//!
//! Tasks hold nothing but an index id: their progress lives in the catalog, persisted in the
//! same batches as their work, so a task cut short by a crash or a shutdown is resumed from the
//! catalog on the next open.
//!
//! A task that panics does not take the worker with it: the panic is caught, recorded as the
//! failure of its index (which `IndexBuild::wait` returns and `FieldDb::indexes` shows), the
//! task counts as finished, and the next task runs. The index stays as it is on disk, so a
//! build resumes from its cursor on the next open.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use crate::encoding::index_entry::IndexId;
use crate::error::{Error, Result};
use crate::index::builder;
use crate::index::dropper;
use crate::inner::{BuildFailure, DbInner};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Task {
    Build(IndexId),
    Drop(IndexId),
}

impl Task {
    fn index(self) -> IndexId {
        match self {
            Task::Build(id) | Task::Drop(id) => id,
        }
    }
}

pub(crate) struct TaskQueue {
    sender: Mutex<Option<Sender<Task>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    pending: Arc<AtomicUsize>,
    /// Makes the next task panic where it would run (tests of the worker's recovery only).
    #[cfg(test)]
    panic_next: Arc<std::sync::atomic::AtomicBool>,
}

impl TaskQueue {
    /// Starts the worker thread.
    pub(crate) fn start(inner: Arc<DbInner>) -> Result<TaskQueue> {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let pending = Arc::new(AtomicUsize::new(0));
        let worker_pending = Arc::clone(&pending);
        #[cfg(test)]
        let panic_next = Arc::new(std::sync::atomic::AtomicBool::new(false));
        #[cfg(test)]
        let worker_panic_next = Arc::clone(&panic_next);
        let worker = std::thread::Builder::new()
            .name("fielddb-tasks".into())
            .spawn(move || {
                let run = |task| {
                    #[cfg(test)]
                    if worker_panic_next.swap(false, Ordering::AcqRel) {
                        panic!("injected by a test");
                    }
                    run_task(&inner, task)
                };
                run_worker(&inner, &receiver, &worker_pending, run)
            })?;
        Ok(TaskQueue {
            sender: Mutex::new(Some(sender)),
            worker: Mutex::new(Some(worker)),
            pending,
            #[cfg(test)]
            panic_next,
        })
    }

    pub(crate) fn submit(&self, task: Task) -> Result<()> {
        let sender = self.sender.lock();
        let sender = sender.as_ref().ok_or(Error::Closed)?;
        self.pending.fetch_add(1, Ordering::AcqRel);
        sender.send(task).map_err(|_| {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            Error::Closed
        })
    }

    /// The number of tasks submitted and not yet finished.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Closes the queue and waits for the worker to stop (it stops between two build steps).
    pub(crate) fn shut_down(&self) {
        self.sender.lock().take();
        if let Some(worker) = self.worker.lock().take() {
            let _ = worker.join();
        }
    }
}

fn run_worker(
    inner: &DbInner,
    receiver: &Receiver<Task>,
    pending: &AtomicUsize,
    run: impl Fn(Task),
) {
    for task in receiver.iter() {
        if !inner.is_stopping() {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| run(task)));
            if let Err(payload) = outcome {
                record_panic(inner, task, payload.as_ref());
            }
        }
        pending.fetch_sub(1, Ordering::AcqRel);
        inner.notify_changed();
    }
}

fn run_task(inner: &DbInner, task: Task) {
    match task {
        Task::Build(id) => builder::run(inner, id),
        Task::Drop(id) => dropper::run(inner, id),
    }
}

/// Records a task's panic as the failure of its index.
fn record_panic(inner: &DbInner, task: Task, payload: &(dyn Any + Send)) {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".into());
    let id = task.index();
    let field = inner
        .catalog
        .read()
        .get(id)
        .map_or_else(|| format!("#{id}"), |def| def.name());
    let what = match task {
        Task::Build(_) => "build",
        Task::Drop(_) => "drop",
    };
    inner.failures.lock().insert(
        id,
        BuildFailure::Other {
            field,
            reason: format!("the background {what} task panicked: {message}"),
        },
    );
}

#[cfg(test)]
mod tests {
    use crate::{Error, FieldDb, IndexSpec, IndexState, Record};

    #[test]
    fn a_panicking_task_is_reported_and_the_next_task_runs() {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        for i in 0..10 {
            db.put(format!("k{i}"), Record::new().set("x", i).set("y", i))
                .unwrap();
        }
        db.handle()
            .tasks()
            .panic_next
            .store(true, std::sync::atomic::Ordering::Release);
        let failed = std::sync::Arc::new(db.create_index(IndexSpec::on("x")).unwrap());
        // Bounded: a worker that died with its task would leave this wait hanging.
        let (sender, receiver) = std::sync::mpsc::channel();
        let waiter = std::sync::Arc::clone(&failed);
        std::thread::spawn(move || sender.send(waiter.wait()));
        let outcome = receiver
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the panic was not reported within 60 s");
        match outcome {
            Err(Error::BuildFailed { field, reason }) => {
                assert_eq!(field, "x");
                assert!(reason.contains("panicked: injected by a test"), "{reason}");
            }
            other => panic!("expected the panic to be reported, got {other:?}"),
        }
        let listed = db.indexes();
        assert!(matches!(listed[0].state, IndexState::Building { .. }));
        assert!(listed[0].failure.as_deref().unwrap().contains("panicked"));

        // The worker survived: the next task runs, and nothing is left pending.
        db.create_index(IndexSpec::on("y")).unwrap().wait().unwrap();
        db.wait_for_tasks();
        assert!(db.verify().unwrap().is_clean());

        // The failed build resumes from its cursor on the next open.
        drop((failed, listed, db));
        let db = FieldDb::open(dir.path()).unwrap();
        db.wait_for_tasks();
        assert!(db.indexes().iter().all(|i| i.state == IndexState::Ready));
        assert_eq!(db.count_by_index("x", &crate::Query::ge(0)).unwrap(), 10);
    }
}
