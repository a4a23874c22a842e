//! `Storage`: the one RocksDB instance, its three column families, the format version check,
//! and the single door through which every write batch goes.
//!
//! | column family | holds                                                                  |
//! |---------------|------------------------------------------------------------------------|
//! | `kv`          | the records: user key -> encoded record (`record_codec`)               |
//! | `index`       | every index entry: index id (u32 BE) ‖ keycode(value) ‖ user key -> "" |
//! |               | and the per-value counts of counted indexes (`index::counts`)          |
//! | `meta`        | the format version and the catalog of indexes (`catalog`)              |
//!
//! RocksDB writes each `WriteBatch` as one record of its write-ahead log, shared by all column
//! families; that log is FieldDB's only log, and replaying it on open is all of crash recovery.
//! After a failed write the handle is poisoned: it refuses writes until the database is reopened,
//! because an fsync failure cannot be retried safely.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DBCompressionType, WriteBatch,
    WriteOptions, DB,
};

use crate::error::{corrupt, invalid, Error, Result};
use crate::index::counts;
use crate::options::Options;

pub(crate) const CF_KV: &str = "kv";
pub(crate) const CF_INDEX: &str = "index";
pub(crate) const CF_META: &str = "meta";
const FORMAT_VERSION_KEY: &[u8] = b"format_version";
/// The on-disk format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Space used by the database, from RocksDB's own accounting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StorageStats {
    /// Bytes of table files holding records (`kv`).
    pub kv_file_bytes: u64,
    /// Bytes of table files holding index entries (`index`).
    pub index_file_bytes: u64,
    /// Bytes of table files holding the catalog (`meta`).
    pub meta_file_bytes: u64,
    /// Bytes held in memtables (written, not yet flushed to table files).
    pub memtable_bytes: u64,
    /// RocksDB's estimate of the number of records.
    pub estimated_records: u64,
}

pub(crate) struct Storage {
    pub(crate) db: DB,
    write_options: WriteOptions,
    poisoned: AtomicBool,
    poison_cause: Mutex<String>,
}

impl Storage {
    pub(crate) fn open(path: &Path, options: &Options) -> Result<Storage> {
        let existed = path.join("CURRENT").exists();
        if !existed && !options.create_if_missing {
            return invalid!(
                "no database at {} (create_if_missing is off)",
                path.display()
            );
        }
        let mut db_options = rocksdb::Options::default();
        db_options.create_if_missing(true);
        db_options.create_missing_column_families(!existed);
        db_options.increase_parallelism(2);

        if existed {
            let found = DB::list_cf(&db_options, path)?;
            let ours = [CF_KV, CF_INDEX, CF_META];
            let foreign: Vec<&String> = found
                .iter()
                .filter(|cf| *cf != "default" && !ours.contains(&cf.as_str()))
                .collect();
            let missing: Vec<&&str> = ours
                .iter()
                .filter(|cf| !found.contains(&cf.to_string()))
                .collect();
            if !foreign.is_empty() || !missing.is_empty() {
                return invalid!(
                    "{} is a RocksDB database but not a FieldDB one (column families: {})",
                    path.display(),
                    found.join(", ")
                );
            }
        }

        let cache = Cache::new_lru_cache(options.block_cache_bytes);
        let descriptor = |name: &str, bloom: bool, counts: bool| {
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&cache);
            table.set_cache_index_and_filter_blocks(true);
            table.set_pin_l0_filter_and_index_blocks_in_cache(true);
            if bloom {
                table.set_bloom_filter(10.0, false);
            }
            let mut cf = rocksdb::Options::default();
            cf.set_block_based_table_factory(&table);
            cf.set_compression_type(DBCompressionType::Lz4);
            cf.set_bottommost_compression_type(DBCompressionType::Zstd);
            if counts {
                cf.set_merge_operator_associative(counts::MERGE_OPERATOR_NAME, counts::merge_add);
                // A count read adds up the operands still in the memtable; past this many on
                // one key, the write resolves them into one value instead.
                cf.set_max_successive_merges(counts::MAX_SUCCESSIVE_MERGES);
            }
            ColumnFamilyDescriptor::new(name, cf)
        };
        let cfs = vec![
            descriptor(CF_KV, true, false),
            descriptor(CF_INDEX, false, true),
            descriptor(CF_META, false, false),
        ];
        let db = DB::open_cf_descriptors(&db_options, path, cfs)?;

        let mut write_options = WriteOptions::default();
        write_options.set_sync(options.sync_writes);
        let storage = Storage {
            db,
            write_options,
            poisoned: AtomicBool::new(false),
            poison_cause: Mutex::new(String::new()),
        };
        storage.check_format_version(existed)?;
        Ok(storage)
    }

    fn check_format_version(&self, existed: bool) -> Result<()> {
        match self.db.get_cf(self.cf(CF_META)?, FORMAT_VERSION_KEY)? {
            Some(bytes) => {
                let found = <[u8; 4]>::try_from(bytes.as_slice())
                    .map(u32::from_be_bytes)
                    .map_err(|_| {
                        crate::Error::Corruption(format!(
                            "format version is {} bytes, not 4",
                            bytes.len()
                        ))
                    })?;
                if found != FORMAT_VERSION {
                    return Err(Error::UnsupportedFormat {
                        found,
                        supported: FORMAT_VERSION,
                    });
                }
                Ok(())
            }
            None if !existed || self.is_empty()? => {
                let mut batch = WriteBatch::default();
                batch.put_cf(
                    self.cf(CF_META)?,
                    FORMAT_VERSION_KEY,
                    FORMAT_VERSION.to_be_bytes(),
                );
                self.write(batch)
            }
            None => corrupt!("the database holds records but no format version"),
        }
    }

    fn is_empty(&self) -> Result<bool> {
        for name in [CF_KV, CF_INDEX, CF_META] {
            let mut it = self.db.raw_iterator_cf(self.cf(name)?);
            it.seek_to_first();
            if it.valid() {
                return Ok(false);
            }
            it.status()?;
        }
        Ok(true)
    }

    /// The handle of one of FieldDB's column families.
    pub(crate) fn cf(&self, name: &str) -> Result<&ColumnFamily> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| Error::Corruption(format!("column family `{name}` is missing")))
    }

    pub(crate) fn kv(&self) -> Result<&ColumnFamily> {
        self.cf(CF_KV)
    }

    pub(crate) fn index(&self) -> Result<&ColumnFamily> {
        self.cf(CF_INDEX)
    }

    pub(crate) fn meta(&self) -> Result<&ColumnFamily> {
        self.cf(CF_META)
    }

    pub(crate) fn stats(&self) -> Result<StorageStats> {
        let int = |cf: &str, property: &str| -> Result<u64> {
            Ok(self
                .db
                .property_int_value_cf(self.cf(cf)?, property)?
                .unwrap_or(0))
        };
        let files = "rocksdb.total-sst-files-size";
        let memtables = "rocksdb.cur-size-all-mem-tables";
        Ok(StorageStats {
            kv_file_bytes: int(CF_KV, files)?,
            index_file_bytes: int(CF_INDEX, files)?,
            meta_file_bytes: int(CF_META, files)?,
            memtable_bytes: int(CF_KV, memtables)?
                + int(CF_INDEX, memtables)?
                + int(CF_META, memtables)?,
            estimated_records: int(CF_KV, "rocksdb.estimate-num-keys")?,
        })
    }

    /// Refuses when an earlier write failed.
    pub(crate) fn check_writable(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Error::Poisoned(self.poison_cause.lock().clone()));
        }
        Ok(())
    }

    /// Writes one batch atomically; a failure poisons the handle.
    pub(crate) fn write(&self, batch: WriteBatch) -> Result<()> {
        self.check_writable()?;
        self.db.write_opt(batch, &self.write_options).map_err(|e| {
            *self.poison_cause.lock() = e.to_string();
            self.poisoned.store(true, Ordering::Release);
            Error::Storage(e)
        })
    }
}
