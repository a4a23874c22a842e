//! Operational routes: `GET /health` (no auth), `GET /v1/verify` (recompute every index and
//! report differences) and `GET /metrics` (Prometheus text). `GET /v1/openapi.json` lives with
//! the document it serves, in `openapi`.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fielddb_json::key_to_json;
use serde::Serialize;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::error::ApiError;
use crate::state::{blocking, AppState};

/// The server is up.
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    pub(crate) status: String,
}

/// One index's verification.
#[derive(Serialize, ToSchema)]
pub(crate) struct IndexCheck {
    pub(crate) field: String,
    pub(crate) entries: u64,
    pub(crate) missing: u64,
    pub(crate) stale: u64,
    /// Values whose stored count differs from the records (counted indexes only).
    pub(crate) wrong_counts: u64,
    /// Entries whose covered fields differ from the record's (covering indexes only).
    pub(crate) wrong_covered: u64,
}

/// The result of recomputing every ready index from the records.
#[derive(Serialize, ToSchema)]
pub(crate) struct VerifyReply {
    /// True when nothing is missing, stale, miscounted or corrupt.
    pub(crate) clean: bool,
    pub(crate) records: u64,
    pub(crate) missing: u64,
    pub(crate) stale: u64,
    pub(crate) wrong_counts: u64,
    pub(crate) wrong_covered: u64,
    /// Keys of records that do not decode.
    #[schema(value_type = Vec<Object>)]
    pub(crate) corrupt: Vec<serde_json::Value>,
    pub(crate) indexes: Vec<IndexCheck>,
}

/// Liveness: 200 while the server runs. Needs no token.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "Up", body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Recomputes every ready index from the records (reads everything: O(n)).
#[utoipa::path(get, path = "/v1/verify", tag = "operations",
    responses(
        (status = 200, description = "The report", body = VerifyReply),
        (status = 500, description = "Storage error", body = ErrorBody),
    ))]
pub(crate) async fn verify(State(state): State<AppState>) -> Result<Json<VerifyReply>, ApiError> {
    let store = state.store.clone();
    let report = blocking(move || Ok(store.verify()?)).await?;
    Ok(Json(verify_reply(&report)))
}

/// The answer for `report`.
pub(crate) fn verify_reply(report: &fielddb::VerifyReport) -> VerifyReply {
    VerifyReply {
        clean: report.is_clean(),
        records: report.records,
        missing: report.missing(),
        stale: report.stale(),
        wrong_counts: report.wrong_counts(),
        wrong_covered: report.wrong_covered(),
        corrupt: report
            .corrupt_records
            .iter()
            .map(|k| key_to_json(k))
            .collect(),
        indexes: report
            .indexes
            .iter()
            .map(|i| IndexCheck {
                field: i.field.clone(),
                entries: i.entries,
                missing: i.missing,
                stale: i.stale,
                wrong_counts: i.wrong_counts,
                wrong_covered: i.wrong_covered,
            })
            .collect(),
    }
}

/// Request counts and latency histograms per route, the record estimate, index states and
/// RocksDB sizes, as Prometheus text.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let (indexes, stats) =
        blocking(move || Ok((store.indexes().unwrap_or_default(), store.stats().ok()))).await?;
    let mut text = state.metrics.render(&indexes, stats.as_ref());
    if let Some(backups) = &state.backups {
        backups.render_metrics(&mut text);
    }
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}
