//! `FieldDb`: the handle users hold — open and recovery, the write and read entry points, and
//! index management. The work itself lives in `write.rs`, `read.rs`, `scan.rs` and `index/`.
//!
//! A `FieldDb` is a cheap `Clone` (an `Arc`); it is `Send + Sync`. When the last handle (or
//! `IndexBuild`) is dropped, the background worker stops between two build steps, and RocksDB
//! is closed; an unfinished build resumes from its cursor on the next open.

use std::path::Path;
use std::sync::Arc;

use crate::batch::{self, Batch, BatchOp};
use crate::catalog::Catalog;
use crate::encoding::index_def::{IndexDef, StoredState};
use crate::error::{invalid, Error, Result};
use crate::handle::DbHandle;
use crate::index::lookup::{self, describe_indexes};
use crate::index::verify::{self, VerifyReport};
use crate::index::{IndexBuild, IndexInfo, IndexSpec};
use crate::inner::DbInner;
use crate::options::Options;
use crate::query::{Page, Query, QueryOptions};
use crate::read::read_record;
use crate::record::{validate_key, Record, MAX_FIELD_NAME_LEN};
use crate::scan::{self, ScanOptions};
use crate::storage::{Storage, StorageStats};
use crate::tasks::Task;
use crate::value::Value;
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
    handle: Arc<DbHandle>,
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
        let handle = DbHandle::start(DbInner::new(storage, options)?)?;
        let resume: Vec<Task> = handle
            .inner()
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
            handle.tasks().submit(task)?;
        }
        Ok(FieldDb {
            handle: Arc::new(handle),
        })
    }

    #[cfg(test)]
    pub(crate) fn handle(&self) -> &DbHandle {
        &self.handle
    }

    pub(crate) fn inner(&self) -> &DbInner {
        self.handle.inner()
    }

    /// Stores `record` at `key`, replacing any record there, with its index entries, atomically.
    pub fn put(&self, key: impl AsRef<[u8]>, record: Record) -> Result<()> {
        let op = batch::prepare_put(key.as_ref().to_vec(), record)?;
        write::apply(self.inner(), &[op], false).map(drop)
    }

    /// Appends `value` to `field` of the record at `key`, atomically, and returns the record as
    /// written: a string to a string field, bytes to a bytes field. A missing field is created,
    /// and so is a missing record. Any other combination of types is `InvalidArgument` and
    /// changes nothing. Indexes on the field are maintained like on any write.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = fielddb::FieldDb::open(dir.path()).unwrap();
    /// db.append("log", "text", "hello, ")?;
    /// let record = db.append("log", "text", "world")?;
    /// assert_eq!(record.get("text"), Some(&"hello, world".into()));
    /// # Ok::<(), fielddb::Error>(())
    /// ```
    pub fn append(
        &self,
        key: impl AsRef<[u8]>,
        field: &str,
        value: impl Into<Value>,
    ) -> Result<Record> {
        let key = key.as_ref();
        validate_key(key)?;
        write::append(self.inner(), key, field, value.into())
    }

    /// The record at `key`, if any.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Record>> {
        let key = key.as_ref();
        validate_key(key)?;
        read_record(&self.inner().storage, key)
    }

    /// Deletes the record at `key` and its index entries; returns whether there was one.
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        let ops = batch::prepare(vec![BatchOp::Delete(key.as_ref().to_vec())])?;
        let existed = write::apply(self.inner(), &ops, true)?;
        Ok(existed.first().copied().unwrap_or(false))
    }

    /// Applies every operation of `batch`, in order, as one atomic write: all or nothing. An
    /// invalid record or a unique violation anywhere in it writes nothing.
    pub fn write_batch(&self, batch: Batch) -> Result<()> {
        let ops = batch::prepare(batch.ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        write::apply(self.inner(), &ops, false).map(drop)
    }

    /// Records in key order, a page at a time (see [`ScanOptions`]).
    pub fn scan(&self, options: &ScanOptions) -> Result<Page<(Vec<u8>, Record)>> {
        scan::scan(&self.inner().storage, options)
    }

    /// The number of records. It reads every key: O(n).
    pub fn len(&self) -> Result<u64> {
        scan::count_all(&self.inner().storage)
    }

    /// True when the database holds no record.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(
            scan::scan(&self.inner().storage, &ScanOptions::new().limit(1))?
                .rows
                .is_empty(),
        )
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
        let inner = self.inner();
        let storage = &inner.storage;
        let id = {
            let mut catalog = inner.catalog.write();
            if catalog.active_on(&field).is_some() {
                return Err(Error::IndexExists(field));
            }
            let total = storage.estimated_records()?;
            let mut batch = storage.batch()?;
            let id = catalog.allocate_id(&mut batch)?;
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
            Catalog::stage_put(&def, &mut batch);
            storage.write(batch)?;
            catalog.apply(def);
            id
        };
        inner.notify_changed();
        self.handle.tasks().submit(Task::Build(id))?;
        Ok(IndexBuild {
            handle: Arc::clone(&self.handle),
            id,
            field,
        })
    }

    /// Drops the index on `field`: queries refuse it and writers stop maintaining it at once;
    /// its entries are deleted in the background. A new index on the field may be created
    /// straight away.
    pub fn drop_index(&self, field: &str) -> Result<()> {
        let inner = self.inner();
        let id = {
            let mut catalog = inner.catalog.write();
            let Some(def) = catalog.active_on(field).cloned() else {
                return Err(Error::NoSuchIndex {
                    field: field.to_owned(),
                    indexes: describe_indexes(&catalog),
                });
            };
            catalog.commit_state(&inner.storage, def.id, StoredState::Dropping)?;
            def.id
        };
        inner.notify_changed();
        self.handle.tasks().submit(Task::Drop(id))
    }

    /// Every index with its state and progress, in creation order.
    pub fn indexes(&self) -> Vec<IndexInfo> {
        let inner = self.inner();
        let failures = inner.failures.lock();
        inner
            .catalog
            .read()
            .all()
            .map(|def| IndexInfo::from_def(def).with_failure(failures.get(&def.id)))
            .collect()
    }

    /// Blocks until every background build and drop submitted so far has finished.
    pub fn wait_for_tasks(&self) {
        let tasks = self.handle.tasks();
        self.inner().wait_until(|| tasks.pending() == 0);
    }

    /// The records whose `field` matches `query`, from the field's ready index, a page at a time.
    /// Fails with `NoSuchIndex` or `IndexNotReady` (naming the indexes that exist) otherwise.
    pub fn query_by_index(
        &self,
        field: &str,
        query: &Query,
        options: &QueryOptions,
    ) -> Result<Page<(Vec<u8>, Record)>> {
        lookup::records(self.inner(), field, query, options)
    }

    /// Like [`FieldDb::query_by_index`], returning only the keys.
    pub fn query_keys_by_index(
        &self,
        field: &str,
        query: &Query,
        options: &QueryOptions,
    ) -> Result<Page<Vec<u8>>> {
        lookup::keys(self.inner(), field, query, options)
    }

    /// The number of records whose `field` matches `query`, from the field's ready index.
    pub fn count_by_index(&self, field: &str, query: &Query) -> Result<u64> {
        lookup::count(self.inner(), field, query)
    }

    /// Space used on disk and in memory, from RocksDB's accounting (cheap; no scan).
    pub fn storage_stats(&self) -> Result<StorageStats> {
        self.inner().storage.stats()
    }

    /// Recomputes every ready index from the records and reports missing and stale entries and
    /// records that do not decode.
    pub fn verify(&self) -> Result<VerifyReport> {
        verify::verify(self.inner())
    }
}
