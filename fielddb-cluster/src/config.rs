//! `NodeConfig`: how a node of a cluster is set up — its id, directory, peers, token,
//! timeouts, snapshot cadence and how it reaches its peers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::peer_http::PeerHttp;
use crate::state_machine::DEFAULT_SESSION_TTL_MS;
use crate::types::NodeId;

/// How a node is set up.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// This node's id.
    pub id: NodeId,
    /// Its directory (the server's `--db`).
    pub dir: PathBuf,
    /// Every member at the start, by id: the address peers and clients reach it at.
    pub peers: BTreeMap<NodeId, String>,
    /// The bearer token peers present to each other, if any.
    pub token: Option<String>,
    /// Take a snapshot every this many applied entries.
    pub snapshot_every: u64,
    /// How long a client's write or read may wait for the group.
    pub request_timeout: Duration,
    /// How long an idle client session is kept, in the leader's milliseconds.
    pub session_ttl_ms: u64,
    /// How this node's requests reach its peers (plain HTTP, or HTTPS with the cluster's CA).
    pub peer_http: PeerHttp,
    /// The block cache every group's replica on this node shares.
    pub block_cache: fielddb::BlockCache,
}

impl NodeConfig {
    /// A node with the defaults: a snapshot every 20,000 entries, 5 s requests, sessions idle
    /// for an hour dropped, a block cache of 256 MiB shared by its groups.
    pub fn new(id: NodeId, dir: PathBuf, peers: BTreeMap<NodeId, String>) -> NodeConfig {
        NodeConfig {
            id,
            dir,
            peers,
            token: None,
            snapshot_every: 20_000,
            request_timeout: Duration::from_secs(5),
            session_ttl_ms: DEFAULT_SESSION_TTL_MS,
            peer_http: PeerHttp::plain(),
            block_cache: fielddb::BlockCache::new(256 << 20),
        }
    }
}
