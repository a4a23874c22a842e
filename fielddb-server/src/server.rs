//! Serving. `ServerConfig` says where to listen and with what token (and holds the rule that
//! refuses a non-loopback address without one); `Server` is bound to its address, then serves a
//! `Store` until a shutdown future resolves, finishing in-flight requests; `RunningServer` is a
//! `Server` on a runtime and thread of its own, for tests and for callers without a runtime.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use fielddb_cluster::ClusterNode;

use crate::auth::Token;
use crate::backups::Backups;
use crate::cluster_routing::Routing;
use crate::connections::{serve_connections, ConnectionLimits};
use crate::metrics::Metrics;
use crate::request_guard::Guard;
use crate::router::router;
use crate::shedding::Shedder;
use crate::state::AppState;
use crate::store::Store;
use crate::tls::TlsConfig;

/// How to serve: the address, the token and whether a non-loopback address may go without one.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The address to listen on; port 0 picks a free port (see `Server::local_addr`).
    pub listen: SocketAddr,
    /// The bearer token every route but `/health` requires; `None` lets every request through.
    pub token: Option<Token>,
    /// Allow a non-loopback `listen` address without a token.
    pub insecure: bool,
    /// This node of a cluster: requests are then routed to the leader, and the `/raft` and
    /// `/v1/cluster` routes served. `None` on a single node.
    pub cluster: Option<Arc<ClusterNode>>,
    /// The connection limit and the header-read timeout.
    pub connections: ConnectionLimits,
    /// The time a request body has to arrive (plus a second per MiB announced); then 408.
    pub body_timeout: Duration,
    /// `/v1` requests served at once; one more is answered 503 at once.
    pub max_in_flight: usize,
    /// The time a `/v1` request has once its body has arrived; then 408. `/v1/verify` and the
    /// cluster's membership routes have bounds of their own. In a cluster the node's own waits
    /// answer 503 after the same time; this deadline is a second later, as a backstop.
    pub request_timeout: Duration,
    /// HTTPS with this certificate and key; `None` serves plain HTTP.
    pub tls: Option<TlsConfig>,
    /// Backup targets (`/v1/admin/backups`), on a single node.
    pub backups: Option<Arc<Backups>>,
    /// Back up into every target this often (with `backups`).
    pub backup_every: Option<Duration>,
}

impl ServerConfig {
    /// Listens on `listen`, with no token, and refuses a non-loopback address.
    pub fn new(listen: SocketAddr) -> ServerConfig {
        ServerConfig {
            listen,
            token: None,
            insecure: false,
            cluster: None,
            connections: ConnectionLimits::default(),
            body_timeout: Duration::from_secs(30),
            max_in_flight: 512,
            request_timeout: Duration::from_secs(5),
            tls: None,
            backups: None,
            backup_every: None,
        }
    }

    /// Serves as `node` of a cluster.
    pub fn with_cluster(mut self, node: Arc<ClusterNode>) -> ServerConfig {
        self.cluster = Some(node);
        self
    }

    /// Requires `token` on every route but `/health`.
    pub fn with_token(mut self, token: Token) -> ServerConfig {
        self.token = Some(token);
        self
    }

    /// Refuses a non-loopback address without a token or without TLS, unless `insecure`. `Server::bind`
    /// checks it too; calling it first lets a caller refuse before opening the database.
    pub fn check(&self) -> Result<(), String> {
        if !self.listen.ip().is_loopback() && !self.insecure {
            if self.token.is_none() {
                return Err(format!(
                    "refusing to listen on non-loopback address {} without --auth-token-file; \
                     pass --insecure to do it anyway",
                    self.listen
                ));
            }
            if self.tls.is_none() {
                return Err(format!(
                    "refusing to listen on non-loopback address {} without TLS (--tls-cert and \
                     --tls-key): the token would cross the network in clear; pass --insecure to \
                     do it anyway",
                    self.listen
                ));
            }
        }
        Ok(())
    }
}

/// A server bound to its address and not yet serving. Call from within a tokio runtime.
pub struct Server {
    listener: TcpListener,
    bound: SocketAddr,
    app: Router,
    connections: ConnectionLimits,
    tls: Option<TlsConfig>,
    metrics: Arc<Metrics>,
    /// The scheduled backups' task, stopped when serving ends.
    scheduled: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Checks `config`, binds its address and builds the router over `store`.
    pub async fn bind(config: ServerConfig, store: Arc<dyn Store>) -> Result<Server, String> {
        config.check()?;
        let addr = config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let bound = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        let metrics = Arc::new(Metrics::default());
        let guard = Guard {
            body_timeout: config.body_timeout,
            // In a cluster the node answers 503 (with the leader it knows) at the request
            // timeout; the total deadline is the backstop behind it.
            request_timeout: if config.cluster.is_some() {
                config.request_timeout + Duration::from_secs(1)
            } else {
                config.request_timeout
            },
            metrics: Arc::clone(&metrics),
        };
        let state = AppState {
            store,
            metrics: Arc::clone(&metrics),
            token: config.token,
            routing: match &config.cluster {
                Some(node) => Some(Arc::new(Routing::new(Arc::clone(node))?)),
                None => None,
            },
            cluster: config.cluster,
            backups: config.backups.clone(),
        };
        let scheduled = match (&config.backups, config.backup_every) {
            (Some(backups), Some(every)) => Some(Arc::clone(backups).schedule(every)),
            _ => None,
        };
        Ok(Server {
            listener,
            bound,
            app: router(
                state,
                guard,
                Shedder::new(config.max_in_flight, Arc::clone(&metrics)),
                config.tls.as_ref().is_some_and(TlsConfig::verifies_members),
            ),
            connections: config.connections,
            tls: config.tls,
            metrics,
            scheduled,
        })
    }

    /// The address actually bound (with the port picked when `listen` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.bound
    }

    /// Serves until `shutdown` resolves, then stops accepting and returns once every in-flight
    /// request has finished. Store calls still running on the blocking pool finish when the
    /// runtime shuts down; the store handle is dropped with the last of them.
    pub async fn serve<F>(self, shutdown: F) -> Result<(), String>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let bound = self.bound;
        // Logged under the crate's name, as the binary logged them before the server was a library.
        tracing::info!(target: "fielddb_server", %bound, "serving");
        serve_connections(
            self.listener,
            self.app,
            self.connections,
            self.tls,
            self.metrics,
            shutdown,
        )
        .await;
        if let Some(scheduled) = self.scheduled {
            scheduled.abort();
        }
        tracing::info!(
            target: "fielddb_server",
            "stopped accepting; in-flight requests finished"
        );
        Ok(())
    }
}

/// A server serving on a tokio runtime and a thread of its own. Dropping it shuts it down as
/// `shutdown` does, ignoring the result.
pub struct RunningServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl RunningServer {
    /// Starts a runtime on a new thread, binds `config.listen` there and serves `store`; returns
    /// once the address is bound (so requests to `addr()` succeed), or the reason it could not be.
    /// Call it outside any async context.
    pub fn start(config: ServerConfig, store: Arc<dyn Store>) -> Result<RunningServer, String> {
        let (bound_tx, bound_rx) = std::sync::mpsc::channel::<Result<SocketAddr, String>>();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fielddb-server".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = bound_tx.send(Err(format!("cannot start the runtime: {e}")));
                        return Ok(());
                    }
                };
                let result = runtime.block_on(async move {
                    let server = match Server::bind(config, store).await {
                        Ok(server) => server,
                        Err(e) => {
                            let _ = bound_tx.send(Err(e));
                            return Ok(());
                        }
                    };
                    let _ = bound_tx.send(Ok(server.local_addr()));
                    // A dropped sender stops the server too.
                    server
                        .serve(async {
                            let _ = stopped.await;
                        })
                        .await
                });
                // Joins the blocking pool; the last store handle goes with it.
                drop(runtime);
                result
            })
            .map_err(|e| format!("cannot start the server thread: {e}"))?;
        match bound_rx.recv() {
            Ok(Ok(addr)) => Ok(RunningServer {
                addr,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err("the server thread stopped before binding".into())
            }
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, waits for in-flight requests and the runtime's blocking pool, and drops
    /// the server's store handle (closing a `FieldDb` no one else holds).
    pub fn shutdown(mut self) -> Result<(), String> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err("the server thread panicked".into())),
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}
