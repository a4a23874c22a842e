//! `Options`: how a database is opened (durability, creation, background build pacing).

/// The most threads a build by ingestion walks the records with ([`Options::build_threads`]).
pub(crate) const MAX_BUILD_THREADS: usize = 1024;

/// Settings for [`FieldDb::open_with`](crate::FieldDb::open_with).
///
/// ```
/// let options = fielddb::Options::default().sync_writes(true);
/// assert!(options.is_sync_writes());
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) sync_writes: bool,
    pub(crate) create_if_missing: bool,
    pub(crate) build_chunk_records: usize,
    pub(crate) build_by_ingestion: bool,
    pub(crate) build_threads: usize,
    pub(crate) block_cache_bytes: usize,
    pub(crate) shared_cache: Option<BlockCache>,
    pub(crate) replica: bool,
}

/// A block cache several databases share (a cluster node's shards): clones share one cache.
///
/// ```
/// let cache = fielddb::BlockCache::new(256 << 20);
/// let options = fielddb::Options::default().shared_block_cache(cache.clone());
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct BlockCache(pub(crate) rocksdb::Cache);

impl BlockCache {
    /// An LRU cache of `bytes`.
    pub fn new(bytes: usize) -> BlockCache {
        BlockCache(rocksdb::Cache::new_lru_cache(bytes))
    }
}

impl std::fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockCache")
            .field("usage", &self.0.get_usage())
            .finish_non_exhaustive()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sync_writes: false,
            create_if_missing: true,
            build_chunk_records: 1_000,
            build_by_ingestion: true,
            build_threads: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(8),
            block_cache_bytes: 64 * 1024 * 1024,
            shared_cache: None,
            replica: false,
        }
    }
}

impl Options {
    /// `false` (the default, as in RocksDB): a write is in the operating system when it returns,
    /// so it survives a crash of the process but not a power loss. `true`: every write is fsynced
    /// to the write-ahead log before it returns, so it also survives a power loss. Data and
    /// indexes stay consistent with each other either way.
    pub fn sync_writes(mut self, sync: bool) -> Self {
        self.sync_writes = sync;
        self
    }

    /// Whether writes are fsynced before they return.
    pub fn is_sync_writes(&self) -> bool {
        self.sync_writes
    }

    /// Create the database when the directory holds none (default `true`).
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }

    /// How many records a background index build handles per step (default 1,000). Writers
    /// wait for at most one step, so smaller steps mean shorter pauses and slower builds.
    /// Values below 1 are treated as 1.
    pub fn build_chunk_records(mut self, records: usize) -> Self {
        self.build_chunk_records = records.max(1);
        self
    }

    /// Build new indexes by ingestion (default `true`): the records are read once from a
    /// snapshot, by [`Options::build_threads`] threads, and the sorted entries added to the
    /// index as whole table files; writers only mark the keys they change meanwhile and pause
    /// once, for the last step that re-indexes those keys. `false`: in steps of
    /// [`Options::build_chunk_records`] records through the write path. Unique indexes, and a
    /// replica's, are always built in steps.
    pub fn build_by_ingestion(mut self, ingest: bool) -> Self {
        self.build_by_ingestion = ingest;
        self
    }

    /// Threads that read the records of a build by ingestion (default: the machine's cores, at
    /// most 8). Values below 1 are treated as 1, and above 1,024 as 1,024.
    pub fn build_threads(mut self, threads: usize) -> Self {
        self.build_threads = threads.clamp(1, MAX_BUILD_THREADS);
        self
    }

    /// Opens the database as a replica of a replicated group (default `false`): it then changes
    /// only through [`FieldDb::apply_commands`](crate::FieldDb::apply_commands), in the order of
    /// its log, and the direct write methods (`put`, `create_index`, ...) refuse with
    /// `InvalidArgument`. Index builds advance by `BuildStep` commands instead of in the
    /// background, so every replica builds at the same positions of the log.
    pub fn replica(mut self, replica: bool) -> Self {
        self.replica = replica;
        self
    }

    /// Whether the database is a replica.
    pub fn is_replica(&self) -> bool {
        self.replica
    }

    /// The size of RocksDB's block cache shared by all column families (default 64 MiB).
    pub fn block_cache_bytes(mut self, bytes: usize) -> Self {
        self.block_cache_bytes = bytes;
        self
    }

    /// Use `cache` for the block cache instead of one of the database's own (then
    /// `block_cache_bytes` is not used): databases opened with clones of one cache share it.
    pub fn shared_block_cache(mut self, cache: BlockCache) -> Self {
        self.shared_cache = Some(cache);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FieldDb, Record};

    #[test]
    fn databases_opened_with_one_shared_cache_read_through_it() {
        let cache = BlockCache::new(8 << 20);
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let options = Options::default().shared_block_cache(cache.clone());
        for dir in &dirs {
            let db = FieldDb::open_with(dir.path(), options.clone()).unwrap();
            for i in 0..200 {
                db.put(format!("k{i:03}"), Record::new().set("n", i))
                    .unwrap();
            }
        }
        let before = cache.0.get_usage();
        // Reopened, the writes are in table files (flushed on recovery), read through the cache.
        for dir in &dirs {
            let db = FieldDb::open_with(dir.path(), options.clone()).unwrap();
            assert_eq!(db.get("k123").unwrap(), Some(Record::new().set("n", 123)));
        }
        assert!(
            cache.0.get_usage() > before,
            "the shared cache holds the blocks both read"
        );
    }
}
