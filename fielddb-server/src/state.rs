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
    /// The backup targets (`--backup-dir`), if any.
    pub(crate) backups: Option<Arc<crate::backups::Backups>>,
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

/// Reads a `limit` from a query string: a whole number, any size (past `usize`, it saturates;
/// `page_size` caps it anyway). For `#[serde(default, deserialize_with = "limit_param")]`.
pub(crate) fn limit_param<'de, D>(deserializer: D) -> Result<Option<usize>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    let text = String::deserialize(deserializer)?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(serde::de::Error::custom(format!(
            "limit `{text}` is not a whole number"
        )));
    }
    Ok(Some(text.parse::<usize>().unwrap_or(usize::MAX)))
}

/// The page size for a requested `limit`: default 100, capped at 1000, and at least 1.
pub(crate) fn page_size(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(0) => Err(ApiError::bad_request("limit must be at least 1")),
        Some(n) => Ok(n.min(MAX_PAGE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(default, deserialize_with = "limit_param")]
        limit: Option<usize>,
    }

    fn limit(query: &str) -> Result<Option<usize>, String> {
        let uri: axum::http::Uri = format!("/v1/records?{query}").parse().unwrap();
        axum::extract::Query::<Params>::try_from_uri(&uri)
            .map(|q| q.0.limit)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_limit_of_any_size_is_read_and_capped_and_junk_is_refused() {
        assert_eq!(limit(""), Ok(None));
        assert_eq!(limit("limit=7"), Ok(Some(7)));
        assert_eq!(limit("limit=99999999999999999999999"), Ok(Some(usize::MAX)));
        assert_eq!(page_size(Some(usize::MAX)).unwrap(), MAX_PAGE);
        for junk in ["limit=", "limit=-1", "limit=1.5", "limit=x"] {
            assert!(limit(junk).is_err(), "{junk}");
        }
    }
}
