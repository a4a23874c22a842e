//! Index query routes: `GET /v1/query` (rows with a `next` cursor: the hex of the library's
//! opaque cursor, as the shell prints it) and `GET /v1/count`. Each takes one condition
//! (`field`, `op`, `value`, `value2`: values are literals read like the shell's,
//! `fielddb_json::parse_literal`) or, as `where`, conditions in the shell's own text
//! (`carrier = "UA" and dep_delay > 60`, read by `fielddb_json::parse_conditions`), answered
//! from the best ready index like `POST /v1/query`; `explain=1` answers the plan instead.

use std::ops::Bound;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query as QueryString, State};
use axum::Json;
use fielddb::{Filter, IndexState, Query, QueryOptions, Value};
use fielddb_json::{hex, parse_conditions, parse_literal, plan_to_json, unhex};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json_};
use utoipa::{IntoParams, ToSchema};

use super::records::rows_json;
use super::{ErrorBody, RowsPage};
use crate::error::ApiError;
use crate::error::StoreError;
use crate::metrics::state_name;
use crate::state::{blocking, page_size, AppState};

/// A condition on an indexed field (or conditions as text in `where`), with paging.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct QueryParams {
    /// Conditions in the shell's words, joined by `and` (`carrier = "UA" and dep_delay > 60`),
    /// URL-encoded; instead of `field`, `op`, `value` and `value2`.
    #[serde(rename = "where")]
    #[param(rename = "where")]
    pub(crate) where_text: Option<String>,
    /// With `where`: `1` or `true` answers the plan (index, range, residual, estimate)
    /// instead of rows.
    pub(crate) explain: Option<String>,
    /// The indexed field.
    pub(crate) field: Option<String>,
    /// `eq` (default), `lt`, `le`, `gt`, `ge`, `between` (needs `value2`: without it, 400)
    /// or `prefix`.
    #[param(inline)]
    pub(crate) op: Option<Op>,
    /// A literal: `42`, `4.5`, `true`, `null`, `"quoted"`, `0x00ff` (bytes), else a string.
    /// A bare word that starts like a number (a digit, or a sign or `.` then a digit) must be a
    /// valid number, and one starting with `0x` valid hex; else 400 (quote it for a string).
    pub(crate) value: Option<String>,
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
    /// Only these fields of each record, comma-separated (`name,score`), in that order; read
    /// from the index alone when it holds them all (its fields and those it includes).
    pub(crate) fields: Option<String>,
}

/// The fields a query asks for, from `a,b` (`None`: all of them).
pub(crate) fn wanted_fields(text: Option<&str>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let fields: Vec<String> = text.split(',').map(str::to_owned).collect();
    if fields.iter().any(String::is_empty) {
        return Err(ApiError::bad_request(
            "`fields` names the wanted fields as `a,b`; one of them is empty",
        ));
    }
    Ok(Some(fields))
}

/// A condition on an indexed field (or conditions as text in `where`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CountParams {
    /// Conditions in the shell's words, joined by `and`, URL-encoded; instead of `field`,
    /// `op`, `value` and `value2`. All equalities on the fields of a counted compound index
    /// make the count one read.
    #[serde(rename = "where")]
    #[param(rename = "where")]
    pub(crate) where_text: Option<String>,
    /// The indexed field.
    pub(crate) field: Option<String>,
    /// `eq` (default), `lt`, `le`, `gt`, `ge`, `between` (needs `value2`: without it, 400)
    /// or `prefix`.
    #[param(inline)]
    pub(crate) op: Option<Op>,
    /// A literal: `42`, `4.5`, `true`, `null`, `"quoted"`, `0x00ff` (bytes), else a string.
    /// A bare word that starts like a number (a digit, or a sign or `.` then a digit) must be a
    /// valid number, and one starting with `0x` valid hex; else 400 (quote it for a string).
    pub(crate) value: Option<String>,
    /// The upper bound of `between` (inclusive).
    pub(crate) value2: Option<String>,
}

/// What a query string asks: one condition on a field, or a filter written as text.
enum Asked {
    One(String, Query),
    Filter(Filter),
}

/// Reads `where`, or else `field`, `op`, `value` and `value2`; refuses a mix of the two.
fn asked(
    where_text: Option<&str>,
    field: Option<&str>,
    op: Option<Op>,
    value: Option<&str>,
    value2: Option<&str>,
) -> Result<Asked, ApiError> {
    match (where_text, field, value) {
        (Some(text), None, None) if op.is_none() && value2.is_none() => {
            let conditions = parse_conditions(text).map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "bad_where",
                    format!("`where` {e}"),
                )
            })?;
            let filter = conditions
                .into_iter()
                .map(|(f, q)| Filter::on(f, q))
                .reduce(Filter::and)
                .ok_or_else(|| ApiError::bad_request("`where` needs a condition"))?;
            Ok(Asked::Filter(filter))
        }
        (Some(_), _, _) => Err(ApiError::bad_request(
            "give `where`, or `field` with `op` and `value`, not both",
        )),
        (None, Some(field), Some(value)) => {
            Ok(Asked::One(field.to_owned(), condition(op, value, value2)?))
        }
        (None, None, _) => Err(ApiError::bad_request(
            "give `where` (conditions as text) or `field` with `op` and `value`",
        )),
        (None, Some(_), None) => Err(ApiError::bad_request("`value` is missing")),
    }
}

/// A yes-or-no query-string parameter: `1`/`true` or `0`/`false`.
fn yes(name: &str, text: Option<&str>) -> Result<bool, ApiError> {
    match text {
        None | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{name}` is 1 or 0 (true or false), not `{other}`"
        ))),
    }
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
    let asked = asked(
        p.where_text.as_deref(),
        p.field.as_deref(),
        p.op,
        p.value.as_deref(),
        p.value2.as_deref(),
    )?;
    let explain = yes("explain", p.explain.as_deref())?;
    let mut options = QueryOptions::new()
        .limit(page_size(p.limit)?)
        .reverse(p.desc.unwrap_or(false));
    if let Some(after) = &p.after {
        let cursor = unhex(after)
            .ok_or_else(|| ApiError::bad_request("`after` is the hex cursor returned as `next`"))?;
        options = options.start_after(cursor);
    }
    if let Some(fields) = wanted_fields(p.fields.as_deref())? {
        options = options.fields(fields);
    }
    let st = state.clone();
    blocking(move || {
        let page = match (asked, explain) {
            (Asked::Filter(filter), true) => {
                let plan = st
                    .store
                    .explain(&filter)
                    .map_err(|e| with_progress(e, &st))?;
                return Ok(Json(json!({ "plan": plan_to_json(&plan) })));
            }
            (Asked::One(..), true) => {
                return Err(ApiError::bad_request(
                    "`explain` explains the conditions of `where`",
                ))
            }
            (Asked::Filter(filter), false) => st.store.query_filter(&filter, &options),
            (Asked::One(field, q), false) => st.store.query(&field, &q, &options),
        }
        .map_err(|e| with_progress(e, &st))?;
        let next = page.next.as_deref().map(hex);
        Ok(Json(rows_json(&page, next)))
    })
    .await
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
    let asked = asked(
        p.where_text.as_deref(),
        p.field.as_deref(),
        p.op,
        p.value.as_deref(),
        p.value2.as_deref(),
    )?;
    let st = state.clone();
    let count = blocking(move || {
        match asked {
            Asked::One(field, q) => st.store.count(&field, &q),
            Asked::Filter(filter) => st.store.count_filter(&filter),
        }
        .map_err(|e| with_progress(e, &st))
    })
    .await?;
    Ok(Json(CountReply { count }))
}
