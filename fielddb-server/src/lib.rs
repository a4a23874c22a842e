//! `fielddb_server`: FieldDB over HTTP/JSON (axum on tokio), as a library. The
//! `fielddb-server` binary is a thin wrapper over it (command line, logging, signals); tests and
//! other programs start servers in process with [`Server`] or [`RunningServer`] over any
//! [`Store`] (`FieldDb` is one; a cluster backend can be another).
//!
//! Modules, each importing only modules above it:
//! - `tls`: the HTTPS settings;
//! - `limits`, `error`, `store`, `metrics`: the documented limits, `ApiError`, the `Store`
//!   trait, request metrics (and their middleware);
//! - `auth` (the token and its middleware), `body` (the JSON body extractor), `schema`
//!   (hand-written OpenAPI schemas);
//! - `backups`: the `--backup-dir` targets, backup rounds and their schedule;
//! - `state`: `AppState`, shared by every handler, with `blocking` and `page_size`;
//! - `cluster_store` (the `Store` of a cluster node) over `shard_store` (its operations when
//!   the cluster has several shards), and `cluster_routing` (forwarding to group 0's leader);
//! - `routes`: the handlers; `openapi`: the generated document and its handler;
//! - `request_guard`: the early 413 and the body deadline; `shedding`: the in-flight limit;
//!   `connections`: the accept loop
//!   (connection limit, header timeout, graceful shutdown);
//! - `router`: every route with its layers; `server`: binding and serving.

mod auth;
mod backups;
mod body;
mod cluster_routing;
mod cluster_store;
mod connections;
mod error;
pub mod limits;
mod metrics;
mod openapi;
mod request_guard;
mod router;
mod routes;
mod schema;
mod server;
mod session;
mod shard_store;
mod shedding;
mod state;
mod store;
mod tls;

pub use auth::Token;
pub use backups::{BackupSource, Backups};
pub use cluster_store::ClusterStore;
pub use connections::ConnectionLimits;
pub use error::StoreError;
pub use server::{RunningServer, Server, ServerConfig};
pub use session::ClientSession;
pub use store::{Rows, Store};
pub use tls::TlsConfig;
