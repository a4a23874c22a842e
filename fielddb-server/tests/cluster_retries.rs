//! A write retried with the same `Fielddb-Client` and `Fielddb-Request` after the leader was
//! killed in the middle of it is applied once: the append shows its text once, however many
//! times it was sent.

mod cluster_support;

use std::time::{Duration, Instant};

use cluster_support::{json, Cluster};
use serde_json::json;

#[test]
fn an_append_retried_after_the_leader_dies_mid_request_is_applied_once() {
    let mut cluster = Cluster::start(3, &["--request-timeout", "2s"]);
    let view = cluster.view();
    for serial in 1..=3u64 {
        let leader = cluster.wait_leader(Duration::from_secs(20));
        let tail = format!("[{serial}]");
        let (view, tail_sent) = (view.clone(), tail.clone());
        let send = move |node: u64| {
            let client = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(5))
                .no_proxy()
                .build()
                .unwrap();
            json(
                client
                    .post(view.url(node, "/v1/records/log/append"))
                    .header("Fielddb-Client", "tester")
                    .header("Fielddb-Request", serial.to_string())
                    .json(&json!({"field": "text", "value": tail_sent}))
                    .send(),
            )
        };
        // Send to the leader and kill it while the request is in flight.
        let in_flight = {
            let send = send.clone();
            std::thread::spawn(move || send(leader))
        };
        std::thread::sleep(Duration::from_millis(2));
        cluster.kill(leader);
        let _ = in_flight.join();
        // Retry through the survivors until it is answered.
        let survivors: Vec<u64> = [1, 2, 3].into_iter().filter(|&n| n != leader).collect();
        let start = Instant::now();
        let text = loop {
            let (status, body) = send(survivors[0]);
            if status == 200 {
                break body["record"]["text"].as_str().unwrap().to_owned();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the retry never succeeded: {body}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(text.matches(&tail).count(), 1, "{tail} in {text:?}");
        // A later retry of the same request gets the same answer and changes nothing.
        let (status, body) = send(survivors[1]);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["record"]["text"], json!(text));
        cluster.spawn(leader);
    }
    let converged = cluster.wait_converged(Duration::from_secs(30));
    let (_, body) = cluster.get(1, "/v1/records/log?consistency=stale");
    assert_eq!(body["record"]["text"], json!("[1][2][3]"), "at {converged}");
}
