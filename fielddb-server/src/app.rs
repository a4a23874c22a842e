//! The application: shared state (`AppState`), the router with every route and its layers
//! (request logging, metrics, auth, body limit), the documented limits, and `blocking`, which
//! runs a store call on tokio's blocking pool.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{middleware, Router};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::{self, Token};
use crate::error::ApiError;
use crate::metrics::{self, Metrics};
use crate::routes::{indexes, ops, query, records};
use crate::store::Store;

/// The largest request body accepted (a record or a batch): 4 MiB. Larger is 413.
pub const MAX_BODY_BYTES: usize = 4 << 20;
/// The page size when `limit` is not given.
pub const DEFAULT_PAGE: usize = 100;
/// The largest page size; a larger `limit` is capped to it.
pub const MAX_PAGE: usize = 1000;
/// The most operations one batch may hold.
pub const MAX_BATCH_OPS: usize = 10_000;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    pub token: Option<Token>,
}

/// Runs `f` (which may block on RocksDB) on the blocking pool. A panic in it is a 500.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("the request's task failed: {e}")))?
}

/// The page size for a requested `limit`: default 100, capped at 1000, and at least 1.
pub fn page_size(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(0) => Err(ApiError::bad_request("limit must be at least 1")),
        Some(n) => Ok(n.min(MAX_PAGE)),
    }
}

/// The router with every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/v1/records/{key}",
            put(records::put_record)
                .get(records::get_record)
                .delete(records::delete_record),
        )
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
        .route("/v1/query", get(query::query))
        .route("/v1/count", get(query::count))
        .route("/v1/verify", get(ops::verify))
        .route("/v1/openapi.json", get(ops::openapi))
        .route("/metrics", get(ops::metrics))
        .route("/health", get(ops::health))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no_such_route", "no such route")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}
