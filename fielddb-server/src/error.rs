//! `ApiError`: every error response, as `{"error": {"code", "message", ...}}` with its HTTP
//! status, and the mapping from library errors and axum's extractor rejections to it.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value as Json_};

/// Why a store call failed: the database said no, or (a cluster backend) the group could not
/// serve it now.
#[derive(Debug)]
pub enum StoreError {
    /// The database's own error.
    Db(fielddb::Error),
    /// The group cannot serve the request now (no leader, no quorum, a timeout): 503, with the
    /// leader the node knows of.
    Unavailable {
        /// What happened.
        message: String,
        /// The leader's node id, if known.
        leader: Option<u64>,
    },
    /// A bug on this side (a write's task panicked): 500.
    Internal(String),
}

impl From<fielddb::Error> for StoreError {
    fn from(e: fielddb::Error) -> Self {
        StoreError::Db(e)
    }
}

/// The 503 for a request the group could not serve.
pub(crate) fn unavailable_error(unavailable: fielddb_cluster::Unavailable) -> StoreError {
    match unavailable {
        fielddb_cluster::Unavailable::NotLeader(leader) => StoreError::Unavailable {
            message: "this node is not the leader (leadership moved during the request)".into(),
            leader: leader.map(|(id, _)| id),
        },
        fielddb_cluster::Unavailable::NoQuorum(leader, message) => {
            StoreError::Unavailable { message, leader }
        }
        fielddb_cluster::Unavailable::Unknown(leader) => StoreError::Unavailable {
            message: "the leader changed before the write committed: its outcome is unknown; \
                      retry it with the same Fielddb-Client and Fielddb-Request"
                .into(),
            leader,
        },
        fielddb_cluster::Unavailable::Stopped(message) => StoreError::Unavailable {
            message: format!("this node has stopped: {message}"),
            leader: None,
        },
    }
}

/// An error response. A request that fails with one has changed nothing.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// Extra members of the `error` object (e.g. `existing_key`, `progress`).
    pub(crate) details: Map<String, Json_>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Map::new(),
        }
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
    pub(crate) fn with(mut self, name: &str, value: Json_) -> Self {
        self.details.insert(name.to_string(), value);
        self
    }
}

impl From<fielddb::Error> for ApiError {
    /// The code is the library's own (`fielddb::Error::code`); the status and the extra members
    /// follow the variant.
    fn from(e: fielddb::Error) -> Self {
        use fielddb::Error as E;
        let code = e.code();
        let message = e.to_string();
        match e {
            E::InvalidArgument(_) => ApiError::new(StatusCode::BAD_REQUEST, code, message),
            E::NotFound(key) => ApiError::new(StatusCode::NOT_FOUND, code, message)
                .with("key", fielddb_json::key_to_json(&key)),
            E::NoSuchIndex { field, .. } => {
                ApiError::new(StatusCode::NOT_FOUND, code, message).with("field", json!(field))
            }
            E::IndexExists(field)
            | E::IndexNotReady { field, .. }
            | E::BuildFailed { field, .. } => {
                ApiError::new(StatusCode::CONFLICT, code, message).with("field", json!(field))
            }
            E::UniqueViolation {
                field,
                value,
                existing_key,
            } => ApiError::new(StatusCode::CONFLICT, code, message)
                .with("field", json!(field))
                .with("value", fielddb_json::value_to_json(&value))
                .with("existing_key", fielddb_json::key_to_json(&existing_key)),
            E::Poisoned(_) | E::Closed => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
            }
            _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, message),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(e) => ApiError::from(e),
            StoreError::Unavailable { message, leader } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
                    .with("leader", json!(leader))
            }
            StoreError::Internal(message) => ApiError::internal(message),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.message));
        error.extend(self.details);
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if matches!(
            self.status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE
        ) {
            // The body was refused unread: close the connection rather than leave the client
            // to reuse it with the rest of that body still in flight.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_error_keeps_its_code_and_gets_its_status() {
        let cases = [
            (fielddb::Error::InvalidArgument("x".into()), 400),
            (fielddb::Error::NotFound(b"k".to_vec()), 404),
            (fielddb::Error::IndexExists("f".into()), 409),
            (fielddb::Error::Corruption("x".into()), 500),
            (fielddb::Error::Closed, 503),
        ];
        for (e, status) in cases {
            let code = e.code();
            let api = ApiError::from(e);
            assert_eq!((api.status.as_u16(), api.code), (status, code));
        }
        assert_eq!(
            ApiError::from(fielddb::Error::Corruption("x".into())).code,
            "corruption"
        );
    }
}
