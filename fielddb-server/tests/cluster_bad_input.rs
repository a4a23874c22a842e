//! Bad input sent to a cluster gets the 400 a single node gives, and never enters the log: a
//! record with an empty or repeated field name, in a put, a batch or an append. A Raft RPC
//! for a group the node does not hold, or naming none, is refused. A patch of a missing record
//! is 404 on a cluster as on one node, and one that applies reaches every replica.

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

#[test]
fn a_raft_rpc_for_a_group_the_node_does_not_hold_is_refused() {
    let cluster = Cluster::start(1, &[]);
    let leader = cluster.wait_leader(Duration::from_secs(15));
    let vote = |group: Option<&str>| {
        let mut request = cluster
            .client
            .post(cluster.url(leader, "/raft/vote"))
            .header("Fielddb-Raft-Target", leader.to_string())
            .body("not a vote");
        if let Some(group) = group {
            request = request.header("Fielddb-Raft-Group", group);
        }
        cluster_support::json(request.send())
    };
    let (status, body) = vote(Some("7"));
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "no_such_group", "{body}");
    let (status, body) = vote(None);
    assert_eq!(status, 400, "{body}");
    // Group 0 is held: the request reaches the RPC, which refuses the body.
    let (status, body) = vote(Some("0"));
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("malformed RPC"), "{body}");
}

#[test]
fn a_patch_through_a_follower_is_applied_once_on_every_replica() {
    let cluster = Cluster::start(3, &[]);
    let leader = cluster.wait_leader_known(Duration::from_secs(15));
    let follower = (1..=3).find(|&n| n != leader).unwrap();
    assert_eq!(
        cluster
            .put(leader, "ada", &json!({"name": "Ada", "note": "x"}))
            .0,
        200
    );
    let answer = cluster
        .client
        .patch(cluster.url(follower, "/v1/records/ada"))
        .json(&json!({"note": null, "born": 1815}))
        .send();
    let (status, body) = cluster_support::json(answer);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["record"],
        json!({"name": "Ada", "born": 1815}),
        "{body}"
    );
    let answer = cluster
        .client
        .patch(cluster.url(follower, "/v1/records/nobody"))
        .json(&json!({"a": 1}))
        .send();
    let (status, body) = cluster_support::json(answer);
    assert_eq!(status, 404, "{body}");
    let converged = cluster.wait_converged(Duration::from_secs(20));
    assert_eq!(converged["records"], json!(1), "{converged}");
    for id in 1..=3 {
        let (_, got) = cluster.get(id, "/v1/records/ada?consistency=stale");
        assert_eq!(
            got["record"],
            json!({"name": "Ada", "born": 1815}),
            "node {id}"
        );
    }
}

#[test]
fn the_shard_map_keys_cannot_be_written_in_a_cluster_of_one_shard() {
    let cluster = Cluster::start(3, &[]);
    let head = serde_json::json!({"count": 8, "replicas": 3});
    let (status, body) = cluster.put(2, "shards", &head);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reserved"),
        "{body}"
    );
    let ops =
        serde_json::json!({"ops": [{"put": "ok", "record": {"n": 1}}, {"delete": "shard/00000"}]});
    let (status, body) = cluster.post(3, "/v1/batch", &ops);
    assert_eq!(status, 400, "{body}");
    let (status, _) = cluster.get(1, "/v1/records/ok");
    assert_eq!(status, 404, "the batch changed nothing");
    let (status, view) = cluster.get(1, "/v1/cluster/shards");
    assert_eq!(
        (status, &view["shards"]),
        (200, &serde_json::json!(1)),
        "{view}"
    );
    let (status, body) = cluster.put(1, "shard", &serde_json::json!({"n": 1}));
    assert_eq!(status, 200, "other keys stay free: {body}");
}
