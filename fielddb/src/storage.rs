//! `Storage`: the one RocksDB instance and the only module that touches RocksDB. It owns the
//! three column families, the format version check, snapshots and iterators, and [`WriteSet`],
//! the batch type through which every write goes, committed by [`Storage::write`].
//!
//! | column family | holds (byte formats in `encoding/`)                                    |
//! |---------------|------------------------------------------------------------------------|
//! | `kv`          | the records: user key -> encoded record                                |
//! | `index`       | every index entry: index id (u32 BE) ‖ keycode(values) ‖ user key ->   |
//! |               | payload (what a covering index stores; empty for others), and the      |
//! |               | per-value counts of counted indexes                                    |
//! | `meta`        | the format version, the catalog of indexes and the next index id, the  |
//! |               | field-name dictionary, the markers of builds by ingestion, and a       |
//! |               | replica's applied log position and own entries                         |
//!
//! RocksDB writes each batch as one record of its write-ahead log, shared by all column
//! families; that log is FieldDB's only log, and replaying it on open is all of crash recovery.
//! After a failed write the handle is poisoned: it refuses writes until the database is reopened,
//! because an fsync failure cannot be retried safely.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use rocksdb::{
    BlockBasedOptions, BlockBasedTablePinningTier, Cache, ColumnFamily, ColumnFamilyDescriptor,
    DBCompressionType, DBRawIteratorWithThreadMode, MergeOperands, ReadOptions,
    SnapshotWithThreadMode, WriteBatch, WriteOptions, DB,
};

use crate::encoding::{
    self, count, prefix_successor, FORMAT_VERSION, FORMAT_VERSION_KEY, OLDEST_FORMAT_VERSION,
};
use crate::error::{corrupt, invalid, Error, Result, StorageError};
use crate::options::Options;

impl From<rocksdb::Error> for Error {
    fn from(e: rocksdb::Error) -> Error {
        Error::Storage(StorageError::new(e.into_string()))
    }
}

/// One of FieldDB's column families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cf {
    /// The records.
    Kv,
    /// Index entries and counts.
    Index,
    /// The format version and the catalog.
    Meta,
}

impl Cf {
    const ALL: [Cf; 3] = [Cf::Kv, Cf::Index, Cf::Meta];

    fn name(self) -> &'static str {
        match self {
            Cf::Kv => "kv",
            Cf::Index => "index",
            Cf::Meta => "meta",
        }
    }
}

/// Merge operands one count key may pile up in a memtable before a write resolves them
/// (RocksDB's `max_successive_merges`), bounding the work of a count read that finds them there.
const MAX_SUCCESSIVE_MERGES: usize = 8;

/// How old (in seconds) a file in the last level must be before RocksDB rewrites it only to zero
/// its keys' sequence numbers (RocksDB's `bottommost_file_compaction_delay`; 0 rewrites it as
/// soon as no snapshot needs them). Without a delay, the first open after an import or a build
/// rewrote the whole file it had just written (the flights records, 21 MB, 153 ms of CPU) in
/// the background of whatever that process did: the shell's next `create index` or queries,
/// on 2 cores. A later compaction zeroes them anyway.
const LAST_LEVEL_REWRITE_DELAY_SECS: u32 = 3600;

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
    db: DB,
    /// The `index` column family's options, for the table files a build by ingestion writes
    /// (`index_file_writer`), uncompressed in the last level.
    index_options: rocksdb::Options,
    write_options: WriteOptions,
    poisoned: AtomicBool,
    poison_cause: Mutex<String>,
}

/// The count merge operator in RocksDB's signature (`encoding::count::merge_add`).
fn count_merge(_key: &[u8], existing: Option<&[u8]>, operands: &MergeOperands) -> Option<Vec<u8>> {
    count::merge_add(existing, operands.iter())
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
            let ours = Cf::ALL.map(Cf::name);
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

        let cache = match &options.shared_cache {
            Some(shared) => shared.0.clone(),
            None => Cache::new_lru_cache(options.block_cache_bytes),
        };
        let cf_options = |cf: Cf| -> Result<rocksdb::Options> {
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&cache);
            table.set_cache_index_and_filter_blocks(true);
            // Index and filter blocks of every level stay in the cache: once the data outgrows
            // it, evicting them would make each point lookup reread and parse a file's whole
            // index and filter (measured at 2,000,000 records: 4,092 gets/s without, see
            // docs/benchmarks.md).
            table.set_unpartitioned_pinning_tier(BlockBasedTablePinningTier::All);
            if cf == Cf::Kv {
                table.set_bloom_filter(10.0, false);
                // A hash index in each data block: a point lookup (get, the records of an
                // index query) finds its key without the binary search of the block's restart
                // points. Measured with the data in SST files: gets 9% faster, record-fetching
                // queries 2% (docs/benchmarks.md, work toward issue 15).
                table.set_data_block_index_type(rocksdb::DataBlockIndexType::BinaryAndHash);
                table.set_data_block_hash_ratio(0.75);
            }
            let mut cf_options = rocksdb::Options::default();
            cf_options.set_block_based_table_factory(&table);
            cf_options.set_compression_type(DBCompressionType::Lz4);
            // Records stay LZ4 in the last level too: a query fetching records decompresses
            // a block per record missing the cache, and Zstd's slower decompression cost 24%
            // of the equality and range queries at 2,000,000 records (the disk size still
            // stays under SQLite's; docs/benchmarks.md). Entries and the catalog take Zstd.
            if cf != Cf::Kv {
                cf_options.set_bottommost_compression_type(DBCompressionType::Zstd);
            }
            if cf == Cf::Index {
                cf_options.set_merge_operator_associative(count::MERGE_OPERATOR_NAME, count_merge);
                // A count read adds up the operands still in the memtable; past this many on
                // one key, the write resolves them into one value instead.
                cf_options.set_max_successive_merges(MAX_SUCCESSIVE_MERGES);
            }
            // The Rust binding has no setter for this one; the options string keeps every
            // setting above (the table factory, the cache and the merge operator are shared).
            Ok(cf_options.get_options_from_string(format!(
                "bottommost_file_compaction_delay={LAST_LEVEL_REWRITE_DELAY_SECS}"
            ))?)
        };
        let descriptors = Cf::ALL
            .into_iter()
            .map(|cf| Ok(ColumnFamilyDescriptor::new(cf.name(), cf_options(cf)?)))
            .collect::<Result<Vec<_>>>()?;
        let db = DB::open_cf_descriptors(&db_options, path, descriptors)?;

        let mut write_options = WriteOptions::default();
        write_options.set_sync(options.sync_writes);
        let storage = Storage {
            db,
            index_options: {
                // The files of a build by ingestion are written uncompressed even though they
                // go to the last level (Zstd for entries compacted there: the compaction that
                // next takes in a file, as later writes' entries reach its keys, or
                // `FieldDb::compact`, writes it so). Against Zstd, LZ4 made the builds at 200,000 records
                // 0.117–0.123 s instead of 0.131–0.134 s and the first 1,000 queries through
                // the new index 14–25% faster; against LZ4, no compression made them 3% faster
                // at 200,000 records and 7% at 2,000,000 (0.668 → 0.624 s), with the covering
                // queries through a new index unchanged (docs/benchmarks.md).
                let mut writer_options = cf_options(Cf::Index)?;
                writer_options.set_bottommost_compression_type(DBCompressionType::None);
                writer_options
            },
            write_options,
            poisoned: AtomicBool::new(false),
            poison_cause: Mutex::new(String::new()),
        };
        storage.check_format_version(existed)?;
        Ok(storage)
    }

    fn check_format_version(&self, existed: bool) -> Result<()> {
        match self.get(Cf::Meta, FORMAT_VERSION_KEY)? {
            Some(bytes) => {
                let found = encoding::decode_format_version(&bytes).ok_or_else(|| {
                    Error::Corruption(format!("format version is {} bytes, not 4", bytes.len()))
                })?;
                if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&found) {
                    return Err(Error::UnsupportedFormat {
                        found,
                        supported: FORMAT_VERSION,
                    });
                }
                if found < FORMAT_VERSION {
                    // Its records stay readable as they are; the records written from now on
                    // are not readable by the builds that wrote them, which this makes refuse
                    // the directory (see `encoding::FORMAT_VERSION`).
                    let mut batch = self.batch()?;
                    batch.put(
                        Cf::Meta,
                        FORMAT_VERSION_KEY,
                        &encoding::encode_format_version(FORMAT_VERSION),
                    );
                    self.write(batch)?;
                }
                Ok(())
            }
            None if !existed || self.is_empty()? => {
                let mut batch = self.batch()?;
                batch.put(
                    Cf::Meta,
                    FORMAT_VERSION_KEY,
                    &encoding::encode_format_version(FORMAT_VERSION),
                );
                self.write(batch)
            }
            None => corrupt!("the database holds records but no format version"),
        }
    }

    fn is_empty(&self) -> Result<bool> {
        for cf in Cf::ALL {
            let mut it = self.iter(cf, KeyRange::all())?;
            it.seek_to_first();
            if it.valid() {
                return Ok(false);
            }
            it.status()?;
        }
        Ok(true)
    }

    /// The handle of one of FieldDB's column families.
    fn cf(&self, cf: Cf) -> Result<&ColumnFamily> {
        self.db
            .cf_handle(cf.name())
            .ok_or_else(|| Error::Corruption(format!("column family `{}` is missing", cf.name())))
    }

    /// The value at `key` in `cf`, read from the latest state.
    pub(crate) fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<impl Deref<Target = [u8]> + '_>> {
        Ok(self.db.get_pinned_cf(self.cf(cf)?, key)?)
    }

    /// True when `cf` holds `key` (the value is not copied).
    pub(crate) fn contains(&self, cf: Cf, key: &[u8]) -> Result<bool> {
        Ok(self.db.get_pinned_cf(self.cf(cf)?, key)?.is_some())
    }

    /// An iterator over `range` of `cf`, on the latest state; position it before reading.
    pub(crate) fn iter(&self, cf: Cf, range: KeyRange) -> Result<Cursor<'_>> {
        Ok(Cursor(
            self.db
                .raw_iterator_cf_opt(self.cf(cf)?, range.read_options()),
        ))
    }

    /// Every key of `cf` starting with `prefix`, with its value, in key order (for the small
    /// sets `meta` keeps under a prefix).
    pub(crate) fn prefix_entries(&self, cf: Cf, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let range = KeyRange {
            lower: Some(prefix.to_vec()),
            upper: prefix_successor(prefix),
        };
        let mut it = self.iter(cf, range)?;
        it.seek_to_first();
        let mut out = Vec::new();
        while let (Some(key), Some(value)) = (it.key(), it.value()) {
            out.push((key.to_vec(), value.to_vec()));
            it.next();
        }
        it.status()?;
        Ok(out)
    }

    /// A consistent view of every column family as of now.
    pub(crate) fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            storage: self,
            snapshot: self.db.snapshot(),
        }
    }

    /// An empty batch to stage changes in; commit it with [`Storage::write`].
    pub(crate) fn batch(&self) -> Result<WriteSet<'_>> {
        Ok(WriteSet {
            storage: self,
            handles: [None; 3],
            missing: None,
            batch: WriteBatch::default(),
        })
    }

    /// A writer of a sorted table file at `path` in the `index` column family's format, to be
    /// ingested with [`Storage::ingest_index_files`].
    pub(crate) fn index_file_writer(&self, path: &Path) -> Result<TableFileWriter<'_>> {
        let writer = rocksdb::SstFileWriter::create(&self.index_options);
        writer.open(path)?;
        Ok(TableFileWriter {
            writer,
            path: path.to_path_buf(),
        })
    }

    /// Adds the table files at `paths` to the `index` column family, atomically: their keys
    /// become visible together, newer than every write before (RocksDB's external file
    /// ingestion; the files are moved into the database, not copied). The caller makes sure no
    /// write touches their keys meanwhile.
    pub(crate) fn ingest_index_files(&self, paths: &[PathBuf]) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        let mut options = rocksdb::IngestExternalFileOptions::default();
        options.set_move_files(true);
        // The files' keys belong to an index no reader uses before it is ready, so no snapshot
        // needs to be kept from seeing them. With the default (snapshot consistency), the open
        // snapshot of the build gave the files a sequence number, and RocksDB then rewrote each
        // one in a compaction right after the ingestion to zero it (`BottommostFiles`); without
        // it, files that overlap nothing get sequence number 0 in the last level, and RocksDB
        // still gives a number to files that do overlap something (a range deletion, say).
        options.set_snapshot_consistency(false);
        self.db
            .ingest_external_file_cf_opts(self.cf(Cf::Index)?, &options, paths.to_vec())?;
        Ok(())
    }

    /// Writes a consistent copy of the whole database into `dir` (which must not exist), as a
    /// RocksDB checkpoint: table files are hard-linked where the file system allows, so it is
    /// cheap, and the copy opens as a database of its own.
    pub(crate) fn checkpoint(&self, dir: &Path) -> Result<()> {
        let checkpoint = rocksdb::checkpoint::Checkpoint::new(&self.db)?;
        checkpoint.create_checkpoint(dir)?;
        Ok(())
    }

    /// The database's directory.
    pub(crate) fn path(&self) -> &Path {
        self.db.path()
    }

    /// Adds a backup of the database, as of now, to `engine` (memtables flushed first, so the
    /// new data goes into table files later backups share; the backup is consistent across the
    /// column families, which RocksDB backs up with the log they share).
    pub(crate) fn backup_into(&self, engine: &mut rocksdb::backup::BackupEngine) -> Result<()> {
        engine.create_new_backup_flush(&self.db, true)?;
        Ok(())
    }

    /// RocksDB's estimate of the number of records (cheap; no scan).
    pub(crate) fn estimated_records(&self) -> Result<u64> {
        self.int_property(Cf::Kv, "rocksdb.estimate-num-keys")
    }

    /// RocksDB's estimate of the bytes `[start, end)` of `cf` takes in SST files (memtables
    /// not counted; cheap: it reads the files' index blocks, not their data).
    pub(crate) fn approximate_file_bytes(&self, cf: Cf, start: &[u8], end: &[u8]) -> Result<u64> {
        let sizes = self
            .db
            .get_approximate_sizes_cf(self.cf(cf)?, &[rocksdb::Range::new(start, end)]);
        Ok(sizes.first().copied().unwrap_or(0))
    }

    fn int_property(&self, cf: Cf, property: &str) -> Result<u64> {
        Ok(self
            .db
            .property_int_value_cf(self.cf(cf)?, property)?
            .unwrap_or(0))
    }

    /// Asks RocksDB to compact `[start, end)` of `cf` now (to reclaim a deleted range's space).
    pub(crate) fn compact_range(&self, cf: Cf, start: &[u8], end: &[u8]) -> Result<()> {
        self.db
            .compact_range_cf(self.cf(cf)?, Some(start), Some(end));
        Ok(())
    }

    /// Flushes every column family's memtables to table files (blocking until done), so that
    /// the next open has no write-ahead log to replay.
    pub(crate) fn flush_all(&self) -> Result<()> {
        let handles: Vec<_> = Cf::ALL
            .iter()
            .map(|cf| self.cf(*cf))
            .collect::<Result<_>>()?;
        self.db
            .flush_cfs_opt(&handles, &rocksdb::FlushOptions::default())?;
        Ok(())
    }

    /// Flushes every column family's memtables to table files, then compacts each whole
    /// column family into its last level (blocking until done).
    pub(crate) fn compact_all(&self) -> Result<()> {
        self.flush_all()?;
        for cf in Cf::ALL {
            let cf = self.cf(cf)?;
            self.db.compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
        }
        Ok(())
    }

    pub(crate) fn stats(&self) -> Result<StorageStats> {
        let files = "rocksdb.total-sst-files-size";
        let memtables = "rocksdb.cur-size-all-mem-tables";
        Ok(StorageStats {
            kv_file_bytes: self.int_property(Cf::Kv, files)?,
            index_file_bytes: self.int_property(Cf::Index, files)?,
            meta_file_bytes: self.int_property(Cf::Meta, files)?,
            memtable_bytes: self.int_property(Cf::Kv, memtables)?
                + self.int_property(Cf::Index, memtables)?
                + self.int_property(Cf::Meta, memtables)?,
            estimated_records: self.estimated_records()?,
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
    pub(crate) fn write(&self, batch: WriteSet<'_>) -> Result<()> {
        self.check_writable()?;
        if let Some(cf) = batch.missing {
            return corrupt!("column family `{}` is missing", cf.name());
        }
        self.db
            .write_opt(batch.batch, &self.write_options)
            .map_err(|e| {
                *self.poison_cause.lock() = e.to_string();
                self.poisoned.store(true, Ordering::Release);
                Error::from(e)
            })
    }
}

/// Changes staged for one atomic write: puts, deletes, merges and range deletes over the three
/// column families, applied in the order staged.
pub(crate) struct WriteSet<'a> {
    storage: &'a Storage,
    /// Column family handles, looked up on first use.
    handles: [Option<&'a ColumnFamily>; 3],
    /// A column family that could not be found: the write then fails.
    missing: Option<Cf>,
    batch: WriteBatch,
}

impl<'a> WriteSet<'a> {
    /// The handle of `cf`, or `None` (remembered, so the commit fails) when it is missing.
    fn handle(&mut self, cf: Cf) -> Option<&'a ColumnFamily> {
        let slot = &mut self.handles[cf as usize];
        if slot.is_none() {
            *slot = self.storage.cf(cf).ok();
            if slot.is_none() {
                self.missing = Some(cf);
            }
        }
        *slot
    }

    pub(crate) fn put(&mut self, cf: Cf, key: &[u8], value: &[u8]) {
        if let Some(handle) = self.handle(cf) {
            self.batch.put_cf(handle, key, value);
        }
    }

    pub(crate) fn delete(&mut self, cf: Cf, key: &[u8]) {
        if let Some(handle) = self.handle(cf) {
            self.batch.delete_cf(handle, key);
        }
    }

    /// Adds a merge operand (a count change) for `key`.
    pub(crate) fn merge(&mut self, cf: Cf, key: &[u8], operand: &[u8]) {
        if let Some(handle) = self.handle(cf) {
            self.batch.merge_cf(handle, key, operand);
        }
    }

    /// Deletes every key in `[start, end)`.
    pub(crate) fn delete_range(&mut self, cf: Cf, start: &[u8], end: &[u8]) {
        if let Some(handle) = self.handle(cf) {
            self.batch.delete_range_cf(handle, start, end);
        }
    }
}

/// A sorted table file being written (`Storage::index_file_writer`): keys must come in
/// ascending order.
pub(crate) struct TableFileWriter<'a> {
    writer: rocksdb::SstFileWriter<'a>,
    path: PathBuf,
}

impl TableFileWriter<'_> {
    pub(crate) fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        Ok(self.writer.put(key, value)?)
    }

    /// Completes the file (it holds at least one key), then reads it back once. RocksDB's
    /// writer tells the OS to drop the pages it wrote (`POSIX_FADV_DONTNEED`; RocksDB's C API
    /// has no switch for it), so without the read the first queries through a new index read
    /// its blocks from disk: 1,000 two-equality queries right after a build over 200,000
    /// records took 55–73 ms, and 28–34 ms after a read-back of 2–3 ms.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.writer.finish()?;
        let mut file = std::fs::File::open(&self.path)?;
        std::io::copy(&mut file, &mut std::io::sink())?;
        Ok(())
    }
}

/// The bounds of an iteration: `[lower, upper)`, either end open when `None`.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyRange {
    pub(crate) lower: Option<Vec<u8>>,
    pub(crate) upper: Option<Vec<u8>>,
}

impl KeyRange {
    /// Every key.
    pub(crate) fn all() -> KeyRange {
        KeyRange::default()
    }

    /// `[lower, upper)`.
    pub(crate) fn between(lower: Vec<u8>, upper: Vec<u8>) -> KeyRange {
        KeyRange {
            lower: Some(lower),
            upper: Some(upper),
        }
    }

    fn read_options(self) -> ReadOptions {
        let mut read = ReadOptions::default();
        if let Some(lower) = self.lower {
            read.set_iterate_lower_bound(lower);
        }
        if let Some(upper) = self.upper {
            read.set_iterate_upper_bound(upper);
        }
        read
    }
}

/// A consistent, read-only view of the database as of the moment it was taken.
pub(crate) struct Snapshot<'a> {
    storage: &'a Storage,
    snapshot: SnapshotWithThreadMode<'a, DB>,
}

impl Snapshot<'_> {
    /// An iterator over `range` of `cf` in this view.
    pub(crate) fn iter(&self, cf: Cf, range: KeyRange) -> Result<Cursor<'_>> {
        self.cursor(cf, range, true)
    }

    /// Like [`Snapshot::iter`], for a walk that reads a whole column family (or a large part of
    /// it) once, as an index build or `verify` does: the blocks it reads are not added to the
    /// block cache, where they would take fresh memory and push out the blocks that queries
    /// read again.
    pub(crate) fn iter_once(&self, cf: Cf, range: KeyRange) -> Result<Cursor<'_>> {
        self.cursor(cf, range, false)
    }

    fn cursor(&self, cf: Cf, range: KeyRange, fill_cache: bool) -> Result<Cursor<'_>> {
        let mut read = range.read_options();
        read.set_snapshot(&self.snapshot);
        read.fill_cache(fill_cache);
        Ok(Cursor(
            self.storage
                .db
                .raw_iterator_cf_opt(self.storage.cf(cf)?, read),
        ))
    }

    /// The value at `key` in `cf` in this view.
    pub(crate) fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<impl Deref<Target = [u8]> + '_>> {
        let mut read = ReadOptions::default();
        read.set_snapshot(&self.snapshot);
        Ok(self
            .storage
            .db
            .get_pinned_cf_opt(self.storage.cf(cf)?, key, &read)?)
    }

    /// The values at `keys` (in order) in `cf` in this view, read in one batched lookup.
    pub(crate) fn multi_get(
        &self,
        cf: Cf,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<impl Deref<Target = [u8]> + '_>>> {
        let mut read = ReadOptions::default();
        read.set_snapshot(&self.snapshot);
        // An equality query's keys come out of its index in order; RocksDB then need not
        // sort them (it would, for keys in any other order).
        let sorted = keys.is_sorted();
        self.storage
            .db
            .batched_multi_get_cf_opt(self.storage.cf(cf)?, keys, sorted, &read)
            .into_iter()
            .map(|value| Ok(value?))
            .collect()
    }
}

/// A positioned iterator over one column family.
pub(crate) struct Cursor<'a>(DBRawIteratorWithThreadMode<'a, DB>);

impl Cursor<'_> {
    pub(crate) fn seek(&mut self, key: &[u8]) {
        self.0.seek(key);
    }
    pub(crate) fn seek_to_first(&mut self) {
        self.0.seek_to_first();
    }
    pub(crate) fn seek_to_last(&mut self) {
        self.0.seek_to_last();
    }
    pub(crate) fn next(&mut self) {
        self.0.next();
    }
    pub(crate) fn prev(&mut self) {
        self.0.prev();
    }
    pub(crate) fn valid(&self) -> bool {
        self.0.valid()
    }
    /// The current key, `None` past either end (or on an error: check [`Cursor::status`]).
    pub(crate) fn key(&self) -> Option<&[u8]> {
        self.0.key()
    }
    /// The current value.
    pub(crate) fn value(&self) -> Option<&[u8]> {
        self.0.value()
    }
    /// The error that stopped the iteration, if any.
    pub(crate) fn status(&self) -> Result<()> {
        Ok(self.0.status()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_family_waits_before_rewriting_a_fresh_last_level_file() {
        let dir = tempfile::tempdir().unwrap();
        drop(Storage::open(dir.path(), &Options::default()).unwrap());
        // RocksDB writes the options it runs with to the newest OPTIONS file.
        let newest = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.starts_with("OPTIONS-"))
            .max()
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join(newest)).unwrap();
        let setting = format!("bottommost_file_compaction_delay={LAST_LEVEL_REWRITE_DELAY_SECS}");
        for cf in Cf::ALL {
            let header = format!("CFOptions \"{}\"]", cf.name());
            let section = text
                .split("\n[")
                .find(|section| section.starts_with(&header));
            let section = section.unwrap_or_else(|| panic!("no section {header}"));
            assert!(
                section.lines().any(|line| line.trim() == setting),
                "{header}"
            );
        }
    }
}
