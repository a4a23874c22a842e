//! FieldDB replicated: a Raft group of FieldDB replicas on openraft.
//!
//! | module          | owns                                                              |
//! |-----------------|-------------------------------------------------------------------|
//! | `types`         | the entry (`Request`), the answer (`Response`), openraft's config  |
//! | `wire`          | the binary encoding of log entries and RPC bodies (bincode)       |
//! | `log_store`     | the Raft log and vote, in a RocksDB of their own                  |
//! | `state_machine` | the FieldDB replica, client sessions, snapshots as checkpoints    |
//! | `network`       | the peers' RPCs over HTTP                                         |
//! | `placement`     | the shard of a key (XXH3 mod S) and the nodes of each shard        |
//! | `shard_map`     | the shards, their replicas and leader hints, as group 0's records  |
//! | `shard_read`    | a read of one group's replica, as it travels to the group's leader |
//! | `merge`         | one page from the pages of a read scattered over the shards       |
//! | `forward`       | writes and reads sent to the node leading their group             |
//! | `peer_http`     | the scheme and TLS of a node's requests to its peers              |
//! | `snapshot_stream` | a snapshot's byte stream: its format, packed and unpacked in chunks |
//! | `proposer`      | client writes handed to Raft in groups (one append for many)      |
//! | `read_gate`     | one read-index round shared by the linearizable reads waiting     |
//! | `config`        | how a node is set up (`NodeConfig`)                               |
//! | `group`         | one Raft group: writes, read barriers, status, membership, RPCs   |
//! | `node`          | one member: its groups, their shared log store and network        |

mod config;
mod forward;
pub mod group;
pub mod log_store;
pub mod merge;
pub mod network;
pub mod node;
pub mod peer_http;
pub mod placement;
mod proposer;
mod read_gate;
pub mod shard_map;
pub mod shard_read;
pub mod snapshot_stream;
pub mod state_machine;
pub mod types;
pub mod wire;

pub use config::NodeConfig;
pub use forward::Proposal;
pub use group::{MembershipError, RaftGroup, Status, Unavailable};
pub use node::{ClusterNode, ShardView, ShardsView};
pub use peer_http::PeerHttp;
pub use types::{ClientRequest, Failure, NodeId, Response};

/// The peers' RPC requests, as the server's `/raft/...` routes receive them.
pub mod rpc {
    /// An append-entries request.
    pub type AppendRequest = openraft::raft::AppendEntriesRequest<crate::types::TypeConfig>;
    /// A vote request.
    pub type VoteRequest = openraft::raft::VoteRequest<crate::types::TypeConfig>;
    /// A leader handing its leadership over.
    pub type TransferLeaderRequest =
        openraft::raft::TransferLeaderRequest<crate::types::TypeConfig>;
}
