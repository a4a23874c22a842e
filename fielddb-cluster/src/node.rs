//! `ClusterNode`: one member of a FieldDB cluster — its Raft groups (`group.rs`), the log store
//! and network they share, the shard map it follows, and the node-level operations the server
//! asks for: a write or read of any group, led here or elsewhere (`forward.rs`), and init.
//!
//! | path under the node directory | holds                                            |
//! |-------------------------------|--------------------------------------------------|
//! | `raft/`                       | the log store of every group (`log_store.rs`)    |
//! | `replica/`                    | group 0's replica (`state_machine.rs`)           |
//! | `groups/<g>/`                 | the replica of data group g (shard g - 1)        |
//!
//! A cluster of one shard (the default) is group 0 alone: it holds the data. A cluster of S > 1
//! shards keeps the shard map in group 0 (`shard_map.rs`) and shard i's data in group i + 1.
//! Every node runs a keeper that follows the map in its replica of group 0: it starts the groups
//! the map gives this node, stops those it no longer does, and on the node the map names a
//! shard's preferred leader, initializes the shard's group with the shard's voters.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use fielddb::{Command, FieldDb};
use serde::Serialize;

use crate::config::NodeConfig;
use crate::forward::{Forwarder, Proposal};
use crate::group::{MembershipError, RaftGroup, Status, Unavailable};
use crate::log_store::{GroupId, LogDb};
use crate::network::Network;
use crate::peer_http::PeerHttp;
use crate::shard_map::ShardMap;
use crate::shard_read::{ShardAnswer, ShardRead};
use crate::types::{ClientRequest, NodeId, Response};

/// How often the keeper compares the groups held with the shard map.
const KEEPER_TICK: Duration = Duration::from_millis(200);

/// How long a request waits between tries while its group has no leader known.
const NO_LEADER_PAUSE: Duration = Duration::from_millis(50);

/// One member of a FieldDB cluster.
pub struct ClusterNode {
    config: Arc<NodeConfig>,
    /// Group 0, which every node holds.
    first: Arc<RaftGroup>,
    /// The groups this node holds, by id, group 0 among them.
    groups: RwLock<BTreeMap<GroupId, Arc<RaftGroup>>>,
    logs: LogDb,
    network: Network,
    forwarder: Forwarder,
    /// The shard map as last read from group 0's replica, with the applied index it was read at.
    map: Mutex<(Option<u64>, Option<Arc<ShardMap>>)>,
    keeper: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Held while a shard move runs here (one at a time per node).
    moving: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ClusterNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterNode")
            .field("id", &self.config.id)
            .field("groups", &self.group_ids())
            .finish_non_exhaustive()
    }
}

/// Where a group's request is served.
enum Target {
    /// Here: this node leads the group (or may: the group answers `NotLeader` otherwise).
    Here(Arc<RaftGroup>),
    /// At this node, at this address.
    There(NodeId, String),
}

/// One shard as `GET /v1/cluster/shards` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardView {
    /// The shard's number.
    pub shard: u32,
    /// Its Raft group.
    pub group: GroupId,
    /// Its voting members.
    pub voters: Vec<NodeId>,
    /// Its non-voting members.
    pub learners: Vec<NodeId>,
    /// The node that should lead it.
    pub leader_hint: Option<NodeId>,
    /// The leader this node knows of (when it holds the group).
    pub leader: Option<NodeId>,
    /// This node's role in the group, if it holds it.
    pub role: Option<String>,
    /// The last log index applied to this node's replica of it.
    pub last_applied: Option<u64>,
}

/// The cluster's shards as this node sees them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardsView {
    /// The node answering.
    pub node_id: NodeId,
    /// S.
    pub shards: u32,
    /// R.
    pub replicas: u32,
    /// Every shard.
    pub items: Vec<ShardView>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        let forwarder = Forwarder::new(
            config.peer_http.clone(),
            config.token.clone(),
            config.request_timeout,
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
        let node = Arc::new(ClusterNode {
            config,
            groups: RwLock::new(BTreeMap::from([(0, Arc::clone(&first))])),
            first,
            logs,
            network,
            forwarder,
            map: Mutex::new((None, None)),
            keeper: Mutex::new(None),
            moving: tokio::sync::Mutex::new(()),
        });
        let keeper = tokio::spawn(keep_groups(Arc::downgrade(&node)));
        *lock(&node.keeper) = Some(keeper);
        Ok(node)
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
    pub fn group(&self, group: GroupId) -> Option<Arc<RaftGroup>> {
        self.groups
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&group)
            .cloned()
    }

    fn group_ids(&self) -> Vec<GroupId> {
        self.groups
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    /// Group 0, whose operations the methods below are.
    fn first(&self) -> &RaftGroup {
        &self.first
    }

    /// The shard map in this node's replica of group 0 (`None` for a one-shard cluster). Read
    /// again whenever group 0 has applied something since the last read.
    pub fn shard_map(&self) -> Option<Arc<ShardMap>> {
        let applied = self.first.last_applied();
        let mut cached = lock(&self.map);
        if cached.0 != applied || applied.is_none() {
            match ShardMap::read(&self.first.db()) {
                Ok(map) => *cached = (applied, map.map(Arc::new)),
                Err(e) => tracing::warn!("the shard map cannot be read: {e}"),
            }
        }
        cached.1.clone()
    }

    /// The shard map when the cluster has more than one shard.
    pub fn sharded(&self) -> Option<Arc<ShardMap>> {
        self.shard_map().filter(|map| map.shard_count() > 1)
    }

    /// The address of node `id`: from `--peers`, or from group 0's membership.
    fn addr_of(&self, id: NodeId) -> Option<String> {
        self.config
            .peers
            .get(&id)
            .cloned()
            .or_else(|| self.first.node_addr(id))
    }

    /// The local replica of group 0 (for reads after a barrier, or stale reads).
    pub fn db(&self) -> FieldDb {
        self.first().db()
    }

    /// The leader of group 0 this node knows of, with its address.
    pub fn leader(&self) -> Option<(NodeId, String)> {
        self.first().leader()
    }

    /// True when this node leads group 0 now.
    pub fn is_leader(&self) -> bool {
        self.first().is_leader()
    }

    /// Group 0 as this node sees it.
    pub fn status(&self) -> Status {
        self.first().status()
    }

    /// Proposes `command` in group 0 through its leader and returns the answer of applying
    /// it: here when this node leads, else (leadership moved during the request) forwarded to
    /// the leader it names, as `propose` does.
    pub async fn write(
        &self,
        command: &Command,
        session: Option<ClientRequest>,
    ) -> Result<Response, Unavailable> {
        self.propose(0, command, session).await
    }

    /// The leader of `group` as this node knows it (the map's choice for a group it does not
    /// hold), when that is another node.
    pub fn group_leader(&self, group: GroupId) -> Option<(NodeId, String)> {
        match self.target(group, None)? {
            Target::There(id, addr) => Some((id, addr)),
            Target::Here(_) => None,
        }
    }

    /// Where a request of `group` goes now: `hint` if a node named it the leader, else the
    /// leader this node knows of, else (a group this node does not hold) the map's choice.
    fn target(&self, group: GroupId, hint: Option<(NodeId, String)>) -> Option<Target> {
        let here = self.group(group);
        let leader = match hint {
            Some(leader) => Some(leader),
            None => match &here {
                Some(local) if local.is_leader() => return Some(Target::Here(Arc::clone(local))),
                Some(local) => local.leader(),
                None => {
                    let map = self.shard_map()?;
                    let shard = map.shards.get(group.checked_sub(1)? as usize)?;
                    let id = shard
                        .leader_hint
                        .or_else(|| shard.voters.iter().next().copied())?;
                    self.addr_of(id).map(|addr| (id, addr))
                }
            },
        };
        match (leader, here) {
            (Some((id, _)), Some(local)) if id == self.id() => Some(Target::Here(local)),
            (Some((id, addr)), _) if id != self.id() => Some(Target::There(id, addr)),
            _ => None,
        }
    }

    /// Runs `attempt` against `group`'s leader, here or on another node, following `NotLeader`
    /// answers and waiting out a group with no leader, for at most the request timeout.
    async fn at_leader<T, F, Fut>(&self, group: GroupId, attempt: F) -> Result<T, Unavailable>
    where
        F: Fn(Target) -> Fut,
        Fut: std::future::Future<Output = Result<T, Unavailable>>,
    {
        let deadline = Instant::now() + self.config.request_timeout;
        let mut hint = None;
        loop {
            let outcome = match self.target(group, hint.take()) {
                Some(target) => attempt(target).await,
                None => Err(Unavailable::NotLeader(None)),
            };
            match outcome {
                Err(Unavailable::NotLeader(leader)) if Instant::now() < deadline => {
                    if leader.is_none() {
                        tokio::time::sleep(NO_LEADER_PAUSE).await;
                    }
                    hint = leader;
                }
                Err(Unavailable::NotLeader(None)) => {
                    return Err(Unavailable::NoQuorum(
                        None,
                        format!(
                            "group {group} has no leader known within {} ms",
                            self.config.request_timeout.as_millis()
                        ),
                    ))
                }
                other => return other,
            }
        }
    }

    /// Proposes `command` in `group` through its leader (here or forwarded) and returns the
    /// answer of applying it.
    pub async fn propose(
        &self,
        group: GroupId,
        command: &Command,
        session: Option<ClientRequest>,
    ) -> Result<Response, Unavailable> {
        let bytes = match command.encode() {
            Ok(bytes) => bytes,
            Err(e) => {
                return Ok(Response::Failed(crate::types::Failure::from_error(&e)));
            }
        };
        let proposal = Proposal {
            command: bytes,
            session,
        };
        self.at_leader(group, |target| {
            let proposal = &proposal;
            async move {
                match target {
                    Target::Here(local) => {
                        local
                            .write_encoded(proposal.command.clone(), proposal.session.clone())
                            .await
                    }
                    Target::There(id, addr) => {
                        self.forwarder.propose((id, &addr), group, proposal).await
                    }
                }
            }
        })
        .await
    }

    /// Answers `read` from `group` through its leader (here or forwarded), linearizably.
    pub async fn read(&self, group: GroupId, read: &ShardRead) -> Result<ShardAnswer, Unavailable> {
        self.at_leader(group, |target| async move {
            match target {
                Target::Here(local) => local.read(read.clone()).await,
                Target::There(id, addr) => self.forwarder.read((id, &addr), group, read).await,
            }
        })
        .await
    }

    /// Waits until a read here is linearizable (see `RaftGroup::read_barrier`).
    pub async fn read_barrier(&self) -> Result<(), Unavailable> {
        self.first().read_barrier().await
    }

    /// Makes the configured peers the voting members (idempotent; 409 for another membership).
    pub async fn init(&self) -> Result<bool, MembershipError> {
        self.first().init().await
    }

    /// Creates the cluster: makes the configured peers group 0's voters and, for `shards` > 1,
    /// writes the shard map (`replicas` per shard, by default every member) into group 0; every
    /// node's keeper then starts its shards. Idempotent: asked again with the same layout it
    /// answers false; with another, 409.
    pub async fn init_cluster(
        &self,
        shards: u32,
        replicas: Option<u32>,
    ) -> Result<bool, MembershipError> {
        let members: BTreeSet<NodeId> = self.config.peers.keys().copied().collect();
        let replicas = replicas.unwrap_or(members.len() as u32);
        if shards == 1 {
            if replicas as usize != members.len() {
                return Err(MembershipError::Invalid(format!(
                    "a cluster of one shard keeps it on every member: replicas must be {}",
                    members.len()
                )));
            }
            return self.init().await;
        }
        let map = ShardMap::place(shards, replicas as usize, &members)
            .map_err(MembershipError::Invalid)?;
        let fresh = self.init().await?;
        let unavailable = MembershipError::Unavailable;
        let head = self
            .read(0, &ShardRead::Get(ShardMap::HEAD_KEY.to_vec()))
            .await
            .map_err(unavailable)?
            .into_record()
            .map_err(|e| MembershipError::Invalid(e.to_string()))?;
        if let Some(head) = head {
            let existing = ShardMap::head_of(&head);
            return if existing == Some((shards, replicas)) {
                Ok(fresh)
            } else {
                Err(MembershipError::Conflict(format!(
                    "the cluster was created with (shards, replicas) {existing:?}, not \
                     ({shards}, {replicas}); the shard count is fixed for the cluster's life"
                )))
            };
        }
        let any = ShardRead::Scan {
            from: None,
            to: None,
            after: None,
            limit: Some(1),
            reverse: false,
            filter: Vec::new(),
        };
        let rows = self
            .read(0, &any)
            .await
            .map_err(unavailable)?
            .into_rows()
            .map_err(|e| MembershipError::Invalid(e.to_string()))?;
        if !rows.rows.is_empty() {
            return Err(MembershipError::Conflict(
                "the cluster already holds data as one shard; the shard count is fixed when it \
                 is created"
                    .into(),
            ));
        }
        match self.propose(0, &map.to_command(), None).await {
            Ok(Response::Failed(f)) => {
                return Err(MembershipError::Invalid(f.into_error().to_string()))
            }
            Ok(_) => {}
            Err(u) => return Err(unavailable(u)),
        }
        // Answer once this node routes by the map (it has applied it).
        let deadline = Instant::now() + self.config.request_timeout;
        while self.sharded().is_none() && Instant::now() < deadline {
            tokio::time::sleep(NO_LEADER_PAUSE).await;
        }
        Ok(true)
    }

    /// The shards as this node sees them (for a one-shard cluster, group 0 as shard 0).
    pub fn shards_view(&self) -> ShardsView {
        // The members of a group this node holds are its own view of the group's membership
        // (the truth, which the map follows a step behind during a move); else the map's.
        let view = |shard: u32, group: GroupId, voters: Vec<NodeId>, learners, hint| {
            let status = self.group(group).map(|g| g.status());
            ShardView {
                shard,
                group,
                voters: status.as_ref().map_or(voters, |s| s.voters.clone()),
                learners: status.as_ref().map_or(learners, |s| s.learners.clone()),
                leader_hint: hint,
                leader: status.as_ref().and_then(|s| s.leader),
                role: status.as_ref().map(|s| s.role.clone()),
                last_applied: status.and_then(|s| s.last_applied),
            }
        };
        match self.sharded() {
            Some(map) => ShardsView {
                node_id: self.id(),
                shards: map.shard_count(),
                replicas: map.replicas,
                items: map
                    .shards
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let shard = i as u32;
                        view(
                            shard,
                            ShardMap::group_of(shard),
                            s.voters.iter().copied().collect(),
                            s.learners.iter().copied().collect(),
                            s.leader_hint,
                        )
                    })
                    .collect(),
            },
            None => {
                let status = self.status();
                ShardsView {
                    node_id: self.id(),
                    shards: 1,
                    replicas: status.voters.len() as u32,
                    items: vec![view(0, 0, status.voters, status.learners, None)],
                }
            }
        }
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

    /// Shard `shard`'s group, when this node leads it; else why not (with the leader known).
    fn led_shard(&self, shard: u32) -> Result<(Arc<ShardMap>, Arc<RaftGroup>), MembershipError> {
        let map = self.sharded().ok_or_else(|| {
            MembershipError::Invalid(
                "the cluster has one shard: use /v1/cluster/leader, /learners and /voters".into(),
            )
        })?;
        if shard >= map.shard_count() {
            return Err(MembershipError::Invalid(format!(
                "no shard {shard}: the cluster has shards 0 to {}",
                map.shard_count() - 1
            )));
        }
        let group = ShardMap::group_of(shard);
        match self.group(group) {
            Some(local) if local.is_leader() => Ok((map, local)),
            _ => Err(MembershipError::Unavailable(Unavailable::NotLeader(
                self.group_leader(group),
            ))),
        }
    }

    /// Hands shard `shard`'s leadership to its voter `to` (this node must lead the shard).
    pub async fn transfer_shard_leader(
        &self,
        shard: u32,
        to: NodeId,
    ) -> Result<(), MembershipError> {
        let (_, group) = self.led_shard(shard)?;
        group.transfer_leader(to).await
    }

    /// Writes shard `shard`'s record of the map: its group's membership now, with `learner`
    /// added as a learner when given (before it joins: its keeper then starts the group).
    async fn record_shard(
        &self,
        shard: u32,
        group: &RaftGroup,
        learner: Option<NodeId>,
        leader_hint: Option<NodeId>,
    ) -> Result<(), MembershipError> {
        let status = group.status();
        let mut replicas = crate::shard_map::ShardReplicas {
            voters: status.voters.iter().copied().collect(),
            learners: status.learners.iter().copied().collect(),
            leader_hint,
        };
        replicas.learners.extend(learner);
        match self
            .propose(0, &ShardMap::shard_command(shard, &replicas), None)
            .await
        {
            Ok(Response::Failed(f)) => Err(MembershipError::Invalid(f.into_error().to_string())),
            Ok(_) => Ok(()),
            Err(u) => Err(MembershipError::Unavailable(u)),
        }
    }

    /// Moves shard `shard`'s replica from node `from` to node `to`, one step at a time while
    /// clients write: `to` joins as a learner (the map lists it, so its keeper starts the
    /// group), catches up, is promoted in place of `from` in one membership change, and the
    /// map records the new voters (`from`'s keeper then stops its replica). This node must
    /// lead the shard. Asked again after it finished, it answers at once.
    pub async fn move_shard(
        &self,
        shard: u32,
        from: NodeId,
        to: NodeId,
    ) -> Result<(), MembershipError> {
        let (map, group) = self.led_shard(shard)?;
        let _one = self.moving.try_lock().map_err(|_| {
            MembershipError::Conflict("another move is under way on this node".into())
        })?;
        let voters: BTreeSet<NodeId> = group.status().voters.into_iter().collect();
        let hint = map.shards[shard as usize].leader_hint;
        let hint_after = if hint == Some(from) { Some(to) } else { hint };
        if from == to || !voters.contains(&from) || voters.contains(&to) {
            return Err(MembershipError::Invalid(format!(
                "shard {shard} has voters {voters:?}: a move needs `from` among them and `to` not"
            )));
        }
        let addr = self.addr_of(to).ok_or_else(|| {
            MembershipError::Invalid(format!(
                "node {to} is not a member of the cluster: add it with POST /v1/cluster/learners first"
            ))
        })?;
        self.record_shard(shard, &group, Some(to), hint).await?;
        group.add_learner(to, addr).await?;
        let mut after = voters.clone();
        after.remove(&from);
        after.insert(to);
        group.change_voters(after).await?;
        self.record_shard(shard, &group, None, hint_after).await
    }

    /// Seeds the group-0 replica of a new node in `dir` (its `--db`, holding nothing yet) from
    /// backup `which` of `backup` (see `state_machine::seed_from_backup`). Call before `start`.
    pub fn seed(
        dir: &std::path::Path,
        backup: &std::path::Path,
        which: fielddb::BackupId,
    ) -> Result<u32, String> {
        if dir.join("raft").exists() {
            return Err(format!(
                "{} already belongs to a cluster: a backup seeds a new node only",
                dir.display()
            ));
        }
        crate::state_machine::seed_from_backup(&dir.join("replica"), backup, which).map_err(|e| {
            format!(
                "cannot seed {} from {}: {e}",
                dir.display(),
                backup.display()
            )
        })
    }

    /// Backs this node's replica up into `dir` (a cluster of one shard: group 0; a cluster of
    /// several shards is refused, its backups not being built yet). The info's `position` is
    /// the log id the replica had applied (JSON).
    pub fn backup_to(&self, dir: &std::path::Path) -> fielddb::Result<fielddb::BackupInfo> {
        if let Some(map) = self.sharded() {
            return Err(fielddb::Error::InvalidArgument(format!(
                "backups of a cluster of {} shards are not built yet (only of one shard)",
                map.shard_count()
            )));
        }
        self.first.backup_to(dir)
    }

    /// Group `group`'s replica's content hash (records, index entries, counts) with its
    /// applied position.
    pub fn content_hash(&self, group: GroupId) -> Result<fielddb::ContentHash, String> {
        match self.group(group) {
            Some(group) => group.content_hash(),
            None => Err(format!("node {} holds no group {group}", self.id())),
        }
    }

    /// Asks for a snapshot of group 0 now (it is built in the background).
    pub async fn trigger_snapshot(&self) -> Result<(), String> {
        self.first().trigger_snapshot().await
    }

    /// Starts the groups the shard map gives this node and stops those it no longer does.
    async fn keep_groups(&self) {
        let Some(map) = self.sharded() else { return };
        let mine: BTreeSet<GroupId> = map.groups_of(self.id()).into_iter().collect();
        let held: BTreeSet<GroupId> = self.group_ids().into_iter().collect();
        for &group in mine.difference(&held) {
            let shard = &map.shards[(group - 1) as usize];
            let dir = self.config.dir.join("groups").join(group.to_string());
            let started = RaftGroup::start(
                Arc::clone(&self.config),
                group,
                self.logs.group(group),
                self.network.for_group(group),
                dir,
            )
            .await;
            let started = match started {
                Ok(started) => Arc::new(started),
                Err(e) => {
                    tracing::error!("cannot start group {group}: {e}");
                    continue;
                }
            };
            self.groups
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(group, Arc::clone(&started));
            if shard.leader_hint == Some(self.id()) {
                let voters: Option<BTreeMap<NodeId, String>> = shard
                    .voters
                    .iter()
                    .map(|id| self.addr_of(*id).map(|addr| (*id, addr)))
                    .collect();
                let Some(voters) = voters else {
                    tracing::error!("group {group}: a voter's address is unknown");
                    continue;
                };
                if let Err(e) = started.init_with(&voters).await {
                    tracing::debug!("group {group} was initialized before: {e:?}");
                }
            }
        }
        // A shard led here whose map record differs from its group's membership (a move that
        // failed after a membership change) gets the record rewritten, unless a move runs here.
        if let Ok(_no_move) = self.moving.try_lock() {
            for (shard, replicas) in map.shards.iter().enumerate() {
                let group = ShardMap::group_of(shard as u32);
                let Some(local) = self.group(group).filter(|g| g.is_leader()) else {
                    continue;
                };
                let status = local.status();
                let voters: BTreeSet<NodeId> = status.voters.iter().copied().collect();
                let learners: BTreeSet<NodeId> = status.learners.iter().copied().collect();
                if voters != replicas.voters || learners != replicas.learners {
                    let hint = replicas
                        .leader_hint
                        .filter(|h| voters.contains(h))
                        .or(Some(self.id()));
                    tracing::info!("shard {shard}: the map follows its group's membership");
                    if let Err(e) = self.record_shard(shard as u32, &local, None, hint).await {
                        tracing::warn!("shard {shard}: the map could not be updated: {e:?}");
                    }
                }
            }
        }
        for &group in held.difference(&mine) {
            if group == 0 {
                continue;
            }
            let removed = self
                .groups
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&group);
            if let Some(removed) = removed {
                tracing::info!("group {group} moved away from node {}: stopped", self.id());
                removed.shutdown().await;
            }
        }
    }

    /// Stops the keeper and every group's Raft (the replicas close when their last handles go).
    pub async fn shutdown(&self) {
        if let Some(keeper) = lock(&self.keeper).take() {
            keeper.abort();
        }
        let groups: Vec<Arc<RaftGroup>> = self
            .groups
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for group in groups {
            group.shutdown().await;
        }
    }
}

/// The keeper: every tick, has the node follow the shard map, until the node is gone.
async fn keep_groups(node: Weak<ClusterNode>) {
    loop {
        tokio::time::sleep(KEEPER_TICK).await;
        let Some(node) = node.upgrade() else { return };
        node.keep_groups().await;
    }
}
