//! Index query routes: `GET /v1/query` (rows with a `next` cursor: the hex of the library's
//! opaque cursor, as the shell prints it) and `GET /v1/count`. Values in the query string are
//! literals read like the shell's (`fielddb_json::parse_literal`).

use std::ops::Bound;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query as QueryString, State};
use axum::Json;
use fielddb::{IndexState, Query, QueryOptions, Value};
use fielddb_json::{hex, parse_literal, unhex};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json_};
use utoipa::{IntoParams, ToSchema};

use super::records::rows_json;
use super::{ErrorBody, RowsPage};
use crate::error::ApiError;
use crate::error::StoreError;
use crate::metrics::state_name;
use crate::state::{blocking, page_size, AppState};

/// A condition on an indexed field, with paging.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct QueryParams {
    /// The indexed field.
    pub(crate) field: String,
    /// `eq` (default), `lt`, `le`, `gt`, `ge`, `between` (needs `value2`: without it, 400)
    /// or `prefix`.
    #[param(inline)]
    pub(crate) op: Option<Op>,
    /// A literal: `42`, `4.5`, `true`, `null`, `"quoted"`, `0x00ff` (bytes), else a string.
    /// A bare word that starts like a number (a digit, or a sign or `.` then a digit) must be a
    /// valid number, and one starting with `0x` valid hex; else 400 (quote it for a string).
    pub(crate) value: String,
    /// The upper bound of `between` (inclusive).
    pub(crate) value2: Option<String>,
    /// Page size: default 100; a larger one, of any size, is capped at 1000.
    #[param(minimum = 1)]
    #[serde(default, deserialize_with = "crate::state::limit_param")]
    pub(crate) limit: Option<usize>,
    /// Resume after this cursor: the `next` of the previous page of the same query. Any other
    /// value (hex or not) is refused with 400, since it names no position in the index.
    #[param(pattern = "^([0-9a-fA-F]{2})+$")]
    pub(crate) after: Option<String>,
    /// Descending order.
    pub(crate) desc: Option<bool>,
}

/// A condition on an indexed field.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CountParams {
    /// The indexed field.
    pub(crate) field: String,
    /// `eq` (default), `lt`, `le`, `gt`, `ge`, `between` (needs `value2`: without it, 400)
    /// or `prefix`.
    #[param(inline)]
    pub(crate) op: Option<Op>,
    /// A literal: `42`, `4.5`, `true`, `null`, `"quoted"`, `0x00ff` (bytes), else a string.
    /// A bare word that starts like a number (a digit, or a sign or `.` then a digit) must be a
    /// valid number, and one starting with `0x` valid hex; else 400 (quote it for a string).
    pub(crate) value: String,
    /// The upper bound of `between` (inclusive).
    pub(crate) value2: Option<String>,
}

/// A comparison operator.
#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
    Between,
    Prefix,
}

/// How many records match.
#[derive(Serialize, ToSchema)]
pub(crate) struct CountReply {
    pub(crate) count: u64,
}

fn literal(name: &str, text: &str) -> Result<Value, ApiError> {
    parse_literal(text).map_err(|m| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad_literal",
            format!("`{name}`: {m}"),
        )
    })
}

/// The condition; `value2` is read only for `between`.
fn condition(op: Option<Op>, value: &str, value2: Option<&str>) -> Result<Query, ApiError> {
    let v = literal("value", value)?;
    let v2 = match (op, value2) {
        (Some(Op::Between), Some(hi)) => Some(literal("value2", hi)?),
        _ => None,
    };
    query_of(op.unwrap_or(Op::Eq), v, v2)
}

/// The query of `op` with `v` (and `v2`, the inclusive upper bound, for `between`).
pub(crate) fn query_of(op: Op, v: Value, v2: Option<Value>) -> Result<Query, ApiError> {
    Ok(match op {
        Op::Eq => Query::Eq(v),
        Op::Lt => Query::range(Bound::Unbounded, Bound::Excluded(v)),
        Op::Le => Query::range(Bound::Unbounded, Bound::Included(v)),
        Op::Gt => Query::range(Bound::Excluded(v), Bound::Unbounded),
        Op::Ge => Query::range(Bound::Included(v), Bound::Unbounded),
        Op::Prefix => Query::Prefix(v),
        Op::Between => {
            let hi = v2.ok_or_else(|| ApiError::bad_request("op=between needs `value2`"))?;
            Query::range(Bound::Included(v), Bound::Included(hi))
        }
    })
}

/// Adds the index's state and progress to an `index_not_ready` error.
pub(crate) fn with_progress(e: StoreError, state: &AppState) -> ApiError {
    let field = match &e {
        StoreError::Db(fielddb::Error::IndexNotReady { field, .. }) => Some(field.clone()),
        _ => None,
    };
    let err = ApiError::from(e);
    let Some(field) = field else { return err };
    let indexes = state.store.indexes().unwrap_or_default();
    match indexes.into_iter().find(|i| i.field == field) {
        Some(info) => {
            let (done, total) = match info.state {
                IndexState::Building { done, total } => (Some(done), Some(total)),
                _ => (None, None),
            };
            err.with(
                "index",
                json!({"state": state_name(&info.state), "progress": info.progress(), "done": done, "total": total}),
            )
        }
        None => err,
    }
}

/// Records whose field matches a condition, from the field's ready index, a page at a time.
#[utoipa::path(get, path = "/v1/query", tag = "queries",
    params(QueryParams),
    responses(
        (status = 200, description = "A page of records; `next` is an opaque hex cursor", body = RowsPage),
        (status = 400, description = "Bad parameters or literal, or an `after` cursor this query did not return", body = ErrorBody),
        (status = 404, description = "No index on the field", body = ErrorBody),
        (status = 409, description = "The index is not ready (with its progress)", body = ErrorBody),
    ))]
pub(crate) async fn query(
    State(state): State<AppState>,
    params: Result<QueryString<QueryParams>, QueryRejection>,
) -> Result<Json<Json_>, ApiError> {
    let QueryString(p) = params?;
    let q = condition(p.op, &p.value, p.value2.as_deref())?;
    let mut options = QueryOptions::new()
        .limit(page_size(p.limit)?)
        .reverse(p.desc.unwrap_or(false));
    if let Some(after) = &p.after {
        let cursor = unhex(after)
            .ok_or_else(|| ApiError::bad_request("`after` is the hex cursor returned as `next`"))?;
        options = options.start_after(cursor);
    }
    let st = state.clone();
    let page = blocking(move || {
        st.store
            .query(&p.field, &q, &options)
            .map_err(|e| with_progress(e, &st))
    })
    .await?;
    let next = page.next.as_deref().map(hex);
    Ok(Json(rows_json(&page, next)))
}

/// The number of records whose field matches a condition, from the field's ready index.
#[utoipa::path(get, path = "/v1/count", tag = "queries",
    params(CountParams),
    responses(
        (status = 200, description = "The count", body = CountReply),
        (status = 400, description = "Bad parameters or literal", body = ErrorBody),
        (status = 404, description = "No index on the field", body = ErrorBody),
        (status = 409, description = "The index is not ready (with its progress)", body = ErrorBody),
    ))]
pub(crate) async fn count(
    State(state): State<AppState>,
    params: Result<QueryString<CountParams>, QueryRejection>,
) -> Result<Json<CountReply>, ApiError> {
    let QueryString(p) = params?;
    let q = condition(p.op, &p.value, p.value2.as_deref())?;
    let st = state.clone();
    let count = blocking(move || {
        st.store
            .count(&p.field, &q)
            .map_err(|e| with_progress(e, &st))
    })
    .await?;
    Ok(Json(CountReply { count }))
}
