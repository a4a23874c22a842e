//! The `shed` middleware: at most `--max-in-flight` `/v1` requests are served at once. One more
//! is answered at once with 503 (`overloaded`) and `Retry-After: 1`, never queued. Every store
//! call of a request runs on the blocking pool, one at a time, so this bounds the queue in
//! front of that pool as well (the pool itself is bounded by `--blocking-threads`). `/health`,
//! `/metrics` and the peers' `/raft/...` routes are never shed.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{HeaderValue, RETRY_AFTER};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// The in-flight limit and where sheds are counted.
#[derive(Clone)]
pub(crate) struct Shedder {
    permits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl Shedder {
    /// At most `max_in_flight` (at least 1) requests at once.
    pub(crate) fn new(max_in_flight: usize, metrics: Arc<Metrics>) -> Shedder {
        Shedder {
            permits: Arc::new(Semaphore::new(max_in_flight.max(1))),
            metrics,
        }
    }
}

pub(crate) async fn shed(State(shedder): State<Shedder>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/v1/") {
        return next.run(request).await;
    }
    let Ok(_permit) = Arc::clone(&shedder.permits).try_acquire_owned() else {
        shedder.metrics.request_shed();
        let mut response = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many requests in flight; retry in a second",
        )
        .into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    next.run(request).await
}
