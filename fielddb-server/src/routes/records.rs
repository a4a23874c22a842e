//! Record routes: `PUT/GET/DELETE /v1/records/{key}`, `POST /v1/records/{key}/append`,
//! `POST /v1/batch` and the key-order scan `GET /v1/records`.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fielddb::{Batch, Page, Record, ScanOptions, Update};
use fielddb_json::{
    json_to_key, json_to_record, json_to_value, key_to_json, key_to_text, record_to_json,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json_};
use utoipa::{IntoParams, ToSchema};

use super::{ErrorBody, Row, RowsPage};
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::limits::MAX_BATCH_OPS;
use crate::schema::{AppendBody, BatchRequest, RecordBody};
use crate::session::SessionHeaders;
use crate::state::{blocking, page_size, AppState};

/// The reply to a successful put.
#[derive(Serialize, ToSchema)]
pub(crate) struct PutReply {
    pub(crate) key: String,
}

/// The reply to a successful batch: how many operations were applied.
#[derive(Serialize, ToSchema)]
pub(crate) struct BatchReply {
    pub(crate) applied: usize,
}

/// Scan parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ScanParams {
    /// First key (inclusive).
    pub(crate) from: Option<String>,
    /// Stop before this key (exclusive).
    pub(crate) to: Option<String>,
    /// Page size: default 100; a larger one, of any size, is capped at 1000.
    #[param(minimum = 1)]
    #[serde(default, deserialize_with = "crate::state::limit_param")]
    pub(crate) limit: Option<usize>,
    /// Resume after this key (the `next` of the previous page).
    pub(crate) after: Option<String>,
    /// Descending key order.
    pub(crate) desc: Option<bool>,
}

fn row(key: &[u8], record: &Record) -> Json_ {
    json!({"key": key_to_json(key), "record": record_to_json(record)})
}

pub(crate) fn rows_json(page: &Page<(Vec<u8>, Record)>, next: Option<String>) -> Json_ {
    let rows: Vec<Json_> = page.rows.iter().map(|(k, r)| row(k, r)).collect();
    json!({"rows": rows, "next": next})
}

/// Stores a record at a key, replacing any record there.
#[utoipa::path(put, path = "/v1/records/{key}", tag = "records",
    params(("key" = String, Path, description = "The record's key")),
    request_body(content = RecordBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored", body = PutReply),
        (status = 400, description = "Malformed JSON or an invalid record", body = ErrorBody),
        (status = 409, description = "A unique index already holds a value at another key", body = ErrorBody),
        (status = 413, description = "Body over 4 MiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
    ))]
pub(crate) async fn put_record(
    State(state): State<AppState>,
    SessionHeaders(session): SessionHeaders,
    key: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody,
) -> Result<Json<PutReply>, ApiError> {
    let Path(key) = key?;
    let record = json_to_record(&body).map_err(ApiError::bad_request)?;
    let store = state.store.clone();
    store.put(session, key.as_bytes().to_vec(), record).await?;
    Ok(Json(PutReply { key }))
}

/// Parses an append body, refusing unknown members.
fn parse_append(body: &Json_) -> Result<(String, fielddb::Value), ApiError> {
    let shape = "expected {\"field\": NAME, \"value\": STRING or {\"$base64\": ...}}";
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request(shape))?;
    if let Some(other) = obj.keys().find(|k| *k != "field" && *k != "value") {
        return Err(ApiError::bad_request(format!(
            "unknown member `{other}`; {shape}"
        )));
    }
    let field = obj
        .get("field")
        .and_then(Json_::as_str)
        .ok_or_else(|| ApiError::bad_request(shape))?;
    let value = obj
        .get("value")
        .ok_or_else(|| ApiError::bad_request(shape))?;
    let value = json_to_value(field, value).map_err(ApiError::bad_request)?;
    Ok((field.to_owned(), value))
}

/// Appends a string to a string field, or bytes to a bytes field, creating the field (and the
/// record) when absent; answers the record after the append.
#[utoipa::path(post, path = "/v1/records/{key}/append", tag = "records",
    params(("key" = String, Path, description = "The record's key")),
    request_body(content = AppendBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The record after the append", body = Row),
        (status = 400, description = "Malformed body, or a value of another type than the field's", body = ErrorBody),
        (status = 409, description = "A unique index already holds the new value at another key", body = ErrorBody),
        (status = 413, description = "Body over 4 MiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
    ))]
pub(crate) async fn append_to_record(
    State(state): State<AppState>,
    SessionHeaders(session): SessionHeaders,
    key: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody,
) -> Result<Json<Json_>, ApiError> {
    let Path(key) = key?;
    let (field, value) = parse_append(&body)?;
    let store = state.store.clone();
    let record = store
        .append(session, key.as_bytes().to_vec(), field, value)
        .await?;
    Ok(Json(row(key.as_bytes(), &record)))
}

/// Whether a PATCH may create the record.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PatchParams {
    /// Create the record when there is none (an upsert); without it that is 404.
    pub(crate) upsert: Option<bool>,
}

/// Reads a JSON merge patch (RFC 7386) of a record: each member sets that field, `null` removes
/// it, and FieldDB's null value is written `{"$null": true}`.
fn parse_patch(body: &Json_) -> Result<Update, ApiError> {
    let members = body.as_object().ok_or_else(|| {
        ApiError::bad_request("a patch is a JSON object of fields (null removes a field)")
    })?;
    let mut update = Update::new();
    for (field, value) in members {
        update = match value {
            Json_::Null => update.unset(field.as_str()),
            Json_::Object(tagged)
                if tagged.len() == 1 && tagged.get("$null") == Some(&Json_::Bool(true)) =>
            {
                update.set(field.as_str(), fielddb::Value::Null)
            }
            other => update.set(
                field.as_str(),
                json_to_value(field, other).map_err(ApiError::bad_request)?,
            ),
        };
    }
    Ok(update)
}

/// Sets and removes fields of the record at a key with a JSON merge patch (RFC 7386): a member
/// sets its field, `null` removes it, `{"$null": true}` sets FieldDB's null value. Other fields
/// keep their values and places; a new field goes at the end. Answers the record after it.
#[utoipa::path(patch, path = "/v1/records/{key}", tag = "records",
    params(("key" = String, Path, description = "The record's key"), PatchParams),
    request_body(content = RecordBody, content_type = "application/json",
        description = "A merge patch: members to set; null removes a field; {\"$null\": true} sets a null value"),
    responses(
        (status = 200, description = "The record after the patch", body = Row),
        (status = 400, description = "Malformed patch, or a record it would make invalid", body = ErrorBody),
        (status = 404, description = "No record at that key (and no upsert=true)", body = ErrorBody),
        (status = 409, description = "A unique index already holds a new value at another key", body = ErrorBody),
        (status = 413, description = "Body over 4 MiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
    ))]
pub(crate) async fn patch_record(
    State(state): State<AppState>,
    SessionHeaders(session): SessionHeaders,
    key: Result<Path<String>, PathRejection>,
    params: Result<Query<PatchParams>, QueryRejection>,
    JsonBody(body): JsonBody,
) -> Result<Json<Json_>, ApiError> {
    let Path(key) = key?;
    let Query(params) = params?;
    let update = parse_patch(&body)?;
    let store = state.store.clone();
    let record = store
        .update(
            session,
            key.as_bytes().to_vec(),
            update,
            params.upsert.unwrap_or(false),
        )
        .await?;
    Ok(Json(row(key.as_bytes(), &record)))
}

/// The record at a key.
#[utoipa::path(get, path = "/v1/records/{key}", tag = "records",
    params(("key" = String, Path, description = "The record's key")),
    responses(
        (status = 200, description = "The record", body = Row),
        (status = 400, description = "Invalid key", body = ErrorBody),
        (status = 404, description = "No record at that key", body = ErrorBody),
    ))]
pub(crate) async fn get_record(
    State(state): State<AppState>,
    key: Result<Path<String>, PathRejection>,
) -> Result<Json<Json_>, ApiError> {
    let Path(key) = key?;
    let store = state.store.clone();
    let k = key.clone();
    match blocking(move || Ok(store.get(k.as_bytes())?)).await? {
        Some(record) => Ok(Json(row(key.as_bytes(), &record))),
        None => Err(ApiError::not_found(format!("no record at key {key:?}"))),
    }
}

/// Deletes the record at a key.
#[utoipa::path(delete, path = "/v1/records/{key}", tag = "records",
    params(("key" = String, Path, description = "The record's key")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Invalid key", body = ErrorBody),
        (status = 404, description = "No record at that key", body = ErrorBody),
    ))]
pub(crate) async fn delete_record(
    State(state): State<AppState>,
    SessionHeaders(session): SessionHeaders,
    key: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(key) = key?;
    let store = state.store.clone();
    if store.delete(session, key.as_bytes().to_vec()).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("no record at key {key:?}")))
    }
}

fn parse_batch(body: &Json_) -> Result<(Batch, usize), ApiError> {
    if let Some(other) = body
        .as_object()
        .and_then(|obj| obj.keys().find(|k| *k != "ops"))
    {
        return Err(ApiError::bad_request(format!(
            "unknown member `{other}`; a batch is {{\"ops\": [...]}}"
        )));
    }
    let ops = body
        .get("ops")
        .and_then(Json_::as_array)
        .ok_or_else(|| ApiError::bad_request("a batch is {\"ops\": [...]}"))?;
    if ops.len() > MAX_BATCH_OPS {
        return Err(ApiError::bad_request(format!(
            "a batch holds at most {MAX_BATCH_OPS} operations, got {}",
            ops.len()
        )));
    }
    let mut batch = Batch::new();
    for (i, op) in ops.iter().enumerate() {
        let at = |m: String| ApiError::bad_request(format!("ops[{i}]: {m}"));
        let obj = op
            .as_object()
            .ok_or_else(|| at("an operation is an object".into()))?;
        match (obj.get("put"), obj.get("record"), obj.get("delete")) {
            (Some(key), Some(record), None) if obj.len() == 2 => {
                batch.put(
                    json_to_key(key).map_err(at)?,
                    json_to_record(record).map_err(at)?,
                );
            }
            (None, None, Some(key)) if obj.len() == 1 => {
                batch.delete(json_to_key(key).map_err(at)?);
            }
            _ => {
                return Err(at(
                    "expected {\"put\": KEY, \"record\": {...}} or {\"delete\": KEY}".into(),
                ))
            }
        }
    }
    Ok((batch, ops.len()))
}

/// Applies a list of puts and deletes atomically: all or nothing.
#[utoipa::path(post, path = "/v1/batch", tag = "records",
    request_body(content = BatchRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Every operation applied", body = BatchReply),
        (status = 400, description = "Malformed batch; nothing applied", body = ErrorBody),
        (status = 409, description = "Unique violation; nothing applied", body = ErrorBody),
        (status = 413, description = "Body over 4 MiB: refused before it is parsed, so a batch of more operations than maxItems that is also over 4 MiB gets 413 rather than 400", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
    ))]
pub(crate) async fn batch(
    State(state): State<AppState>,
    SessionHeaders(session): SessionHeaders,
    JsonBody(body): JsonBody,
) -> Result<Json<BatchReply>, ApiError> {
    let (batch, applied) = parse_batch(&body)?;
    let store = state.store.clone();
    store.batch(session, batch).await?;
    Ok(Json(BatchReply { applied }))
}

/// Records in key order, a page at a time.
#[utoipa::path(get, path = "/v1/records", tag = "records",
    params(ScanParams),
    responses(
        (status = 200, description = "A page of records; `next` is the last key", body = RowsPage),
        (status = 400, description = "Bad parameters", body = ErrorBody),
    ))]
pub(crate) async fn scan_records(
    State(state): State<AppState>,
    params: Result<Query<ScanParams>, QueryRejection>,
) -> Result<Json<Json_>, ApiError> {
    let Query(p) = params?;
    let mut options = ScanOptions::new()
        .limit(page_size(p.limit)?)
        .reverse(p.desc.unwrap_or(false));
    if let Some(from) = &p.from {
        options = options.from(from);
    }
    if let Some(to) = &p.to {
        options = options.to(to);
    }
    if let Some(after) = &p.after {
        options = options.start_after(after);
    }
    let store = state.store.clone();
    let page = blocking(move || Ok(store.scan(&options)?)).await?;
    let next = page.next.as_deref().map(key_to_text);
    Ok(Json(rows_json(&page, next)))
}
