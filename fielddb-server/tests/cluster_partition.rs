//! The leader cut off from both followers: on its side writes and linearizable reads answer
//! 503 `unavailable` within the request timeout (never a hang, never a 500); the majority
//! elects a leader and keeps writing; after the links heal, every replica converges to one
//! content hash and holds every acknowledged write.

mod cluster_support;

use std::time::{Duration, Instant};

use cluster_support::Cluster;
use serde_json::json;

#[test]
fn an_isolated_leader_answers_503_while_the_majority_writes_and_all_converge_after_healing() {
    let cluster = Cluster::start(3, &["--request-timeout", "1s"]);
    let old = cluster.wait_leader(Duration::from_secs(15));
    assert_eq!(cluster.put(old, "before", &json!({"n": 0})).0, 200);
    cluster.isolate(old);

    // The minority: a write and a linearizable read fail fast with 503.
    let asked = Instant::now();
    let (status, body) = cluster.put(old, "lost", &json!({"n": 1}));
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    let (status, body) = cluster.get(old, "/v1/records/before");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    // A stale read is still served locally.
    let (status, body) = cluster.get(old, "/v1/records/before?consistency=stale");
    assert_eq!((status, &body["record"]["n"]), (200, &json!(0)), "{body}");

    // The majority elects a leader and goes on.
    let others: Vec<u64> = [1, 2, 3].into_iter().filter(|&n| n != old).collect();
    let start = Instant::now();
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let key = format!("after{i}");
        loop {
            let node = others[i % 2];
            let (status, _) = cluster.put(node, &key, &json!({ "n": i }));
            if status == 200 {
                acknowledged.push(key);
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the majority did not accept writes"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let new = others
        .iter()
        .copied()
        .find(|&n| cluster.status(n).is_some_and(|s| s["role"] == "leader"))
        .expect("a leader among the majority");
    assert_ne!(new, old);

    cluster.heal();
    cluster.wait_converged(Duration::from_secs(30));
    for id in [1, 2, 3] {
        for key in acknowledged
            .iter()
            .chain(std::iter::once(&"before".to_owned()))
        {
            let (status, body) = cluster.get(id, &format!("/v1/records/{key}?consistency=stale"));
            assert_eq!(status, 200, "node {id} lacks {key}: {body}");
        }
        let (_, report) = cluster.get(id, "/v1/verify?consistency=stale");
        assert_eq!(report["clean"], true, "node {id}: {report}");
    }
}
