//! Routing a `/v1` request in a cluster (a no-op on a single node). Any node accepts any
//! request:
//!
//! - a read with `consistency=stale` reads the local replica at once, and says how far it had
//!   applied in the `Fielddb-Applied` header;
//! - on the leader, a write runs as is (through the log) and a read first passes the read
//!   barrier (read-index: a quorum confirms the leader and the replica has applied up to the
//!   read index), so reads are linearizable;
//! - on another node the request is forwarded to the leader, and the leader's answer returned
//!   (with `redirect=1`: a 307 to the leader's URL instead);
//! - with no leader known, or none reachable, the answer is 503 `unavailable` with the leader
//!   this node knows of, within the request timeout: never a hang, never a 500.
//!
//! `GET /v1/cluster`, `GET /v1/cluster/hash`, `/v1/cluster/verify`, `/v1/cluster/shards`,
//! `POST /v1/cluster/init`, `/v1/admin/...` (its own backups) and `/v1/openapi.json` are
//! answered by the node itself.
//!
//! In a cluster of several shards the data routes are not forwarded here: the store sends each
//! operation to the shards it concerns (`shard_store`). With `redirect=1` a single-key request
//! is answered with a 307 to its shard's leader. A shard's `leader` and `move` routes go to
//! the shard's leader; group 0's membership routes to group 0's leader, as with one shard.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fielddb_cluster::{ClusterNode, Unavailable};

use crate::error::{unavailable_error, ApiError, StoreError};
use crate::limits::MAX_BODY_BYTES;

/// The header a forwarded request carries (the forwarding node's id): a node that is not the
/// leader answers it with 503 rather than forward it again.
pub(crate) const FORWARDED_HEADER: &str = "fielddb-forwarded";
/// The header of a stale read: the last log index the replica had applied.
pub(crate) const APPLIED_HEADER: &str = "fielddb-applied";

/// The headers a forwarded request keeps.
const KEPT_HEADERS: [&str; 4] = [
    "content-type",
    "authorization",
    crate::session::CLIENT_HEADER,
    crate::session::REQUEST_HEADER,
];

fn query_flag(request: &Request, name: &str, value: &str) -> bool {
    request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|pair| pair == format!("{name}={value}")))
}

fn unavailable(error: StoreError) -> Response {
    ApiError::from(error).into_response()
}

/// What the routing layer needs: the node, and one HTTP client (with its connection pool) for
/// every forwarded request.
pub(crate) struct Routing {
    node: Arc<ClusterNode>,
    http: reqwest::Client,
}

impl Routing {
    /// The routing of `node`'s requests.
    pub(crate) fn new(node: Arc<ClusterNode>) -> Result<Routing, String> {
        let http = node
            .peer_http()
            .client(Some(node.request_timeout()))
            .map_err(|e| format!("cannot build the forwarding client: {e}"))?;
        Ok(Routing { node, http })
    }
}

/// The routing middleware (`None` on a single node).
pub(crate) async fn route(
    State(routing): State<Option<Arc<Routing>>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(routing) = routing else {
        return next.run(request).await;
    };
    let node = &routing.node;
    let path = request.uri().path();
    let local = !path.starts_with("/v1/")
        || path == "/v1/openapi.json"
        || (path == "/v1/cluster" && request.method() == Method::GET)
        || path == "/v1/cluster/hash"
        || path == "/v1/cluster/shards"
        || path == "/v1/cluster/verify"
        || path == "/v1/cluster/init"
        || path.starts_with("/v1/admin/");
    if local {
        return next.run(request).await;
    }
    let sharded = node.sharded();
    if let (Some(_), Some(shard)) = (&sharded, shard_admin(path)) {
        // A shard's leadership or move: run by the shard's leader.
        let group = fielddb_cluster::shard_map::ShardMap::group_of(shard);
        if node.group(group).is_some_and(|g| g.is_leader()) {
            return next.run(request).await;
        }
        let leader = node.group_leader(group);
        return elsewhere(&routing, request, Unavailable::NotLeader(leader)).await;
    }
    if let (Some(map), false) = (sharded, path.starts_with("/v1/cluster/")) {
        // Several shards: the store sends each operation to the shards it concerns, wherever
        // they are led. Asked to redirect, a single-key request is sent to its shard's leader.
        if query_flag(&request, "redirect", "1") {
            if let Some(key) = record_key(path) {
                let group = crate::shard_store::group_of_key(&map, &key);
                if let Some((_, addr)) = node.group_leader(group) {
                    return redirect(&routing, &request, &addr);
                }
            }
        }
        return next.run(request).await;
    }
    // `POST /v1/query` carries its conditions in a body, but reads.
    let read = request.method() == Method::GET
        || (request.method() == Method::POST && path == "/v1/query");
    if read && query_flag(&request, "consistency", "stale") {
        let applied = node.status().last_applied;
        let mut response = next.run(request).await;
        let applied = applied.map_or_else(|| "none".to_owned(), |i| i.to_string());
        if let Ok(value) = HeaderValue::from_str(&applied) {
            response.headers_mut().insert(APPLIED_HEADER, value);
        }
        return response;
    }
    if node.is_leader() {
        if read {
            if let Err(unavailable_here) = node.read_barrier().await {
                return elsewhere(&routing, request, unavailable_here).await;
            }
        }
        return next.run(request).await;
    }
    let leader = node.leader().filter(|(id, _)| *id != node.id());
    elsewhere(&routing, request, Unavailable::NotLeader(leader)).await
}

/// A request this node cannot serve: forwarded to the leader, redirected, or 503.
async fn elsewhere(routing: &Routing, request: Request, why: Unavailable) -> Response {
    let Unavailable::NotLeader(Some((leader, addr))) = why else {
        let why = match why {
            Unavailable::NotLeader(None) => {
                Unavailable::NoQuorum(None, "no leader is known".into())
            }
            other => other,
        };
        return unavailable(unavailable_error(why));
    };
    if request.headers().contains_key(FORWARDED_HEADER) {
        return unavailable(StoreError::Unavailable {
            message: "a forwarded request reached a node that is not the leader".into(),
            leader: Some(leader),
        });
    }
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let url = routing.node.peer_http().url(&addr, &path_and_query);
    if query_flag(&request, "redirect", "1") {
        return redirect(routing, &request, &addr);
    }
    forward(routing, request, url, leader).await
}

/// A 307 to the same request on the node at `addr`.
fn redirect(routing: &Routing, request: &Request, addr: &str) -> Response {
    let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let url = routing.node.peer_http().url(addr, path_and_query);
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(location) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The shard of a `/v1/cluster/shards/{shard}/leader` or `/move` path.
fn shard_admin(path: &str) -> Option<u32> {
    let rest = path.strip_prefix("/v1/cluster/shards/")?;
    let shard = rest
        .strip_suffix("/leader")
        .or_else(|| rest.strip_suffix("/move"))?;
    shard.parse().ok()
}

/// The key of a `/v1/records/{key}[/append]` path, percent-decoded.
fn record_key(path: &str) -> Option<Vec<u8>> {
    let rest = path.strip_prefix("/v1/records/")?;
    let segment = rest.strip_suffix("/append").unwrap_or(rest);
    if segment.is_empty() || segment.contains('/') {
        return None;
    }
    percent_decode(segment)
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Sends `request` to the leader at `url` and returns its answer.
async fn forward(routing: &Routing, request: Request, url: String, leader: u64) -> Response {
    let method = request.method().clone();
    let headers = request.headers().clone();
    let body = match to_bytes(request.into_body(), MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is over the limit of {MAX_BODY_BYTES} bytes"),
            )
            .into_response()
        }
    };
    let method =
        reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut outgoing = routing
        .http
        .request(method, &url)
        .header(FORWARDED_HEADER, routing.node.id().to_string())
        .body(body.to_vec());
    for name in KEPT_HEADERS {
        if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(e) => {
            return unavailable(StoreError::Unavailable {
                message: format!("the leader (node {leader}) did not answer: {e}"),
                leader: Some(leader),
            })
        }
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut kept = Vec::new();
    for name in ["content-type", "location", APPLIED_HEADER] {
        if let Some(value) = answer.headers().get(name) {
            if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
                kept.push((name, value));
            }
        }
    }
    let body = match answer.bytes().await {
        Ok(body) => body,
        Err(e) => {
            return unavailable(StoreError::Unavailable {
                message: format!("the leader's answer was cut: {e}"),
                leader: Some(leader),
            })
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in kept {
        response.headers_mut().insert(name, value);
    }
    response
}
