//! `RaftGroup`: one Raft group on this node — its openraft instance over its log (one group
//! of the node's `LogDb`), its FieldDB replica (`state_machine`) and the network — and what is
//! asked of a group: writes through the log, read barriers, its status, membership changes,
//! and the peers' RPCs for it.
//!
//! On the group's leader a background task proposes `BuildStep` commands for every index that
//! is building, so index builds advance through the log (see `docs/architecture/library.md`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fielddb::{Command, FieldDb, IndexState};
use openraft::errors::{ClientWriteError, ForwardReason, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::raft::{TransferLeaderRequest, TransferLeaderResponse};
use openraft::type_config::alias::{SnapshotMetaOf, VoteOf};
use openraft::type_config::async_runtime::WatchReceiver;
use openraft::{BasicNode, Config, ServerState, Snapshot, SnapshotPolicy};
use serde::Serialize;
use tokio::sync::Mutex;

use crate::config::NodeConfig;
use crate::log_store::{GroupId, LogStore};
use crate::network::Network;
use crate::proposer::Proposer;
use crate::read_gate::{ReadGate, Refusal};
use crate::shard_read::{ShardAnswer, ShardRead};
use crate::snapshot_stream::{self, ChunkReader};
use crate::state_machine::{SharedDb, SnapshotDir, StateMachine};
use crate::types::{ClientRequest, Failure, NodeId, Request, Response, TypeConfig};

pub use crate::state_machine::Raft;

/// How long adding a learner waits for it to catch up: as long as a snapshot may take.
pub const LEARNER_CATCH_UP_TIMEOUT: Duration = crate::network::SNAPSHOT_TIMEOUT;

/// The largest snapshot header (vote and metadata, JSON) accepted from a leader.
const MAX_SNAPSHOT_HEADER: usize = 16 << 20;

/// Why openraft did not take a write or a membership change.
type WriteRefusal = RaftError<TypeConfig, ClientWriteError<TypeConfig>>;

/// Whether `error` is a leader's refusal for want of a lease a quorum has confirmed (just
/// elected, or cut off from its followers): nothing was logged, so the request may be offered
/// again.
fn lease_unconfirmed(error: &WriteRefusal) -> bool {
    error
        .forward_to_leader()
        .is_some_and(|forward| forward.reason == ForwardReason::LeaseExpired)
}

/// How long a write refused for want of a confirmed lease waits before it is offered again.
const LEASE_RETRY_PAUSE: Duration = Duration::from_millis(10);

/// How many records one logged build step indexes.
const BUILD_STEP_RECORDS: u32 = 1000;

/// Why a write or a linearizable read could not be served here (it travels back to the node a
/// request was forwarded from).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub enum Unavailable {
    /// This node is not the leader; the leader, if known, with its address.
    NotLeader(Option<(NodeId, String)>),
    /// No answer within the request timeout, or the group lost its quorum; the leader this
    /// node knows of, if any.
    NoQuorum(Option<NodeId>, String),
    /// The write was logged but its outcome is unknown (the leader changed before it
    /// committed); retrying it with the same client request number is safe.
    Unknown(Option<NodeId>),
    /// This node has stopped (its storage failed, or it is shutting down).
    Stopped(String),
}

/// Why a membership change or an init was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum MembershipError {
    /// Another change is in progress, or init asked for another membership: 409.
    Conflict(String),
    /// Not possible here and now (not the leader, no quorum): 503.
    Unavailable(Unavailable),
    /// A bad request (an unknown node, an empty set): 400.
    Invalid(String),
}

/// What `GET /v1/cluster` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// This node.
    pub node_id: NodeId,
    /// `leader`, `follower`, `candidate`, `learner` (or `shutdown`).
    pub role: String,
    /// The leader this node knows of.
    pub leader: Option<NodeId>,
    /// The current term.
    pub term: u64,
    /// The voting members.
    pub voters: Vec<NodeId>,
    /// The non-voting members.
    pub learners: Vec<NodeId>,
    /// The last index of the local log.
    pub last_log_index: Option<u64>,
    /// The last index applied to the local replica.
    pub last_applied: Option<u64>,
    /// The last index in the newest snapshot.
    pub snapshot: Option<u64>,
    /// The last index purged from the local log.
    pub purged: Option<u64>,
}

/// One Raft group of this node.
pub struct RaftGroup {
    id: GroupId,
    config: Arc<NodeConfig>,
    /// The replica's directory (its snapshots arrive under it).
    replica_dir: PathBuf,
    raft: Raft,
    db: SharedDb,
    membership_change: Mutex<()>,
    /// Client writes go to Raft through here, in groups.
    proposer: Proposer,
    /// Linearizable reads wait here, for a leadership confirmation shared by all waiting.
    read_gate: ReadGate,
    /// The tasks this group runs beside Raft: the build-step proposer, the write queue's and the
    /// read rounds'.
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for RaftGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaftGroup")
            .field("id", &self.id)
            .field("node", &self.config.id)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl RaftGroup {
    /// Opens group `id`'s replica in `replica_dir` and starts its Raft instance over `log` and
    /// `network` (inside a tokio runtime).
    pub(crate) async fn start(
        config: Arc<NodeConfig>,
        id: GroupId,
        log: LogStore,
        network: Network,
        replica_dir: PathBuf,
    ) -> Result<RaftGroup, String> {
        let machine = StateMachine::open_with(
            &replica_dir,
            config.session_ttl_ms,
            Some(config.block_cache.clone()),
        )
        .map_err(|e| format!("cannot open the replica of group {id}: {e}"))?;
        let db = machine.shared();
        // Many groups on one node: their heartbeats are staggered (100 to 135 ms by group), so
        // the groups' ticks do not all fall on the same instant.
        let stagger = u64::from(id % 8) * 5;
        let raft_config = Config {
            cluster_name: format!("fielddb-{id}"),
            heartbeat_interval: 100 + stagger,
            election_timeout_min: 400 + 2 * stagger,
            election_timeout_max: 800 + 2 * stagger,
            install_snapshot_timeout: crate::network::SNAPSHOT_TIMEOUT.as_millis() as u64,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(config.snapshot_every.max(1)),
            // Followers further behind than this catch up by snapshot.
            replication_lag_threshold: config.snapshot_every.max(1) * 2,
            max_in_snapshot_log_to_keep: (config.snapshot_every / 10).min(1000),
            purge_batch_size: 64,
            ..Config::default()
        };
        let raft_config = Arc::new(
            raft_config
                .validate()
                .map_err(|e| format!("bad Raft configuration: {e}"))?,
        );
        let raft = Raft::new(config.id, raft_config, network, log, machine)
            .await
            .map_err(|e| format!("cannot start Raft for group {id}: {e}"))?;
        let build_steps = tokio::spawn(propose_build_steps(raft.clone(), db.clone()));
        let (proposer, submitter) = Proposer::start(raft.clone());
        let (read_gate, read_rounds) = ReadGate::start(raft.clone(), config.request_timeout);
        Ok(RaftGroup {
            id,
            config,
            replica_dir,
            raft,
            db,
            membership_change: Mutex::new(()),
            proposer,
            read_gate,
            tasks: vec![build_steps, submitter, read_rounds],
        })
    }

    /// This group's id.
    pub fn id(&self) -> GroupId {
        self.id
    }

    /// The local replica (for reads after a barrier, or stale reads).
    pub fn db(&self) -> FieldDb {
        self.db.get()
    }

    /// The leader this node knows of, with its address.
    pub fn leader(&self) -> Option<(NodeId, String)> {
        let metrics = self.raft.metrics().borrow_watched().clone();
        let leader = metrics.current_leader?;
        let addr = self.config.peers.get(&leader).cloned().or_else(|| {
            metrics
                .membership_config
                .membership()
                .get_node(&leader)
                .map(|n| n.addr.clone())
        })?;
        Some((leader, addr))
    }

    /// The last log index applied to the replica.
    pub fn last_applied(&self) -> Option<u64> {
        self.raft
            .metrics()
            .borrow_watched()
            .last_applied
            .as_ref()
            .map(|id| id.index)
    }

    /// The address the group's membership gives for node `id`.
    pub fn node_addr(&self, id: NodeId) -> Option<String> {
        let metrics = self.raft.metrics().borrow_watched().clone();
        let membership = metrics.membership_config.membership();
        membership.get_node(&id).map(|n| n.addr.clone())
    }

    /// True when this node is the leader now.
    pub fn is_leader(&self) -> bool {
        let metrics = self.raft.metrics().borrow_watched().clone();
        metrics.state == ServerState::Leader
    }

    /// The group as this node sees it.
    pub fn status(&self) -> Status {
        let metrics = self.raft.metrics().borrow_watched().clone();
        let membership = metrics.membership_config.membership();
        Status {
            node_id: self.config.id,
            role: match metrics.state {
                ServerState::Leader => "leader",
                ServerState::Follower => "follower",
                ServerState::Candidate => "candidate",
                ServerState::Learner => "learner",
                ServerState::Shutdown => "shutdown",
            }
            .into(),
            leader: metrics.current_leader,
            term: metrics.current_term,
            voters: membership.voter_ids().collect(),
            learners: membership.learner_ids().collect(),
            last_log_index: metrics.last_log_index,
            last_applied: metrics.last_applied.map(|id| id.index),
            snapshot: metrics.snapshot.map(|id| id.index),
            purged: metrics.purged.map(|id| id.index),
        }
    }

    fn unavailable_from<E>(&self, error: &RaftError<TypeConfig, E>) -> Unavailable
    where
        E: std::fmt::Display
            + std::fmt::Debug
            + openraft::TryAsRef<openraft::errors::ForwardToLeader<TypeConfig>>,
    {
        if let Some(forward) = error.forward_to_leader() {
            if forward.reason == ForwardReason::LeaseExpired {
                // This node leads, but no quorum has acknowledged it lately: nothing to follow.
                return Unavailable::NoQuorum(
                    self.status().leader,
                    format!(
                        "no quorum confirmed this node's leadership within {} ms (just elected, \
                         or cut off from its followers); nothing was logged",
                        self.config.request_timeout.as_millis()
                    ),
                );
            }
            let leader = forward.leader_id.map(|id| {
                let addr = self
                    .config
                    .peers
                    .get(&id)
                    .cloned()
                    .or_else(|| forward.leader_node.as_ref().map(|n| n.addr.clone()))
                    .unwrap_or_default();
                (id, addr)
            });
            return Unavailable::NotLeader(leader);
        }
        match error {
            RaftError::Fatal(fatal) => Unavailable::Stopped(fatal.to_string()),
            RaftError::APIError(e) => Unavailable::NoQuorum(self.status().leader, e.to_string()),
        }
    }

    /// Proposes `command` and waits until it is applied here; returns its answer.
    pub async fn write(
        &self,
        command: &Command,
        session: Option<ClientRequest>,
    ) -> Result<Response, Unavailable> {
        let bytes = match command.encode() {
            Ok(bytes) => bytes,
            Err(e) => return Ok(Response::Failed(Failure::from_error(&e))),
        };
        self.write_encoded(bytes, session).await
    }

    /// Proposes a command already encoded (`fielddb::Command::encode`; one a peer forwarded)
    /// and waits until it is applied here; returns its answer.
    ///
    /// A leader whose lease no quorum has confirmed yet (just elected, before a follower has
    /// acknowledged it) refuses a write without logging it; the write is offered again every
    /// `LEASE_RETRY_PAUSE` until the request timeout, so an election is not seen as a 503.
    pub async fn write_encoded(
        &self,
        bytes: Vec<u8>,
        session: Option<ClientRequest>,
    ) -> Result<Response, Unavailable> {
        let deadline = self.deadline();
        let offered = self.once_lease_confirmed(deadline, || async {
            let request = Request {
                command: bytes.clone(),
                session: session.clone(),
                stamp_ms: now_ms(),
            };
            match self.proposer.write(request).await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(refused)) => Err(RaftError::APIError(refused)),
                Err(fatal) => Err(RaftError::Fatal(fatal)),
            }
        });
        match tokio::time::timeout_at(deadline, offered).await {
            Ok(Ok(response)) => Ok(response.data),
            Ok(Err(error)) => match error.api_error() {
                Some(ClientWriteError::LogEntryDiscarded(_)) => {
                    Err(Unavailable::Unknown(self.status().leader))
                }
                _ => Err(self.unavailable_from(&error)),
            },
            Err(_) => Err(Unavailable::NoQuorum(
                self.status().leader,
                format!(
                    "the write was not committed within {} ms",
                    self.config.request_timeout.as_millis()
                ),
            )),
        }
    }

    /// Waits until a read here is linearizable (read-index through the leader): this node
    /// must be the leader, confirm it with a quorum, and have applied up to the read index.
    /// Reads waiting together share one confirmation (`ReadGate`).
    pub async fn read_barrier(&self) -> Result<(), Unavailable> {
        let barrier =
            tokio::time::timeout(self.config.request_timeout, self.read_gate.pass()).await;
        match barrier {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Refusal::Raft(error))) => Err(self.unavailable_from(&error)),
            Ok(Err(Refusal::TimedOut)) | Err(_) => Err(Unavailable::NoQuorum(
                self.status().leader,
                format!(
                    "no quorum confirmed the leader within {} ms",
                    self.config.request_timeout.as_millis()
                ),
            )),
        }
    }

    /// Answers `read` from this replica once a read here is linearizable (`read_barrier`).
    pub async fn read(&self, read: ShardRead) -> Result<ShardAnswer, Unavailable> {
        self.read_barrier().await?;
        let db = self.db();
        tokio::task::spawn_blocking(move || read.run(&db))
            .await
            .map_err(|e| Unavailable::Stopped(format!("the read's task failed: {e}")))
    }

    /// Makes the configured peers the voting members. Idempotent: asked again with the same
    /// membership it does nothing; with another one it is a conflict.
    pub async fn init(&self) -> Result<bool, MembershipError> {
        self.init_with(&self.config.peers).await
    }

    /// Makes `members` (id to address) the voting members; idempotent as `init`.
    pub async fn init_with(
        &self,
        members: &BTreeMap<NodeId, String>,
    ) -> Result<bool, MembershipError> {
        let initialized = self
            .raft
            .is_initialized()
            .await
            .map_err(|e| MembershipError::Unavailable(Unavailable::Stopped(e.to_string())))?;
        let wanted: BTreeSet<NodeId> = members.keys().copied().collect();
        if initialized {
            let status = self.status();
            let voters: BTreeSet<NodeId> = status.voters.iter().copied().collect();
            if voters == wanted || voters.is_empty() {
                return Ok(false);
            }
            return Err(MembershipError::Conflict(format!(
                "the group is already initialized with voters {voters:?}, not {wanted:?}"
            )));
        }
        let members: BTreeMap<NodeId, BasicNode> = members
            .iter()
            .map(|(id, addr)| (*id, BasicNode::new(addr)))
            .collect();
        match self.raft.initialize(members).await {
            Ok(()) => Ok(true),
            Err(RaftError::APIError(openraft::errors::InitializeError::NotAllowed(_))) => Ok(false),
            Err(e) => Err(MembershipError::Invalid(e.to_string())),
        }
    }

    /// Adds a learner and waits until it has caught up (at most [`LEARNER_CATCH_UP_TIMEOUT`];
    /// it stays a learner after that). One change at a time: the change is under way until
    /// this returns or its caller gives up.
    pub async fn add_learner(&self, id: NodeId, addr: String) -> Result<(), MembershipError> {
        let _one = self.membership_change.try_lock().map_err(|_| {
            MembershipError::Conflict("another membership change is in progress".into())
        })?;
        // openraft's own blocking add returns when the learner is within the lag threshold
        // (thousands of entries); here it returns when the learner holds the log up to the
        // membership entry that added it.
        let node = BasicNode::new(addr);
        let added = self
            .once_lease_confirmed(self.deadline(), || {
                self.raft.add_learner(id, node.clone(), false)
            })
            .await
            .map_err(|e| self.membership_error(e))?;
        let target = added.log_id.index;
        let waited = self
            .raft
            .wait(Some(LEARNER_CATCH_UP_TIMEOUT))
            .metrics(
                |m| match &m.replication {
                    // Not the leader any more: nothing to wait for here.
                    None => true,
                    Some(progress) => progress
                        .get(&id)
                        .is_some_and(|matched| matched.as_ref().is_some_and(|l| l.index >= target)),
                },
                "the new learner holds the log",
            )
            .await;
        match waited {
            Ok(metrics) if metrics.replication.is_some() => Ok(()),
            Ok(_) => Err(MembershipError::Unavailable(Unavailable::NotLeader(
                self.leader(),
            ))),
            Err(_) => Err(MembershipError::Unavailable(Unavailable::NoQuorum(
                self.status().leader,
                format!(
                    "learner {id} has not caught up within {} s; it stays a learner and goes on \
                     catching up (GET /v1/cluster shows it)",
                    LEARNER_CATCH_UP_TIMEOUT.as_secs()
                ),
            ))),
        }
    }

    /// Makes `voters` the voting members (learners named there are promoted). One at a time.
    pub async fn change_voters(&self, voters: BTreeSet<NodeId>) -> Result<(), MembershipError> {
        if voters.is_empty() {
            return Err(MembershipError::Invalid(
                "the voters may not be empty".into(),
            ));
        }
        let _one = self.membership_change.try_lock().map_err(|_| {
            MembershipError::Conflict("another membership change is in progress".into())
        })?;
        self.once_lease_confirmed(self.deadline(), || {
            self.raft.change_membership(voters.clone(), false)
        })
        .await
        .map(drop)
        .map_err(|e| self.membership_error(e))
    }

    /// Runs `attempt` (a write or a membership change) again every `LEASE_RETRY_PAUSE` while
    /// this leader's lease is not confirmed yet, until `deadline`.
    async fn once_lease_confirmed<T, F, Fut>(
        &self,
        deadline: tokio::time::Instant,
        attempt: F,
    ) -> Result<T, WriteRefusal>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, WriteRefusal>>,
    {
        loop {
            match attempt().await {
                Err(error)
                    if lease_unconfirmed(&error)
                        && tokio::time::Instant::now() + LEASE_RETRY_PAUSE < deadline =>
                {
                    tokio::time::sleep(LEASE_RETRY_PAUSE).await;
                }
                other => return other,
            }
        }
    }

    /// When a request started now must be answered: the request timeout from now.
    fn deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::now() + self.config.request_timeout
    }

    fn membership_error(&self, error: WriteRefusal) -> MembershipError {
        match error.api_error() {
            Some(ClientWriteError::ChangeMembershipError(e)) => match e {
                openraft::errors::ChangeMembershipError::InProgress(_) => {
                    MembershipError::Conflict(e.to_string())
                }
                _ => MembershipError::Invalid(e.to_string()),
            },
            _ => MembershipError::Unavailable(self.unavailable_from(&error)),
        }
    }

    /// The replica's content hash (records, index entries, counts) with its applied position.
    pub fn content_hash(&self) -> Result<fielddb::ContentHash, String> {
        self.db().content_hash().map_err(|e| e.to_string())
    }

    /// Backs this replica up into backup directory `dir`: a checkpoint of it (one consistent
    /// point, with the log position it had applied there) is opened aside, backed up and
    /// removed, so the backup's `position` is that log id (JSON), exactly.
    pub fn backup_to(&self, dir: &std::path::Path) -> fielddb::Result<fielddb::BackupInfo> {
        let scratch = self.replica_dir.join(format!("backup-{}", now_ms()));
        self.db().checkpoint(&scratch)?;
        let backed_up = FieldDb::open_with(&scratch, fielddb::Options::default().replica(true))
            .and_then(|copy| copy.backup_to(dir));
        let _ = std::fs::remove_dir_all(&scratch);
        backed_up
    }

    /// Asks for a snapshot now (it is built in the background).
    pub async fn trigger_snapshot(&self) -> Result<(), String> {
        self.raft
            .trigger()
            .snapshot()
            .await
            .map_err(|e| e.to_string())
    }

    /// A peer's append-entries RPC.
    pub async fn handle_append(
        &self,
        request: AppendEntriesRequest<TypeConfig>,
    ) -> Result<AppendEntriesResponse<TypeConfig>, String> {
        self.raft
            .append_entries(request)
            .await
            .map_err(|e| e.to_string())
    }

    /// A leader's hand-over of its leadership to this node.
    pub async fn handle_transfer_leader(
        &self,
        request: TransferLeaderRequest<TypeConfig>,
    ) -> Result<TransferLeaderResponse<TypeConfig>, String> {
        self.raft
            .handle_transfer_leader(request)
            .await
            .map_err(|e| e.to_string())
    }

    /// Hands the leadership to voter `to` (this node must be the leader) and waits, at most the
    /// request timeout, until `to` leads.
    pub async fn transfer_leader(&self, to: NodeId) -> Result<(), MembershipError> {
        let status = self.status();
        if !status.voters.contains(&to) {
            return Err(MembershipError::Invalid(format!(
                "node {to} is not a voter (voters: {:?})",
                status.voters
            )));
        }
        if status.leader == Some(to) {
            return Ok(());
        }
        if status.leader != Some(self.config.id) {
            return Err(MembershipError::Unavailable(Unavailable::NotLeader(
                self.leader(),
            )));
        }
        self.raft
            .trigger()
            .transfer_leader(to)
            .await
            .map_err(|e| MembershipError::Unavailable(Unavailable::Stopped(e.to_string())))?;
        let waited = self
            .raft
            .wait(Some(self.config.request_timeout))
            .metrics(|m| m.current_leader == Some(to), "the new leader leads")
            .await;
        waited.map(drop).map_err(|_| {
            MembershipError::Unavailable(Unavailable::NoQuorum(
                self.status().leader,
                format!(
                    "node {to} did not take the leadership within {} ms",
                    self.config.request_timeout.as_millis()
                ),
            ))
        })
    }

    /// A peer's vote RPC.
    pub async fn handle_vote(
        &self,
        request: VoteRequest<TypeConfig>,
    ) -> Result<VoteResponse<TypeConfig>, String> {
        self.raft.vote(request).await.map_err(|e| e.to_string())
    }

    /// A leader's full snapshot, its stream arriving on `chunks`: unpacked into the snapshots
    /// directory as it comes (on a blocking thread), then installed.
    pub async fn handle_snapshot(
        &self,
        chunks: tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    ) -> Result<SnapshotResponse<TypeConfig>, String> {
        let incoming = self
            .replica_dir
            .join("snapshots")
            .join(format!("incoming-{}", now_ms()));
        let dir = incoming.clone();
        let received = tokio::task::spawn_blocking(move || {
            let mut stream = ChunkReader::new(chunks);
            let header = snapshot_stream::unpack(&mut stream, &dir, MAX_SNAPSHOT_HEADER)?;
            serde_json::from_slice::<(VoteOf<TypeConfig>, SnapshotMetaOf<TypeConfig>)>(&header)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
        })
        .await
        .map_err(|e| e.to_string())?;
        let (vote, meta) = received.map_err(|e| {
            let _ = std::fs::remove_dir_all(&incoming);
            format!("a malformed snapshot: {e}")
        })?;
        let snapshot = Snapshot {
            meta,
            snapshot: SnapshotDir { path: incoming },
        };
        self.raft
            .install_full_snapshot(vote, snapshot)
            .await
            .map_err(|e| e.to_string())
    }

    /// Stops Raft (the replica closes when the last handle goes).
    pub async fn shutdown(&self) {
        for task in &self.tasks {
            task.abort();
        }
        let _ = self.raft.shutdown().await;
    }
}

/// On the leader, keeps every building index moving: proposes a `BuildStep` for it, again and
/// again, until it is ready. Elsewhere it only waits.
async fn propose_build_steps(raft: Raft, db: SharedDb) {
    loop {
        let leader = raft.metrics().borrow_watched().clone().state == ServerState::Leader;
        let building: Vec<String> = if leader {
            db.get()
                .indexes()
                .into_iter()
                .filter(|i| matches!(i.state, IndexState::Building { .. }))
                .map(|i| i.field)
                .collect()
        } else {
            Vec::new()
        };
        if building.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        for field in building {
            let step = Command::BuildStep {
                field,
                records: BUILD_STEP_RECORDS,
            };
            let Ok(command) = step.encode() else { continue };
            let request = Request {
                command,
                session: None,
                stamp_ms: now_ms(),
            };
            if raft.client_write(request).await.is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
