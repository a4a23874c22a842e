//! The router: every route with its handler, the fallback (404 `no_such_route`) and the layers
//! around them, outermost first: request logging, metrics, load shedding (the in-flight limit),
//! members-only Raft routes, auth, the request guard (early 413, body deadline, total time),
//! body limit, cluster routing.

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{middleware, Router};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth;
use crate::cluster_routing;
use crate::error::ApiError;
use crate::limits::{MAX_BODY_BYTES, MAX_RAFT_BYTES};
use crate::metrics;
use crate::openapi;
use crate::request_guard::{self, Guard};
use crate::routes::{admin, cluster, filtered, indexes, ops, query, raft, records};
use crate::shedding::{self, Shedder};
use crate::state::AppState;

/// Logs a failed request: a 500 (a bug) at error; a 503 (shed, overloaded, no leader: the
/// server doing its job under load) at debug, since a flood of them must not flood the log too
/// (each is logged at info with its status as a response already).
fn log_failure(
    class: tower_http::classify::ServerErrorsFailureClass,
    latency: std::time::Duration,
    _span: &tracing::Span,
) {
    use tower_http::classify::ServerErrorsFailureClass as Class;
    match class {
        Class::StatusCode(StatusCode::SERVICE_UNAVAILABLE) => {
            tracing::debug!(target: "fielddb_server", ?latency, "answered 503")
        }
        other => tracing::error!(target: "fielddb_server", ?latency, "request failed: {other}"),
    }
}

/// The router with every route.
pub(crate) fn router(
    state: AppState,
    guard: Guard,
    shedder: Shedder,
    members_verified: bool,
) -> Router {
    Router::new()
        .route(
            "/v1/records/{key}",
            put(records::put_record)
                .get(records::get_record)
                .patch(records::patch_record)
                .delete(records::delete_record),
        )
        .route("/v1/records/{key}/append", post(records::append_to_record))
        .route("/v1/records", get(records::scan_records))
        .route("/v1/batch", post(records::batch))
        .route(
            "/v1/indexes",
            post(indexes::create_index).get(indexes::list_indexes),
        )
        .route(
            "/v1/indexes/{field}",
            get(indexes::get_index).delete(indexes::drop_index),
        )
        .route("/v1/query", get(query::query).post(filtered::query_filter))
        .route("/v1/count", get(query::count))
        .route("/v1/verify", get(ops::verify))
        .route(
            "/v1/admin/backups",
            post(admin::create_backups).get(admin::list_backups),
        )
        .route("/v1/openapi.json", get(openapi::openapi))
        .route("/v1/cluster", get(cluster::get_status))
        .route("/v1/cluster/init", post(cluster::init))
        .route("/v1/cluster/hash", get(cluster::content_hash))
        .route("/v1/cluster/shards", get(cluster::shards))
        .route("/v1/cluster/verify", get(cluster::verify_replica))
        .route(
            "/v1/cluster/shards/{shard}/leader",
            post(cluster::shard_leader),
        )
        .route("/v1/cluster/shards/{shard}/move", post(cluster::move_shard))
        .route("/v1/cluster/learners", post(cluster::add_learner))
        .route("/v1/cluster/voters", post(cluster::change_voters))
        .route("/v1/cluster/leader", post(cluster::transfer_leader))
        .route(
            "/raft/append",
            post(raft::append).layer(DefaultBodyLimit::max(MAX_RAFT_BYTES)),
        )
        .route("/raft/vote", post(raft::vote))
        .route(
            "/raft/propose",
            post(raft::propose).layer(DefaultBodyLimit::max(MAX_RAFT_BYTES)),
        )
        .route("/raft/read", post(raft::read))
        .route("/raft/transfer", post(raft::transfer))
        .route(
            "/raft/snapshot",
            // Streamed to disk as it arrives; the handler enforces MAX_SNAPSHOT_BYTES.
            post(raft::snapshot).layer(DefaultBodyLimit::disable()),
        )
        .route("/metrics", get(ops::metrics))
        .route("/health", get(ops::health))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no_such_route", "no such route")
        })
        .layer(middleware::from_fn_with_state(
            state.routing.clone(),
            cluster_routing::route,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(guard, request_guard::guard))
        .layer(middleware::from_fn_with_state(
            state.token.clone(),
            auth::require_token,
        ))
        .layer(middleware::from_fn_with_state(
            members_verified,
            auth::require_member,
        ))
        .layer(middleware::from_fn_with_state(shedder, shedding::shed))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(log_failure),
        )
        .with_state(state)
}
