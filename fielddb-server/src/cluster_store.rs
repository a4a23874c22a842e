//! `ClusterStore`: the `Store` of a cluster node. Writes go through the Raft log (this node
//! must be the leader; the routing layer forwards otherwise) and answer what applying them
//! answered, awaited on the async runtime (no thread waits on the peers); reads read the local replica, after the routing layer's read barrier (or without
//! it, for `consistency=stale`).

use std::sync::Arc;

use fielddb::{
    Batch, Command, IndexInfo, IndexSpec, Query, QueryOptions, Record, ScanOptions, StorageStats,
    Update, Value, VerifyReport,
};
use fielddb_cluster::{ClientRequest, ClusterNode, Response, Unavailable};

use crate::error::StoreError;
use crate::session::ClientSession;
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

    /// Proposes `command` and waits for its answer.
    async fn write(&self, session: ClientSession, command: Command) -> Result<Response> {
        let client = session
            .0
            .map(|(client, serial)| ClientRequest { client, serial });
        match self.node.write(&command, client).await {
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

/// The 503 for a request the group could not serve.
pub(crate) fn unavailable_error(unavailable: Unavailable) -> StoreError {
    match unavailable {
        Unavailable::NotLeader(leader) => StoreError::Unavailable {
            message: "this node is not the leader (leadership moved during the request)".into(),
            leader: leader.map(|(id, _)| id),
        },
        Unavailable::NoQuorum(leader, message) => StoreError::Unavailable { message, leader },
        Unavailable::Unknown(leader) => StoreError::Unavailable {
            message: "the leader changed before the write committed: its outcome is unknown; \
                      retry it with the same Fielddb-Client and Fielddb-Request"
                .into(),
            leader,
        },
        Unavailable::Stopped(message) => StoreError::Unavailable {
            message: format!("this node has stopped: {message}"),
            leader: None,
        },
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
        Ok(self.node.db().get(key)?)
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
        Ok(self.node.db().scan(options)?)
    }

    fn create_index(self: Arc<Self>, session: ClientSession, spec: IndexSpec) -> WriteFuture<()> {
        Box::pin(async move {
            let command = Command::CreateIndex {
                field: spec.field().to_owned(),
                unique: spec.is_unique(),
                counted: spec.is_counted(),
            };
            self.write(session, command).await.map(drop)
        })
    }

    fn drop_index(self: Arc<Self>, session: ClientSession, field: String) -> WriteFuture<()> {
        Box::pin(async move {
            self.write(session, Command::DropIndex { field })
                .await
                .map(drop)
        })
    }

    fn indexes(&self) -> Vec<IndexInfo> {
        self.node.db().indexes()
    }

    fn query(&self, field: &str, query: &Query, options: &QueryOptions) -> Result<Rows> {
        Ok(self.node.db().query_by_index(field, query, options)?)
    }

    fn count(&self, field: &str, query: &Query) -> Result<u64> {
        Ok(self.node.db().count_by_index(field, query)?)
    }

    fn verify(&self) -> Result<VerifyReport> {
        Ok(self.node.db().verify()?)
    }

    fn stats(&self) -> Result<StorageStats> {
        Ok(self.node.db().storage_stats()?)
    }
}
