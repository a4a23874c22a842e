//! Bad input sent to a cluster gets the 400 a single node gives, and never enters the log: a
//! record with an empty or repeated field name, in a put, a batch or an append.

mod cluster_support;

use std::time::Duration;

use cluster_support::Cluster;
use serde_json::json;

#[test]
fn a_record_a_single_node_refuses_is_refused_with_400_and_never_logged() {
    let cluster = Cluster::start(1, &[]);
    let leader = cluster.wait_leader(Duration::from_secs(15));
    let last_index = |c: &Cluster| c.status(leader).unwrap()["last_log_index"].clone();
    let before = last_index(&cluster);
    let refused = [
        (
            "PUT",
            "/v1/records/k",
            r#"{"": "x"}"#,
            "field names must not be empty",
        ),
        (
            "POST",
            "/v1/batch",
            r#"{"ops": [{"put": "k", "record": {"a": 1, "": 2}}]}"#,
            "field names must not be empty",
        ),
        (
            "POST",
            "/v1/records/k/append",
            r#"{"field": "", "value": "x"}"#,
            "field names must not be empty",
        ),
    ];
    for (method, path, body, says) in refused {
        let answer = cluster
            .client
            .request(method.parse().unwrap(), cluster.url(leader, path))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .unwrap();
        let (status, body) = cluster_support::json(Ok(answer));
        assert_eq!(status, 400, "{method} {path}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{method} {path}: {body}"
        );
    }
    assert_eq!(last_index(&cluster), before, "a refused write was logged");
    assert_eq!(cluster.put(leader, "k", &json!({"a": 1})).0, 200);
}
