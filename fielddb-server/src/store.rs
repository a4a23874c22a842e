//! `Store`: the operations the HTTP handlers need. `FieldDb` implements it directly and
//! `ClusterStore` over a Raft group; the handlers cannot tell which.
//!
//! Reads block on RocksDB: handlers call them on tokio's blocking pool (`state::blocking`).
//! Writes are futures: a single node runs each on the blocking pool itself, a cluster node
//! awaits the log without holding a thread (a replicated write mostly waits on peers). Writes
//! carry the client's retry identity (`ClientSession`), which a replicated store uses and a
//! single node ignores.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use fielddb::{
    Batch, FieldDb, Filter, IndexInfo, IndexSpec, Page, Plan, Query, QueryOptions, Record,
    ScanOptions, StorageStats, Update, Value, VerifyReport,
};

pub use crate::error::StoreError;
pub use crate::session::ClientSession;

/// One page of `(key, record)` rows.
pub type Rows = Page<(Vec<u8>, Record)>;

/// A store call's result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A write under way.
pub type WriteFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

/// What the server needs from a database. Reads may block; writes are futures.
pub trait Store: Send + Sync + 'static {
    /// Stores `record` at `key`, replacing any record there.
    fn put(
        self: Arc<Self>,
        session: ClientSession,
        key: Vec<u8>,
        record: Record,
    ) -> WriteFuture<()>;
    /// The record at `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Record>>;
    /// Deletes the record at `key`; returns whether there was one.
    fn delete(self: Arc<Self>, session: ClientSession, key: Vec<u8>) -> WriteFuture<bool>;
    /// Appends `value` to `field` of the record at `key`; returns the record as written.
    fn append(
        self: Arc<Self>,
        session: ClientSession,
        key: Vec<u8>,
        field: String,
        value: Value,
    ) -> WriteFuture<Record>;
    /// Sets and removes fields of the record at `key` (creating it when `create`); returns the
    /// record as written.
    fn update(
        self: Arc<Self>,
        session: ClientSession,
        key: Vec<u8>,
        update: Update,
        create: bool,
    ) -> WriteFuture<Record>;
    /// Applies every operation of `batch` atomically.
    fn batch(self: Arc<Self>, session: ClientSession, batch: Batch) -> WriteFuture<()>;
    /// Records in key order, a page at a time.
    fn scan(&self, options: &ScanOptions) -> Result<Rows>;
    /// Creates an index and starts building it in the background; returns at once.
    fn create_index(self: Arc<Self>, session: ClientSession, spec: IndexSpec) -> WriteFuture<()>;
    /// Drops the index on `field` (its entries are removed in the background).
    fn drop_index(self: Arc<Self>, session: ClientSession, field: String) -> WriteFuture<()>;
    /// Every index with its state and progress.
    fn indexes(&self) -> Result<Vec<IndexInfo>>;
    /// In a cluster of several shards, the index on `field` as each shard has it (`None` where
    /// a shard has none); `None` for a store of one database.
    fn index_by_shard(&self, _field: &str) -> Result<Option<Vec<Option<IndexInfo>>>> {
        Ok(None)
    }
    /// The records whose `field` matches `query`, from its ready index.
    fn query(&self, field: &str, query: &Query, options: &QueryOptions) -> Result<Rows>;
    /// The number of records whose `field` matches `query`, from its ready index.
    fn count(&self, field: &str, query: &Query) -> Result<u64>;
    /// The records meeting every condition of `filter`, from the best ready index.
    fn query_filter(&self, filter: &Filter, options: &QueryOptions) -> Result<Rows>;
    /// The number of records meeting every condition of `filter`.
    fn count_filter(&self, filter: &Filter) -> Result<u64>;
    /// How `query_filter` answers `filter`.
    fn explain(&self, filter: &Filter) -> Result<Plan>;
    /// Recomputes every ready index from the records and reports differences.
    fn verify(&self) -> Result<VerifyReport>;
    /// Space used on disk and in memory, and the estimated record count.
    fn stats(&self) -> Result<StorageStats>;
}

/// Runs a blocking write on tokio's blocking pool. A panic in it is an internal error.
fn on_blocking_pool<T: Send + 'static>(
    write: impl FnOnce() -> fielddb::Result<T> + Send + 'static,
) -> WriteFuture<T> {
    Box::pin(async move {
        match tokio::task::spawn_blocking(write).await {
            Ok(result) => Ok(result?),
            Err(e) => Err(StoreError::Internal(format!(
                "the write's task failed: {e}"
            ))),
        }
    })
}

impl Store for FieldDb {
    fn put(self: Arc<Self>, _: ClientSession, key: Vec<u8>, record: Record) -> WriteFuture<()> {
        on_blocking_pool(move || FieldDb::put(&self, &key, record))
    }
    fn get(&self, key: &[u8]) -> Result<Option<Record>> {
        Ok(FieldDb::get(self, key)?)
    }
    fn delete(self: Arc<Self>, _: ClientSession, key: Vec<u8>) -> WriteFuture<bool> {
        on_blocking_pool(move || FieldDb::delete(&self, &key))
    }
    fn append(
        self: Arc<Self>,
        _: ClientSession,
        key: Vec<u8>,
        field: String,
        value: Value,
    ) -> WriteFuture<Record> {
        on_blocking_pool(move || FieldDb::append(&self, &key, &field, value))
    }
    fn update(
        self: Arc<Self>,
        _: ClientSession,
        key: Vec<u8>,
        update: Update,
        create: bool,
    ) -> WriteFuture<Record> {
        on_blocking_pool(move || {
            if create {
                FieldDb::upsert(&self, &key, &update)
            } else {
                FieldDb::update(&self, &key, &update)
            }
        })
    }
    fn batch(self: Arc<Self>, _: ClientSession, batch: Batch) -> WriteFuture<()> {
        on_blocking_pool(move || self.write_batch(batch))
    }
    fn scan(&self, options: &ScanOptions) -> Result<Rows> {
        Ok(FieldDb::scan(self, options)?)
    }
    fn create_index(self: Arc<Self>, _: ClientSession, spec: IndexSpec) -> WriteFuture<()> {
        // The returned handle keeps the database open; the server follows builds by polling.
        on_blocking_pool(move || FieldDb::create_index(&self, spec).map(drop))
    }
    fn drop_index(self: Arc<Self>, _: ClientSession, field: String) -> WriteFuture<()> {
        on_blocking_pool(move || FieldDb::drop_index(&self, &field))
    }
    fn indexes(&self) -> Result<Vec<IndexInfo>> {
        Ok(FieldDb::indexes(self))
    }
    fn query(&self, field: &str, query: &Query, options: &QueryOptions) -> Result<Rows> {
        Ok(self.query_by_index(field, query, options)?)
    }
    fn count(&self, field: &str, query: &Query) -> Result<u64> {
        Ok(self.count_by_index(field, query)?)
    }
    fn query_filter(&self, filter: &Filter, options: &QueryOptions) -> Result<Rows> {
        Ok(FieldDb::query(self, filter, options)?)
    }
    fn count_filter(&self, filter: &Filter) -> Result<u64> {
        Ok(FieldDb::count(self, filter)?)
    }
    fn explain(&self, filter: &Filter) -> Result<Plan> {
        Ok(FieldDb::explain(self, filter)?)
    }
    fn verify(&self) -> Result<VerifyReport> {
        Ok(FieldDb::verify(self)?)
    }
    fn stats(&self) -> Result<StorageStats> {
        Ok(self.storage_stats()?)
    }
}
