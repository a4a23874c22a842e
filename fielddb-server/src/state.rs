//! `AppState`, what every handler shares (the store, the request metrics, the optional token),
//! and the two helpers every handler uses: `blocking`, which runs a store call on tokio's
//! blocking pool, and `page_size`, which reads a requested `limit`.

use std::sync::Arc;

use crate::auth::Token;
use crate::error::ApiError;
use crate::limits::{DEFAULT_PAGE, MAX_PAGE};
use crate::metrics::Metrics;
use crate::store::Store;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) token: Option<Token>,
    /// This node of a cluster, or `None` on a single node.
    pub(crate) cluster: Option<Arc<fielddb_cluster::ClusterNode>>,
    /// How `/v1` requests are routed in a cluster (`None` on a single node).
    pub(crate) routing: Option<Arc<crate::cluster_routing::Routing>>,
}

/// Runs `f` (which may block on RocksDB) on the blocking pool. A panic in it is a 500.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("the request's task failed: {e}")))?
}

/// The page size for a requested `limit`: default 100, capped at 1000, and at least 1.
pub(crate) fn page_size(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(0) => Err(ApiError::bad_request("limit must be at least 1")),
        Some(n) => Ok(n.min(MAX_PAGE)),
    }
}
