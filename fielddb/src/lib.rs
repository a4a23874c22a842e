//! FieldDB: an embedded, field-structured database on RocksDB.
//!
//! A record is a key plus an ordered array of named, typed fields ([`Record`], [`Value`]).
//! Secondary indexes on a field are created and dropped at run time, built in the background
//! while writes continue, maintained on every write, and queried by equality, range and prefix
//! ([`Query`]). Records (column family `kv`), index entries (`index`) and the catalog (`meta`)
//! live in one RocksDB instance, and every logical change is one atomic write batch across
//! them, so data and indexes never disagree, even after a crash.
//!
//! ```
//! use fielddb::{FieldDb, Query, QueryOptions, Record};
//! # let dir = tempfile::tempdir().unwrap();
//! let db = FieldDb::open(dir.path())?;
//! db.put("ada", Record::new().set("name", "Ada").set("born", 1815))?;
//! db.put("alan", Record::new().set("name", "Alan").set("born", 1912))?;
//! db.create_index_on_field("born")?.wait()?;
//! let page = db.query_by_index("born", &Query::lt(1900), &QueryOptions::new())?;
//! assert_eq!(page.rows[0].0, b"ada");
//! # Ok::<(), fielddb::Error>(())
//! ```

// The layers, bottom up (a module imports only from the layers below it, or its own):
// values, records and errors; `encoding/` (every byte format); `storage` (the only module that
// touches RocksDB); `catalog`, `locks`, `inner` (shared state); `read`, `write`, `scan`,
// `index/`, `replica` (applying a replicated log); `tasks`, `handle`; and `db`, the public
// handle.
mod backup;
mod batch;
mod catalog;
mod db;
mod encoding;
mod error;
mod filter;
mod handle;
mod index;
mod inner;
mod locks;
mod names;
mod options;
mod prefetch;
mod query;
mod read;
mod record;
mod record_view;
mod repeated_names;
mod replica;
mod scan;
mod storage;
mod tasks;
mod text;
mod update;
mod value;
mod write;

pub use backup::{
    list_backups, purge_backups, restore_backup, verify_backup, BackupId, BackupInfo,
};
pub use batch::Batch;
pub use db::FieldDb;
pub use encoding::command::{BatchCommand, Command};
pub use encoding::index_entry::Covering;
pub use encoding::FORMAT_VERSION;
pub use error::{display_key, Error, Result, StorageError};
pub use filter::{describe_condition, Filter, Plan};
pub use index::lookup::RowEstimate;
pub use index::verify::{IndexReport, VerifyReport};
pub use index::{IndexBuild, IndexInfo, IndexSpec, IndexState};
pub use options::{BlockCache, Options};
pub use query::{index_position, Page, Query, QueryOptions};
pub use record::{Record, MAX_FIELDS, MAX_FIELD_NAME_LEN, MAX_KEY_LEN, MAX_RECORD_LEN};
pub use record_view::RecordView;
pub use replica::{Answer, ContentHash, LoggedCommand, ReplicaData};
pub use scan::ScanOptions;
pub use storage::StorageStats;
pub use text::Text;
pub use update::{FieldChange, Update};
pub use value::{Value, ValueRef};

/// A record in FieldDB's self-describing byte format (record version 2, which replicated
/// commands carry: every field named, so it reads without a database's dictionary), for
/// carrying it elsewhere.
pub fn encode_record(record: &Record) -> Result<Vec<u8>> {
    record.validate()?;
    encoding::record::encode_self_describing(record)
}

/// Reads a record written by [`encode_record`]; malformed bytes are `Error::Corruption`.
pub fn decode_record(bytes: &[u8]) -> Result<Record> {
    encoding::record::decode_self_describing(bytes)
}

/// The README's example, compiled and run as a doc test so it stays true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
