//! The `guard` middleware: what a `/v1` request is allowed — its body's size and time, and its
//! total time.
//!
//! - A body whose `Content-Length` is over `limits::MAX_BODY_BYTES` is refused with 413 before
//!   a byte of it is read; so is a chunked body the moment it passes the limit (the extractor's
//!   limit). Either way the connection is closed after the answer (`Connection: close`): the
//!   rest of the body is never read.
//! - The whole body must arrive within the body deadline: the configured time plus one second
//!   per MiB announced. A body still arriving then is cut, the request answered 408, and the
//!   connection closed; the peer's address is logged at warn.
//! - Once its body has arrived, a request has the request timeout to be answered (a request
//!   whose handler never reads its body: from the body deadline on). A request still running
//!   then is answered 408 and logged at warn
//!   with the peer's address. Its store call may still finish on the blocking pool (RocksDB
//!   calls cannot be cancelled): a write that timed out may have been applied, and the answer
//!   says so. `/v1/verify` (bounded by the database's size) and `/v1/cluster/...` (membership
//!   changes wait for a learner to catch up, up to the snapshot timeout) are not timed.
//!
//! The peers' `/raft/...` routes have limits of their own (a snapshot streams for minutes).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::sync::Notify;

use crate::error::ApiError;
use crate::limits::MAX_BODY_BYTES;
use crate::metrics::Metrics;

/// The guard's settings and where it counts what it refused.
#[derive(Clone)]
pub(crate) struct Guard {
    /// The body deadline for a body of unknown or small size.
    pub(crate) body_timeout: Duration,
    /// The time a request has once its body has arrived.
    pub(crate) request_timeout: Duration,
    pub(crate) metrics: Arc<Metrics>,
}

/// The deadline for a body of `announced` bytes: `base`, plus a second per MiB.
pub(crate) fn body_deadline(base: Duration, announced: Option<u64>) -> Duration {
    base + Duration::from_secs(announced.unwrap_or(0) >> 20)
}

fn close(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

pub(crate) async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/v1/") {
        return next.run(request).await;
    }
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        guard.metrics.body_refused();
        return close(
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the body announces {} bytes, over the limit of {MAX_BODY_BYTES}",
                    announced.unwrap_or(0)
                ),
            )
            .into_response(),
        );
    }
    // A request without a body (no length, not chunked, as a GET) has no body to time.
    let has_body = announced.map_or_else(
        || request.headers().contains_key(TRANSFER_ENCODING),
        |n| n > 0,
    );
    let path = request.uri().path();
    let timed = !(path == "/v1/verify" || path.starts_with("/v1/cluster/"));
    let write = request.method() != Method::GET && request.method() != Method::HEAD;
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let started = tokio::time::Instant::now();
    if !has_body {
        // Nothing to wait for but the answer.
        if !timed {
            return next.run(request).await;
        }
        return match tokio::time::timeout(guard.request_timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => request_timed_out(&guard, peer, write, started),
        };
    }
    let deadline = body_deadline(guard.body_timeout, announced);
    let expired = Arc::new(AtomicBool::new(false));
    let arrived = Arc::new(Notify::new());
    let request = request.map(|body| {
        Body::new(DeadlineBody {
            inner: body,
            sleep: Box::pin(tokio::time::sleep(deadline)),
            expired: Arc::clone(&expired),
            arrived: Some(Arc::clone(&arrived)),
        })
    });
    let request_timeout = guard.request_timeout;
    let timer = async move {
        tokio::select! {
            () = arrived.notified() => {}
            () = tokio::time::sleep(deadline) => {}
        }
        tokio::time::sleep(request_timeout).await;
    };
    let response = if timed {
        let handler = next.run(request);
        tokio::pin!(handler);
        tokio::select! {
            response = &mut handler => response,
            () = timer => return request_timed_out(&guard, peer, write, started),
        }
    } else {
        next.run(request).await
    };
    if expired.load(Ordering::Acquire) {
        guard.metrics.body_timed_out();
        tracing::warn!(target: "fielddb_server", peer = %DisplayPeer(peer), "cut a request whose body did not arrive within {deadline:?}");
        return close(
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!("the body did not arrive within {} s", deadline.as_secs()),
            )
            .into_response(),
        );
    }
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        guard.metrics.body_refused();
        return close(response);
    }
    response
}

/// The 408 for a request not answered within the request timeout (counted and logged).
fn request_timed_out(
    guard: &Guard,
    peer: Option<SocketAddr>,
    write: bool,
    started: tokio::time::Instant,
) -> Response {
    let total = started.elapsed();
    guard.metrics.request_timed_out();
    tracing::warn!(target: "fielddb_server", peer = %DisplayPeer(peer), "answered 408: the request took {total:?}, over the request timeout");
    let outcome = if write {
        "; the write may still have been applied: read it back before retrying it"
    } else {
        ""
    };
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!(
            "the request was not answered within {} ms of its arrival (--request-timeout){outcome}",
            guard.request_timeout.as_millis()
        ),
    )
    .into_response()
}

/// A peer's address for a log line (formatted only when logged).
struct DisplayPeer(Option<SocketAddr>);

impl std::fmt::Display for DisplayPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(addr) => write!(f, "{addr}"),
            None => f.write_str("unknown"),
        }
    }
}

/// A body that fails once its deadline has passed (and says so through `expired`).
struct DeadlineBody {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
    /// Told once the whole body has arrived (then `None`).
    arrived: Option<Arc<Notify>>,
}

impl DeadlineBody {
    fn arrived(&mut self) {
        if let Some(arrived) = self.arrived.take() {
            arrived.notify_one();
        }
    }
}

#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            if frame.is_none() || self.inner.is_end_stream() {
                self.arrived();
            }
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_grows_a_second_per_announced_mib() {
        let base = Duration::from_secs(30);
        assert_eq!(body_deadline(base, None), base);
        assert_eq!(body_deadline(base, Some(100)), base);
        assert_eq!(body_deadline(base, Some(4 << 20)), Duration::from_secs(34));
    }
}
