//! Index routes: `POST /v1/indexes` (start a background build, 202 with its status URL),
//! `GET /v1/indexes`, `GET /v1/indexes/{field}` (state and progress) and
//! `DELETE /v1/indexes/{field}` (202; entries are removed in the background). An index is
//! named by its field, or a compound index by its fields joined by `,` (`carrier,dest`,
//! percent-encoded in a path or not).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header::LOCATION, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fielddb::{IndexInfo, IndexSpec, IndexState};
use serde::Serialize;
use serde_json::Value as Json_;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::metrics::state_name;
use crate::schema::CreateIndexBody;
use crate::session::SessionHeaders;
use crate::state::{blocking, AppState};

/// An index with its state.
#[derive(Serialize, ToSchema)]
pub(crate) struct IndexView {
    /// The index's name: its field, or its fields joined by `,`.
    pub(crate) field: String,
    /// The indexed fields, in order.
    pub(crate) fields: Vec<String>,
    pub(crate) unique: bool,
    /// Keeps an exact count per value.
    pub(crate) counted: bool,
    /// What the entries hold besides the indexed values: the fields listed, or `"*"` for the
    /// whole record (absent for a plain index).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub(crate) include: Option<Json_>,
    /// `building`, `ready` or `dropping`.
    pub(crate) state: String,
    /// Build progress from 0 to 1.
    pub(crate) progress: f64,
    /// Records indexed so far (while building).
    pub(crate) done: Option<u64>,
    /// Estimated records in all (while building).
    pub(crate) total: Option<u64>,
    /// Where to follow it.
    pub(crate) status: String,
    /// Why its background build or drop failed in this process (absent when it did not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) failure: Option<String>,
    /// In a cluster of several shards (`GET /v1/indexes/{field}` only): the index on each
    /// shard, in shard order, `null` where a shard has none; the fields above are the whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) shards: Option<Vec<Option<ShardIndexView>>>,
}

/// An index on one shard.
#[derive(Serialize, ToSchema)]
pub(crate) struct ShardIndexView {
    /// The shard.
    pub(crate) shard: u32,
    /// `building`, `ready` or `dropping`.
    pub(crate) state: String,
    /// Build progress from 0 to 1.
    pub(crate) progress: f64,
    /// Records indexed so far (while building).
    pub(crate) done: Option<u64>,
    /// Estimated records in all (while building).
    pub(crate) total: Option<u64>,
}

/// Every index.
#[derive(Serialize, ToSchema)]
pub(crate) struct IndexList {
    pub(crate) indexes: Vec<IndexView>,
}

/// `/v1/indexes/{field}` with the field percent-encoded.
pub(crate) fn status_url(field: &str) -> String {
    let mut url = String::from("/v1/indexes/");
    for b in field.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

pub(crate) fn view(info: &IndexInfo) -> IndexView {
    let (done, total) = match info.state {
        IndexState::Building { done, total } => (Some(done), Some(total)),
        _ => (None, None),
    };
    IndexView {
        field: info.field.clone(),
        fields: info.fields.clone(),
        unique: info.unique,
        counted: info.counted,
        include: fielddb_json::include_json(&info.covering),
        state: state_name(&info.state).to_string(),
        progress: info.progress(),
        done,
        total,
        status: status_url(&info.field),
        failure: info.failure.clone(),
        shards: None,
    }
}

fn parse_create(body: &Json_) -> Result<(String, IndexSpec), ApiError> {
    let shape = "expected {\"field\": NAME} or {\"fields\": [NAME, ...]}, with \"unique\": BOOL, \"counted\": BOOL, \"include\": [NAME, ...] or \"*\"";
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request(shape))?;
    if let Some(other) = obj
        .keys()
        .find(|k| !["field", "fields", "unique", "counted", "include"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "unknown member `{other}`: {shape}"
        )));
    }
    let fields: Vec<String> = match (obj.get("field"), obj.get("fields")) {
        (Some(field), None) => vec![field
            .as_str()
            .ok_or_else(|| ApiError::bad_request("`field` must be a string"))?
            .to_owned()],
        (None, Some(Json_::Array(list))) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, f)| {
                f.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ApiError::bad_request(format!("fields[{i}] must be a string")))
            })
            .collect::<Result<_, _>>()?,
        (None, Some(_)) => {
            return Err(ApiError::bad_request(
                "`fields` must be a non-empty array of field names",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(format!(
                "give `field` or `fields`, not both: {shape}"
            )))
        }
        (None, None) => return Err(ApiError::bad_request(shape)),
    };
    let flag = |name: &str| match obj.get(name) {
        None | Some(Json_::Null) => Ok(false),
        Some(Json_::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::bad_request(format!(
            "`{name}` must be true or false"
        ))),
    };
    let mut spec = IndexSpec::on_fields(fields);
    if flag("unique")? {
        spec = spec.unique();
    }
    if flag("counted")? {
        spec = spec.counted();
    }
    spec = match obj.get("include") {
        None | Some(Json_::Null) => spec,
        Some(Json_::String(all)) if all == "*" => spec.include_all(),
        Some(Json_::Array(list)) => spec.include(
            list.iter()
                .enumerate()
                .map(|(i, f)| {
                    f.as_str().map(str::to_owned).ok_or_else(|| {
                        ApiError::bad_request(format!("include[{i}] must be a string"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => {
            return Err(ApiError::bad_request(
                "`include` must be an array of field names, or \"*\" for the whole record",
            ))
        }
    };
    Ok((spec.name(), spec))
}

/// Creates an index and starts building it in the background.
#[utoipa::path(post, path = "/v1/indexes", tag = "indexes",
    request_body(content = CreateIndexBody, content_type = "application/json"),
    responses(
        (status = 202, description = "Building; follow the `status` URL (also in `Location`)", body = IndexView),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 409, description = "An index on the field exists", body = ErrorBody),
        (status = 413, description = "Body over 4 MiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
    ))]
pub(crate) async fn create_index(
    State(state): State<AppState>,
    SessionHeaders(session): SessionHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (field, spec) = parse_create(&body)?;
    let store = state.store.clone();
    store.clone().create_index(session, spec).await?;
    let info = blocking(move || {
        Ok(store
            .indexes()?
            .into_iter()
            .find(|i| i.field == field && i.state != IndexState::Dropping))
    })
    .await?
    .ok_or_else(|| ApiError::internal("the new index is not in the catalog"))?;
    let v = view(&info);
    let location = HeaderValue::from_str(&v.status)
        .map_err(|e| ApiError::internal(format!("status URL: {e}")))?;
    let mut response = (StatusCode::ACCEPTED, Json(v)).into_response();
    response.headers_mut().insert(LOCATION, location);
    Ok(response)
}

/// Every index with its state and progress.
#[utoipa::path(get, path = "/v1/indexes", tag = "indexes",
    responses((status = 200, description = "Every index", body = IndexList)))]
pub(crate) async fn list_indexes(
    State(state): State<AppState>,
) -> Result<Json<IndexList>, ApiError> {
    let store = state.store.clone();
    let infos = blocking(move || Ok(store.indexes()?)).await?;
    Ok(Json(IndexList {
        indexes: infos.iter().map(view).collect(),
    }))
}

/// One index's state and build progress.
#[utoipa::path(get, path = "/v1/indexes/{field}", tag = "indexes",
    params(("field" = String, Path, description = "The indexed field")),
    responses(
        (status = 200, description = "The index", body = IndexView),
        (status = 404, description = "No index on that field", body = ErrorBody),
    ))]
pub(crate) async fn get_index(
    State(state): State<AppState>,
    field: Result<Path<String>, PathRejection>,
) -> Result<Json<IndexView>, ApiError> {
    let Path(field) = field?;
    let store = state.store.clone();
    let f = field.clone();
    let (infos, shards) =
        blocking(move || Ok((store.indexes()?, store.index_by_shard(&f)?))).await?;
    infos
        .iter()
        .find(|i| i.field == field && i.state != IndexState::Dropping)
        .or_else(|| infos.iter().find(|i| i.field == field))
        .map(|i| {
            let mut whole = view(i);
            whole.shards = shards.map(|by_shard| {
                by_shard
                    .iter()
                    .enumerate()
                    .map(|(shard, info)| {
                        info.as_ref().map(|info| {
                            let v = view(info);
                            ShardIndexView {
                                shard: shard as u32,
                                state: v.state,
                                progress: v.progress,
                                done: v.done,
                                total: v.total,
                            }
                        })
                    })
                    .collect()
            });
            Json(whole)
        })
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_index",
                format!("no index on field `{field}`"),
            )
        })
}

/// Drops an index: queries refuse it at once; its entries are removed in the background.
#[utoipa::path(delete, path = "/v1/indexes/{field}", tag = "indexes",
    params(("field" = String, Path, description = "The indexed field")),
    responses(
        (status = 202, description = "Dropping", body = IndexView),
        (status = 404, description = "No index on that field", body = ErrorBody),
    ))]
pub(crate) async fn drop_index(
    State(state): State<AppState>,
    SessionHeaders(session): SessionHeaders,
    field: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(field) = field?;
    let store = state.store.clone();
    let (reader, f) = (store.clone(), field.clone());
    let info = blocking(move || {
        Ok(reader
            .indexes()?
            .into_iter()
            .find(|i| i.field == f && i.state != IndexState::Dropping))
    })
    .await?;
    store.drop_index(session, field.clone()).await?;
    let v = IndexView {
        status: status_url(&field),
        fields: info
            .as_ref()
            .map_or_else(|| vec![field.clone()], |i| i.fields.clone()),
        field,
        unique: info.as_ref().is_some_and(|i| i.unique),
        counted: info.as_ref().is_some_and(|i| i.counted),
        include: info.as_ref().and_then(|i| view(i).include),
        state: "dropping".into(),
        progress: 0.0,
        done: None,
        total: None,
        failure: None,
        shards: None,
    };
    Ok((StatusCode::ACCEPTED, Json(v)).into_response())
}
