//! Bad requests get a JSON error with the right status and change nothing: malformed JSON and
//! bad literals 400, index not ready 409 with its progress, oversized bodies 413, wrong media
//! type 415, unknown routes 404.

mod common;

use common::*;
use serde_json::json;

#[test]
fn malformed_json_and_unsupported_records_are_400_and_change_nothing() {
    let s = Server::start();
    let c = client();
    let resp = c
        .put(s.url("/v1/records/k"))
        .header("content-type", "application/json")
        .body("{\"a\": ")
        .send()
        .unwrap();
    let (status, body) = json(resp);
    assert_eq!((status, code(&body)), (400, "malformed_json"));
    for bad in [
        json!([1, 2]),
        json!({"a": [1]}),
        json!({"a": {"b": 1}}),
        json!({"n": 18446744073709551615u64}),
    ] {
        let (status, body) = put(&c, &s, "k", &bad);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"]["message"].is_string());
    }
    assert_eq!(get(&c, &s, "/v1/records/k").0, 404);
}

#[test]
fn bad_literals_and_operators_are_400() {
    let s = Server::start();
    let c = client();
    for path in [
        "/v1/query?field=n&value=0x0",
        "/v1/query?field=n&value=99999999999999999999",
        "/v1/query?field=n&value=%22open",
        "/v1/query?field=n&op=near&value=1",
        "/v1/query?field=n&op=between&value=1",
        "/v1/query?field=n",
        "/v1/count?field=n&value=1.2.3",
        "/v1/query?field=n&value=1&limit=-1",
    ] {
        let (status, body) = get(&c, &s, path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
    }
    let (_, body) = get(&c, &s, "/v1/query?field=n&value=0x0");
    assert_eq!(code(&body), "bad_literal");
}

#[test]
fn a_body_over_the_limit_is_413_and_a_non_json_body_is_415() {
    let s = Server::start();
    let c = client();
    let big = format!("{{\"blob\": \"{}\"}}", "x".repeat(5 << 20));
    let resp = c
        .put(s.url("/v1/records/big"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .unwrap();
    assert_eq!(resp.headers()["connection"], "close");
    let (status, body) = json(resp);
    assert_eq!((status, code(&body)), (413, "payload_too_large"));
    let resp = c
        .put(s.url("/v1/records/k"))
        .header("content-type", "text/plain")
        .body("{\"a\": 1}")
        .send()
        .unwrap();
    let (status, body) = json(resp);
    assert_eq!((status, code(&body)), (415, "unsupported_media_type"));
    assert_eq!(get(&c, &s, "/v1/records/big").0, 404);
    assert_eq!(get(&c, &s, "/v1/records/k").0, 404);
    let (status, body) = get(&c, &s, "/v2/nothing");
    assert_eq!((status, code(&body)), (404, "no_such_route"));
}

#[test]
fn a_query_on_a_building_index_is_409_with_its_progress() {
    let s = Server::start();
    let c = client();
    for chunk in 0..20 {
        let ops: Vec<_> = (0..5000)
            .map(|i| json!({"put": format!("k{chunk:02}{i:05}"), "record": {"n": i}}))
            .collect();
        assert_eq!(post(&c, &s, "/v1/batch", &json!({"ops": ops})).0, 200);
    }
    assert_eq!(post(&c, &s, "/v1/indexes", &json!({"field": "n"})).0, 202);
    let (status, body) = get(&c, &s, "/v1/count?field=n&value=1");
    if status == 200 {
        // The build beat us to it on a fast machine; nothing more to check.
        return;
    }
    assert_eq!((status, code(&body)), (409, "index_not_ready"), "{body}");
    assert_eq!(body["error"]["index"]["state"], "building");
    assert!(body["error"]["index"]["progress"].as_f64().unwrap() < 1.0);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("building"));
    wait_ready(&c, &s, "n");
    assert_eq!(
        get(&c, &s, "/v1/count?field=n&value=1").1,
        json!({"count": 20})
    );
}
