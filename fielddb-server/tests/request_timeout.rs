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
    // 1,000 records of 60 KiB each (60 MiB), loaded with the default timeout in batches of 50
    // (3 MiB bodies, under the 4 MiB limit).
    let mut server = Server::start_in(&dir, &[]);
    let filler = "x".repeat(60 << 10);
    for chunk in 0..20 {
        let answer = c
            .post(server.url("/v1/batch"))
            .json(&batch("k", chunk * 50..chunk * 50 + 50, &filler))
            .send()
            .unwrap();
        let (status, body) = json(answer);
        assert_eq!(status, 200, "{body}");
    }
    assert!(server.terminate());

    // Reading all of them back takes far longer than a millisecond. Only the store's scan is
    // awaited (the page is turned into JSON in the poll that finds the scan done), and tokio's
    // timer fires within about 2 ms: a scan of 4 MiB was once done before it (CI at d5715d2).
    let server = Server::start_in(&dir, &["--request-timeout", "1ms"]);
    let (status, body) = get(&c, &server, "/v1/records?limit=1000");
    assert_eq!(status, 408, "{body}");
    assert_eq!(code(&body), "request_timeout", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("--request-timeout"), "{message}");
    // A write's answer says its outcome is unknown: a batch of 10,000 puts (the most one may
    // hold) of 300 bytes each, which takes several milliseconds once its body has arrived.
    let answer = c
        .post(server.url("/v1/batch"))
        .json(&batch("w", 0..10_000, &"y".repeat(300)))
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
