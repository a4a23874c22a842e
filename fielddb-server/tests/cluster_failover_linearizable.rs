//! Five clients put, get and append on ten keys through every node of a 3-node cluster while,
//! every 2 to 5 seconds, the leader is SIGKILLed and restarted. The recorded history (timeouts
//! and 503s as unknown outcomes) must be linearizable, the replicas must converge to one
//! content hash with `verify` clean, and the time from each kill to the first acknowledged
//! write through the survivors is printed (median and max).
//!
//! `CLUSTER_ROUNDS` (default 20) sets the number of kills; `CLUSTER_SEED` replays a run.

mod cluster_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster_support::linearizability::{check, Event, Op, Outcome};
use cluster_support::{env_number, json, seed, Cluster, ClusterView, Rng};
use serde_json::json;

const KEYS: u64 = 10;
const CLIENTS: usize = 5;

fn run_client(
    client_id: usize,
    cluster: &ClusterView,
    nodes: &[u64],
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
        let key = format!("k{}", rng.below(KEYS));
        let node = nodes[rng.below(nodes.len() as u64) as usize];
        let url = |path: &str| cluster.url(node, path);
        let invoked = start.elapsed().as_nanos();
        let (op, answer) = match rng.below(3) {
            0 => {
                let value = format!("c{client_id}-{n}");
                let answer = json(
                    client
                        .put(url(&format!("/v1/records/{key}")))
                        .json(&json!({ "v": value }))
                        .send(),
                );
                (Op::Put(value), answer)
            }
            1 => (
                Op::Get,
                json(client.get(url(&format!("/v1/records/{key}"))).send()),
            ),
            _ => {
                let tail = format!("c{client_id}-{n};");
                let answer = json(
                    client
                        .post(url(&format!("/v1/records/{key}/append")))
                        .json(&json!({"field": "v", "value": tail}))
                        .send(),
                );
                (Op::Append(tail), answer)
            }
        };
        let returned = start.elapsed().as_nanos();
        let (status, body) = answer;
        let outcome = match (&op, status) {
            (Op::Put(_), 200) => Outcome::Put,
            (Op::Get, 200) => Outcome::Get(body["record"]["v"].as_str().map(str::to_owned)),
            (Op::Get, 404) => Outcome::Get(None),
            (Op::Append(_), 200) => match body["record"]["v"].as_str() {
                Some(v) => Outcome::Append(v.to_owned()),
                None => Outcome::Unknown,
            },
            _ => Outcome::Unknown,
        };
        if outcome == Outcome::Unknown {
            // A failed read changed nothing: leave it out. A failed write may have happened.
            if op != Op::Get {
                events.push(Event {
                    client: client_id,
                    key,
                    op,
                    outcome,
                    invoked,
                    returned: None,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        events.push(Event {
            client: client_id,
            key,
            op,
            outcome,
            invoked,
            returned: Some(returned),
        });
    }
    events
}

#[test]
fn histories_stay_linearizable_while_the_leader_is_killed_and_restarted() {
    let rounds = env_number("CLUSTER_ROUNDS", 20);
    let seed = seed();
    eprintln!("CLUSTER_SEED={seed} CLUSTER_ROUNDS={rounds}");
    let mut rng = Rng(seed);
    let cluster = Arc::new(Mutex::new(Cluster::start(3, &["--request-timeout", "2s"])));
    let nodes: Vec<u64> = vec![1, 2, 3];
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(60 + rounds * 15);

    // The clients talk to the nodes' addresses, which stay the same across restarts.
    let view = Arc::new(cluster.lock().unwrap().view());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (view, stop, nodes) = (view.clone(), stop.clone(), nodes.clone());
            let rng = Rng(seed.wrapping_add(i as u64 + 1) | 1);
            std::thread::spawn(move || run_client(i, &view, &nodes, &stop, start, rng))
        })
        .collect();

    let mut failovers = Vec::new();
    for round in 0..rounds {
        std::thread::sleep(Duration::from_millis(2000 + rng.below(3000)));
        assert!(
            Instant::now() < deadline,
            "the test ran out of time in round {round}"
        );
        let mut c = cluster.lock().unwrap();
        let leader = c.wait_leader(Duration::from_secs(20));
        c.kill(leader);
        let killed = Instant::now();
        // The first acknowledged write through the survivors.
        let survivors: Vec<u64> = nodes.iter().copied().filter(|&n| n != leader).collect();
        loop {
            let node = survivors[rng.below(2) as usize];
            let (status, _) = c.put(node, "failover-probe", &json!({ "round": round }));
            if status == 200 {
                failovers.push(killed.elapsed());
                break;
            }
            assert!(
                killed.elapsed() < Duration::from_secs(30),
                "no write succeeded within 30 s of a kill"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        c.spawn(leader);
    }
    stop.store(true, Ordering::Release);
    let mut history = Vec::new();
    for client in clients {
        history.extend(client.join().unwrap());
    }
    let c = cluster.lock().unwrap();
    let converged = c.wait_converged(Duration::from_secs(30));
    for id in c.alive() {
        let (status, report) = c.get(id, "/v1/verify?consistency=stale");
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["clean"], true, "node {id}: {report}");
    }
    let known = history.iter().filter(|e| e.returned.is_some()).count();
    eprintln!(
        "history: {} operations ({known} with known outcomes), replicas at {converged}",
        history.len()
    );
    assert!(known > 50, "too few operations completed: {known}");
    if let Err(violation) = check(&history) {
        panic!("not linearizable (CLUSTER_SEED={seed}): {violation}");
    }
    failovers.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let median = failovers[failovers.len() / 2];
    let max = failovers[failovers.len() - 1];
    eprintln!(
        "failover over {} kills: median {:.0} ms, max {:.0} ms",
        failovers.len(),
        ms(&median),
        ms(&max)
    );
}
