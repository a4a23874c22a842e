//! Backup routes of a server started with `--backup-dir` (a single node's database, or a cluster
//! node's replica): `POST /v1/admin/backups`
//! backs up into every configured target (200 when all succeeded, 207 with each target's
//! outcome otherwise) and `GET /v1/admin/backups` lists each target's backups. Without a target
//! they are 404 `no_backup_targets`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fielddb::BackupInfo;
use serde_json::{json, Value as Json_};
use utoipa::ToSchema;

use super::ErrorBody;
use crate::backups::Backups;
use crate::error::ApiError;
use crate::state::AppState;

/// One backup.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI; the handlers build the JSON
pub(crate) struct BackupView {
    /// Its id in the target.
    id: u32,
    /// When it was taken, in seconds since the Unix epoch.
    timestamp: i64,
    /// The bytes of all its files (shared ones included).
    size: u64,
    /// The bytes it added to the target (null when unknown).
    new_bytes: Option<u64>,
    /// The records it holds, RocksDB's estimate (null when unknown).
    records: Option<u64>,
    /// A cluster node's backup: the log id its replica had applied (`{"leader_id", "index"}`).
    #[schema(value_type = Option<Object>)]
    applied: Option<Json_>,
}

/// One target's outcome: `backup` (and `seconds`) or `error`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI
pub(crate) struct TargetBackup {
    /// The target directory (from --backup-dir).
    dir: String,
    backup: Option<BackupView>,
    seconds: Option<f64>,
    error: Option<crate::routes::ErrorDetail>,
}

/// One target's backups: `backups` or `error`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI
pub(crate) struct TargetBackups {
    /// The target directory (from --backup-dir).
    dir: String,
    backups: Option<Vec<BackupView>>,
    error: Option<crate::routes::ErrorDetail>,
}

fn backups(state: &AppState) -> Result<Arc<Backups>, ApiError> {
    state.backups.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_backup_targets",
            "this server has no backup targets: start it with --backup-dir DIR",
        )
    })
}

fn info_json(info: &BackupInfo) -> Json_ {
    // A replica's position is the log id it had applied, as JSON.
    let applied: Option<Json_> = info
        .position
        .as_deref()
        .and_then(|p| serde_json::from_slice(p).ok());
    let mut view = json!({"id": info.id, "timestamp": info.timestamp, "size": info.size, "new_bytes": info.new_bytes, "records": info.records});
    if let Some(applied) = applied {
        view["applied"] = applied;
    }
    view
}

fn error_json(e: &fielddb::Error) -> Json_ {
    json!({"code": e.code(), "message": e.to_string()})
}

/// Backs the database up into every configured target, one after the other.
#[utoipa::path(post, path = "/v1/admin/backups", tag = "operations",
    responses(
        (status = 200, description = "Every target has its new backup", body = Vec<TargetBackup>),
        (status = 207, description = "Some targets failed: each target's backup or error", body = Vec<TargetBackup>),
        (status = 404, description = "No --backup-dir", body = ErrorBody),
    ))]
pub(crate) async fn create_backups(State(state): State<AppState>) -> Result<Response, ApiError> {
    let backups = backups(&state)?;
    let outcomes = backups.run_round().await;
    let all_ok = outcomes.iter().all(|o| o.result.is_ok());
    let targets: Vec<Json_> = outcomes
        .iter()
        .map(|o| match &o.result {
            Ok(info) => json!({"dir": o.dir.display().to_string(), "backup": info_json(info), "seconds": o.seconds}),
            Err(e) => json!({"dir": o.dir.display().to_string(), "error": error_json(e)}),
        })
        .collect();
    let status = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok((status, Json(json!({ "targets": targets }))).into_response())
}

/// Every target's backups.
#[utoipa::path(get, path = "/v1/admin/backups", tag = "operations",
    responses(
        (status = 200, description = "Each target's backups, oldest first, or its error", body = Vec<TargetBackups>),
        (status = 404, description = "No --backup-dir", body = ErrorBody),
    ))]
pub(crate) async fn list_backups(State(state): State<AppState>) -> Result<Json<Json_>, ApiError> {
    let backups = backups(&state)?;
    let listed = backups.list().await;
    let targets: Vec<Json_> = listed
        .iter()
        .map(|(dir, result)| match result {
            Ok(infos) => json!({"dir": dir.display().to_string(), "backups": infos.iter().map(info_json).collect::<Vec<_>>()}),
            Err(e) => json!({"dir": dir.display().to_string(), "error": error_json(e)}),
        })
        .collect();
    Ok(Json(json!({ "targets": targets })))
}
