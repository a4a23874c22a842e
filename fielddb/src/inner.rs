//! `DbInner`: the state shared by every `FieldDb` handle and the background worker — storage,
//! catalog, lock stripes, options, the failures and progress of background tasks — and the
//! signal that tells waiters the catalog moved on. (`FieldDb` is a handle on it, as fjall's
//! `Database(Arc<DatabaseInner>)`.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex, RwLock};

use crate::catalog::Catalog;
use crate::encoding::index_entry::IndexId;
use crate::error::Result;
use crate::locks::StripedLocks;
use crate::names::Names;
use crate::options::Options;
use crate::storage::Storage;
use crate::value::Value;

const KEY_STRIPES: usize = 1024;
const VALUE_STRIPES: usize = 256;

/// Why a background task on an index gave up (kept so `IndexBuild::wait` and
/// `FieldDb::indexes` can say so).
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

impl BuildFailure {
    /// The failure in a sentence.
    pub(crate) fn message(&self) -> String {
        match self {
            BuildFailure::Unique {
                field,
                value,
                existing_key,
            } => crate::Error::UniqueViolation {
                field: field.clone(),
                value: value.clone(),
                existing_key: existing_key.clone(),
            }
            .to_string(),
            BuildFailure::Other { reason, .. } => reason.clone(),
        }
    }
}

pub(crate) struct DbInner {
    pub(crate) storage: Storage,
    pub(crate) catalog: RwLock<Catalog>,
    /// The field-name dictionary every record is encoded and decoded against.
    pub(crate) names: Names,
    pub(crate) key_locks: StripedLocks,
    pub(crate) value_locks: StripedLocks,
    pub(crate) options: Options,
    pub(crate) failures: Mutex<HashMap<IndexId, BuildFailure>>,
    /// The records each build by ingestion under way has walked so far (its progress).
    pub(crate) walked: Mutex<HashMap<IndexId, Arc<AtomicU64>>>,
    pub(crate) stopping: AtomicBool,
    generation: Mutex<u64>,
    changed: Condvar,
}

impl DbInner {
    pub(crate) fn new(storage: Storage, options: Options) -> Result<DbInner> {
        let catalog = Catalog::load(&storage)?;
        let names = Names::load(&storage)?;
        Ok(DbInner {
            storage,
            catalog: RwLock::new(catalog),
            names,
            key_locks: StripedLocks::new(KEY_STRIPES),
            value_locks: StripedLocks::new(VALUE_STRIPES),
            options,
            failures: Mutex::new(HashMap::new()),
            walked: Mutex::new(HashMap::new()),
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
