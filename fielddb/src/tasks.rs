//! `TaskQueue`: the background worker that builds and drops indexes, one task at a time, fed
//! by a `crossbeam-channel`.
//!
//! Tasks hold nothing but an index id: their progress lives in the catalog, persisted in the
//! same batches as their work, so a task cut short by a crash or a shutdown is resumed from the
//! catalog on the next open.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use crate::catalog::IndexId;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::index::{builder, dropper};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Task {
    Build(IndexId),
    Drop(IndexId),
}

pub(crate) struct TaskQueue {
    sender: Mutex<Option<Sender<Task>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    pending: Arc<AtomicUsize>,
}

impl TaskQueue {
    /// Starts the worker thread.
    pub(crate) fn start(engine: Arc<Engine>) -> Result<TaskQueue> {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let pending = Arc::new(AtomicUsize::new(0));
        let worker_pending = Arc::clone(&pending);
        let worker = std::thread::Builder::new()
            .name("fielddb-tasks".into())
            .spawn(move || run_worker(&engine, &receiver, &worker_pending))?;
        Ok(TaskQueue {
            sender: Mutex::new(Some(sender)),
            worker: Mutex::new(Some(worker)),
            pending,
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

fn run_worker(engine: &Engine, receiver: &Receiver<Task>, pending: &AtomicUsize) {
    for task in receiver.iter() {
        if !engine.is_stopping() {
            match task {
                Task::Build(id) => builder::run(engine, id),
                Task::Drop(id) => dropper::run(engine, id),
            }
        }
        pending.fetch_sub(1, Ordering::AcqRel);
        engine.notify_changed();
    }
}
