//! Five clients put, get and append on ten keys through every node of a 3-node cluster while,
//! every 2 to 5 seconds, the leader is SIGKILLed and restarted. Writes carry the client's
//! session and are retried until answered (the group applies each once); a write still
//! unanswered at the end is an unknown outcome. The recorded history must be linearizable, the replicas must converge to one
//! content hash with `verify` clean, and the time from each kill to the first acknowledged
//! write through the survivors is printed (median and max).
//!
//! `CLUSTER_ROUNDS` (default 20) sets the number of kills; `CLUSTER_SEED` replays a run.

mod cluster_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster_support::history::run_client;
use cluster_support::linearizability::check;
use cluster_support::{env_number, seed, Cluster, Rng};
use serde_json::json;

const KEYS: u64 = 10;
const CLIENTS: usize = 5;

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
            std::thread::spawn(move || run_client(i, &view, &nodes, KEYS, &stop, start, rng))
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
