//! `POST /v1/cluster/leader` hands the leadership to another voter: it answers once that voter
//! leads, writes and membership changes go on through it at once, and a node that is not a
//! voter is refused.

mod cluster_support;

use std::time::Duration;

use cluster_support::Cluster;
use serde_json::json;

#[test]
fn the_leadership_moves_to_the_named_voter_and_writes_go_on() {
    let cluster = Cluster::start(3, &[]);
    let leader = cluster.wait_leader(Duration::from_secs(15));
    assert_eq!(cluster.put(leader, "before", &json!({"n": 1})).0, 200);
    let to = (1..=3).find(|&n| n != leader).unwrap();
    // Asked of any node: a follower forwards it to the leader.
    let asked = (1..=3).find(|&n| n != leader && n != to).unwrap();
    let (status, body) = cluster.post(asked, "/v1/cluster/leader", &json!({ "node_id": to }));
    assert_eq!(status, 200, "{body}");
    wait_says_it_leads(&cluster, to);
    let (status, body) = cluster.put(to, "after", &json!({"n": 2}));
    assert_eq!(status, 200, "{body}");
    // The old leader forwards its read once it has heard of the new one.
    assert_eq!(cluster.wait_leader_known(Duration::from_secs(10)), to);
    let (status, body) = cluster.get(leader, "/v1/records/after");
    assert_eq!(status, 200, "{body}");
    // Moving it to where it is already is a no-op; to a stranger, a 400.
    let (status, body) = cluster.post(to, "/v1/cluster/leader", &json!({ "node_id": to }));
    assert_eq!(status, 200, "{body}");
    let (status, body) = cluster.post(to, "/v1/cluster/leader", &json!({ "node_id": 7 }));
    assert_eq!(status, 400, "{body}");
    // Back to the first leader: a membership change asked of it as soon as it says it leads
    // goes through (a leader not yet confirmed by a quorum makes it wait, not fail).
    let (status, body) = cluster.post(to, "/v1/cluster/leader", &json!({ "node_id": leader }));
    assert_eq!(status, 200, "{body}");
    wait_says_it_leads(&cluster, leader);
    let (status, body) = cluster.post(leader, "/v1/cluster/voters", &json!({"voters": [1, 2, 3]}));
    assert_eq!(status, 200, "{body}");
    let converged = cluster.wait_converged(Duration::from_secs(20));
    assert_eq!(converged["records"], json!(2), "{converged}");
}

/// Polls node `id`'s status until it says it leads. The old leader answers a transfer once a
/// quorum has taken the new leader's vote; the new leader's own status may show it a moment
/// later (its metrics are published after its election; a loaded machine may stretch that
/// moment, so the bound is wide). The poll is quick, so what the test asks next reaches a
/// leader just elected.
fn wait_says_it_leads(cluster: &Cluster, id: u64) {
    let asked_at = std::time::Instant::now();
    while cluster.status(id).unwrap()["role"] != "leader" {
        assert!(
            asked_at.elapsed() < Duration::from_secs(10),
            "node {id} does not say it leads"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
