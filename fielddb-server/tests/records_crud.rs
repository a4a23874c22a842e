//! Records over HTTP: put, get, delete and the paged key-order scan, with the CLI's JSON form.

mod common;

use common::*;
use serde_json::json;

#[test]
fn a_put_record_reads_back_in_the_cli_json_form() {
    let s = Server::start();
    let c = client();
    let record = json!({"name": "Ada", "born": 1815, "height": 1.65, "ratio": 3.0,
        "raw": {"$base64": "AAH/"}, "top": {"$float": "inf"}, "none": null, "ok": true});
    assert_eq!(put(&c, &s, "ada", &record), (200, json!({"key": "ada"})));
    let (status, body) = get(&c, &s, "/v1/records/ada");
    assert_eq!(status, 200);
    assert_eq!(body, json!({"key": "ada", "record": record}));
    // Field order is kept and 3.0 stays a float.
    assert_eq!(
        serde_json::to_string(&body["record"]).unwrap(),
        r#"{"name":"Ada","born":1815,"height":1.65,"ratio":3.0,"raw":{"$base64":"AAH/"},"top":{"$float":"inf"},"none":null,"ok":true}"#
    );
}

#[test]
fn a_missing_record_is_404_and_delete_is_204_then_404() {
    let s = Server::start();
    let c = client();
    let (status, body) = get(&c, &s, "/v1/records/nobody");
    assert_eq!((status, code(&body)), (404, "not_found"));
    put(&c, &s, "k", &json!({"a": 1}));
    let resp = c.delete(s.url("/v1/records/k")).send().unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let (status, body) = json(c.delete(s.url("/v1/records/k")).send().unwrap());
    assert_eq!((status, code(&body)), (404, "not_found"));
    assert_eq!(get(&c, &s, "/v1/records/k").0, 404);
}

#[test]
fn a_scan_pages_through_keys_with_the_next_cursor() {
    let s = Server::start();
    let c = client();
    for i in 0..25 {
        put(&c, &s, &format!("k{i:02}"), &json!({"i": i}));
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/records?from=k05&to=k20&limit=4&after={a}"),
            None => "/v1/records?from=k05&to=k20&limit=4".to_string(),
        };
        let (status, body) = get(&c, &s, &path);
        assert_eq!(status, 200, "{body}");
        for row in body["rows"].as_array().unwrap() {
            seen.push(row["key"].as_str().unwrap().to_string());
        }
        match body["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (5..20).map(|i| format!("k{i:02}")).collect();
    assert_eq!(seen, expected);
    let (_, body) = get(&c, &s, "/v1/records?limit=2&desc=true");
    assert_eq!(body["rows"][0]["key"], "k24");
    assert_eq!(body["next"], "k23");
}

#[test]
fn page_sizes_default_to_100_and_are_capped_at_1000() {
    let s = Server::start();
    let c = client();
    let ops: Vec<_> = (0..1100)
        .map(|i| json!({"put": format!("k{i:04}"), "record": {"i": i}}))
        .collect();
    assert_eq!(post(&c, &s, "/v1/batch", &json!({"ops": ops})).0, 200);
    let (_, body) = get(&c, &s, "/v1/records");
    assert_eq!(body["rows"].as_array().unwrap().len(), 100);
    let (_, body) = get(&c, &s, "/v1/records?limit=5000");
    assert_eq!(body["rows"].as_array().unwrap().len(), 1000);
    assert_eq!(body["next"], "k0999");
    let (status, body) = get(&c, &s, "/v1/records?limit=0");
    assert_eq!((status, code(&body)), (400, "bad_request"));
}

#[test]
fn append_extends_a_field_and_answers_the_record() {
    let s = Server::start();
    let c = client();
    let (status, body) = post(
        &c,
        &s,
        "/v1/records/log/append",
        &json!({"field": "text", "value": "ab"}),
    );
    assert_eq!(
        (status, body),
        (200, json!({"key": "log", "record": {"text": "ab"}}))
    );
    let (status, body) = post(
        &c,
        &s,
        "/v1/records/log/append",
        &json!({"field": "text", "value": "cd"}),
    );
    assert_eq!(
        (status, body),
        (200, json!({"key": "log", "record": {"text": "abcd"}}))
    );
    let (status, body) = post(
        &c,
        &s,
        "/v1/records/log/append",
        &json!({"field": "raw", "value": {"$base64": "AAE="}}),
    );
    assert_eq!(status, 200);
    assert_eq!(body["record"]["raw"], json!({"$base64": "AAE="}));
    // Another type, a malformed body or an unknown member: 400, and nothing changes.
    for bad in [
        json!({"field": "text", "value": 5}),
        json!({"field": "text"}),
        json!({"field": "text", "value": "x", "extra": 1}),
    ] {
        let (status, body) = post(&c, &s, "/v1/records/log/append", &bad);
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (_, body) = get(&c, &s, "/v1/records/log");
    assert_eq!(body["record"]["text"], json!("abcd"));
}
