//! The HTTP handlers, one module per resource: `records` (put, get, delete, batch, scan),
//! `indexes` (create, list, status, drop), `query` (query and count by index), `ops` (health,
//! verify, metrics), `admin` (backups), and the response shapes they share (for the OpenAPI document). Each handler
//! parses and checks its input, then calls the `Store` on the blocking pool.

pub(crate) mod admin;
pub(crate) mod cluster;
pub(crate) mod filtered;
pub(crate) mod indexes;
pub(crate) mod ops;
pub(crate) mod query;
pub(crate) mod raft;
pub(crate) mod records;

use serde::Serialize;
use utoipa::ToSchema;

/// Every error response: `{"error": {"code", "message", ...}}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    pub(crate) error: ErrorDetail,
}

/// What went wrong. Some errors add members: `field`, `existing_key`, `value`, `index`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// A stable machine-readable code, e.g. `unique_violation`.
    pub(crate) code: String,
    /// A sentence for humans.
    pub(crate) message: String,
}

/// One record with its key. A record is a JSON object of fields: ints as integers, floats as
/// numbers, bytes as `{"$base64": ...}`, ±infinity as `{"$float": "inf"}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Row {
    /// The key: a string when UTF-8, else `{"$base64": ...}`.
    pub(crate) key: serde_json::Value,
    #[schema(value_type = Object)]
    pub(crate) record: serde_json::Value,
}

/// A page of rows; `next` resumes after the last row (pass it as `after`), null on the last page.
#[derive(Serialize, ToSchema)]
pub(crate) struct RowsPage {
    pub(crate) rows: Vec<Row>,
    pub(crate) next: Option<String>,
}
