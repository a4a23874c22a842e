//! `ClusterStore`: the `Store` of a cluster node. In a cluster of one shard, writes go through
//! group 0's log (this node must be the leader; the routing layer forwards otherwise) and answer
//! what applying them answered, awaited on the async runtime (no thread waits on the peers);
//! reads read the local replica, after the routing layer's read barrier (or without it, for
//! `consistency=stale`). In a cluster of several shards every operation goes to the shards it
//! concerns, wherever they are led (`shard_store`).

use std::sync::Arc;

use fielddb::{
    Batch, Command, Filter, IndexInfo, IndexSpec, Plan, Query, QueryOptions, Record, ScanOptions,
    StorageStats, Update, Value, VerifyReport,
};
use fielddb_cluster::shard_map::ShardMap;
use fielddb_cluster::{ClientRequest, ClusterNode, Response, Unavailable};

use crate::error::{unavailable_error, StoreError};
use crate::session::ClientSession;
use crate::shard_store;
use crate::store::{Result, Rows, Store, WriteFuture};

/// The store of a cluster node.
pub struct ClusterStore {
    node: Arc<ClusterNode>,
}

impl ClusterStore {
    /// The store over `node`.
    pub fn new(node: Arc<ClusterNode>) -> ClusterStore {
        ClusterStore { node }
    }

    /// Proposes `command` in the group of `key` (group 0 in a one-shard cluster) and waits
    /// for its answer.
    async fn write(&self, session: ClientSession, command: Command) -> Result<Response> {
        let client = session
            .0
            .map(|(client, serial)| ClientRequest { client, serial });
        let outcome = match self.node.sharded() {
            Some(map) => {
                let group = match &command {
                    Command::Batch(_) => shard_store::group_of_batch(&map, &command)?,
                    other => match other.key() {
                        Some(key) => shard_store::group_of_key(&map, key),
                        None => {
                            return Err(StoreError::Internal(
                                "a keyless command sent to one shard".into(),
                            ))
                        }
                    },
                };
                self.node.propose(group, &command, client).await
            }
            None => {
                // Group 0 holds the data and, once a cluster is made sharded, the shard map.
                let keys: Vec<&[u8]> = match &command {
                    Command::Batch(ops) => ops
                        .iter()
                        .map(|op| match op {
                            fielddb::BatchCommand::Put(key, _)
                            | fielddb::BatchCommand::Delete(key) => key.as_slice(),
                        })
                        .collect(),
                    other => other.key().into_iter().collect(),
                };
                if let Some(key) = keys.into_iter().find(|k| ShardMap::is_map_key(k)) {
                    return Err(StoreError::Db(fielddb::Error::InvalidArgument(format!(
                        "key {} is reserved in a cluster of one shard (`shards` and `shard/...` \
                         hold a sharded cluster's map)",
                        fielddb::display_key(key)
                    ))));
                }
                self.node.write(&command, client).await
            }
        };
        Self::answer(outcome)
    }

    /// Runs an index command on every shard (group 0 in a one-shard cluster).
    async fn ddl(
        &self,
        session: ClientSession,
        command: Command,
        already: fn(&fielddb::Error) -> bool,
    ) -> Result<()> {
        let Some(map) = self.node.sharded() else {
            return self.write(session, command).await.map(drop);
        };
        let client = session
            .0
            .map(|(client, serial)| ClientRequest { client, serial });
        shard_store::on_every_shard(&self.node, &map, &command, client, already).await
    }

    fn answer(outcome: std::result::Result<Response, Unavailable>) -> Result<Response> {
        match outcome {
            Ok(Response::Failed(failure)) => Err(StoreError::Db(failure.into_error())),
            Ok(Response::Stale) => Err(StoreError::Db(fielddb::Error::InvalidArgument(
                "this request number is older than the client's latest; its answer is no longer kept"
                    .into(),
            ))),
            Ok(response) => Ok(response),
            Err(unavailable) => Err(unavailable_error(unavailable)),
        }
    }
}

/// The record a command answers with (`what` names the command if it answered otherwise).
fn record_answer(response: Response, what: &str) -> Result<Record> {
    match response {
        Response::Record(bytes) => Ok(fielddb::decode_record(&bytes)?),
        _ => Err(StoreError::Db(fielddb::Error::Corruption(format!(
            "{what} answered without its record"
        )))),
    }
}

impl Store for ClusterStore {
    fn put(
        self: Arc<Self>,
        session: ClientSession,
        key: Vec<u8>,
        record: Record,
    ) -> WriteFuture<()> {
        Box::pin(async move {
            let command = Command::Put { key, record };
            self.write(session, command).await.map(drop)
        })
    }

    fn get(&self, key: &[u8]) -> Result<Option<Record>> {
        match self.node.sharded() {
            Some(map) => shard_store::get(&self.node, &map, key),
            None => Ok(self.node.db().get(key)?),
        }
    }

    fn delete(self: Arc<Self>, session: ClientSession, key: Vec<u8>) -> WriteFuture<bool> {
        Box::pin(async move {
            match self.write(session, Command::Delete { key }).await? {
                Response::Existed(existed) => Ok(existed),
                _ => Ok(false),
            }
        })
    }

    fn append(
        self: Arc<Self>,
        session: ClientSession,
        key: Vec<u8>,
        field: String,
        value: Value,
    ) -> WriteFuture<Record> {
        Box::pin(async move {
            let command = Command::Append { key, field, value };
            record_answer(self.write(session, command).await?, "an append")
        })
    }

    fn update(
        self: Arc<Self>,
        session: ClientSession,
        key: Vec<u8>,
        update: Update,
        create: bool,
    ) -> WriteFuture<Record> {
        Box::pin(async move {
            let command = Command::Update {
                key,
                update,
                create,
            };
            record_answer(self.write(session, command).await?, "an update")
        })
    }

    fn batch(self: Arc<Self>, session: ClientSession, batch: Batch) -> WriteFuture<()> {
        Box::pin(async move { self.write(session, batch.into_command()).await.map(drop) })
    }

    fn scan(&self, options: &ScanOptions) -> Result<Rows> {
        match self.node.sharded() {
            Some(map) => shard_store::scan(&self.node, &map, options),
            None => Ok(self.node.db().scan(options)?),
        }
    }

    fn create_index(self: Arc<Self>, session: ClientSession, spec: IndexSpec) -> WriteFuture<()> {
        Box::pin(async move {
            if let (Some(map), true) = (self.node.sharded(), spec.is_unique()) {
                return shard_store::refuse_unique(&map, &spec.name());
            }
            let command = Command::CreateIndex {
                fields: spec.fields().to_vec(),
                unique: spec.is_unique(),
                counted: spec.is_counted(),
                covering: spec.covering().clone(),
            };
            self.ddl(session, command, |e| {
                matches!(e, fielddb::Error::IndexExists(_))
            })
            .await
        })
    }

    fn drop_index(self: Arc<Self>, session: ClientSession, field: String) -> WriteFuture<()> {
        Box::pin(async move {
            self.ddl(session, Command::DropIndex { field }, |e| {
                matches!(e, fielddb::Error::NoSuchIndex { .. })
            })
            .await
        })
    }

    fn indexes(&self) -> Result<Vec<IndexInfo>> {
        match self.node.sharded() {
            Some(map) => shard_store::indexes(&self.node, &map),
            None => Ok(self.node.db().indexes()),
        }
    }

    fn index_by_shard(&self, field: &str) -> Result<Option<Vec<Option<IndexInfo>>>> {
        match self.node.sharded() {
            Some(map) => shard_store::index_by_shard(&self.node, &map, field).map(Some),
            None => Ok(None),
        }
    }

    fn query(&self, field: &str, query: &Query, options: &QueryOptions) -> Result<Rows> {
        match self.node.sharded() {
            Some(map) => shard_store::query(&self.node, &map, field, query, options),
            None => Ok(self.node.db().query_by_index(field, query, options)?),
        }
    }

    fn count(&self, field: &str, query: &Query) -> Result<u64> {
        match self.node.sharded() {
            Some(map) => shard_store::count(&self.node, &map, field, query),
            None => Ok(self.node.db().count_by_index(field, query)?),
        }
    }

    fn query_filter(&self, filter: &Filter, options: &QueryOptions) -> Result<Rows> {
        match self.node.sharded() {
            Some(map) => Err(shard_store::refuse_filter(&map)),
            None => Ok(self.node.db().query(filter, options)?),
        }
    }

    fn count_filter(&self, filter: &Filter) -> Result<u64> {
        match self.node.sharded() {
            Some(map) => Err(shard_store::refuse_filter(&map)),
            None => Ok(self.node.db().count(filter)?),
        }
    }

    fn explain(&self, filter: &Filter) -> Result<Plan> {
        match self.node.sharded() {
            Some(map) => Err(shard_store::refuse_filter(&map)),
            None => Ok(self.node.db().explain(filter)?),
        }
    }

    fn verify(&self) -> Result<VerifyReport> {
        match self.node.sharded() {
            Some(map) => shard_store::verify(&self.node, &map),
            None => Ok(self.node.db().verify()?),
        }
    }

    fn stats(&self) -> Result<StorageStats> {
        match self.node.sharded() {
            Some(map) => shard_store::stats(&self.node, &map),
            None => Ok(self.node.db().storage_stats()?),
        }
    }
}
