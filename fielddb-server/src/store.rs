//! `Store`: the operations the HTTP handlers need, as a blocking trait. `FieldDb` implements it
//! directly; a cluster client can later implement it too and sit behind the same API. Handlers
//! call it on tokio's blocking pool (`state::blocking`), never on an async worker. Writes carry
//! the client's retry identity (`ClientSession`), which a replicated store uses and a single
//! node ignores.

use fielddb::{
    Batch, FieldDb, IndexInfo, IndexSpec, Page, Query, QueryOptions, Record, ScanOptions,
    StorageStats, Value, VerifyReport,
};

pub use crate::error::StoreError;
pub use crate::session::ClientSession;

/// One page of `(key, record)` rows.
pub type Rows = Page<(Vec<u8>, Record)>;

/// A store call's result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What the server needs from a database. Every method may block.
pub trait Store: Send + Sync + 'static {
    /// Stores `record` at `key`, replacing any record there.
    fn put(&self, session: &ClientSession, key: &[u8], record: Record) -> Result<()>;
    /// The record at `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Record>>;
    /// Deletes the record at `key`; returns whether there was one.
    fn delete(&self, session: &ClientSession, key: &[u8]) -> Result<bool>;
    /// Appends `value` to `field` of the record at `key`; returns the record as written.
    fn append(
        &self,
        session: &ClientSession,
        key: &[u8],
        field: &str,
        value: Value,
    ) -> Result<Record>;
    /// Applies every operation of `batch` atomically.
    fn batch(&self, session: &ClientSession, batch: Batch) -> Result<()>;
    /// Records in key order, a page at a time.
    fn scan(&self, options: &ScanOptions) -> Result<Rows>;
    /// Creates an index and starts building it in the background; returns at once.
    fn create_index(&self, session: &ClientSession, spec: IndexSpec) -> Result<()>;
    /// Drops the index on `field` (its entries are removed in the background).
    fn drop_index(&self, session: &ClientSession, field: &str) -> Result<()>;
    /// Every index with its state and progress.
    fn indexes(&self) -> Vec<IndexInfo>;
    /// The records whose `field` matches `query`, from its ready index.
    fn query(&self, field: &str, query: &Query, options: &QueryOptions) -> Result<Rows>;
    /// The number of records whose `field` matches `query`, from its ready index.
    fn count(&self, field: &str, query: &Query) -> Result<u64>;
    /// Recomputes every ready index from the records and reports differences.
    fn verify(&self) -> Result<VerifyReport>;
    /// Space used on disk and in memory, and the estimated record count.
    fn stats(&self) -> Result<StorageStats>;
}

impl Store for FieldDb {
    fn put(&self, _: &ClientSession, key: &[u8], record: Record) -> Result<()> {
        Ok(FieldDb::put(self, key, record)?)
    }
    fn get(&self, key: &[u8]) -> Result<Option<Record>> {
        Ok(FieldDb::get(self, key)?)
    }
    fn delete(&self, _: &ClientSession, key: &[u8]) -> Result<bool> {
        Ok(FieldDb::delete(self, key)?)
    }
    fn append(&self, _: &ClientSession, key: &[u8], field: &str, value: Value) -> Result<Record> {
        Ok(FieldDb::append(self, key, field, value)?)
    }
    fn batch(&self, _: &ClientSession, batch: Batch) -> Result<()> {
        Ok(self.write_batch(batch)?)
    }
    fn scan(&self, options: &ScanOptions) -> Result<Rows> {
        Ok(FieldDb::scan(self, options)?)
    }
    fn create_index(&self, _: &ClientSession, spec: IndexSpec) -> Result<()> {
        // The returned handle keeps the database open; the server follows builds by polling.
        Ok(FieldDb::create_index(self, spec).map(drop)?)
    }
    fn drop_index(&self, _: &ClientSession, field: &str) -> Result<()> {
        Ok(FieldDb::drop_index(self, field)?)
    }
    fn indexes(&self) -> Vec<IndexInfo> {
        FieldDb::indexes(self)
    }
    fn query(&self, field: &str, query: &Query, options: &QueryOptions) -> Result<Rows> {
        Ok(self.query_by_index(field, query, options)?)
    }
    fn count(&self, field: &str, query: &Query) -> Result<u64> {
        Ok(self.count_by_index(field, query)?)
    }
    fn verify(&self) -> Result<VerifyReport> {
        Ok(FieldDb::verify(self)?)
    }
    fn stats(&self) -> Result<StorageStats> {
        Ok(self.storage_stats()?)
    }
}
