//! `POST /v1/batch`: puts and deletes applied together, or not at all.

mod common;

use common::*;
use serde_json::json;

#[test]
fn a_batch_applies_its_puts_and_deletes_together() {
    let s = Server::start();
    let c = client();
    put(&c, &s, "old", &json!({"a": 1}));
    let batch = json!({"ops": [
        {"put": "x", "record": {"n": 1}},
        {"put": {"$base64": "/wA="}, "record": {"n": 2}},
        {"delete": "old"},
    ]});
    assert_eq!(
        post(&c, &s, "/v1/batch", &batch),
        (200, json!({"applied": 3}))
    );
    assert_eq!(get(&c, &s, "/v1/records/x").1["record"], json!({"n": 1}));
    assert_eq!(get(&c, &s, "/v1/records/old").0, 404);
    let (_, page) = get(&c, &s, "/v1/records");
    assert_eq!(page["rows"][1]["key"], json!({"$base64": "/wA="}));
}

#[test]
fn a_batch_with_a_unique_violation_changes_nothing_and_names_the_existing_key() {
    let s = Server::start();
    let c = client();
    put(&c, &s, "ada", &json!({"email": "ada@example.org"}));
    let (status, _) = post(
        &c,
        &s,
        "/v1/indexes",
        &json!({"field": "email", "unique": true}),
    );
    assert_eq!(status, 202);
    wait_ready(&c, &s, "email");
    let batch = json!({"ops": [
        {"put": "new", "record": {"email": "new@example.org"}},
        {"put": "thief", "record": {"email": "ada@example.org"}},
    ]});
    let (status, body) = post(&c, &s, "/v1/batch", &batch);
    assert_eq!((status, code(&body)), (409, "unique_violation"), "{body}");
    assert_eq!(body["error"]["existing_key"], "ada");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("\"ada\""));
    assert_eq!(get(&c, &s, "/v1/records/new").0, 404);
    assert_eq!(get(&c, &s, "/v1/records/thief").0, 404);
    // A single put is refused the same way.
    let (status, body) = put(&c, &s, "thief", &json!({"email": "ada@example.org"}));
    assert_eq!((status, code(&body)), (409, "unique_violation"));
}

#[test]
fn a_malformed_operation_is_400_and_writes_nothing() {
    let s = Server::start();
    let c = client();
    let batch = json!({"ops": [{"put": "a", "record": {"n": 1}}, {"upsert": "b"}]});
    let (status, body) = post(&c, &s, "/v1/batch", &batch);
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("ops[1]"));
    assert_eq!(get(&c, &s, "/v1/records/a").0, 404);
}
