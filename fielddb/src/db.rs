//! `FieldDb`: the handle users hold — open and recovery, the write and read entry points, and
//! index management. The work itself lives in `write.rs`, `read.rs`, `scan.rs` and `index/`.
//!
//! A `FieldDb` is a cheap `Clone` (an `Arc`); it is `Send + Sync`. When the last handle (or
//! `IndexBuild`) is dropped, the background worker stops between two build steps, and RocksDB
//! is closed; an unfinished build resumes from its cursor on the next open.

use std::path::Path;
use std::sync::Arc;

use crate::batch::{self, Batch, BatchOp};
use crate::encoding::index_def::{IndexDef, StoredState};
use crate::error::{Error, Result};
use crate::handle::DbHandle;
use crate::index::ingest;
use crate::index::lookup::{self, describe_indexes};
use crate::index::verify::{self, VerifyReport};
use crate::index::{IndexBuild, IndexInfo, IndexSpec};
use crate::inner::DbInner;
use crate::options::Options;
use crate::query::{Page, Query, QueryOptions};
use crate::read::read_record;
use crate::record::{validate_key, Record};
use crate::record_view::RecordView;
use crate::replica::{self, Answer, ContentHash, LoggedCommand, ReplicaData};
use crate::scan::{self, ScanOptions};
use crate::storage::{Storage, StorageStats};
use crate::tasks::Task;
use crate::update::Update;
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
        ingest::remove_leftover_files(&storage)?;
        let handle = DbHandle::start(DbInner::new(storage, options)?)?;
        // A replica's builds advance by `BuildStep` commands of its log, never in the background.
        let background = !handle.inner().options.replica;
        let resume: Vec<Task> = handle
            .inner()
            .catalog
            .read()
            .all()
            .filter_map(|def| match def.state {
                _ if def.state.is_building() && background => Some(Task::Build(def.id)),
                StoredState::Building { .. }
                | StoredState::Ingesting { .. }
                | StoredState::Merging { .. } => None,
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

    /// A replica changes only through `apply_commands`.
    fn refuse_if_replica(&self) -> Result<()> {
        if self.inner().options.replica {
            return Err(Error::InvalidArgument(
                "this database is a replica: it changes only through its replicated log".into(),
            ));
        }
        Ok(())
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
        self.refuse_if_replica()?;
        let op = batch::prepare_put(self.inner(), key.as_ref().to_vec(), record)?;
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
        self.refuse_if_replica()?;
        let key = key.as_ref();
        validate_key(key)?;
        write::append(self.inner(), key, field, value.into())
    }

    /// Sets and removes fields of the record at `key`, under the key's lock, maintaining every
    /// index, and returns the record after it. Without a record at `key` it is
    /// `Error::NotFound` and nothing changes; the changed record is checked as a `put` is.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = fielddb::FieldDb::open(dir.path()).unwrap();
    /// use fielddb::{Record, Update};
    /// db.put("ada", Record::new().set("name", "Ada").set("note", "x"))?;
    /// let record = db.update("ada", &Update::new().set("born", 1815).unset("note"))?;
    /// assert_eq!(record, Record::new().set("name", "Ada").set("born", 1815));
    /// assert!(db.update("nobody", &Update::new().set("a", 1)).is_err());
    /// # Ok::<(), fielddb::Error>(())
    /// ```
    pub fn update(&self, key: impl AsRef<[u8]>, update: &Update) -> Result<Record> {
        self.refuse_if_replica()?;
        let key = key.as_ref();
        validate_key(key)?;
        write::update(self.inner(), key, update, false)
    }

    /// As [`FieldDb::update`], but without a record at `key` it creates one from the changes.
    pub fn upsert(&self, key: impl AsRef<[u8]>, update: &Update) -> Result<Record> {
        self.refuse_if_replica()?;
        let key = key.as_ref();
        validate_key(key)?;
        write::update(self.inner(), key, update, true)
    }

    /// The record at `key`, if any.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Record>> {
        let key = key.as_ref();
        validate_key(key)?;
        read_record(self.inner(), key)
    }

    /// Deletes the record at `key` and its index entries; returns whether there was one.
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        self.refuse_if_replica()?;
        let ops = batch::prepare(self.inner(), vec![BatchOp::Delete(key.as_ref().to_vec())])?;
        let existed = write::apply(self.inner(), &ops, true)?;
        Ok(existed.first().copied().unwrap_or(false))
    }

    /// Applies every operation of `batch`, in order, as one atomic write: all or nothing. An
    /// invalid record or a unique violation anywhere in it writes nothing.
    pub fn write_batch(&self, batch: Batch) -> Result<()> {
        self.refuse_if_replica()?;
        let ops = batch::prepare(self.inner(), batch.ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        write::apply(self.inner(), &ops, false).map(drop)
    }

    /// Records in key order, a page at a time (see [`ScanOptions`]).
    pub fn scan(&self, options: &ScanOptions) -> Result<Page<(Vec<u8>, Record)>> {
        scan::scan(self.inner(), options)
    }

    /// The number of records. It reads every key: O(n).
    pub fn len(&self) -> Result<u64> {
        scan::count_all(&self.inner().storage)
    }

    /// True when the database holds no record.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(scan::scan(self.inner(), &ScanOptions::new().limit(1))?
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
        self.refuse_if_replica()?;
        let inner = self.inner();
        let total = inner.storage.estimated_records()?;
        // A unique index is built in steps, its writers checking each value as it is claimed.
        let state = if inner.options.build_by_ingestion && !spec.unique {
            StoredState::Ingesting { total }
        } else {
            StoredState::Building {
                cursor: None,
                done: 0,
                total,
            }
        };
        let id = inner.catalog.write().create(
            &inner.storage,
            (&spec.fields, spec.unique, spec.counted, &spec.covering),
            state,
            |_| {},
        )?;
        inner.notify_changed();
        self.handle.tasks().submit(Task::Build(id))?;
        Ok(IndexBuild {
            handle: Arc::clone(&self.handle),
            id,
            name: spec.name(),
        })
    }

    /// Drops the index named `field` (its field, or its fields joined by `,`): queries refuse it
    /// and writers stop maintaining it at once; its entries are deleted in the background. A
    /// new index on the field may be created straight away.
    pub fn drop_index(&self, field: &str) -> Result<()> {
        self.refuse_if_replica()?;
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
        let defs: Vec<IndexDef> = inner.catalog.read().all().cloned().collect();
        defs.iter()
            .map(|def| IndexInfo::current(inner, def))
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

    /// Like [`FieldDb::query_by_index`], but hands each row to `each` as it is read instead of
    /// collecting a page: its key and a [`RecordView`] that borrows the stored bytes, so no
    /// field name or value is copied. Returns where the next page starts ([`Page::next`]).
    /// Rows handed before an error (a corrupt record, say) stay handed.
    ///
    /// ```
    /// # use fielddb::{FieldDb, IndexSpec, Query, QueryOptions, Record, ValueRef};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let db = FieldDb::open(dir.path()).unwrap();
    /// db.create_index(IndexSpec::on("city")).unwrap().wait().unwrap();
    /// db.put("ada", Record::new().set("city", "London").set("age", 36)).unwrap();
    /// let mut ages = 0;
    /// let next = db
    ///     .query_by_index_each("city", &Query::eq("London"), &QueryOptions::new(), |key, record| {
    ///         assert_eq!(key, b"ada");
    ///         ages += record.get("age").and_then(|v| v.as_i64()).unwrap_or(0);
    ///     })
    ///     .unwrap();
    /// assert_eq!((ages, next), (36, None));
    /// ```
    pub fn query_by_index_each(
        &self,
        field: &str,
        query: &Query,
        options: &QueryOptions,
        mut each: impl FnMut(&[u8], RecordView<'_>),
    ) -> Result<Option<Vec<u8>>> {
        lookup::records_each(self.inner(), field, query, options, &mut each)
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

    /// Applies entries of a replicated log, in order, to a replica (a database opened with
    /// [`Options::replica`]); see [`LoggedCommand`]. Returns one answer per entry: an inner
    /// `Err` is the command's own failure (a unique violation, a bad record), the same on every
    /// replica, which changed nothing but the applied position. An outer `Err` is a failure of
    /// this machine (storage, I/O): the entries from the one it happened in on were not applied.
    pub fn apply_commands(&self, entries: &[LoggedCommand]) -> Result<Vec<Result<Answer>>> {
        replica::apply(self.inner(), entries, &mut |_, _| Vec::new())
    }

    /// Like [`FieldDb::apply_commands`], asking `on_answer` once per entry, in order (with the
    /// entry's index in `entries` and its answer), for more replica entries to write in the
    /// same batch as the entry's effects: a client session that remembers the answer survives
    /// a crash exactly when the command's effects do.
    pub fn apply_commands_with(
        &self,
        entries: &[LoggedCommand],
        mut on_answer: impl FnMut(usize, &Result<Answer>) -> ReplicaData,
    ) -> Result<Vec<Result<Answer>>> {
        replica::apply(self.inner(), entries, &mut on_answer)
    }

    /// The position of the last log entry applied (as given in [`LoggedCommand::position`]).
    pub fn applied_position(&self) -> Result<Option<Vec<u8>>> {
        replica::applied_position(&self.inner().storage)
    }

    /// Forgets the replica's place in its log: the applied position and the replica's own
    /// entries are removed, the records, indexes and counts kept. For a replica restored from a
    /// backup that seeds a new group, whose log starts empty (every member seeded from the same
    /// backup holds the same bytes). Only on a replica.
    pub fn reset_replica_state(&self) -> Result<()> {
        if !self.inner().options.replica {
            return Err(Error::InvalidArgument(
                "only a replica has a place in a log to forget".into(),
            ));
        }
        replica::reset(&self.inner().storage)
    }

    /// The replica's own entries ([`LoggedCommand::replica_data`]), by name.
    pub fn replica_data(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        replica::replica_data(&self.inner().storage)
    }

    /// A hash of every record, index entry and count, with the applied position, read from one
    /// snapshot: two replicas at the same position have the same hash.
    pub fn content_hash(&self) -> Result<ContentHash> {
        replica::content_hash(&self.inner().storage)
    }

    /// Writes a consistent copy of the whole database (records, indexes, catalog, applied
    /// position) into `dir`, which must not exist yet; it opens as a database of its own.
    pub fn checkpoint(&self, dir: impl AsRef<Path>) -> Result<()> {
        replica::checkpoint(&self.inner().storage, dir.as_ref())
    }

    /// Writes everything held in memory to table files and compacts them, blocking until done:
    /// reads then come from sorted, compressed files (and the directory holds no space that
    /// deleted or overwritten records still took). Writes may go on meanwhile. Worth it after a
    /// bulk load; RocksDB compacts on its own otherwise.
    pub fn compact(&self) -> Result<()> {
        self.inner().storage.check_writable()?;
        self.inner().storage.compact_all()
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
