//! Unique, counted and compound indexes built while writers write through every node: the
//! builds advance by logged steps, so every replica ends with the same content hash, `verify`
//! clean, and the same answers (a duplicate refused the same way everywhere).

mod cluster_support;

use std::time::Duration;

use cluster_support::{json, Cluster};
use serde_json::json;

#[test]
fn indexes_built_under_concurrent_writes_leave_identical_replicas() {
    let cluster = Cluster::start(3, &[]);
    let leader = cluster.wait_leader(Duration::from_secs(15));
    for i in 0..3000 {
        let body = json!({"email": format!("u{i}@x"), "city": format!("c{}", i % 13)});
        let (status, answer) = cluster.put(leader, &format!("u{i:05}"), &body);
        assert_eq!(status, 200, "{answer}");
    }
    let view = cluster.view();
    let writers: Vec<_> = (0..2u64)
        .map(|w| {
            let view = view.clone();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .no_proxy()
                    .build()
                    .unwrap();
                for i in 0..200u64 {
                    let node = 1 + (i + w) % 3;
                    let body =
                        json!({"email": format!("w{w}-{i}@x"), "city": format!("c{}", i % 5)});
                    let (status, answer) = json(
                        client
                            .put(view.url(node, &format!("/v1/records/w{w}-{i:04}")))
                            .json(&body)
                            .send(),
                    );
                    assert_eq!(status, 200, "{answer}");
                }
            })
        })
        .collect();
    let (status, body) = cluster.post(2, "/v1/indexes", &json!({"field": "email", "unique": true}));
    assert_eq!(status, 202, "{body}");
    let (status, body) = cluster.post(3, "/v1/indexes", &json!({"field": "city", "counted": true}));
    assert_eq!(status, 202, "{body}");
    let (status, body) = cluster.post(
        1,
        "/v1/indexes",
        &json!({"fields": ["city", "email"], "counted": true}),
    );
    assert_eq!(status, 202, "{body}");
    for writer in writers {
        writer.join().unwrap();
    }
    // A duplicate is refused, with the key that holds the value, from any node.
    let (status, body) = cluster.put(3, "dup", &json!({"email": "u7@x"}));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["existing_key"], "u00007", "{body}");

    let converged = cluster.wait_converged(Duration::from_secs(60));
    assert_eq!(converged["records"], json!(3400), "{converged}");
    for id in [1, 2, 3] {
        let (_, indexes) = cluster.get(id, "/v1/indexes?consistency=stale");
        for index in indexes["indexes"].as_array().unwrap() {
            assert_eq!(index["state"], "ready", "node {id}: {indexes}");
        }
        let (_, report) = cluster.get(id, "/v1/verify?consistency=stale");
        assert_eq!(report["clean"], true, "node {id}: {report}");
        let (_, count) = cluster.get(id, "/v1/count?field=city&value=c3&consistency=stale");
        assert_eq!(count["count"], json!(231 + 80), "node {id}: {count}");
        // Through the compound index: an equality, then a prefix on its second field.
        let (_, count) = cluster.get(
            id,
            "/v1/count?where=city%20%3D%20c3%20and%20email%20prefix%20u&consistency=stale",
        );
        assert_eq!(count["count"], json!(231), "node {id}: {count}");
    }
}
