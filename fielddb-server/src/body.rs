//! `JsonBody`: the request-body extractor. It insists on `Content-Type: application/json`
//! (else 415), enforces the body limit (`limits::MAX_BODY_BYTES`, else 413) and parses the JSON
//! (else 400), all reported as `ApiError`s.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header::CONTENT_TYPE, StatusCode};
use serde_json::Value as Json;

use crate::error::ApiError;
use crate::limits::MAX_BODY_BYTES;

/// A parsed JSON request body.
pub(crate) struct JsonBody(pub(crate) Json);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("the body must be application/json, not {content_type:?}"),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the body is over the limit of {MAX_BODY_BYTES} bytes"),
                )
            } else {
                ApiError::bad_request(r.body_text())
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()))
    }
}
