//! `Forwarder`: a client's write or read of a group, sent to the node that leads the group when
//! it is not this one. Two RPCs beside Raft's own, over the same HTTP client, token and TLS:
//!
//! | RPC     | request                                                | answer                              |
//! |---------|--------------------------------------------------------|-------------------------------------|
//! | propose | `POST /raft/propose`, `wire`(`Proposal`)               | `Result<Response, Unavailable>`     |
//! | read    | `POST /raft/read`, `wire`(`ShardRead`)                 | `Result<ShardAnswer, Unavailable>`  |
//!
//! Both name the target node (`Fielddb-Raft-Target`) and the group (`Fielddb-Raft-Group`). The
//! receiving node serves them only as the group's leader (a read after its read barrier) and
//! otherwise answers `NotLeader` with the leader it knows: it never forwards again, so a request
//! makes at most the hops its origin chooses.

use serde::{Deserialize, Serialize};

use crate::group::Unavailable;
use crate::log_store::GroupId;
use crate::network::{GROUP_HEADER, TARGET_HEADER};
use crate::peer_http::PeerHttp;
use crate::shard_read::{ShardAnswer, ShardRead};
use crate::types::{ClientRequest, NodeId, Response};
use crate::wire;

/// A client's write as another node proposes it: the command's bytes and the client's session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// `fielddb::Command::encode` bytes.
    pub command: Vec<u8>,
    /// The client's request, for de-duplicating retries.
    pub session: Option<ClientRequest>,
}

/// Sends proposals and reads to the nodes that lead their groups.
#[derive(Clone)]
pub(crate) struct Forwarder {
    http: reqwest::Client,
    peer_http: PeerHttp,
    token: Option<String>,
}

impl Forwarder {
    /// A forwarder whose requests give up after `timeout`.
    pub(crate) fn new(
        peer_http: PeerHttp,
        token: Option<String>,
        timeout: std::time::Duration,
    ) -> Result<Forwarder, String> {
        Ok(Forwarder {
            http: peer_http.client(Some(timeout))?,
            peer_http,
            token,
        })
    }

    async fn post<Req: Serialize, Resp: for<'de> Deserialize<'de>>(
        &self,
        (target, addr): (NodeId, &str),
        group: GroupId,
        path: &str,
        body: &Req,
    ) -> Result<Resp, Unavailable> {
        let unreachable = |why: String| {
            Unavailable::NoQuorum(
                Some(target),
                format!("node {target}, which leads group {group}, {why}"),
            )
        };
        let body = wire::encode(body).map_err(|e| Unavailable::Stopped(e.to_string()))?;
        let mut request = self
            .http
            .post(self.peer_http.url(addr, path))
            .header(TARGET_HEADER, target.to_string())
            .header(GROUP_HEADER, group.to_string())
            .header(reqwest::header::CONTENT_TYPE, wire::CONTENT_TYPE)
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(format!("did not answer: {e}")))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            // The node does not hold the group (yet): it is not the one to ask.
            return Err(Unavailable::NotLeader(None));
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(unreachable(format!("answered HTTP {status}: {text}")));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unreachable(format!("cut its answer: {e}")))?;
        let answer: Result<Resp, Unavailable> = wire::decode(&bytes)
            .map_err(|e| unreachable(format!("answered something malformed: {e}")))?;
        answer
    }

    /// Has `leader` propose `proposal` in `group`.
    pub(crate) async fn propose(
        &self,
        leader: (NodeId, &str),
        group: GroupId,
        proposal: &Proposal,
    ) -> Result<Response, Unavailable> {
        self.post(leader, group, "/raft/propose", proposal).await
    }

    /// Has `leader` answer `read` from its replica of `group`, after its read barrier.
    pub(crate) async fn read(
        &self,
        leader: (NodeId, &str),
        group: GroupId,
        read: &ShardRead,
    ) -> Result<ShardAnswer, Unavailable> {
        self.post(leader, group, "/raft/read", read).await
    }
}
