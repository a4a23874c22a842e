//! `Network`: how a node reaches its peers — openraft's RPCs as HTTP requests to the peer's
//! `--listen` address, under `/raft/...`, with the cluster's bearer token when one is set.
//!
//! | RPC             | request                                  | answer                              |
//! |-----------------|------------------------------------------|-------------------------------------|
//! | append entries  | `POST /raft/append`, `wire`-encoded      | `Result<AppendEntriesResponse, _>`  |
//! | vote            | `POST /raft/vote`, `wire`-encoded        | `Result<VoteResponse, _>`           |
//! | full snapshot   | `POST /raft/snapshot`, the packed files  | `Result<SnapshotResponse, _>`       |
//!
//! Answers are `wire`-encoded (`crate::wire`, content type `application/x-fielddb-raft`); the
//! error side is the peer's refusal as text.
//!
//! Every request names the node it is for (`Fielddb-Raft-Target`), which refuses it when that
//! is not its id. A snapshot's body is its vote and metadata, then the checkpoint's files
//! (`snapshot_wire` below). A peer that cannot be reached is `Unreachable` (openraft backs off);
//! any other failure is a `NetworkError` (retried).

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use openraft::errors::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::v2::RaftNetworkV2;
use openraft::network::{RPCOption, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::type_config::alias::VoteOf;
use openraft::{BasicNode, OptionalSend};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::state_machine::{GroupSnapshot, SnapshotDir};
use crate::types::{NodeId, TypeConfig};
use crate::wire;

/// The header naming the node a Raft RPC is for.
pub const TARGET_HEADER: &str = "Fielddb-Raft-Target";

/// How long a snapshot may take to send and install.
pub const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(120);

/// Builds a client per peer; all share one HTTP connection pool. A peer is reached at the
/// address this node's `--peers` gives for it, and at the address in the membership for a node
/// added later: each node's own view of where its peers are comes first.
#[derive(Clone)]
pub struct Network {
    http: reqwest::Client,
    token: Option<String>,
    peers: std::collections::BTreeMap<NodeId, String>,
}

impl Network {
    /// A network whose requests carry `token` (the cluster's bearer token) when given.
    pub fn new(
        token: Option<String>,
        peers: std::collections::BTreeMap<NodeId, String>,
    ) -> Result<Network, String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_millis(500))
            .build()
            .map_err(|e| format!("cannot build the peers' HTTP client: {e}"))?;
        Ok(Network { http, token, peers })
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Self::Network {
        PeerClient {
            target,
            addr: self.peers.get(&target).unwrap_or(&node.addr).clone(),
            http: self.http.clone(),
            token: self.token.clone(),
        }
    }
}

/// The RPC client of one peer.
pub struct PeerClient {
    target: NodeId,
    addr: String,
    http: reqwest::Client,
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
        let url = format!("http://{}/raft/{path}", self.addr);
        let mut request = self
            .http
            .post(&url)
            .header(TARGET_HEADER, self.target.to_string())
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
        let body = tokio::task::spawn_blocking(move || snapshot_wire::pack(&header, &path))
            .await
            .map_err(|e| StreamingError::Network(NetworkError::new(&e)))?
            .map_err(|e| StreamingError::Network(NetworkError::new(&e)))?;
        let send = self.post::<SnapshotResponse<TypeConfig>>(
            "snapshot",
            body.into(),
            "application/octet-stream",
            SNAPSHOT_TIMEOUT,
        );
        tokio::pin!(cancel);
        tokio::select! {
            closed = &mut cancel => Err(StreamingError::Closed(closed)),
            answer = send => Ok(answer?),
        }
    }
}

/// The body of a snapshot RPC.
///
/// | bytes             | content                                             |
/// |-------------------|-----------------------------------------------------|
/// | u32 LE n, n bytes | JSON of `(vote, snapshot meta)`                     |
/// | per file:         |                                                     |
/// | u32 LE n, n bytes | the file's name (UTF-8, no `/`)                     |
/// | u64 LE n, n bytes | its content                                         |
pub mod snapshot_wire {
    use std::io::{self, Read, Write};
    use std::path::Path;

    /// Packs the header and every file of `dir`.
    pub fn pack(header: &[u8], dir: &Path) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        out.write_all(&(header.len() as u32).to_le_bytes())?;
        out.write_all(header)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let mut content = Vec::new();
            std::fs::File::open(entry.path())?.read_to_end(&mut content)?;
            out.write_all(&(name.len() as u32).to_le_bytes())?;
            out.write_all(name.as_bytes())?;
            out.write_all(&(content.len() as u64).to_le_bytes())?;
            out.write_all(&content)?;
        }
        Ok(out)
    }

    fn take<'a>(input: &mut &'a [u8], n: usize) -> io::Result<&'a [u8]> {
        if n > input.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "snapshot body is truncated",
            ));
        }
        let (head, tail) = input.split_at(n);
        *input = tail;
        Ok(head)
    }

    fn len32(input: &mut &[u8]) -> io::Result<usize> {
        let bytes = take(input, 4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
    }

    /// Unpacks a body into `dir` (created; must not exist), fsyncing every file and the
    /// directory; returns the header. A malformed body is `InvalidData`.
    pub fn unpack(mut body: &[u8], dir: &Path) -> io::Result<Vec<u8>> {
        let n = len32(&mut body)?;
        let header = take(&mut body, n)?.to_vec();
        std::fs::create_dir(dir)?;
        while !body.is_empty() {
            let n = len32(&mut body)?;
            let name = std::str::from_utf8(take(&mut body, n)?)
                .map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidData, "a file name is not UTF-8")
                })?
                .to_owned();
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("refused file name {name:?} in a snapshot"),
                ));
            }
            let size_bytes = take(&mut body, 8)?;
            let mut size = [0u8; 8];
            size.copy_from_slice(size_bytes);
            let size = usize::try_from(u64::from_le_bytes(size))
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file too large"))?;
            let content = take(&mut body, size)?;
            let mut file = std::fs::File::create(dir.join(&name))?;
            file.write_all(content)?;
            file.sync_all()?;
        }
        std::fs::File::open(dir)?.sync_all()?;
        Ok(header)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_packed_directory_unpacks_to_the_same_files_and_bad_bodies_are_refused() {
            let from = tempfile::tempdir().unwrap();
            std::fs::write(from.path().join("a.sst"), b"alpha").unwrap();
            std::fs::write(from.path().join("CURRENT"), b"").unwrap();
            let body = pack(b"head", from.path()).unwrap();
            let to = tempfile::tempdir().unwrap();
            let dir = to.path().join("x");
            assert_eq!(unpack(&body, &dir).unwrap(), b"head");
            assert_eq!(std::fs::read(dir.join("a.sst")).unwrap(), b"alpha");
            assert_eq!(std::fs::read(dir.join("CURRENT")).unwrap(), b"");
            for cut in 1..body.len() {
                let dir = to.path().join(format!("cut{cut}"));
                let _ = unpack(&body[..cut], &dir);
            }
            let mut evil = Vec::new();
            evil.extend_from_slice(&0u32.to_le_bytes());
            evil.extend_from_slice(&5u32.to_le_bytes());
            evil.extend_from_slice(b"../up");
            evil.extend_from_slice(&0u64.to_le_bytes());
            assert!(unpack(&evil, &to.path().join("evil")).is_err());
        }
    }
}

/// Unpacks a received snapshot body into `dir`; returns the vote and metadata it carries.
pub fn receive_snapshot(
    body: &[u8],
    dir: &Path,
) -> std::io::Result<(
    VoteOf<TypeConfig>,
    openraft::type_config::alias::SnapshotMetaOf<TypeConfig>,
)> {
    let header = snapshot_wire::unpack(body, dir)?;
    serde_json::from_slice(&header)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
}
