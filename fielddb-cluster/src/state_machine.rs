//! `StateMachine`: the FieldDB replica a node applies its log to, the table of client sessions
//! that de-duplicates retried requests, and snapshots, which are RocksDB checkpoints of the
//! replica.
//!
//! | path under the node directory  | holds                                                 |
//! |--------------------------------|-------------------------------------------------------|
//! | `data/CURRENT`                 | the name of the live replica directory                |
//! | `data/<name>/`                 | a FieldDB replica (`Options::replica`)                |
//! | `snapshots/<name>/`            | a checkpoint of the replica: a snapshot               |
//! | `snapshots/<name>.json`        | its openraft metadata (last log id, membership)       |
//!
//! Inside the replica, beside the data, FieldDB keeps (in the batch of the entries that change
//! them) the applied log id (`replica/applied`, JSON of the log id), the membership
//! (`replica/data/membership`) and one session per client (`replica/data/session/<client>`:
//! the last request number, its answer, and the leader's stamp of its last request). So a
//! checkpoint carries data, position, membership and sessions together, and a node restarted
//! after a crash finds all four as of the same entry.
//!
//! Sessions expire when idle for longer than the session lifetime, judged by the stamps the
//! leader writes into the entries, never by a replica's clock: every replica expires the same
//! sessions at the same entry.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use fielddb::{Answer, Command, FieldDb, LoggedCommand, Options, ReplicaData};
use futures::{Stream, TryStreamExt};
use openraft::storage::{EntryResponder, RaftStateMachine};
use openraft::type_config::alias::{LogIdOf, SnapshotMetaOf, SnapshotOf, StoredMembershipOf};
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder, Snapshot};

/// A snapshot of this group.
pub type GroupSnapshot = SnapshotOf<TypeConfig, SnapshotDir>;
use serde::{Deserialize, Serialize};

use crate::types::{Failure, Request, Response, TypeConfig};

/// A Raft node of a FieldDB group: openraft over this state machine.
pub type Raft = openraft::Raft<TypeConfig, StateMachine>;

/// How long a client's session lives without a request, by default: one hour of the leader's
/// stamps.
pub const DEFAULT_SESSION_TTL_MS: u64 = 60 * 60 * 1000;

const MEMBERSHIP: &[u8] = b"membership";
const SESSION_PREFIX: &[u8] = b"session/";

/// A snapshot's data: the directory holding its checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotDir {
    /// The checkpoint directory.
    pub path: PathBuf,
}

/// The live replica, shared between the state machine (which swaps it when it installs a
/// snapshot) and the read path.
#[derive(Clone)]
pub struct SharedDb(Arc<RwLock<FieldDb>>);

impl SharedDb {
    /// The replica as it is now (a handle; cheap).
    pub fn get(&self) -> FieldDb {
        match self.0.read() {
            Ok(db) => db.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, db: FieldDb) {
        match self.0.write() {
            Ok(mut slot) => *slot = db,
            Err(poisoned) => *poisoned.into_inner() = db,
        }
    }
}

/// One client's session: its last request, the answer, and when it was last heard of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Session {
    serial: u64,
    response: Response,
    last_ms: u64,
}

/// Every client session, with an index by idle time for expiry.
#[derive(Debug, Default)]
struct Sessions {
    by_client: BTreeMap<String, Session>,
    by_age: BTreeSet<(u64, String)>,
}

impl Sessions {
    fn insert(&mut self, client: &str, session: Session) {
        if let Some(old) = self.by_client.get(client) {
            self.by_age.remove(&(old.last_ms, client.to_owned()));
        }
        self.by_age.insert((session.last_ms, client.to_owned()));
        self.by_client.insert(client.to_owned(), session);
    }

    /// Removes the sessions idle since before `stamp - ttl`; returns their clients.
    fn expire(&mut self, stamp: u64, ttl: u64) -> Vec<String> {
        let cutoff = stamp.saturating_sub(ttl);
        let mut expired = Vec::new();
        while let Some((last, client)) = self.by_age.first().cloned() {
            if last >= cutoff {
                break;
            }
            self.by_age.remove(&(last, client.clone()));
            self.by_client.remove(&client);
            expired.push(client);
        }
        expired
    }
}

fn session_name(client: &str) -> Vec<u8> {
    [SESSION_PREFIX, client.as_bytes()].concat()
}

/// What applying one entry amounts to, decided before the batch is applied.
enum Plan {
    /// Apply the command (if any); with a session, remember the answer under it.
    Apply { session: Option<(String, u64, u64)> },
    /// A retry of the client's latest request: answer what it answered.
    Repeat(Response),
    /// A retry of the request applied at this index of the same batch.
    RepeatOf(usize),
    /// A retry of an older request whose answer is gone.
    Stale,
}

/// The state machine of one node.
pub struct StateMachine {
    node_dir: PathBuf,
    db: SharedDb,
    sessions: Sessions,
    membership: StoredMembershipOf<TypeConfig>,
    applied: Option<LogIdOf<TypeConfig>>,
    session_ttl_ms: u64,
    /// How the replica is opened (a replica; the node's shared block cache).
    options: Options,
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

fn replica_options() -> Options {
    Options::default().replica(true)
}

/// Writes `bytes` to `path` atomically: a temporary file, fsynced, renamed over it, and the
/// directory fsynced.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Seeds a new node's replica (`node_dir`, holding none yet) from backup `which` of backup
/// directory `backup`: the backup is restored as the live replica and its place in the old
/// cluster's log forgotten (`FieldDb::reset_replica_state`), so the group's log starts empty
/// over the backup's records, indexes and counts. Every member of a new group must be seeded
/// from the same backup, so that all start from the same bytes. Returns the backup's id.
pub fn seed_from_backup(
    node_dir: &Path,
    backup: &Path,
    which: fielddb::BackupId,
) -> io::Result<u32> {
    let data = node_dir.join("data");
    if data.join("CURRENT").exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} already holds a replica: a backup seeds a new node only",
                node_dir.display()
            ),
        ));
    }
    std::fs::create_dir_all(&data)?;
    let id = fielddb::restore_backup(backup, which, data.join("0")).map_err(other)?;
    {
        let db = FieldDb::open_with(data.join("0"), replica_options()).map_err(other)?;
        db.reset_replica_state().map_err(other)?;
    }
    write_atomically(&data.join("CURRENT"), b"0")?;
    Ok(id)
}

impl StateMachine {
    /// Opens the state machine of the node whose directory is `node_dir` (created if needed).
    pub fn open(node_dir: &Path) -> io::Result<StateMachine> {
        StateMachine::open_with(node_dir, DEFAULT_SESSION_TTL_MS, None)
    }

    /// Opens with a session lifetime of `session_ttl_ms` (of the leader's stamps), the replica
    /// using `cache` (shared with the node's other groups) when given.
    pub fn open_with(
        node_dir: &Path,
        session_ttl_ms: u64,
        cache: Option<fielddb::BlockCache>,
    ) -> io::Result<StateMachine> {
        let options = match cache {
            Some(cache) => replica_options().shared_block_cache(cache),
            None => replica_options(),
        };
        std::fs::create_dir_all(node_dir.join("data"))?;
        std::fs::create_dir_all(node_dir.join("snapshots"))?;
        let current = node_dir.join("data").join("CURRENT");
        let name = match std::fs::read_to_string(&current) {
            Ok(name) => name.trim().to_owned(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                write_atomically(&current, b"0")?;
                "0".to_owned()
            }
            Err(e) => return Err(e),
        };
        // Replica directories other than the live one are left over from an install.
        for entry in std::fs::read_dir(node_dir.join("data"))? {
            let entry = entry?;
            let file_name = entry.file_name();
            if entry.file_type()?.is_dir() && file_name.to_string_lossy() != name {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let db = FieldDb::open_with(node_dir.join("data").join(&name), options.clone())
            .map_err(other)?;
        let mut machine = StateMachine {
            node_dir: node_dir.to_path_buf(),
            db: SharedDb(Arc::new(RwLock::new(db))),
            sessions: Sessions::default(),
            membership: StoredMembershipOf::<TypeConfig>::default(),
            applied: None,
            session_ttl_ms,
            options,
        };
        machine.load()?;
        Ok(machine)
    }

    /// The live replica, shared with the read path.
    pub fn shared(&self) -> SharedDb {
        self.db.clone()
    }

    /// Reads the applied log id, membership and sessions from the replica.
    fn load(&mut self) -> io::Result<()> {
        let db = self.db.get();
        self.applied = match db.applied_position().map_err(other)? {
            Some(bytes) => Some(serde_json::from_slice(&bytes).map_err(invalid)?),
            None => None,
        };
        self.sessions = Sessions::default();
        self.membership = StoredMembershipOf::<TypeConfig>::default();
        for (name, value) in db.replica_data().map_err(other)? {
            if name == MEMBERSHIP {
                self.membership = serde_json::from_slice(&value).map_err(invalid)?;
            } else if let Some(client) = name.strip_prefix(SESSION_PREFIX) {
                let client = String::from_utf8_lossy(client).into_owned();
                let session: Session = serde_json::from_slice(&value).map_err(invalid)?;
                self.sessions.insert(&client, session);
            }
        }
        Ok(())
    }

    fn snapshots_dir(&self) -> PathBuf {
        self.node_dir.join("snapshots")
    }

    /// The newest snapshot on disk with its metadata, if any.
    fn newest_snapshot(&self) -> io::Result<Option<(SnapshotMetaOf<TypeConfig>, PathBuf)>> {
        let mut newest: Option<(String, PathBuf)> = None;
        for entry in std::fs::read_dir(self.snapshots_dir())? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".json") {
                let dir = self.snapshots_dir().join(stem);
                if dir.is_dir() && newest.as_ref().is_none_or(|(n, _)| stem > n.as_str()) {
                    newest = Some((stem.to_owned(), dir));
                }
            }
        }
        let Some((name, dir)) = newest else {
            return Ok(None);
        };
        let meta = std::fs::read(self.snapshots_dir().join(format!("{name}.json")))?;
        Ok(Some((serde_json::from_slice(&meta).map_err(invalid)?, dir)))
    }

    /// Deletes every snapshot but `keep`.
    fn delete_snapshots_but(&self, keep: &str) -> io::Result<()> {
        for entry in std::fs::read_dir(self.snapshots_dir())? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".json").unwrap_or(&name);
            if stem != keep && !name.starts_with("incoming-") && !name.starts_with("building-") {
                let path = entry.path();
                if path.is_dir() {
                    std::fs::remove_dir_all(path)?;
                } else {
                    std::fs::remove_file(path)?;
                }
            }
        }
        Ok(())
    }

    /// Decides, in log order, what each entry amounts to: the sessions' serials move on as the
    /// entries are read, so a retry is recognized even within one batch.
    fn plan(&mut self, requests: &[Option<&Request>]) -> (Vec<Plan>, Vec<ReplicaData>) {
        let mut plans = Vec::with_capacity(requests.len());
        let mut expiries = Vec::with_capacity(requests.len());
        // The latest serial of each client as of the entry being planned, and where it was
        // applied when that is in this batch.
        let mut in_batch: BTreeMap<String, (u64, usize)> = BTreeMap::new();
        for (index, request) in requests.iter().enumerate() {
            let mut expired = ReplicaData::new();
            let Some(request) = request else {
                plans.push(Plan::Apply { session: None });
                expiries.push(expired);
                continue;
            };
            for client in self.sessions.expire(request.stamp_ms, self.session_ttl_ms) {
                in_batch.remove(&client);
                expired.push((session_name(&client), None));
            }
            let plan = match &request.session {
                None => Plan::Apply { session: None },
                Some(session) => {
                    let known = in_batch
                        .get(&session.client)
                        .map(|(serial, at)| (*serial, Some(*at)))
                        .or_else(|| {
                            self.sessions
                                .by_client
                                .get(&session.client)
                                .map(|s| (s.serial, None))
                        });
                    match known {
                        Some((serial, at)) if session.serial == serial => match at {
                            Some(at) => Plan::RepeatOf(at),
                            None => match self.sessions.by_client.get(&session.client) {
                                Some(s) => Plan::Repeat(s.response.clone()),
                                None => Plan::Stale,
                            },
                        },
                        Some((serial, _)) if session.serial < serial => Plan::Stale,
                        _ => {
                            in_batch.insert(session.client.clone(), (session.serial, index));
                            Plan::Apply {
                                session: Some((
                                    session.client.clone(),
                                    session.serial,
                                    request.stamp_ms,
                                )),
                            }
                        }
                    }
                }
            };
            plans.push(plan);
            expiries.push(expired);
        }
        (plans, expiries)
    }
}

/// True for a batch cheap enough to apply on the async runtime: at most
/// [`LIGHT_BATCH_ENTRIES`] entries, each a put, delete, append, update or small batch of those.
fn is_light(logged: &[LoggedCommand]) -> bool {
    logged.len() <= LIGHT_BATCH_ENTRIES
        && logged.iter().all(|entry| match &entry.command {
            None
            | Some(
                Command::Put { .. }
                | Command::Delete { .. }
                | Command::Append { .. }
                | Command::Update { .. },
            ) => true,
            Some(Command::Batch(items)) => items.len() <= LIGHT_BATCH_ENTRIES,
            Some(_) => false,
        })
}

/// The most entries (or batch items) a batch applied on the async runtime holds.
const LIGHT_BATCH_ENTRIES: usize = 64;

/// The answer a client gets for an applied command.
fn response_of(answer: &fielddb::Result<Answer>) -> Response {
    match answer {
        Ok(Answer::Done) => Response::Done,
        Ok(Answer::Existed(existed)) => Response::Existed(*existed),
        Ok(Answer::Record(record)) => match fielddb::encode_record(record) {
            Ok(bytes) => Response::Record(bytes),
            Err(e) => Response::Failed(Failure::from_error(&e)),
        },
        Err(e) => Response::Failed(Failure::from_error(e)),
    }
}

/// The answer to a log entry whose command does not decode (the same on every replica).
fn undecodable_response() -> Response {
    Response::Failed(Failure::Other {
        code: "corruption".into(),
        message: "the log entry's command does not decode".into(),
    })
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = SnapshotDir;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogIdOf<TypeConfig>>, StoredMembershipOf<TypeConfig>), io::Error> {
        Ok((self.applied, self.membership.clone()))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + OptionalSend,
    {
        let mut received = Vec::new();
        while let Some(item) = entries.try_next().await? {
            received.push(item);
        }
        if received.is_empty() {
            return Ok(());
        }
        let requests: Vec<Option<&Request>> = received
            .iter()
            .map(|(entry, _)| match &entry.payload {
                EntryPayload::Normal(request) => Some(request),
                _ => None,
            })
            .collect();
        let (plans, expiries) = self.plan(&requests);

        let mut logged = Vec::with_capacity(received.len());
        let mut membership = self.membership.clone();
        for (((entry, _), plan), expired) in received.iter().zip(&plans).zip(expiries) {
            let position = serde_json::to_vec(&entry.log_id).map_err(invalid)?;
            let mut replica_data = expired;
            let command = match (&entry.payload, plan) {
                (EntryPayload::Normal(request), Plan::Apply { .. })
                    if !request.command.is_empty() =>
                {
                    // A command that does not decode fails the same way everywhere.
                    Command::decode(&request.command).ok()
                }
                (EntryPayload::Membership(m), _) => {
                    membership =
                        StoredMembershipOf::<TypeConfig>::new(Some(entry.log_id), m.clone());
                    replica_data.push((
                        MEMBERSHIP.to_vec(),
                        Some(serde_json::to_vec(&membership).map_err(invalid)?),
                    ));
                    None
                }
                _ => None,
            };
            logged.push(LoggedCommand {
                command,
                position,
                replica_data,
            });
        }
        let undecodable: Vec<bool> = received
            .iter()
            .zip(&plans)
            .zip(&logged)
            .map(|(((entry, _), plan), logged)| {
                matches!(
                    (&entry.payload, plan),
                    (EntryPayload::Normal(r), Plan::Apply { .. }) if !r.command.is_empty() && logged.command.is_none()
                )
            })
            .collect();

        // Each applied command with a session remembers its answer, in the same batch.
        let session_of: Vec<Option<(String, u64, u64)>> = plans
            .iter()
            .map(|plan| match plan {
                Plan::Apply { session } => session.clone(),
                _ => None,
            })
            .collect();
        let db = self.db.get();
        // Each entry's answer is made once, as it is applied; one with a session is remembered
        // under it, in the same batch.
        let light = is_light(&logged);
        let apply = move || {
            let mut applied: Vec<Option<Response>> = vec![None; logged.len()];
            let mut sessions: Vec<(String, Session)> = Vec::new();
            db.apply_commands_with(&logged, |index, answer| {
                let response = if undecodable[index] {
                    undecodable_response()
                } else {
                    response_of(answer)
                };
                applied[index] = Some(response.clone());
                let Some((client, serial, stamp)) = &session_of[index] else {
                    return Vec::new();
                };
                let session = Session {
                    serial: *serial,
                    response,
                    last_ms: *stamp,
                };
                let bytes = serde_json::to_vec(&session).unwrap_or_default();
                sessions.push((client.clone(), session));
                vec![(session_name(client), Some(bytes))]
            })
            .map(|_| (applied, sessions))
        };
        // A few record commands are one unsynced RocksDB write: applied right here, which saves
        // two thread hand-offs per batch. Anything that scans (an index build or drop step) or a
        // large batch goes to the blocking pool so it does not hold up this node's other tasks.
        // Where it runs changes nothing in what it writes.
        let (applied, sessions) = if light {
            apply().map_err(other)?
        } else {
            tokio::task::spawn_blocking(apply)
                .await
                .map_err(other)?
                .map_err(other)?
        };

        for (client, session) in sessions {
            self.sessions.insert(&client, session);
        }
        self.membership = membership;
        let mut responses: Vec<Response> = Vec::with_capacity(received.len());
        for (plan, applied) in plans.iter().zip(applied) {
            let response = match plan {
                Plan::Apply { .. } => applied.unwrap_or(Response::Done),
                Plan::Repeat(response) => response.clone(),
                Plan::RepeatOf(at) => responses[*at].clone(),
                Plan::Stale => Response::Stale,
            };
            responses.push(response);
        }
        for ((entry, responder), response) in received.into_iter().zip(responses) {
            self.applied = Some(entry.log_id);
            if let Some(responder) = responder {
                responder.send(response);
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            db: self.db.get(),
            snapshots: self.snapshots_dir(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMetaOf<TypeConfig>,
        snapshot: Self::SnapshotData,
    ) -> Result<(), io::Error> {
        let name = snapshot_name(meta);
        let target = self.snapshots_dir().join(&name);
        if snapshot.path != target {
            if target.exists() {
                std::fs::remove_dir_all(&target)?;
            }
            std::fs::rename(&snapshot.path, &target)?;
        }
        write_atomically(
            &self.snapshots_dir().join(format!("{name}.json")),
            &serde_json::to_vec(meta).map_err(invalid)?,
        )?;
        // The live replica becomes a copy of the snapshot (the snapshot stays, to be sent on).
        let data = self.node_dir.join("data");
        let generation = format!("{}", next_generation(&data)?);
        copy_checkpoint(&target, &data.join(&generation))?;
        let db = FieldDb::open_with(data.join(&generation), self.options.clone()).map_err(other)?;
        write_atomically(&data.join("CURRENT"), generation.as_bytes())?;
        self.db.replace(db);
        self.load()?;
        self.delete_snapshots_but(&name)?;
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<GroupSnapshot>, io::Error> {
        Ok(self.newest_snapshot()?.map(|(meta, path)| Snapshot {
            meta,
            snapshot: SnapshotDir { path },
        }))
    }
}

/// The snapshot's name: its last index, zero-padded so names sort by position, and its term.
fn snapshot_name(meta: &SnapshotMetaOf<TypeConfig>) -> String {
    match &meta.last_log_id {
        Some(id) => format!("{:020}-{}", id.index, id.leader_id.term),
        None => "00000000000000000000-0".into(),
    }
}

fn next_generation(data: &Path) -> io::Result<u64> {
    let mut next = 0;
    for entry in std::fs::read_dir(data)? {
        if let Ok(n) = entry?.file_name().to_string_lossy().parse::<u64>() {
            next = next.max(n + 1);
        }
    }
    Ok(next)
}

/// Copies a checkpoint directory: table files are immutable, so they are hard-linked (copied
/// where the file system refuses); the rest is copied, then everything is fsynced.
pub(crate) fn copy_checkpoint(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name();
        let target = to.join(&name);
        let linked = name.to_string_lossy().ends_with(".sst")
            && std::fs::hard_link(entry.path(), &target).is_ok();
        if !linked {
            std::fs::copy(entry.path(), &target)?;
        }
        std::fs::File::open(&target)?.sync_all()?;
    }
    std::fs::File::open(to)?.sync_all()
}

/// Builds a snapshot: a checkpoint of the replica, whose position and membership are read from
/// the checkpoint itself, so the metadata always matches the data.
pub struct SnapshotBuilder {
    db: FieldDb,
    snapshots: PathBuf,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = SnapshotDir;

    async fn build_snapshot(&mut self) -> Result<GroupSnapshot, io::Error> {
        let db = self.db.clone();
        let snapshots = self.snapshots.clone();
        tokio::task::spawn_blocking(move || build_snapshot(&db, &snapshots))
            .await
            .map_err(other)?
    }
}

fn build_snapshot(db: &FieldDb, snapshots: &Path) -> io::Result<GroupSnapshot> {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let building = snapshots.join(format!("building-{nonce}"));
    db.checkpoint(&building).map_err(other)?;
    // Open the checkpoint itself to read what it holds.
    let (applied, membership) = {
        let copy = FieldDb::open_with(&building, replica_options()).map_err(other)?;
        let applied: Option<LogIdOf<TypeConfig>> = match copy.applied_position().map_err(other)? {
            Some(bytes) => Some(serde_json::from_slice(&bytes).map_err(invalid)?),
            None => None,
        };
        let mut membership = StoredMembershipOf::<TypeConfig>::default();
        for (name, value) in copy.replica_data().map_err(other)? {
            if name == MEMBERSHIP {
                membership = serde_json::from_slice(&value).map_err(invalid)?;
            }
        }
        (applied, membership)
    };
    let meta = SnapshotMetaOf::<TypeConfig> {
        last_log_id: applied,
        last_membership: membership,
    };
    let name = snapshot_name(&meta);
    let target = snapshots.join(&name);
    if target.exists() {
        std::fs::remove_dir_all(&building)?;
    } else {
        std::fs::rename(&building, &target)?;
        std::fs::File::open(snapshots)?.sync_all()?;
    }
    write_atomically(
        &snapshots.join(format!("{name}.json")),
        &serde_json::to_vec(&meta).map_err(invalid)?,
    )?;
    // Older snapshots are no longer needed.
    for entry in std::fs::read_dir(snapshots)? {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().into_owned();
        let stem = file.strip_suffix(".json").unwrap_or(&file).to_owned();
        if stem.as_str() < name.as_str()
            && !file.starts_with("building-")
            && !file.starts_with("incoming-")
        {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
        }
    }
    Ok(Snapshot {
        meta,
        snapshot: SnapshotDir { path: target },
    })
}
