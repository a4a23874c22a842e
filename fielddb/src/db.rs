//! `FieldDb`: the handle users hold — open and recovery, the write and read entry points, and
//! index management. The work itself lives in `write.rs`, `scan.rs` and `index/`.
//!
//! A `FieldDb` is a cheap `Clone` (an `Arc`); it is `Send + Sync`. When the last handle (or
//! `IndexBuild`) is dropped, the background worker stops between two build steps, and RocksDB
//! is closed; an unfinished build resumes from its cursor on the next open.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use rocksdb::WriteBatch;

use crate::batch::{self, Batch, BatchOp};
use crate::catalog::{Catalog, IndexDef, StoredState};
use crate::engine::Engine;
use crate::error::{invalid, Error, Result};
use crate::index::{self, query::describe_indexes, verify::VerifyReport};
use crate::indexes::{IndexBuild, IndexInfo, IndexSpec};
use crate::options::Options;
use crate::query::{Page, Query, QueryOptions};
use crate::record::{validate_key, Record, MAX_FIELD_NAME_LEN};
use crate::scan::{self, ScanOptions};
use crate::storage::{Storage, StorageStats};
use crate::tasks::{Task, TaskQueue};
use crate::write;

/// An open FieldDB database.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use fielddb::{FieldDb, Record};
/// let db = FieldDb::open(dir.path()).unwrap();
/// db.put("ada", Record::new().set("name", "Ada").set("born", 1815)).unwrap();
/// assert_eq!(db.get("ada").unwrap().unwrap().get("born"), Some(&1815.into()));
/// ```
#[derive(Clone)]
pub struct FieldDb {
    shared: Arc<Shared>,
}

struct Shared {
    engine: Arc<Engine>,
    tasks: TaskQueue,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.engine.stopping.store(true, Ordering::Release);
        self.tasks.shut_down();
    }
}

impl std::fmt::Debug for FieldDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldDb").finish_non_exhaustive()
    }
}

impl FieldDb {
    /// Opens (creating if needed) the database in directory `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<FieldDb> {
        FieldDb::open_with(path, Options::default())
    }

    /// Opens the database in `path`. RocksDB replays its write-ahead log, then unfinished index
    /// builds resume from their cursors and unfinished drops finish, in the background.
    pub fn open_with(path: impl AsRef<Path>, options: Options) -> Result<FieldDb> {
        let storage = Storage::open(path.as_ref(), &options)?;
        let engine = Arc::new(Engine::new(storage, options)?);
        let tasks = TaskQueue::start(Arc::clone(&engine))?;
        let resume: Vec<Task> = engine
            .catalog
            .read()
            .all()
            .filter_map(|def| match def.state {
                StoredState::Building { .. } => Some(Task::Build(def.id)),
                StoredState::Dropping => Some(Task::Drop(def.id)),
                StoredState::Ready => None,
            })
            .collect();
        for task in resume {
            tasks.submit(task)?;
        }
        Ok(FieldDb {
            shared: Arc::new(Shared { engine, tasks }),
        })
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.shared.engine
    }

    /// Stores `record` at `key`, replacing any record there, with its index entries, atomically.
    pub fn put(&self, key: impl AsRef<[u8]>, record: Record) -> Result<()> {
        let op = batch::prepare_put(key.as_ref().to_vec(), record)?;
        write::apply(self.engine(), &[op], false).map(drop)
    }

    /// The record at `key`, if any.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Record>> {
        let key = key.as_ref();
        validate_key(key)?;
        write::read_record(self.engine(), key)
    }

    /// Deletes the record at `key` and its index entries; returns whether there was one.
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        let ops = batch::prepare(vec![BatchOp::Delete(key.as_ref().to_vec())])?;
        let existed = write::apply(self.engine(), &ops, true)?;
        Ok(existed.first().copied().unwrap_or(false))
    }

    /// Applies every operation of `batch`, in order, as one atomic write: all or nothing. An
    /// invalid record or a unique violation anywhere in it writes nothing.
    pub fn write_batch(&self, batch: Batch) -> Result<()> {
        let ops = batch::prepare(batch.ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        write::apply(self.engine(), &ops, false).map(drop)
    }

    /// Records in key order, a page at a time (see [`ScanOptions`]).
    pub fn scan(&self, options: &ScanOptions) -> Result<Page<(Vec<u8>, Record)>> {
        scan::scan(self.engine(), options)
    }

    /// The number of records. It reads every key: O(n).
    pub fn len(&self) -> Result<u64> {
        scan::count_all(self.engine())
    }

    /// True when the database holds no record.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(scan::scan(self.engine(), &ScanOptions::new().limit(1))?
            .rows
            .is_empty())
    }

    /// Creates a non-unique index on `field` and starts building it in the background; returns
    /// at once.
    pub fn create_index_on_field(&self, field: impl Into<String>) -> Result<IndexBuild> {
        self.create_index(IndexSpec::on(field))
    }

    /// Creates an index and starts building it in the background; returns at once with a handle
    /// to follow or await the build. Writers maintain the index from this moment on.
    pub fn create_index(&self, spec: IndexSpec) -> Result<IndexBuild> {
        let field = spec.field;
        if field.is_empty() || field.len() > MAX_FIELD_NAME_LEN {
            return invalid!(
                "an index needs a field name of 1 to {MAX_FIELD_NAME_LEN} bytes, got {}",
                field.len()
            );
        }
        let engine = self.engine();
        let storage = &engine.storage;
        let id = {
            let mut catalog = engine.catalog.write();
            if catalog.active_on(&field).is_some() {
                return Err(Error::IndexExists(field));
            }
            let total = storage
                .db
                .property_int_value_cf(storage.kv()?, "rocksdb.estimate-num-keys")?
                .unwrap_or(0);
            let mut batch = WriteBatch::default();
            let id = catalog.allocate_id(storage, &mut batch)?;
            let def = IndexDef {
                id,
                field: field.clone(),
                unique: spec.unique,
                counted: spec.counted,
                state: StoredState::Building {
                    cursor: None,
                    done: 0,
                    total,
                },
            };
            Catalog::stage_put(storage, &def, &mut batch)?;
            storage.write(batch)?;
            catalog.apply(def);
            id
        };
        engine.notify_changed();
        self.shared.tasks.submit(Task::Build(id))?;
        Ok(IndexBuild {
            db: self.clone(),
            id,
            field,
        })
    }

    /// Drops the index on `field`: queries refuse it and writers stop maintaining it at once;
    /// its entries are deleted in the background. A new index on the field may be created
    /// straight away.
    pub fn drop_index(&self, field: &str) -> Result<()> {
        let engine = self.engine();
        let id = {
            let mut catalog = engine.catalog.write();
            let Some(def) = catalog.active_on(field).cloned() else {
                return Err(Error::NoSuchIndex {
                    field: field.to_owned(),
                    indexes: describe_indexes(&catalog),
                });
            };
            catalog.commit_state(&engine.storage, def.id, StoredState::Dropping)?;
            def.id
        };
        engine.notify_changed();
        self.shared.tasks.submit(Task::Drop(id))
    }

    /// Every index with its state and progress, in creation order.
    pub fn indexes(&self) -> Vec<IndexInfo> {
        self.engine()
            .catalog
            .read()
            .all()
            .map(IndexInfo::from_def)
            .collect()
    }

    /// Blocks until every background build and drop submitted so far has finished.
    pub fn wait_for_tasks(&self) {
        let tasks = &self.shared.tasks;
        self.engine().wait_until(|| tasks.pending() == 0);
    }

    /// The records whose `field` matches `query`, from the field's ready index, a page at a time.
    /// Fails with `NoSuchIndex` or `IndexNotReady` (naming the indexes that exist) otherwise.
    pub fn query_by_index(
        &self,
        field: &str,
        query: &Query,
        options: &QueryOptions,
    ) -> Result<Page<(Vec<u8>, Record)>> {
        index::query::records(self.engine(), field, query, options)
    }

    /// Like [`FieldDb::query_by_index`], returning only the keys.
    pub fn query_keys_by_index(
        &self,
        field: &str,
        query: &Query,
        options: &QueryOptions,
    ) -> Result<Page<Vec<u8>>> {
        index::query::keys(self.engine(), field, query, options)
    }

    /// The number of records whose `field` matches `query`, from the field's ready index.
    pub fn count_by_index(&self, field: &str, query: &Query) -> Result<u64> {
        index::query::count(self.engine(), field, query)
    }

    /// Space used on disk and in memory, from RocksDB's accounting (cheap; no scan).
    pub fn storage_stats(&self) -> Result<StorageStats> {
        self.engine().storage.stats()
    }

    /// Recomputes every ready index from the records and reports missing and stale entries and
    /// records that do not decode.
    pub fn verify(&self) -> Result<VerifyReport> {
        index::verify::verify(self.engine())
    }
}
