//! `LogStore`: the Raft log and vote of one node, in a RocksDB of their own (apart from the
//! data, so a snapshot of the data never carries the log).
//!
//! | column family | key                  | value                                  |
//! |---------------|----------------------|----------------------------------------|
//! | `logs`        | log index (u64 BE)   | the entry, in `wire`'s binary encoding |
//! | `meta`        | `vote`               | the vote, JSON                         |
//! | `meta`        | `last_purged`        | the last purged log id, JSON           |
//! | `meta`        | `committed`          | the last committed log id, JSON        |
//!
//! Durability: vote and entries share this RocksDB's one write-ahead log, so writes reach the
//! disk in the order they were made. `save_vote` syncs the log before it returns. `append`
//! writes the entries (readable at once) and hands the flush to the flusher thread, which syncs
//! the log once for every append queued meanwhile (group commit) and only then tells openraft
//! the entries are durable. Truncate and purge need no sync of their own: any later sync
//! persists them, in order.

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

/// The log store of one node (a cheap clone: the reader openraft asks for is a clone).
#[derive(Clone)]
pub struct LogStore {
    db: Arc<DB>,
    flusher: mpsc::Sender<IOFlushed<TypeConfig>>,
}

impl LogStore {
    /// Opens (creating if needed) the log store in `dir`.
    pub fn open(dir: &Path) -> io::Result<LogStore> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        let cfs =
            [CF_LOGS, CF_META].map(|name| ColumnFamilyDescriptor::new(name, Options::default()));
        let db = Arc::new(DB::open_cf_descriptors(&options, dir, cfs).map_err(other)?);
        let (flusher, queue) = mpsc::channel::<IOFlushed<TypeConfig>>();
        let flushing = Arc::clone(&db);
        std::thread::Builder::new()
            .name("fielddb-log-flush".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut waiting = vec![first];
                    waiting.extend(queue.try_iter());
                    let result = flushing.flush_wal(true).map_err(|e| e.to_string());
                    for callback in waiting {
                        callback.io_completed(result.clone().map_err(io::Error::other));
                    }
                }
            })?;
        Ok(LogStore { db, flusher })
    }

    fn cf(&self, name: &str) -> io::Result<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| io::Error::other(format!("the log store has no column family `{name}`")))
    }

    fn get_meta<T: DeserializeOwned>(&self, key: &[u8]) -> io::Result<Option<T>> {
        match self.db.get_cf(self.cf(CF_META)?, key).map_err(other)? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes).map_err(invalid)?)),
            None => Ok(None),
        }
    }

    fn put_meta<T: Serialize>(&self, key: &[u8], value: &T) -> io::Result<()> {
        let bytes = serde_json::to_vec(value).map_err(invalid)?;
        self.db.put_cf(self.cf(CF_META)?, key, bytes).map_err(other)
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

fn index_key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

fn key_index(key: &[u8]) -> io::Result<u64> {
    <[u8; 8]>::try_from(key)
        .map(u64::from_be_bytes)
        .map_err(|_| invalid("a log key is not 8 bytes"))
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
        let from = index_key(start);
        let it = self.db.iterator_cf(
            self.cf(CF_LOGS)?,
            IteratorMode::From(&from, Direction::Forward),
        );
        for item in it {
            let (key, value) = item.map_err(other)?;
            let index = key_index(&key)?;
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
        let last = self
            .db
            .iterator_cf(self.cf(CF_LOGS)?, IteratorMode::End)
            .next();
        let last_log_id = match last {
            Some(item) => {
                let (_, value) = item.map_err(other)?;
                let entry: EntryOf<TypeConfig> = wire::decode(&value)?;
                Some(entry.log_id)
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
            batch.put_cf(logs, index_key(entry.log_id.index), value);
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
        self.db
            .delete_range_cf(self.cf(CF_LOGS)?, index_key(start), index_key(u64::MAX))
            .map_err(other)
    }

    async fn purge(&mut self, log_id: LogIdOf<TypeConfig>) -> Result<(), io::Error> {
        // The purge point is written first: entries at or before it are ignored from then on.
        self.put_meta(LAST_PURGED_KEY, &log_id)?;
        self.db
            .delete_range_cf(
                self.cf(CF_LOGS)?,
                index_key(0),
                index_key(log_id.index.saturating_add(1)),
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

    struct Builder;

    impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for Builder {
        async fn build(
            &self,
        ) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError<TypeConfig>> {
            let failed = |e: io::Error| StorageError::read(TypeConfig::err_from_error(&e));
            let dir = tempfile::tempdir().map_err(failed)?;
            let log = LogStore::open(&dir.path().join("log")).map_err(failed)?;
            let sm = StateMachine::open(&dir.path().join("node")).map_err(failed)?;
            Ok((dir, log, sm))
        }
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
