//! `/health`, `/metrics` (Prometheus text) and `/v1/openapi.json` (generated, listing every route).

mod common;

use common::*;
use serde_json::json;

#[test]
fn metrics_count_requests_per_route_and_show_the_database() {
    let s = Server::start();
    let c = client();
    assert_eq!(get(&c, &s, "/health"), (200, json!({"status": "ok"})));
    put(&c, &s, "a", &json!({"n": 1}));
    get(&c, &s, "/v1/records/a");
    get(&c, &s, "/v1/records/zz");
    post(&c, &s, "/v1/indexes", &json!({"field": "n"}));
    wait_ready(&c, &s, "n");
    let resp = c.get(s.url("/metrics")).send().unwrap();
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text().unwrap();
    for needle in [
        "fielddb_http_requests_total{method=\"PUT\",route=\"/v1/records/{key}\",status=\"200\"} 1",
        "fielddb_http_requests_total{method=\"GET\",route=\"/v1/records/{key}\",status=\"404\"} 1",
        "fielddb_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/records/{key}\",le=\"+Inf\"} 2",
        "fielddb_records_estimate ",
        "fielddb_storage_bytes{part=\"records\"}",
        "fielddb_index_state{field=\"n\",state=\"ready\",unique=\"false\"} 1",
        "fielddb_index_build_progress{field=\"n\"} 1",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[test]
fn the_openapi_document_lists_every_route() {
    let s = Server::start();
    let c = client();
    let (status, doc) = get(&c, &s, "/v1/openapi.json");
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/v1/records/{key}", &["put", "get", "delete"][..]),
        ("/v1/records", &["get"]),
        ("/v1/batch", &["post"]),
        ("/v1/indexes", &["post", "get"]),
        ("/v1/indexes/{field}", &["get", "delete"]),
        ("/v1/query", &["get"]),
        ("/v1/count", &["get"]),
        ("/v1/verify", &["get"]),
        ("/health", &["get"]),
        ("/metrics", &["get"]),
        ("/v1/openapi.json", &["get"]),
    ] {
        for m in methods {
            assert!(paths[path].get(*m).is_some(), "{m} {path} missing");
        }
    }
}
