//! The membership routes refuse what would contradict the group: `init` again is a no-op with
//! the same voters and a 409 with others, and a change while another is under way is a 409
//! that leaves the group able to change once the first is over.

mod cluster_support;

use std::time::{Duration, Instant};

use cluster_support::{free_port, json, Cluster};
use serde_json::json;

#[test]
fn init_again_is_a_no_op_and_init_against_other_voters_is_a_conflict() {
    let cluster = Cluster::start(3, &[]);
    for id in 1..=3 {
        let (status, body) = cluster.post(id, "/v1/cluster/init", &json!({}));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["initialized"], false, "{body}");
    }
    let leader = cluster.wait_leader(Duration::from_secs(15));
    let other = (1..=3).find(|&n| n != leader).unwrap();
    let mut voters = vec![leader, other];
    voters.sort();
    let (status, body) = cluster.post(leader, "/v1/cluster/voters", &json!({ "voters": voters }));
    assert_eq!(status, 200, "{body}");
    // Every node's --peers names three voters; the group now has two.
    let (status, body) = cluster.post(leader, "/v1/cluster/init", &json!({}));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "membership_conflict", "{body}");
    let (status, body) = cluster.get(leader, "/v1/cluster");
    assert_eq!((status, &body["voters"]), (200, &json!(voters)), "{body}");
}

#[test]
fn a_membership_change_during_another_is_a_conflict_until_the_first_ends() {
    let cluster = Cluster::start(3, &[]);
    let leader = cluster.wait_leader(Duration::from_secs(15));
    // A learner at an address where nothing listens never catches up: its request stays under
    // way until its client gives up, which leaves the checks below a window of several seconds
    // on a loaded machine (the membership change itself goes through the log).
    let url = cluster.url(leader, "/v1/cluster/learners");
    let nowhere = free_port().to_string();
    let first = std::thread::spawn(move || {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .unwrap();
        json(
            client
                .post(url)
                .json(&json!({"node_id": 9, "addr": nowhere}))
                .send(),
        )
    });
    // Once the learner is in the membership, its request is waiting for it to catch up.
    let start = Instant::now();
    loop {
        let status = cluster.status(leader);
        if status.as_ref().is_some_and(|s| s["learners"] == json!([9])) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(7),
            "the learner was not added: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, conflict) =
        cluster.post(leader, "/v1/cluster/voters", &json!({"voters": [1, 2, 3]}));
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(
        conflict["error"]["code"], "membership_conflict",
        "{conflict}"
    );
    let (status, _) = first.join().unwrap();
    assert_ne!(status, 200, "the unreachable learner cannot have caught up");
    // With the first request gone, a change goes through again.
    let start = Instant::now();
    loop {
        let (status, body) =
            cluster.post(leader, "/v1/cluster/voters", &json!({"voters": [1, 2, 3]}));
        if status == 200 {
            assert_eq!(body["voters"], json!([1, 2, 3]), "{body}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "membership stays locked after the first request ended: {status} {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
