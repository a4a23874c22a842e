//! A node whose data directory was wiped rejoins under a new id through the membership routes
//! after the leader has snapshotted and purged its log: it catches up by snapshot, and its
//! content hash matches the others'. An index build in progress travels inside the snapshot.

mod cluster_support;

use std::time::{Duration, Instant};

use cluster_support::Cluster;
use serde_json::json;

#[test]
fn a_wiped_node_rejoins_as_a_new_id_and_catches_up_by_snapshot() {
    let mut cluster = Cluster::start(3, &["--snapshot-every", "100"]);
    let leader = cluster.wait_leader(Duration::from_secs(15));
    for i in 0..400 {
        let (status, body) = cluster.put(
            leader,
            &format!("k{i:04}"),
            &json!({"n": i, "tag": format!("t{}", i % 7)}),
        );
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = cluster.post(
        leader,
        "/v1/indexes",
        &json!({"field": "tag", "counted": true}),
    );
    assert_eq!(status, 202, "{body}");
    // Wait for the leader to have purged log entries behind a snapshot.
    let start = Instant::now();
    loop {
        let status = cluster.status(leader).unwrap();
        if status["purged"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no purge: {status}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let follower = [1, 2, 3].into_iter().find(|&n| n != leader).unwrap();
    cluster.wipe(follower);

    let addr = cluster.add_node(4);
    let (status, body) = cluster.post(
        leader,
        "/v1/cluster/learners",
        &json!({"node_id": 4, "addr": addr.to_string()}),
    );
    assert_eq!(status, 200, "{body}");
    let voters: Vec<u64> = [1, 2, 3, 4]
        .into_iter()
        .filter(|&n| n != follower)
        .collect();
    let (status, body) = cluster.post(leader, "/v1/cluster/voters", &json!({ "voters": voters }));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["voters"], json!(voters), "{body}");
    // A write after the change lands everywhere.
    assert_eq!(cluster.put(leader, "last", &json!({"n": -1})).0, 200);
    let converged = cluster.wait_converged(Duration::from_secs(60));
    // It caught up by installing a snapshot: its log starts after one.
    let status = cluster.status(4).unwrap();
    assert!(status["snapshot"].as_u64().is_some(), "{status}");
    assert_eq!(converged["records"], json!(401), "{converged}");
    let (_, report) = cluster.get(4, "/v1/verify?consistency=stale");
    assert_eq!(report["clean"], true, "{report}");
    let (status, body) = cluster.get(4, "/v1/count?field=tag&value=t3&consistency=stale");
    assert_eq!((status, &body["count"]), (200, &json!(57)), "{body}");
}
