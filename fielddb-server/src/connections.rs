//! The accept loop: every TCP connection the server takes, what it allows a connection, and how
//! serving stops.
//!
//! - At most `max_connections` connections are served at once. One more is answered at once with
//!   `503` and `Retry-After: 1`, then closed: never queued.
//! - A client has `header_read_timeout` to send a request's headers (also the next request's,
//!   on a kept-alive connection, so an idle connection is closed after it); then the connection
//!   is closed (no status can be sent mid-headers).
//! - With TLS, the handshake must finish within `header_read_timeout` too; a failed one is
//!   counted and logged at info with the peer's address. Each request of a TLS connection
//!   carries the `TlsPeer` its handshake established (client or verified member).
//! - On shutdown the listener closes, and in-flight requests finish (hyper's graceful shutdown).
//! - A closed connection lingers: its socket goes on reading and discarding what the client still
//!   sends, for at most [`LINGER`] and [`LINGER_BYTES`], after our side has finished writing. A
//!   client still sending a body the server refused (413) then reads the answer, not a reset.
//!
//! The body deadline and the early refusal of an announced oversized body are per request, in
//! `limits.rs`'s middleware.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::metrics::Metrics;
use crate::tls::{TlsConfig, TlsPeer};

/// What one connection is allowed.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Connections served at once; more are answered 503 at once.
    pub max_connections: usize,
    /// Time to send a request's headers (and, kept alive, to start the next request).
    pub header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// The answer to a connection over the limit.
const OVER_LIMIT: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 89\r\n\
\r\n\
{\"error\":{\"code\":\"overloaded\",\"message\":\"too many open connections; retry in a second\"}}\n";

/// Serves `app` on `listener` until `shutdown` resolves, then waits for in-flight requests.
pub(crate) async fn serve_connections<F>(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    tls: Option<TlsConfig>,
    metrics: Arc<Metrics>,
    shutdown: F,
) where
    F: Future<Output = ()> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(target: "fielddb_server", "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            metrics.connection_refused();
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let stream = Lingering {
            stream: Some(stream),
        };
        let (http, watcher, tls, app) =
            (http.clone(), graceful.watcher(), tls.clone(), app.clone());
        let metrics = Arc::clone(&metrics);
        metrics.connection_opened();
        tokio::spawn(async move {
            let served = match tls {
                None => {
                    let connection =
                        http.serve_connection(TokioIo::new(stream), service(app, peer, None));
                    watcher.watch(connection).await
                }
                Some(tls) => {
                    let handshake = tls.accept(stream);
                    match tokio::time::timeout(limits.header_read_timeout, handshake).await {
                        Ok(Ok((stream, tls_peer))) => {
                            let service = service(app, peer, Some(tls_peer));
                            let connection = http.serve_connection(TokioIo::new(stream), service);
                            watcher.watch(connection).await
                        }
                        Ok(Err(e)) => {
                            metrics.handshake_failed();
                            tracing::info!(target: "fielddb_server", %peer, "TLS handshake failed: {e}");
                            Ok(())
                        }
                        Err(_) => {
                            metrics.header_timed_out();
                            tracing::warn!(target: "fielddb_server", %peer, "closed a connection: its TLS handshake did not finish in time");
                            Ok(())
                        }
                    }
                }
            };
            if let Err(e) = served {
                log_connection_error(peer, &e, &metrics);
            }
            metrics.connection_closed();
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The app as one connection's service: every request learns its peer's address (for the
/// guard's log lines) and, over TLS, who the handshake said the peer is (for `/raft` routes).
fn service(
    app: Router,
    peer: SocketAddr,
    tls_peer: Option<TlsPeer>,
) -> TowerToHyperService<
    impl tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future = impl Send,
        > + Clone,
> {
    TowerToHyperService::new(
        tower::ServiceBuilder::new()
            .map_request(
                move |mut request: axum::http::Request<hyper::body::Incoming>| {
                    let extensions = request.extensions_mut();
                    extensions.insert(axum::extract::ConnectInfo(peer));
                    if let Some(tls_peer) = tls_peer {
                        extensions.insert(tls_peer);
                    }
                    request
                },
            )
            .service(app),
    )
}

/// How long a closed connection goes on reading what its client still sends.
const LINGER: Duration = Duration::from_secs(2);
/// How much a closed connection reads (and discards) at most.
const LINGER_BYTES: usize = 8 << 20;

/// A connection's socket that lingers when hyper is done with it (see the module's header).
struct Lingering {
    /// Always `Some` until dropped.
    stream: Option<TcpStream>,
}

impl Lingering {
    fn stream(&mut self) -> std::io::Result<&mut TcpStream> {
        self.stream
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the connection is closed"))
    }
}

impl tokio::io::AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.stream() {
            Ok(stream) => Pin::new(stream).poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl tokio::io::AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.stream() {
            Ok(stream) => Pin::new(stream).poll_write(cx, bytes),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.stream() {
            Ok(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.stream() {
            Ok(stream) => Pin::new(stream).poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.stream() {
            Ok(stream) => Pin::new(stream).poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        if let (Some(stream), Ok(runtime)) =
            (self.stream.take(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(linger(stream));
        }
    }
}

/// Finishes writing, then reads and discards until the client closes, or [`LINGER`] or
/// [`LINGER_BYTES`] is reached; then the socket closes.
async fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let deadline = tokio::time::sleep(LINGER);
    tokio::pin!(deadline);
    let mut buffer = vec![0u8; 64 << 10];
    let mut read = 0usize;
    while read < LINGER_BYTES {
        tokio::select! {
            got = stream.read(&mut buffer) => match got {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            },
            () = &mut deadline => break,
        }
    }
}

/// Answers a connection over the limit and closes it, without reading its request.
async fn refuse(mut stream: TcpStream) {
    let _ = stream.write_all(OVER_LIMIT).await;
    let _ = stream.shutdown().await;
}

fn log_connection_error(peer: SocketAddr, error: &hyper::Error, metrics: &Metrics) {
    if error.is_timeout() {
        metrics.header_timed_out();
        tracing::warn!(target: "fielddb_server", %peer, "closed a connection: its request headers did not arrive in time");
    } else if !error.is_incomplete_message() && !error.is_closed() {
        tracing::debug!(target: "fielddb_server", %peer, "connection error: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_over_limit_answer_is_well_formed_http() {
        let text = std::str::from_utf8(OVER_LIMIT).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(body.len(), length);
        let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(parsed["error"]["code"], "overloaded");
        assert!(head.starts_with("HTTP/1.1 503 "));
    }
}
