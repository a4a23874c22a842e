//! `ClusterNode`: one member of a FieldDB cluster — its Raft groups (`group.rs`), the log store
//! they share and the network they share, and the node-level facts the server asks for.
//!
//! | path under the node directory | holds                                            |
//! |-------------------------------|--------------------------------------------------|
//! | `raft/`                       | the log store of every group (`log_store.rs`)    |
//! | `replica/`                    | group 0's replica (`state_machine.rs`)           |
//!
//! Today a node holds one group, group 0, and the group operations below are group 0's (the
//! server's whole API). Shards will add groups (DESIGN.md 10.2); the peers' RPCs already name
//! the group they are for, and reach it through [`ClusterNode::group`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use fielddb::{Command, FieldDb};

use crate::config::NodeConfig;
use crate::group::{MembershipError, RaftGroup, Status, Unavailable};
use crate::log_store::{GroupId, LogDb};
use crate::network::Network;
use crate::peer_http::PeerHttp;
use crate::types::{ClientRequest, NodeId, Response};

/// One member of a FieldDB cluster.
pub struct ClusterNode {
    config: Arc<NodeConfig>,
    /// Group 0, which every node holds.
    first: Arc<RaftGroup>,
    /// The groups this node holds, by id, group 0 among them (only group 0 today).
    groups: BTreeMap<GroupId, Arc<RaftGroup>>,
}

impl std::fmt::Debug for ClusterNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterNode")
            .field("id", &self.config.id)
            .field("groups", &self.groups.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ClusterNode {
    /// Opens the node's storage and starts its groups (inside a tokio runtime).
    pub async fn start(config: NodeConfig) -> Result<Arc<ClusterNode>, String> {
        std::fs::create_dir_all(&config.dir)
            .map_err(|e| format!("cannot create {}: {e}", config.dir.display()))?;
        let logs = LogDb::open(&config.dir.join("raft"))
            .map_err(|e| format!("cannot open the Raft log: {e}"))?;
        let network = Network::new(
            config.peer_http.clone(),
            config.token.clone(),
            config.peers.clone(),
        )?;
        let config = Arc::new(config);
        let first = RaftGroup::start(
            Arc::clone(&config),
            0,
            logs.group(0),
            network.for_group(0),
            config.dir.join("replica"),
        )
        .await?;
        let first = Arc::new(first);
        Ok(Arc::new(ClusterNode {
            config,
            groups: BTreeMap::from([(0, Arc::clone(&first))]),
            first,
        }))
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.config.id
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.config.request_timeout
    }

    /// How this node reaches its peers (the server forwards client requests the same way).
    pub fn peer_http(&self) -> &PeerHttp {
        &self.config.peer_http
    }

    /// Group `group`, when this node holds it.
    pub fn group(&self, group: GroupId) -> Option<&Arc<RaftGroup>> {
        self.groups.get(&group)
    }

    /// Group 0, whose operations the methods below are.
    fn first(&self) -> &RaftGroup {
        &self.first
    }

    /// The local replica (for reads after a barrier, or stale reads).
    pub fn db(&self) -> FieldDb {
        self.first().db()
    }

    /// The leader this node knows of, with its address.
    pub fn leader(&self) -> Option<(NodeId, String)> {
        self.first().leader()
    }

    /// True when this node is the leader now.
    pub fn is_leader(&self) -> bool {
        self.first().is_leader()
    }

    /// The group as this node sees it.
    pub fn status(&self) -> Status {
        self.first().status()
    }

    /// Proposes `command` and waits until it is applied here; returns its answer.
    pub async fn write(
        &self,
        command: &Command,
        session: Option<ClientRequest>,
    ) -> Result<Response, Unavailable> {
        self.first().write(command, session).await
    }

    /// Waits until a read here is linearizable (see `RaftGroup::read_barrier`).
    pub async fn read_barrier(&self) -> Result<(), Unavailable> {
        self.first().read_barrier().await
    }

    /// Makes the configured peers the voting members (idempotent; 409 for another membership).
    pub async fn init(&self) -> Result<bool, MembershipError> {
        self.first().init().await
    }

    /// Adds a learner and waits until it has caught up.
    pub async fn add_learner(&self, id: NodeId, addr: String) -> Result<(), MembershipError> {
        self.first().add_learner(id, addr).await
    }

    /// Makes `voters` the voting members. One change at a time.
    pub async fn change_voters(&self, voters: BTreeSet<NodeId>) -> Result<(), MembershipError> {
        self.first().change_voters(voters).await
    }

    /// Hands the leadership to voter `to` and waits until it leads.
    pub async fn transfer_leader(&self, to: NodeId) -> Result<(), MembershipError> {
        self.first().transfer_leader(to).await
    }

    /// The replica's content hash (records, index entries, counts) with its applied position.
    pub fn content_hash(&self) -> Result<fielddb::ContentHash, String> {
        self.first().content_hash()
    }

    /// Asks for a snapshot now (it is built in the background).
    pub async fn trigger_snapshot(&self) -> Result<(), String> {
        self.first().trigger_snapshot().await
    }

    /// Stops every group's Raft (the replicas close when their last handles go).
    pub async fn shutdown(&self) {
        for group in self.groups.values() {
            group.shutdown().await;
        }
    }
}
