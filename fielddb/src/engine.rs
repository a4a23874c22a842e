//! `Engine`: the state shared by every `FieldDb` handle and the background worker — storage,
//! catalog, lock stripes, options — and the signal that tells waiters the catalog moved on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex, RwLock};

use crate::catalog::{Catalog, IndexId};
use crate::error::Result;
use crate::locks::StripedLocks;
use crate::options::Options;
use crate::storage::Storage;
use crate::value::Value;

const KEY_STRIPES: usize = 1024;
const VALUE_STRIPES: usize = 256;

/// Why a background build gave up (kept so `IndexBuild::wait` can say so).
#[derive(Debug, Clone)]
pub(crate) enum BuildFailure {
    Unique {
        field: String,
        value: Value,
        existing_key: Vec<u8>,
    },
    Other {
        field: String,
        reason: String,
    },
}

pub(crate) struct Engine {
    pub(crate) storage: Storage,
    pub(crate) catalog: RwLock<Catalog>,
    pub(crate) key_locks: StripedLocks,
    pub(crate) value_locks: StripedLocks,
    pub(crate) options: Options,
    pub(crate) failures: Mutex<HashMap<IndexId, BuildFailure>>,
    pub(crate) stopping: AtomicBool,
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Engine {
    pub(crate) fn new(storage: Storage, options: Options) -> Result<Engine> {
        let catalog = Catalog::load(&storage)?;
        Ok(Engine {
            storage,
            catalog: RwLock::new(catalog),
            key_locks: StripedLocks::new(KEY_STRIPES),
            value_locks: StripedLocks::new(VALUE_STRIPES),
            options,
            failures: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
            generation: Mutex::new(0),
            changed: Condvar::new(),
        })
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Wakes everyone waiting for the catalog or the task queue to move on.
    pub(crate) fn notify_changed(&self) {
        *self.generation.lock() += 1;
        self.changed.notify_all();
    }

    /// Waits until `done()` holds, re-checking after every change (and at least every 100 ms).
    pub(crate) fn wait_until(&self, mut done: impl FnMut() -> bool) {
        loop {
            let mut generation = self.generation.lock();
            if done() {
                return;
            }
            let seen = *generation;
            while *generation == seen {
                if self
                    .changed
                    .wait_for(&mut generation, Duration::from_millis(100))
                    .timed_out()
                {
                    break;
                }
            }
        }
    }
}
