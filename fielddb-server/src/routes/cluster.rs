//! The cluster's own routes: `GET /v1/cluster` (this node's view of the group),
//! `POST /v1/cluster/init` (make the `--peers` the voters; idempotent, 409 for another
//! membership), `POST /v1/cluster/learners {"node_id", "addr"}` (returns once the learner has
//! caught up) and `POST /v1/cluster/voters {"voters": [ids]}`. One membership change at a time:
//! a concurrent one is 409. On a single node they are 404.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use fielddb_cluster::{ClusterNode, MembershipError};
use serde_json::{json, Value as Json_};

use crate::body::JsonBody;
use crate::cluster_store::unavailable_error;
use crate::error::ApiError;
use crate::state::AppState;

fn node(state: &AppState) -> Result<Arc<ClusterNode>, ApiError> {
    state.cluster.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_route",
            "this server is not part of a cluster (start it with --node-id and --peers)",
        )
    })
}

fn membership_error(e: MembershipError) -> ApiError {
    match e {
        MembershipError::Conflict(message) => {
            ApiError::new(StatusCode::CONFLICT, "membership_conflict", message)
        }
        MembershipError::Invalid(message) => ApiError::bad_request(message),
        MembershipError::Unavailable(u) => ApiError::from(unavailable_error(u)),
    }
}

fn status(node: &ClusterNode) -> Result<Json<Json_>, ApiError> {
    serde_json::to_value(node.status())
        .map(Json)
        .map_err(|e| ApiError::internal(format!("cannot encode the status: {e}")))
}

pub(crate) async fn get_status(State(state): State<AppState>) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    status(&node)
}

pub(crate) async fn init(State(state): State<AppState>) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    let initialized = node.init().await.map_err(membership_error)?;
    Ok(Json(
        json!({"initialized": initialized, "node_id": node.id()}),
    ))
}

pub(crate) async fn add_learner(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    let shape = "expected {\"node_id\": ID, \"addr\": \"HOST:PORT\"}";
    let id = body
        .get("node_id")
        .and_then(Json_::as_u64)
        .ok_or_else(|| ApiError::bad_request(shape))?;
    let addr = body
        .get("addr")
        .and_then(Json_::as_str)
        .ok_or_else(|| ApiError::bad_request(shape))?;
    if addr.parse::<std::net::SocketAddr>().is_err() {
        return Err(ApiError::bad_request(format!(
            "`addr` {addr:?} is not HOST:PORT"
        )));
    }
    node.add_learner(id, addr.to_owned())
        .await
        .map_err(membership_error)?;
    status(&node)
}

pub(crate) async fn change_voters(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    let voters: BTreeSet<u64> = body
        .get("voters")
        .and_then(Json_::as_array)
        .and_then(|ids| ids.iter().map(Json_::as_u64).collect::<Option<_>>())
        .ok_or_else(|| ApiError::bad_request("expected {\"voters\": [ID, ...]}"))?;
    node.change_voters(voters).await.map_err(membership_error)?;
    status(&node)
}

/// `GET /v1/cluster/hash`: the local replica's content hash (records, index entries and
/// counts), the records counted and the applied log id: equal on replicas at the same entry.
pub(crate) async fn content_hash(State(state): State<AppState>) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    let hash = tokio::task::spawn_blocking(move || node.content_hash())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::internal)?;
    let applied: Option<Json_> = hash
        .position
        .as_deref()
        .and_then(|p| serde_json::from_slice(p).ok());
    Ok(Json(json!({
        "hash": format!("{:016x}", hash.hash),
        "records": hash.records,
        "applied": applied.as_ref().and_then(|a| a.get("index")).cloned(),
    })))
}
