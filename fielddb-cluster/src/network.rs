//! `Network`: how a node reaches its peers — openraft's RPCs as HTTP requests to the peer's
//! `--listen` address, under `/raft/...`, with the cluster's bearer token when one is set.
//!
//! | RPC             | request                                  | answer                              |
//! |-----------------|------------------------------------------|-------------------------------------|
//! | append entries  | `POST /raft/append`, `wire`-encoded      | `Result<AppendEntriesResponse, _>`  |
//! | vote            | `POST /raft/vote`, `wire`-encoded        | `Result<VoteResponse, _>`           |
//! | transfer leader | `POST /raft/transfer`, `wire`-encoded    | `Result<TransferLeaderResponse, _>` |
//! | full snapshot   | `POST /raft/snapshot`, the packed files  | `Result<SnapshotResponse, _>`       |
//!
//! Answers are `wire`-encoded (`crate::wire`, content type `application/x-fielddb-raft`); the
//! error side is the peer's refusal as text.
//!
//! Every request names the node it is for (`Fielddb-Raft-Target`), which refuses it when that
//! is not its id, and the Raft group (`Fielddb-Raft-Group`), which the node refuses when it
//! holds no such group. One `Network` serves one group; `for_group` makes another group's over
//! the same HTTP client and connection pool. A snapshot's body is its vote and metadata, then the checkpoint's files,
//! streamed (`snapshot_stream`). A peer that cannot be reached is `Unreachable` (openraft backs off);
//! any other failure is a `NetworkError` (retried).

use std::future::Future;
use std::time::Duration;

use openraft::errors::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::v2::RaftNetworkV2;
use openraft::network::{RPCOption, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};
use openraft::type_config::alias::VoteOf;
use openraft::{BasicNode, OptionalSend};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::log_store::GroupId;
use crate::peer_http::PeerHttp;
use crate::snapshot_stream::{self, ChunkWriter};
use crate::state_machine::{GroupSnapshot, SnapshotDir};
use crate::types::{NodeId, TypeConfig};
use crate::wire;

/// The header naming the node a Raft RPC is for.
pub const TARGET_HEADER: &str = "Fielddb-Raft-Target";
/// The header naming the Raft group (shard) a Raft RPC is for.
pub const GROUP_HEADER: &str = "Fielddb-Raft-Group";

/// How long a snapshot may take to send and install.
pub const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(120);

/// Builds a client per peer; all share one HTTP connection pool. A peer is reached at the
/// address this node's `--peers` gives for it, and at the address in the membership for a node
/// added later: each node's own view of where its peers are comes first.
#[derive(Clone)]
pub struct Network {
    http: reqwest::Client,
    group: GroupId,
    peer_http: PeerHttp,
    token: Option<String>,
    peers: std::collections::BTreeMap<NodeId, String>,
}

impl Network {
    /// A network whose requests go over `peer_http` and carry `token` (the cluster's bearer
    /// token) when given.
    pub fn new(
        peer_http: PeerHttp,
        token: Option<String>,
        peers: std::collections::BTreeMap<NodeId, String>,
    ) -> Result<Network, String> {
        let http = peer_http.client(None)?;
        Ok(Network {
            http,
            group: 0,
            peer_http,
            token,
            peers,
        })
    }

    /// The network of group `group`, sharing this one's client and connections.
    pub fn for_group(&self, group: GroupId) -> Network {
        Network {
            group,
            ..self.clone()
        }
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Self::Network {
        PeerClient {
            target,
            group: self.group,
            addr: self.peers.get(&target).unwrap_or(&node.addr).clone(),
            http: self.http.clone(),
            peer_http: self.peer_http.clone(),
            token: self.token.clone(),
        }
    }
}

/// The RPC client of one peer.
pub struct PeerClient {
    target: NodeId,
    group: GroupId,
    addr: String,
    http: reqwest::Client,
    peer_http: PeerHttp,
    token: Option<String>,
}

impl PeerClient {
    async fn post<Resp: DeserializeOwned>(
        &self,
        path: &str,
        body: reqwest::Body,
        content_type: &str,
        timeout: Duration,
    ) -> Result<Resp, RPCError<TypeConfig>> {
        let url = self.peer_http.url(&self.addr, &format!("/raft/{path}"));
        let mut request = self
            .http
            .post(&url)
            .header(TARGET_HEADER, self.target.to_string())
            .header(GROUP_HEADER, self.group.to_string())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .timeout(timeout);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| {
            if e.is_connect() {
                RPCError::Unreachable(Unreachable::new(&e))
            } else {
                RPCError::Network(NetworkError::new(&e))
            }
        })?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(RPCError::Network(NetworkError::from_string(format!(
                "HTTP {status} from {url}: {text}"
            ))));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let answer: Result<Resp, String> =
            wire::decode(&body).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        answer.map_err(|e| RPCError::Unreachable(Unreachable::from_string(e)))
    }

    async fn post_encoded<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        request: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<TypeConfig>> {
        let body = wire::encode(request).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        self.post(path, body.into(), wire::CONTENT_TYPE, option.soft_ttl())
            .await
    }
}

impl RaftNetworkV2<TypeConfig> for PeerClient {
    type SnapshotData = SnapshotDir;

    async fn append_entries(
        &mut self,
        request: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.post_encoded("append", &request, &option).await
    }

    async fn vote(
        &mut self,
        request: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.post_encoded("vote", &request, &option).await
    }

    async fn transfer_leader(
        &mut self,
        request: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.post_encoded("transfer", &request, &option).await
    }

    async fn full_snapshot(
        &mut self,
        vote: VoteOf<TypeConfig>,
        snapshot: GroupSnapshot,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let path = snapshot.snapshot.path.clone();
        let header = serde_json::to_vec(&(vote, snapshot.meta))
            .map_err(|e| StreamingError::Network(NetworkError::new(&e)))?;
        // A blocking thread reads the files into chunks; the request sends them as they come.
        let (chunks, body) = tokio::sync::mpsc::channel(4);
        let packer = tokio::task::spawn_blocking(move || {
            let mut out = ChunkWriter::new(chunks);
            if let Err(e) = snapshot_stream::pack(&header, &path, &mut out) {
                out.fail(e);
            }
        });
        let body = futures::stream::unfold(body, |mut body| async move {
            body.recv().await.map(|chunk| (chunk, body))
        });
        let send = self.post::<SnapshotResponse<TypeConfig>>(
            "snapshot",
            reqwest::Body::wrap_stream(body),
            "application/octet-stream",
            SNAPSHOT_TIMEOUT,
        );
        tokio::pin!(cancel);
        let answer = tokio::select! {
            closed = &mut cancel => Err(StreamingError::Closed(closed)),
            answer = send => Ok(answer?),
        };
        // The packer ends once the body is dropped (its sends fail).
        let _ = packer.await;
        answer
    }
}
