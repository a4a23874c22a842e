//! The peers' Raft RPCs, `POST /raft/append`, `/raft/vote` and `/raft/snapshot` (only in a
//! cluster; 404 otherwise). Each names its target node (`Fielddb-Raft-Target`) and is refused
//! when that is not this node. Answers are JSON `{"Ok": ...}` or `{"Err": "why"}`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use fielddb_cluster::network::TARGET_HEADER;
use fielddb_cluster::rpc::{AppendRequest, VoteRequest};
use serde::Serialize;
use serde_json::Value as Json_;

use crate::error::ApiError;
use crate::state::AppState;

type Answer = Result<Json<Json_>, ApiError>;

fn node(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<std::sync::Arc<fielddb_cluster::ClusterNode>, ApiError> {
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
    Ok(node)
}

fn answer<T: Serialize>(result: Result<T, String>) -> Answer {
    serde_json::to_value(&result)
        .map(Json)
        .map_err(|e| ApiError::internal(format!("cannot encode the answer: {e}")))
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("malformed RPC: {e}")))
}

pub(crate) async fn append(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let node = node(&state, &headers)?;
    let request: AppendRequest = parse(&body)?;
    answer(node.handle_append(request).await)
}

pub(crate) async fn vote(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Answer {
    let node = node(&state, &headers)?;
    let request: VoteRequest = parse(&body)?;
    answer(node.handle_vote(request).await)
}

pub(crate) async fn snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let node = node(&state, &headers)?;
    answer(node.handle_snapshot(body.to_vec()).await)
}
