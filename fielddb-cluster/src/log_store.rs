//! `LogDb` and `LogStore`: the Raft logs and votes of one node, in a RocksDB of their own (apart
//! from the data, so a snapshot of the data never carries a log). One `LogDb` holds the log of
//! every Raft group the node is a member of; `LogStore` is one group's view of it, the storage
//! openraft is given for that group.
//!
//! | column family | key                                   | value                                  |
//! |---------------|---------------------------------------|----------------------------------------|
//! | `logs`        | group (u32 BE), log index (u64 BE)    | the entry, in `wire`'s binary encoding |
//! | `meta`        | group (u32 BE), `vote`                | the vote, JSON                         |
//! | `meta`        | group (u32 BE), `last_purged`         | the last purged log id, JSON           |
//! | `meta`        | group (u32 BE), `committed`           | the last committed log id, JSON        |
//! | `meta`        | `format`                              | the layout's version, u32 BE (2)       |
//!
//! Version 1 (before groups) keyed entries by the index alone; a log store of it is refused at
//! open with a message (no release shipped it).
//!
//! Durability: every group's vote and entries share this RocksDB's one write-ahead log, so writes
//! reach the disk in the order they were made. `save_vote` syncs the log before it returns.
//! `append` writes the entries (readable at once) and hands the flush to the flusher thread,
//! which syncs the log once for every append queued meanwhile, of any group (group commit), and
//! only then tells openraft the entries are durable. Truncate and purge need no sync of their
//! own: any later sync persists them, in order.

use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;

use openraft::storage::{IOFlushed, RaftLogStorage};
use openraft::type_config::alias::{EntryOf, LogIdOf, VoteOf};
use openraft::{LogState, OptionalSend, RaftLogReader};
use rocksdb::{ColumnFamilyDescriptor, Direction, IteratorMode, Options, WriteBatch, DB};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::types::TypeConfig;
use crate::wire;

const CF_LOGS: &str = "logs";
const CF_META: &str = "meta";
const VOTE_KEY: &[u8] = b"vote";
const LAST_PURGED_KEY: &[u8] = b"last_purged";
const COMMITTED_KEY: &[u8] = b"committed";
const FORMAT_KEY: &[u8] = b"format";
/// The layout's version (see the module's table).
const FORMAT: u32 = 2;

/// A Raft group's id within a node (a shard's; group 0 is the first).
pub type GroupId = u32;

/// The logs of every group of one node (a cheap clone).
#[derive(Clone)]
pub struct LogDb {
    db: Arc<DB>,
    flusher: mpsc::Sender<IOFlushed<TypeConfig>>,
}

/// One group's log and vote (a cheap clone: the reader openraft asks for is a clone).
#[derive(Clone)]
pub struct LogStore {
    db: Arc<DB>,
    flusher: mpsc::Sender<IOFlushed<TypeConfig>>,
    group: GroupId,
}

impl LogDb {
    /// Opens (creating if needed) the node's log store in `dir`. A store of another layout
    /// version is refused.
    pub fn open(dir: &Path) -> io::Result<LogDb> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        let cfs =
            [CF_LOGS, CF_META].map(|name| ColumnFamilyDescriptor::new(name, Options::default()));
        let db = Arc::new(DB::open_cf_descriptors(&options, dir, cfs).map_err(other)?);
        let (flusher, queue) = mpsc::channel::<IOFlushed<TypeConfig>>();
        // The flusher holds the database only while it syncs, so the database closes when the
        // last `LogDb` or `LogStore` is dropped (a reopen in the same process then succeeds).
        let flushing = Arc::downgrade(&db);
        std::thread::Builder::new()
            .name("fielddb-log-flush".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut waiting = vec![first];
                    waiting.extend(queue.try_iter());
                    let result = match flushing.upgrade() {
                        Some(db) => db.flush_wal(true).map_err(|e| e.to_string()),
                        None => Err("the log store is closed".to_owned()),
                    };
                    for callback in waiting {
                        callback.io_completed(result.clone().map_err(io::Error::other));
                    }
                }
            })?;
        check_format(&db)?;
        Ok(LogDb { db, flusher })
    }

    /// Group `group`'s log and vote.
    pub fn group(&self, group: GroupId) -> LogStore {
        LogStore {
            db: Arc::clone(&self.db),
            flusher: self.flusher.clone(),
            group,
        }
    }
}

/// Writes the layout version into a new store, and refuses one of another version.
fn check_format(db: &DB) -> io::Result<()> {
    let meta = db
        .cf_handle(CF_META)
        .ok_or_else(|| other("the log store has no meta column family"))?;
    match db.get_cf(meta, FORMAT_KEY).map_err(other)? {
        Some(bytes) if bytes.as_slice() == FORMAT.to_be_bytes() => Ok(()),
        Some(bytes) => Err(invalid(format!(
            "the Raft log store is of layout version {bytes:?}, this build reads {FORMAT}"
        ))),
        None => {
            let logs = db
                .cf_handle(CF_LOGS)
                .ok_or_else(|| other("the log store has no logs column family"))?;
            let holds_entries = db.iterator_cf(logs, IteratorMode::Start).next().is_some();
            let holds_meta = db.iterator_cf(meta, IteratorMode::Start).next().is_some();
            if holds_entries || holds_meta {
                return Err(invalid(
                    "the Raft log store is of layout version 1 (one group, before shards); this \
                     build reads version 2: start this node from an empty directory",
                ));
            }
            db.put_cf(meta, FORMAT_KEY, FORMAT.to_be_bytes())
                .map_err(other)?;
            db.flush_wal(true).map_err(other)
        }
    }
}

impl LogStore {
    /// Opens a log store in `dir` holding one group, group 0 (tests and tools).
    pub fn open(dir: &Path) -> io::Result<LogStore> {
        Ok(LogDb::open(dir)?.group(0))
    }

    /// The group this store is the log of.
    pub fn group_id(&self) -> GroupId {
        self.group
    }

    /// The key of this group's entry at `index`.
    fn index_key(&self, index: u64) -> [u8; 12] {
        let mut key = [0u8; 12];
        key[..4].copy_from_slice(&self.group.to_be_bytes());
        key[4..].copy_from_slice(&index.to_be_bytes());
        key
    }

    /// The log index of one of this group's keys; `None` for another group's.
    fn key_index(&self, key: &[u8]) -> io::Result<Option<u64>> {
        let key = <[u8; 12]>::try_from(key).map_err(|_| invalid("a log key is not 12 bytes"))?;
        if key[..4] != self.group.to_be_bytes() {
            return Ok(None);
        }
        let mut index = [0u8; 8];
        index.copy_from_slice(&key[4..]);
        Ok(Some(u64::from_be_bytes(index)))
    }

    /// The key of this group's meta value `name`.
    fn meta_key(&self, name: &[u8]) -> Vec<u8> {
        let mut key = self.group.to_be_bytes().to_vec();
        key.extend_from_slice(name);
        key
    }

    fn cf(&self, name: &str) -> io::Result<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| io::Error::other(format!("the log store has no column family `{name}`")))
    }

    fn get_meta<T: DeserializeOwned>(&self, name: &[u8]) -> io::Result<Option<T>> {
        match self
            .db
            .get_cf(self.cf(CF_META)?, self.meta_key(name))
            .map_err(other)?
        {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes).map_err(invalid)?)),
            None => Ok(None),
        }
    }

    fn put_meta<T: Serialize>(&self, name: &[u8], value: &T) -> io::Result<()> {
        let bytes = serde_json::to_vec(value).map_err(invalid)?;
        self.db
            .put_cf(self.cf(CF_META)?, self.meta_key(name), bytes)
            .map_err(other)
    }

    fn sync(&self) -> io::Result<()> {
        self.db.flush_wal(true).map_err(other)
    }
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<EntryOf<TypeConfig>>, io::Error> {
        let start = match range.start_bound() {
            Bound::Included(x) => *x,
            Bound::Excluded(x) => x.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let mut entries = Vec::new();
        let from = self.index_key(start);
        let it = self.db.iterator_cf(
            self.cf(CF_LOGS)?,
            IteratorMode::From(&from, Direction::Forward),
        );
        for item in it {
            let (key, value) = item.map_err(other)?;
            let Some(index) = self.key_index(&key)? else {
                break;
            };
            if !range.contains(&index) {
                break;
            }
            let entry: EntryOf<TypeConfig> = wire::decode(&value)?;
            entries.push(entry);
        }
        Ok(entries)
    }

    async fn read_vote(&mut self) -> Result<Option<VoteOf<TypeConfig>>, io::Error> {
        self.get_meta(VOTE_KEY)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        let last_purged_log_id: Option<LogIdOf<TypeConfig>> = self.get_meta(LAST_PURGED_KEY)?;
        let end = self.index_key(u64::MAX);
        let mut last = self
            .db
            .iterator_cf(
                self.cf(CF_LOGS)?,
                IteratorMode::From(&end, Direction::Reverse),
            )
            .take(1);
        let last_log_id = match last.next() {
            Some(item) => {
                let (key, value) = item.map_err(other)?;
                match self.key_index(&key)? {
                    Some(_) => {
                        let entry: EntryOf<TypeConfig> = wire::decode(&value)?;
                        Some(entry.log_id)
                    }
                    None => last_purged_log_id,
                }
            }
            None => last_purged_log_id,
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &VoteOf<TypeConfig>) -> Result<(), io::Error> {
        self.put_meta(VOTE_KEY, vote)?;
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.sync())
            .await
            .map_err(other)?
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogIdOf<TypeConfig>>,
    ) -> Result<(), io::Error> {
        self.put_meta(COMMITTED_KEY, &committed)
    }

    async fn read_committed(&mut self) -> Result<Option<LogIdOf<TypeConfig>>, io::Error> {
        Ok(self
            .get_meta::<Option<LogIdOf<TypeConfig>>>(COMMITTED_KEY)?
            .flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: IOFlushed<TypeConfig>,
    ) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = EntryOf<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let logs = self.cf(CF_LOGS)?;
        let mut batch = WriteBatch::default();
        for entry in entries {
            let value = wire::encode(&entry)?;
            batch.put_cf(logs, self.index_key(entry.log_id.index), value);
        }
        self.db.write(batch).map_err(other)?;
        // Readable now; durable once the flusher has synced the log.
        if let Err(mpsc::SendError(callback)) = self.flusher.send(callback) {
            callback.io_completed(self.sync());
        }
        Ok(())
    }

    async fn truncate_after(
        &mut self,
        last_log_id: Option<LogIdOf<TypeConfig>>,
    ) -> Result<(), io::Error> {
        let start = last_log_id.map_or(0, |id| id.index + 1);
        // The range's end is exclusive: the entry at u64::MAX is deleted on its own (it is never
        // written in practice, but the bound must not leak into the next group).
        let logs = self.cf(CF_LOGS)?;
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(logs, self.index_key(start), self.index_key(u64::MAX));
        batch.delete_cf(logs, self.index_key(u64::MAX));
        self.db.write(batch).map_err(other)
    }

    async fn purge(&mut self, log_id: LogIdOf<TypeConfig>) -> Result<(), io::Error> {
        // The purge point is written first: entries at or before it are ignored from then on.
        self.put_meta(LAST_PURGED_KEY, &log_id)?;
        self.db
            .delete_range_cf(
                self.cf(CF_LOGS)?,
                self.index_key(0),
                self.index_key(log_id.index.saturating_add(1)),
            )
            .map_err(other)
    }
}

#[cfg(test)]
mod tests {
    use openraft::testing::log::{StoreBuilder, Suite};
    use openraft::type_config::TypeConfigExt;
    use openraft::StorageError;

    use super::*;
    use crate::state_machine::StateMachine;

    /// Builds group 7's store in a log store whose groups 6 and 8 already hold entries 0 to
    /// 20 and a vote: the suite then also checks that no group sees or changes another's.
    struct Builder;

    /// Writes entries `0..=20` and a vote into `group`.
    fn fill(db: &LogDb, group: GroupId) -> io::Result<()> {
        let store = db.group(group);
        let logs = store.cf(CF_LOGS)?;
        for index in 0..=20 {
            let entry = openraft::testing::blank_ent::<TypeConfig>(9, 9, index);
            db.db
                .put_cf(logs, store.index_key(index), wire::encode(&entry)?)
                .map_err(other)?;
        }
        store.put_meta(VOTE_KEY, &VoteOf::<TypeConfig>::new(9, 9))
    }

    impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for Builder {
        async fn build(
            &self,
        ) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError<TypeConfig>> {
            let failed = |e: io::Error| StorageError::read(TypeConfig::err_from_error(&e));
            let dir = tempfile::tempdir().map_err(failed)?;
            let db = LogDb::open(&dir.path().join("log")).map_err(failed)?;
            fill(&db, 6).map_err(failed)?;
            fill(&db, 8).map_err(failed)?;
            let sm = StateMachine::open(&dir.path().join("node")).map_err(failed)?;
            Ok((dir, db.group(7), sm))
        }
    }

    #[test]
    fn a_group_leaves_its_neighbours_untouched() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let db = LogDb::open(dir.path()).unwrap();
            fill(&db, 6).unwrap();
            fill(&db, 8).unwrap();
            let mut middle = db.group(7);
            assert!(middle.read_vote().await.unwrap().is_none());
            let state = middle.get_log_state().await.unwrap();
            assert_eq!(state.last_log_id, None);
            let entries = (0..5).map(|i| openraft::testing::blank_ent::<TypeConfig>(1, 1, i));
            middle.append(entries, IOFlushed::noop()).await.unwrap();
            middle
                .truncate_after(Some(openraft::testing::log_id::<TypeConfig>(1, 1, 2)))
                .await
                .unwrap();
            middle
                .purge(openraft::testing::log_id::<TypeConfig>(1, 1, 1))
                .await
                .unwrap();
            assert_eq!(middle.try_get_log_entries(0..100).await.unwrap().len(), 1);
            for neighbour in [6, 8] {
                let mut store = db.group(neighbour);
                let entries = store.try_get_log_entries(0..100).await.unwrap();
                assert_eq!(entries.len(), 21, "group {neighbour}");
                let state = store.get_log_state().await.unwrap();
                assert_eq!(state.last_log_id.unwrap().index, 20, "group {neighbour}");
                assert!(store.read_vote().await.unwrap().is_some());
            }
        });
    }

    #[test]
    fn a_log_store_of_the_first_layout_is_refused_with_a_message() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut options = Options::default();
            options.create_if_missing(true);
            options.create_missing_column_families(true);
            let db = DB::open_cf(&options, dir.path(), [CF_LOGS, CF_META]).unwrap();
            let logs = db.cf_handle(CF_LOGS).unwrap();
            db.put_cf(logs, 1u64.to_be_bytes(), b"entry").unwrap();
        }
        let refused = LogDb::open(dir.path()).err().unwrap();
        assert!(
            refused.to_string().contains("layout version 1"),
            "{refused}"
        );
        // A new directory is stamped and reopens.
        let fresh = tempfile::tempdir().unwrap();
        drop(LogDb::open(fresh.path()).unwrap());
        LogDb::open(fresh.path()).unwrap();
    }

    #[test]
    fn the_log_store_passes_openrafts_conformance_suite() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { Suite::test_all(Builder).await.unwrap() });
    }
}
