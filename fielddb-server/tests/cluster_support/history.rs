//! A client of the linearizability tests: puts, gets and appends on `keys` keys through random
//! nodes until stopped, recording each operation's call, return and outcome for the checker
//! (`linearizability::check`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::linearizability::{Event, Op, Outcome};
use super::{json, ClusterView, Rng};

/// Runs one client until `stop`; returns its history. Writes carry the client's session and
/// are retried until answered; a write unanswered at `stop` is recorded with an unknown outcome.
pub fn run_client(
    client_id: usize,
    cluster: &ClusterView,
    nodes: &[u64],
    keys: u64,
    stop: &AtomicBool,
    start: Instant,
    mut rng: Rng,
) -> Vec<Event> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(4))
        .no_proxy()
        .build()
        .unwrap();
    let mut events = Vec::new();
    let mut n = 0u64;
    while !stop.load(Ordering::Acquire) {
        n += 1;
        let key = format!("k{}", rng.below(keys));
        let invoked = start.elapsed().as_nanos();
        let kind = rng.below(3);
        let op = match kind {
            0 => Op::Put(format!("c{client_id}-{n}")),
            1 => Op::Get,
            _ => Op::Append(format!("c{client_id}-{n};")),
        };
        // A write is sent with this client's session and request number, and retried (on any
        // node) until it is answered: the group applies it once, and a retry gets the original
        // answer, so its outcome becomes known. Until `stop`, then it stays unknown.
        let mut outcome;
        loop {
            let node = nodes[rng.below(nodes.len() as u64) as usize];
            let url = |path: &str| cluster.url(node, path);
            let with_session = |request: reqwest::blocking::RequestBuilder| {
                request
                    .header("Fielddb-Client", format!("client-{client_id}"))
                    .header("Fielddb-Request", n.to_string())
            };
            let (status, body) = match &op {
                Op::Put(value) => json(
                    with_session(client.put(url(&format!("/v1/records/{key}"))))
                        .json(&json!({ "v": value }))
                        .send(),
                ),
                Op::Get => json(client.get(url(&format!("/v1/records/{key}"))).send()),
                Op::Append(tail) => json(
                    with_session(client.post(url(&format!("/v1/records/{key}/append"))))
                        .json(&json!({"field": "v", "value": tail}))
                        .send(),
                ),
            };
            outcome = match (&op, status) {
                (Op::Put(_), 200) => Outcome::Put,
                (Op::Get, 200) => Outcome::Get(body["record"]["v"].as_str().map(str::to_owned)),
                (Op::Get, 404) => Outcome::Get(None),
                (Op::Append(_), 200) => match body["record"]["v"].as_str() {
                    Some(v) => Outcome::Append(v.to_owned()),
                    None => Outcome::Unknown,
                },
                _ => Outcome::Unknown,
            };
            // A failed read changed nothing: it is not retried, and left out.
            if outcome != Outcome::Unknown || op == Op::Get || stop.load(Ordering::Acquire) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let returned = start.elapsed().as_nanos();
        match outcome {
            Outcome::Unknown if op == Op::Get => {}
            Outcome::Unknown => events.push(Event {
                client: client_id,
                key,
                op,
                outcome,
                invoked,
                returned: None,
            }),
            outcome => events.push(Event {
                client: client_id,
                key,
                op,
                outcome,
                invoked,
                returned: Some(returned),
            }),
        }
    }
    events
}
