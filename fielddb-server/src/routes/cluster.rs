//! The cluster's own routes: `GET /v1/cluster` (this node's view of the group),
//! `POST /v1/cluster/init` (make the `--peers` the voters; idempotent, 409 for another
//! membership), `POST /v1/cluster/learners {"node_id", "addr"}` (returns once the learner has
//! caught up) and `POST /v1/cluster/voters {"voters": [ids]}`. One membership change at a time:
//! a concurrent one is 409. `POST /v1/cluster/leader {"node_id"}` hands the leadership over.
//! On a single node they are 404.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use fielddb_cluster::{ClusterNode, MembershipError};
use serde_json::{json, Value as Json_};
use utoipa::ToSchema;

use crate::body::JsonBody;
use crate::error::{unavailable_error, ApiError};
use crate::routes::ErrorBody;
use crate::state::AppState;

/// A node's view of its group (`GET /v1/cluster`, and the answer of a membership change).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI; the handler serializes `Status`
pub(crate) struct ClusterStatus {
    /// This node's id.
    node_id: u64,
    /// `leader`, `follower`, `candidate`, `learner` or `shutdown`.
    role: String,
    /// The leader this node knows of.
    leader: Option<u64>,
    /// The current term.
    term: u64,
    /// The voting members.
    voters: Vec<u64>,
    /// The non-voting members.
    learners: Vec<u64>,
    /// The last index in this node's log.
    last_log_index: Option<u64>,
    /// The last index applied to this node's replica.
    last_applied: Option<u64>,
    /// The index of this node's newest snapshot.
    snapshot: Option<u64>,
    /// The last index purged from this node's log.
    purged: Option<u64>,
}

/// The answer of `POST /v1/cluster/init`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI
pub(crate) struct InitReply {
    /// True when this call initialized the group; false when it already was, with these voters.
    initialized: bool,
    /// The node that answered.
    node_id: u64,
}

/// `POST /v1/cluster/learners`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body for OpenAPI; the handler reads the JSON itself
pub(crate) struct LearnerBody {
    /// The new node's id.
    node_id: u64,
    /// Where the members reach it: its `--listen` address, HOST:PORT.
    addr: String,
}

/// `POST /v1/cluster/voters`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body for OpenAPI; the handler reads the JSON itself
pub(crate) struct VotersBody {
    /// The voting members after the change (learners named here are promoted).
    voters: Vec<u64>,
}

/// `POST /v1/cluster/leader`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body for OpenAPI; the handler reads the JSON itself
pub(crate) struct LeaderBody {
    /// The voter to hand the leadership to.
    node_id: u64,
}

/// `GET /v1/cluster/hash`'s parameters.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HashParams {
    /// The Raft group (0, the default, is the first; shard i is group i + 1).
    group: Option<u32>,
}

/// One shard in `GET /v1/cluster/shards`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI; the handler serializes `ShardView`
pub(crate) struct ShardItem {
    /// The shard's number, 0 to S - 1.
    shard: u32,
    /// Its Raft group (shard + 1; group 0 in a one-shard cluster).
    group: u32,
    /// Its voting members.
    voters: Vec<u64>,
    /// Its non-voting members.
    learners: Vec<u64>,
    /// The node that should lead it.
    leader_hint: Option<u64>,
    /// The leader the answering node knows of (when it holds the shard).
    leader: Option<u64>,
    /// The answering node's role in the shard, if it holds it.
    role: Option<String>,
    /// The last index the answering node applied in the shard.
    last_applied: Option<u64>,
}

/// The answer of `GET /v1/cluster/shards`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI; the handler serializes `ShardsView`
pub(crate) struct ShardsReply {
    /// The node that answered.
    node_id: u64,
    /// S, the number of shards.
    shards: u32,
    /// R, the replicas of each.
    replicas: u32,
    /// Every shard.
    items: Vec<ShardItem>,
}

/// `POST /v1/cluster/init`'s optional body.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body for OpenAPI; the handler reads the JSON itself
pub(crate) struct InitBody {
    /// S, the number of shards (default 1), fixed for the cluster's life.
    shards: Option<u32>,
    /// R, the replicas of each shard (default: every member).
    replicas: Option<u32>,
}

/// The answer of `GET /v1/cluster/hash`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI
pub(crate) struct HashReply {
    /// The content hash of records, index entries and counts, 16 hex digits.
    hash: String,
    /// The records counted.
    records: u64,
    /// The log index the replica has applied.
    applied: Option<u64>,
}

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

/// This node's view of its group.
#[utoipa::path(get, path = "/v1/cluster", tag = "cluster",
    responses(
        (status = 200, description = "The group as this node sees it", body = ClusterStatus),
        (status = 404, description = "Not a cluster node", body = ErrorBody),
    ))]
pub(crate) async fn get_status(State(state): State<AppState>) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    status(&node)
}

/// Makes the `--peers` the voting members. Idempotent.
#[utoipa::path(post, path = "/v1/cluster/init", tag = "cluster",
    request_body(content = Option<InitBody>, content_type = "application/json",
        description = "Optional: the shard count and replicas per shard"),
    responses(
        (status = 200, description = "Initialized, or already with these voters and this layout", body = InitReply),
        (status = 400, description = "A malformed body, or a layout that cannot be made", body = ErrorBody),
        (status = 409, description = "The group already has other voters, or another layout, or data as one shard", body = ErrorBody),
        (status = 503, description = "No leader or quorum", body = ErrorBody),
        (status = 404, description = "Not a cluster node", body = ErrorBody),
    ))]
pub(crate) async fn init(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    let shape = "expected no body, or {\"shards\": S, \"replicas\": R} (both optional)";
    let layout: Json_ = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("{shape}: {e}")))?
    };
    let Some(fields) = layout.as_object() else {
        return Err(ApiError::bad_request(shape));
    };
    if let Some(unknown) = fields.keys().find(|k| *k != "shards" && *k != "replicas") {
        return Err(ApiError::bad_request(format!(
            "unknown member `{unknown}`: {shape}"
        )));
    }
    let number = |name: &str| -> Result<Option<u32>, ApiError> {
        match fields.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n >= 1)
                .map(Some)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("`{name}` must be a whole number from 1"))
                }),
        }
    };
    let shards = number("shards")?.unwrap_or(1);
    let replicas = number("replicas")?;
    let initialized = node
        .init_cluster(shards, replicas)
        .await
        .map_err(membership_error)?;
    Ok(Json(
        json!({"initialized": initialized, "node_id": node.id()}),
    ))
}

/// The shards, their replicas and leaders, as this node sees them.
#[utoipa::path(get, path = "/v1/cluster/shards", tag = "cluster",
    responses(
        (status = 200, description = "Every shard: its group, voters, learners, leader hint, and this node's view of it", body = ShardsReply),
        (status = 404, description = "Not a cluster node", body = ErrorBody),
    ))]
pub(crate) async fn shards(State(state): State<AppState>) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    serde_json::to_value(node.shards_view())
        .map(Json)
        .map_err(|e| ApiError::internal(format!("cannot encode the shards: {e}")))
}

/// Adds a learner; answers once it has caught up.
#[utoipa::path(post, path = "/v1/cluster/learners", tag = "cluster",
    request_body(content = LearnerBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Added and caught up", body = ClusterStatus),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 409, description = "Another membership change is under way", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 503, description = "No leader or quorum, or the learner did not catch up in time", body = ErrorBody),
    ))]
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

/// Changes the voting members.
#[utoipa::path(post, path = "/v1/cluster/voters", tag = "cluster",
    request_body(content = VotersBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed", body = ClusterStatus),
        (status = 400, description = "Malformed body, or no voters", body = ErrorBody),
        (status = 409, description = "Another membership change is under way", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 503, description = "No leader or quorum", body = ErrorBody),
    ))]
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

/// Hands the leadership to another voter (before taking the leader down for maintenance, say);
/// answers once it leads.
#[utoipa::path(post, path = "/v1/cluster/leader", tag = "cluster",
    request_body(content = LeaderBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The node leads", body = ClusterStatus),
        (status = 400, description = "Malformed body, or the node is not a voter (any id fits the schema; only the group's voters are taken)", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 503, description = "No leader, or the node did not take over in time", body = ErrorBody),
    ))]
pub(crate) async fn transfer_leader(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    let to = body
        .get("node_id")
        .and_then(Json_::as_u64)
        .ok_or_else(|| ApiError::bad_request("expected {\"node_id\": ID}"))?;
    node.transfer_leader(to).await.map_err(membership_error)?;
    status(&node)
}

/// `GET /v1/cluster/hash`: the local replica's content hash (records, index entries and
/// counts), the records counted and the applied log id: equal on replicas at the same entry.
#[utoipa::path(get, path = "/v1/cluster/hash", tag = "cluster",
    params(HashParams),
    responses(
        (status = 200, description = "The local replica's content hash", body = HashReply),
        (status = 400, description = "A malformed group", body = ErrorBody),
        (status = 404, description = "Not a cluster node, or no such group here", body = ErrorBody),
    ))]
pub(crate) async fn content_hash(
    State(state): State<AppState>,
    params: Result<axum::extract::Query<HashParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    let axum::extract::Query(params) = params?;
    let group = params.group.unwrap_or(0);
    if node.group(group).is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_group",
            format!("node {} holds no group {group}", node.id()),
        ));
    }
    let hash = tokio::task::spawn_blocking(move || node.content_hash(group))
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

/// The answer of a shard's leader transfer or move.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI
pub(crate) struct ShardReply {
    /// The node that ran the change (the shard's leader when it began).
    node_id: u64,
    /// The shard as that node sees it.
    shard: ShardItem,
}

/// `POST /v1/cluster/shards/{shard}/leader`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body for OpenAPI; the handler reads the JSON itself
pub(crate) struct ShardLeaderBody {
    /// The shard's voter to hand the leadership to.
    to: u64,
}

/// `POST /v1/cluster/shards/{shard}/move`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body for OpenAPI; the handler reads the JSON itself
pub(crate) struct MoveBody {
    /// The node giving up its replica (a voter of the shard).
    from: u64,
    /// The node taking it (a member of the cluster that does not hold the shard).
    to: u64,
}

fn node_field(body: &Json_, name: &str, shape: &str) -> Result<u64, ApiError> {
    body.get(name)
        .and_then(Json_::as_u64)
        .ok_or_else(|| ApiError::bad_request(shape.to_owned()))
}

fn shard_status(node: &ClusterNode, shard: u32) -> Result<Json<Json_>, ApiError> {
    let view = node.shards_view();
    let item = view.items.into_iter().find(|i| i.shard == shard);
    let item = serde_json::to_value(item)
        .map_err(|e| ApiError::internal(format!("cannot encode the shard: {e}")))?;
    Ok(Json(json!({"node_id": node.id(), "shard": item})))
}

/// Hands a shard's leadership to another of its voters; answers once it leads. Any node takes
/// it (it is sent to the shard's leader).
#[utoipa::path(post, path = "/v1/cluster/shards/{shard}/leader", tag = "cluster",
    params(("shard" = u32, Path, description = "The shard, 0 to S - 1")),
    request_body(content = ShardLeaderBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The node leads the shard: the shard as the node that ran the change sees it", body = ShardReply),
        (status = 400, description = "Malformed body, no such shard, a one-shard cluster, or the node is not the shard's voter", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 503, description = "No leader, or the node did not take over in time", body = ErrorBody),
    ))]
pub(crate) async fn shard_leader(
    State(state): State<AppState>,
    shard: Result<axum::extract::Path<u32>, axum::extract::rejection::PathRejection>,
    JsonBody(body): JsonBody,
) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    let axum::extract::Path(shard) = shard?;
    let to = node_field(&body, "to", "expected {\"to\": ID}")?;
    node.transfer_shard_leader(shard, to)
        .await
        .map_err(membership_error)?;
    shard_status(&node, shard)
}

/// Moves a shard's replica from one node to another while clients write: the target joins as a
/// learner, catches up, and replaces the source among the voters; the shard map follows. Any
/// node takes it (it is sent to the shard's leader); answers when the move is done.
#[utoipa::path(post, path = "/v1/cluster/shards/{shard}/move", tag = "cluster",
    params(("shard" = u32, Path, description = "The shard, 0 to S - 1")),
    request_body(content = MoveBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Moved: the shard as the node that ran the move sees it", body = ShardReply),
        (status = 400, description = "Malformed body, no such shard, a one-shard cluster, `from` not a voter of it, `to` one already or not a member", body = ErrorBody),
        (status = 409, description = "Another move or membership change is under way", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 503, description = "No leader or quorum, or the target did not catch up in time", body = ErrorBody),
    ))]
pub(crate) async fn move_shard(
    State(state): State<AppState>,
    shard: Result<axum::extract::Path<u32>, axum::extract::rejection::PathRejection>,
    JsonBody(body): JsonBody,
) -> Result<Json<Json_>, ApiError> {
    let node = node(&state)?;
    let axum::extract::Path(shard) = shard?;
    let shape = "expected {\"from\": ID, \"to\": ID}";
    let from = node_field(&body, "from", shape)?;
    let to = node_field(&body, "to", shape)?;
    node.move_shard(shard, from, to)
        .await
        .map_err(membership_error)?;
    shard_status(&node, shard)
}

/// `GET /v1/cluster/verify?group=g`: `verify` on this node's own replica of group g (not through
/// the leader, and not gathered over the shards as `/v1/verify` is): each replica of each shard
/// can be checked on its own.
#[utoipa::path(get, path = "/v1/cluster/verify", tag = "cluster",
    params(HashParams),
    responses(
        (status = 200, description = "The local replica's verify report", body = crate::routes::ops::VerifyReply),
        (status = 400, description = "A malformed group", body = ErrorBody),
        (status = 404, description = "Not a cluster node, or no such group here", body = ErrorBody),
    ))]
pub(crate) async fn verify_replica(
    State(state): State<AppState>,
    params: Result<axum::extract::Query<HashParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<crate::routes::ops::VerifyReply>, ApiError> {
    let node = node(&state)?;
    let axum::extract::Query(params) = params?;
    let group = params.group.unwrap_or(0);
    let Some(group) = node.group(group) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_group",
            format!("node {} holds no group {group}", node.id()),
        ));
    };
    let report = tokio::task::spawn_blocking(move || group.db().verify())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(Json(crate::routes::ops::verify_reply(&report)))
}
