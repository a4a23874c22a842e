//! `--request-timeout` bounds a request's time once its body has arrived: a request still
//! running then is answered 408 `request_timeout` (a write's answer says it may have been
//! applied), counted in the metrics, and the server goes on serving.

mod common;

use common::{client, code, get, json, Server};
use serde_json::{json, Value};

/// A batch putting a record of `text` at each key `prefix{i:04}` of `range`.
fn batch(prefix: &str, range: std::ops::Range<usize>, text: &str) -> Value {
    let ops: Vec<Value> = range
        .map(|i| json!({"put": format!("{prefix}{i:04}"), "record": {"text": text}}))
        .collect();
    json!({ "ops": ops })
}

#[test]
fn a_request_running_past_the_request_timeout_is_answered_408_and_the_server_goes_on() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("db");
    let c = client();
    // 1,000 records of 4 KiB each, loaded with the default timeout.
    let mut server = Server::start_in(&dir, &[]);
    let filler = "x".repeat(4096);
    for chunk in 0..10 {
        let answer = c
            .post(server.url("/v1/batch"))
            .json(&batch("k", chunk * 100..chunk * 100 + 100, &filler))
            .send()
            .unwrap();
        let (status, body) = json(answer);
        assert_eq!(status, 200, "{body}");
    }
    assert!(server.terminate());

    // Reading all of them back (4 MiB of JSON) takes longer than a millisecond.
    let server = Server::start_in(&dir, &["--request-timeout", "1ms"]);
    let (status, body) = get(&c, &server, "/v1/records?limit=1000");
    assert_eq!(status, 408, "{body}");
    assert_eq!(code(&body), "request_timeout", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("--request-timeout"), "{message}");
    // A write's answer says its outcome is unknown.
    let answer = c
        .post(server.url("/v1/batch"))
        .json(&batch("w", 0..500, &filler))
        .send()
        .unwrap();
    let (status, body) = json(answer);
    assert_eq!(status, 408, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may still have been applied"),
        "{body}"
    );
    // The server goes on: health and metrics are not timed, and count the two.
    let (status, _) = get(&c, &server, "/health");
    assert_eq!(status, 200);
    let metrics = c
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("fielddb_requests_timed_out_total 2"),
        "{metrics}"
    );
}
