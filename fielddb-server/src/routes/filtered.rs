//! `POST /v1/query`: a query with several conditions, as JSON, for clients that build queries:
//! `{"where": [{"field", "op", "value", "value2"?}, ...], "limit"?, "after"?, "desc"?,
//! "explain"?}`. Values are JSON as in records (`{"$null": true}` is FieldDB's null). The best
//! ready index answers one condition, the others filter what it fetches (`fielddb::Filter`);
//! with `"explain": true` the answer is the plan instead of rows. A read: linearizable in a
//! cluster, like `GET /v1/query`.

use axum::extract::State;
use axum::Json;
use fielddb::{Filter, QueryOptions, Value};
use fielddb_json::{hex, json_to_value, plan_to_json, unhex};
use serde_json::{json, Value as Json_};
use utoipa::ToSchema;

use super::query::{query_of, with_progress, Op};
use super::records::rows_json;
use super::{ErrorBody, RowsPage};
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::state::{blocking, page_size, AppState};

/// One condition of a `POST /v1/query`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body for OpenAPI; the handler reads the JSON itself
pub(crate) struct ConditionBody {
    /// The field.
    field: String,
    /// `eq`, `lt`, `le`, `gt`, `ge`, `between` (with `value2`) or `prefix`.
    op: Op,
    /// The value, as in a record.
    #[schema(value_type = Object)]
    value: Json_,
    /// The inclusive upper bound of `between`.
    #[schema(value_type = Option<Object>)]
    value2: Option<Json_>,
}

/// The body of `POST /v1/query`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body for OpenAPI; the handler reads the JSON itself
pub(crate) struct FilterBody {
    /// The conditions, all of which a record must meet (at least one).
    #[schema(rename = "where")]
    conditions: Vec<ConditionBody>,
    /// Page size: default 100, capped at 1000.
    limit: Option<usize>,
    /// The `next` of the previous page of the same query.
    after: Option<String>,
    /// Descending order.
    desc: Option<bool>,
    /// Answer the plan instead of rows.
    explain: Option<bool>,
    /// Only these fields of each record, in this order.
    fields: Option<Vec<String>>,
}

/// The plan of a query with several conditions.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI
pub(crate) struct PlanReply {
    /// The index walked: its field, or its fields joined by `,`.
    index: String,
    /// The conditions the index answers, in the shell's words, in its field order.
    index_conditions: Vec<String>,
    /// The part of the index walked, as its leading values: `("UA", "IAH")`.
    range: String,
    /// The conditions checked on each record fetched.
    residual: Vec<String>,
    /// The rows the index's conditions select.
    estimated_rows: Option<u64>,
    /// Where the estimate comes from: `counted` (the index's counts), `walked` (exact, the
    /// range was short), `approximate` (RocksDB's approximate sizes).
    estimate: Option<String>,
    /// Present for a covering index: the fields it includes, or `"*"` for the whole record.
    #[schema(value_type = Option<Object>)]
    include: Option<Json_>,
}

fn parse_filter(body: &Json_) -> Result<(Filter, QueryOptions, bool), ApiError> {
    let shape = "expected {\"where\": [{\"field\", \"op\", \"value\"}, ...], \"limit\"?, \"after\"?, \"desc\"?, \"explain\"?, \"fields\"?}";
    let Some(object) = body.as_object() else {
        return Err(ApiError::bad_request(shape));
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !["where", "limit", "after", "desc", "explain", "fields"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "unknown member `{unknown}`: {shape}"
        )));
    }
    let conditions = object
        .get("where")
        .and_then(Json_::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(format!("`where` needs at least one condition: {shape}"))
        })?;
    let mut filter: Option<Filter> = None;
    for (i, c) in conditions.iter().enumerate() {
        let at = |m: String| ApiError::bad_request(format!("where[{i}]: {m}"));
        let field = c
            .get("field")
            .and_then(Json_::as_str)
            .ok_or_else(|| at("`field` must be a string".into()))?;
        let op: Op = serde_json::from_value(c.get("op").cloned().unwrap_or(json!("eq")))
            .map_err(|_| at("`op` is one of eq, lt, le, gt, ge, between, prefix".into()))?;
        let value = |name: &str| -> Result<Option<Value>, ApiError> {
            c.get(name)
                .map(|v| json_to_value(field, v).map_err(|m| at(format!("`{name}`: {m}"))))
                .transpose()
        };
        let v = value("value")?.ok_or_else(|| at("`value` is missing".into()))?;
        let query = query_of(op, v, value("value2")?).map_err(|e| at(e.message))?;
        let one = Filter::on(field, query);
        filter = Some(match filter {
            Some(f) => f.and(one),
            None => one,
        });
    }
    let limit = match object.get("limit") {
        None => None,
        Some(n) => Some(
            n.as_u64()
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
                .ok_or_else(|| ApiError::bad_request("`limit` must be a whole number"))?,
        ),
    };
    let flag = |name: &str| -> Result<bool, ApiError> {
        match object.get(name) {
            None => Ok(false),
            Some(b) => b
                .as_bool()
                .ok_or_else(|| ApiError::bad_request(format!("`{name}` must be true or false"))),
        }
    };
    let mut options = QueryOptions::new()
        .limit(page_size(limit)?)
        .reverse(flag("desc")?);
    if let Some(after) = object.get("after") {
        let cursor = after
            .as_str()
            .and_then(unhex)
            .ok_or_else(|| ApiError::bad_request("`after` is the hex cursor returned as `next`"))?;
        options = options.start_after(cursor);
    }
    match object.get("fields") {
        None | Some(Json_::Null) => {}
        Some(Json_::Array(list)) => {
            let names = list
                .iter()
                .map(|f| f.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ApiError::bad_request("`fields` must be an array of field names"))?;
            options = options.fields(names);
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "`fields` must be an array of field names",
            ))
        }
    }
    let filter = filter.ok_or_else(|| ApiError::bad_request(shape))?;
    Ok((filter, options, flag("explain")?))
}

/// Records meeting every condition, from the best ready index, a page at a time (or the plan).
#[utoipa::path(post, path = "/v1/query", tag = "queries",
    request_body(content = FilterBody, content_type = "application/json"),
    responses(
        (status = 200, description = "A page of records (or, with explain, the plan)", body = RowsPage),
        (status = 400, description = "A malformed body or value, or a cursor this query did not return; or a cluster of several shards", body = ErrorBody),
        (status = 404, description = "No ready index on any of the fields", body = ErrorBody),
        (status = 409, description = "An index the plan needs is not ready", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
    ))]
pub(crate) async fn query_filter(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Json_>, ApiError> {
    let (filter, options, explain) = parse_filter(&body)?;
    let st = state.clone();
    blocking(move || {
        if explain {
            let plan = st
                .store
                .explain(&filter)
                .map_err(|e| with_progress(e, &st))?;
            return Ok(Json(json!({ "plan": plan_to_json(&plan) })));
        }
        let page = st
            .store
            .query_filter(&filter, &options)
            .map_err(|e| with_progress(e, &st))?;
        let next = page.next.as_deref().map(hex);
        Ok(Json(rows_json(&page, next)))
    })
    .await
}
