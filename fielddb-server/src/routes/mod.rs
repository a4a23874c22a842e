//! The HTTP handlers, one module per resource: `records` (put, get, delete, batch, scan),
//! `indexes` (create, list, status, drop), `query` (query and count by index), `ops` (health,
//! verify, metrics, OpenAPI). Each handler parses and checks its input, then calls the `Store`
//! on the blocking pool.

pub mod indexes;
pub mod ops;
pub mod query;
pub mod records;

use serde::Serialize;
use utoipa::ToSchema;

/// Every error response: `{"error": {"code", "message", ...}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong. Some errors add members: `field`, `existing_key`, `value`, `index`.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `unique_violation`.
    pub code: String,
    /// A sentence for humans.
    pub message: String,
}

/// One record with its key. A record is a JSON object of fields: ints as integers, floats as
/// numbers, bytes as `{"$base64": ...}`, ±infinity as `{"$float": "inf"}`.
#[derive(Serialize, ToSchema)]
pub struct Row {
    /// The key: a string when UTF-8, else `{"$base64": ...}`.
    pub key: serde_json::Value,
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
}

/// A page of rows; `next` resumes after the last row (pass it as `after`), null on the last page.
#[derive(Serialize, ToSchema)]
pub struct RowsPage {
    pub rows: Vec<Row>,
    pub next: Option<String>,
}
