//! A cluster of 3 nodes, 8 shards of 3 replicas. Five clients put, get and append on 24 keys
//! (spread over the shards) through every node while, every 2 to 5 seconds, one node is
//! SIGKILLed, then restarted once every shard has a leader on the two survivors and a write and
//! a read of every shard have gone through them. The recorded history must be linearizable;
//! at the end every shard's replicas (the restarted ones caught up) hold the same bytes, and
//! `verify` is clean.
//!
//! `CLUSTER_ROUNDS` (default 6) sets the number of kills; `CLUSTER_SEED` replays a run.

mod cluster_support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cluster_support::history::run_client;
use cluster_support::linearizability::check;
use cluster_support::{env_number, seed, Cluster, Rng};
use fielddb_cluster::placement::shard_of;
use serde_json::json;

const SHARDS: u32 = 8;
const KEYS: u64 = 24;
const CLIENTS: usize = 5;

/// One probe key per shard.
fn probe_keys() -> Vec<String> {
    let mut keys: Vec<Option<String>> = vec![None; SHARDS as usize];
    let mut i = 0;
    while keys.iter().any(Option::is_none) {
        let key = format!("probe{i}");
        keys[shard_of(key.as_bytes(), SHARDS) as usize].get_or_insert(key);
        i += 1;
    }
    keys.into_iter().flatten().collect()
}

#[test]
fn sharded_histories_stay_linearizable_while_nodes_are_killed_and_restarted() {
    let rounds = env_number("CLUSTER_ROUNDS", 6);
    let seed = seed();
    eprintln!("CLUSTER_SEED={seed} CLUSTER_ROUNDS={rounds}");
    let mut rng = Rng(seed);
    let mut cluster = Cluster::start_sharded(3, SHARDS, 3, &["--request-timeout", "2s"]);
    let nodes: Vec<u64> = vec![1, 2, 3];
    let keys_in: BTreeSet<u32> = (0..KEYS)
        .map(|k| shard_of(format!("k{k}").as_bytes(), SHARDS))
        .collect();
    assert!(
        keys_in.len() >= 6,
        "the keys cover most shards: {keys_in:?}"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(60 + rounds * 20);

    let view = Arc::new(cluster.view());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (view, stop, nodes) = (view.clone(), stop.clone(), nodes.clone());
            let rng = Rng(seed.wrapping_add(i as u64 + 1) | 1);
            std::thread::spawn(move || run_client(i, &view, &nodes, KEYS, &stop, start, rng))
        })
        .collect();

    let probes = probe_keys();
    let mut recoveries = Vec::new();
    for round in 0..rounds {
        std::thread::sleep(Duration::from_millis(2000 + rng.below(3000)));
        assert!(
            Instant::now() < deadline,
            "the test ran out of time in round {round}"
        );
        let victim = 1 + rng.below(3);
        cluster.kill(victim);
        let killed = Instant::now();
        // Every shard elects a leader on the survivors, and takes a write and a read there.
        let leaders = cluster.wait_shard_leaders(Duration::from_secs(30));
        assert!(!leaders.contains(&victim), "round {round}: {leaders:?}");
        let survivors: Vec<u64> = nodes.iter().copied().filter(|&n| n != victim).collect();
        for (i, key) in probes.iter().enumerate() {
            let node = survivors[i % 2];
            loop {
                let (status, body) = cluster.put(node, key, &json!({ "round": round }));
                if status == 200 {
                    break;
                }
                assert!(
                    killed.elapsed() < Duration::from_secs(30),
                    "round {round}: {key} not written through node {node}: {status} {body}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            let (status, body) = cluster.get(survivors[(i + 1) % 2], &format!("/v1/records/{key}"));
            assert_eq!(status, 200, "round {round}: {key}: {body}");
            assert_eq!(body["record"]["round"], json!(round), "{body}");
        }
        recoveries.push(killed.elapsed());
        cluster.spawn(victim);
    }
    stop.store(true, Ordering::Release);
    let mut history = Vec::new();
    for client in clients {
        history.extend(client.join().unwrap());
    }
    for group in 0..=SHARDS {
        let converged = cluster.wait_group_converged_on(group, 3, Duration::from_secs(60));
        let holders = nodes
            .iter()
            .filter(|&&n| cluster.group_hash(n, group).is_some())
            .count();
        assert_eq!(
            holders, 3,
            "group {group}: every node holds it and caught up ({converged})"
        );
        for &node in &nodes {
            let (status, report) = cluster.get(node, &format!("/v1/cluster/verify?group={group}"));
            assert_eq!(status, 200, "{report}");
            assert_eq!(
                report["clean"], true,
                "node {node}, group {group}: {report}"
            );
        }
    }
    let (status, report) = cluster.get(1, "/v1/verify");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["clean"], true, "{report}");
    let known = history.iter().filter(|e| e.returned.is_some()).count();
    eprintln!(
        "history: {} operations ({known} with known outcomes)",
        history.len()
    );
    assert!(known > 50, "too few operations completed: {known}");
    if let Err(violation) = check(&history) {
        panic!("not linearizable (CLUSTER_SEED={seed}): {violation}");
    }
    recoveries.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "from a kill to every shard led, written and read on the survivors, over {} kills: \
         median {:.0} ms, max {:.0} ms",
        recoveries.len(),
        ms(&recoveries[recoveries.len() / 2]),
        ms(&recoveries[recoveries.len() - 1])
    );
}
