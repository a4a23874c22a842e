//! Bearer-token authentication. With `--auth-token-file`, every route except `/health` needs
//! `Authorization: Bearer <token>`; the comparison is constant-time. Without a token file every
//! request passes (the server then listens on loopback unless `--insecure`). Owns `Token` and
//! the `require_token` middleware, whose state is just the optional token; and the
//! `require_member` middleware: with mutual TLS between members (`--peer-ca`), the `/raft/...`
//! routes answer only a connection whose handshake verified a member's certificate (`tls.rs`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header::AUTHORIZATION, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::tls::TlsPeer;

/// The secret token clients must present.
#[derive(Clone)]
pub struct Token(Arc<Vec<u8>>);

/// Never shows the secret.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// A token from its text (surrounding whitespace ignored); `None` when that leaves nothing.
    pub fn new(secret: &str) -> Option<Token> {
        let token = secret.trim();
        (!token.is_empty()).then(|| Token(Arc::new(token.as_bytes().to_vec())))
    }

    /// The secret itself, as text (a node presents it to its peers).
    pub fn secret(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Reads the token from a file (surrounding whitespace ignored); it may not be empty.
    pub fn from_file(path: &std::path::Path) -> Result<Token, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        Token::new(&text).ok_or_else(|| format!("the token file {} is empty", path.display()))
    }

    fn matches(&self, presented: &[u8]) -> bool {
        // Lengths are compared in the open (the length of a token is not the secret).
        self.0.len() == presented.len() && bool::from(self.0.as_slice().ct_eq(presented))
    }
}

/// Middleware: 401 unless the request carries the token (or is `/health`).
pub(crate) async fn require_token(
    State(token): State<Option<Token>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(token) = &token else {
        return next.run(req).await;
    };
    if req.uri().path() == "/health" {
        return next.run(req).await;
    }
    let presented = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(p) if token.matches(p.as_bytes()) => next.run(req).await,
        _ => {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this route needs the header `Authorization: Bearer <token>`",
            )
            .into_response();
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
            response
        }
    }
}

/// Middleware: when `members_verified`, 403 for a `/raft/...` request that did not come over a
/// member's connection (a certificate signed by `--peer-ca`, verified at the handshake).
pub(crate) async fn require_member(
    State(members_verified): State<bool>,
    req: Request,
    next: Next,
) -> Response {
    if !members_verified
        || !req.uri().path().starts_with("/raft/")
        || req.extensions().get::<TlsPeer>() == Some(&TlsPeer::Member)
    {
        return next.run(req).await;
    }
    ApiError::new(
        StatusCode::FORBIDDEN,
        "not_a_member",
        "Raft traffic is taken only from cluster members: connect with a certificate signed by \
         the cluster's --peer-ca, offering the ALPN protocol fielddb-peer/1",
    )
    .into_response()
}
