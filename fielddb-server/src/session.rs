//! `ClientSession`: the retry identity a client may send with a write, `Fielddb-Client: <id>`
//! and `Fielddb-Request: <n>` (n increasing per client). A replicated store applies a write
//! whose (client, n) it has applied already only once, and answers a retry of the client's
//! latest request with the original answer. A single node ignores it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;

/// The header naming the client.
pub const CLIENT_HEADER: &str = "fielddb-client";
/// The header numbering the client's request.
pub const REQUEST_HEADER: &str = "fielddb-request";

/// The longest client id accepted.
const MAX_CLIENT_LEN: usize = 256;

/// A write's retry identity, when the client sent one: (client, request number).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSession(pub Option<(String, u64)>);

/// The extractor reading a `ClientSession` from the headers (400 when malformed).
pub(crate) struct SessionHeaders(pub(crate) ClientSession);

impl<S: Send + Sync> FromRequestParts<S> for SessionHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| -> Result<Option<String>, ApiError> {
            match parts.headers.get(name) {
                None => Ok(None),
                Some(value) => value
                    .to_str()
                    .map(|v| Some(v.trim().to_owned()))
                    .map_err(|_| ApiError::bad_request(format!("`{name}` is not text"))),
            }
        };
        match (header(CLIENT_HEADER)?, header(REQUEST_HEADER)?) {
            (None, None) => Ok(SessionHeaders(ClientSession(None))),
            (Some(client), Some(serial)) => {
                if client.is_empty() || client.len() > MAX_CLIENT_LEN {
                    return Err(ApiError::bad_request(format!(
                        "`Fielddb-Client` must be 1 to {MAX_CLIENT_LEN} bytes"
                    )));
                }
                let serial = serial.parse::<u64>().map_err(|_| {
                    ApiError::bad_request("`Fielddb-Request` must be a whole number")
                })?;
                Ok(SessionHeaders(ClientSession(Some((client, serial)))))
            }
            _ => Err(ApiError::bad_request(
                "`Fielddb-Client` and `Fielddb-Request` go together",
            )),
        }
    }
}
