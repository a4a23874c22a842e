//! The peers' RPCs, `POST /raft/append`, `/raft/vote`, `/raft/transfer` and `/raft/snapshot`
//! (openraft's), and `/raft/propose` and `/raft/read` (a client's write or read another node
//! sends to this one as its group's leader: `fielddb_cluster::forward`). Only in a cluster; 404
//! otherwise. Each names its target node (`Fielddb-Raft-Target`) and is refused
//! when that is not this node, and its Raft group (`Fielddb-Raft-Group`), 404 when this node
//! holds no such group. Bodies and answers are in `fielddb_cluster::wire`'s binary
//! encoding; an answer is `Ok(...)` or `Err("why")`. A body that does not decode is 400.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fielddb_cluster::network::{GROUP_HEADER, TARGET_HEADER};
use fielddb_cluster::rpc::{AppendRequest, TransferLeaderRequest, VoteRequest};
use fielddb_cluster::shard_read::ShardRead;
use fielddb_cluster::{wire, Proposal};
use futures::StreamExt;
use serde::Serialize;

use crate::error::ApiError;
use crate::limits::MAX_SNAPSHOT_BYTES;
use crate::state::AppState;

type Answer = Result<Response, ApiError>;

/// The group an RPC is for, once its target is this node and the group one it holds.
fn group(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<std::sync::Arc<fielddb_cluster::RaftGroup>, ApiError> {
    let Some(node) = state.cluster.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_route",
            "this server is not part of a cluster",
        ));
    };
    let target = headers
        .get(TARGET_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if target != Some(node.id()) {
        return Err(ApiError::bad_request(format!(
            "this is node {}, not the RPC's target {target:?}",
            node.id()
        )));
    }
    let group = headers
        .get(GROUP_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok())
        .ok_or_else(|| ApiError::bad_request(format!("the RPC names no group ({GROUP_HEADER})")))?;
    node.group(group).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_group",
            format!("node {} holds no Raft group {group}", node.id()),
        )
    })
}

fn answer<T: Serialize>(result: Result<T, String>) -> Answer {
    let bytes = wire::encode(&result)
        .map_err(|e| ApiError::internal(format!("cannot encode the answer: {e}")))?;
    Ok(([(header::CONTENT_TYPE, wire::CONTENT_TYPE)], bytes).into_response())
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    wire::decode(body).map_err(|e| ApiError::bad_request(format!("malformed RPC: {e}")))
}

pub(crate) async fn append(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let group = group(&state, &headers)?;
    let request: AppendRequest = parse(&body)?;
    answer(group.handle_append(request).await)
}

/// A client's write another node forwards: proposed here as the group's leader, or refused
/// with the leader this node knows of.
pub(crate) async fn propose(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let group = group(&state, &headers)?;
    let proposal: Proposal = parse(&body)?;
    let outcome = if group.is_leader() {
        group
            .write_encoded(proposal.command, proposal.session)
            .await
    } else {
        Err(fielddb_cluster::Unavailable::NotLeader(group.leader()))
    };
    answer_refusable(outcome)
}

/// A read another node forwards: answered here as the group's leader after its read barrier,
/// or refused with the leader this node knows of.
pub(crate) async fn read(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Answer {
    let group = group(&state, &headers)?;
    let read: ShardRead = parse(&body)?;
    answer_refusable(group.read(read).await)
}

fn answer_refusable<T: Serialize>(outcome: Result<T, fielddb_cluster::Unavailable>) -> Answer {
    let bytes = wire::encode(&outcome)
        .map_err(|e| ApiError::internal(format!("cannot encode the answer: {e}")))?;
    Ok(([(header::CONTENT_TYPE, wire::CONTENT_TYPE)], bytes).into_response())
}

pub(crate) async fn vote(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Answer {
    let group = group(&state, &headers)?;
    let request: VoteRequest = parse(&body)?;
    answer(group.handle_vote(request).await)
}

pub(crate) async fn transfer(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let group = group(&state, &headers)?;
    let request: TransferLeaderRequest = parse(&body)?;
    answer(group.handle_transfer_leader(request).await)
}

pub(crate) async fn snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let group = group(&state, &headers)?;
    // The body's chunks go to the group's unpacker as they arrive; a broken body ends the
    // stream with its error, so the unpacker refuses the snapshot.
    let (chunks, arriving) = tokio::sync::mpsc::channel(4);
    let install = group.handle_snapshot(arriving);
    let feed = async move {
        let mut body = body.into_data_stream();
        let mut received = 0usize;
        while let Some(chunk) = body.next().await {
            received = received.saturating_add(chunk.as_ref().map_or(0, |c| c.len()));
            let chunk = match chunk {
                _ if received > MAX_SNAPSHOT_BYTES => Err(std::io::Error::other(format!(
                    "a snapshot over {MAX_SNAPSHOT_BYTES} bytes"
                ))),
                Ok(bytes) => Ok(bytes.to_vec()),
                Err(e) => Err(std::io::Error::other(e)),
            };
            let broken = chunk.is_err();
            if chunks.send(chunk).await.is_err() || broken {
                break;
            }
        }
    };
    let (installed, ()) = tokio::join!(install, feed);
    answer(installed)
}
