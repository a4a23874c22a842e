//! Two shards of a 3-node, 8-shard cluster move to a 4th node while 4 clients write through
//! the first three: one from its leader, one from a follower. Writes carry the client's
//! session and are retried on a 503 (the only failure allowed); when the clients stop, the
//! data equals the acknowledged writes, each moved shard's replicas (the new node's among
//! them) hold the same bytes, and the nodes that gave their replica up no longer hold it.

mod cluster_support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cluster_support::{json, Cluster, Rng};
use serde_json::{json, Value};

const WRITERS: u64 = 4;

/// Writes `w{writer}-{n}` through the first three nodes until `stop`; returns the keys written,
/// each acknowledged, and the 503s met on the way. Any other failure fails the test.
fn write_until(
    view: cluster_support::ClusterView,
    writer: u64,
    stop: &AtomicBool,
) -> (Vec<String>, u64) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .unwrap();
    let mut rng = Rng(writer * 7919 + 1);
    let (mut written, mut retried) = (Vec::new(), 0);
    let mut n = 0u64;
    while !stop.load(Ordering::Acquire) {
        n += 1;
        let key = format!("w{writer}-{n:05}");
        let started = Instant::now();
        loop {
            let node = 1 + rng.below(3);
            let (status, body) = json(
                client
                    .put(view.url(node, &format!("/v1/records/{key}")))
                    .header("Fielddb-Client", format!("writer-{writer}"))
                    .header("Fielddb-Request", n.to_string())
                    .json(&json!({"n": n, "writer": writer}))
                    .send(),
            );
            match status {
                200 => break,
                503 => retried += 1,
                other => panic!("writer {writer}: {key} answered {other}: {body}"),
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{key} never acknowledged: {body}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        written.push(key);
    }
    (written, retried)
}

fn shard_item(cluster: &Cluster, via: u64, shard: usize) -> Value {
    let (status, view) = cluster.get(via, "/v1/cluster/shards");
    assert_eq!(status, 200, "{view}");
    view["items"][shard].clone()
}

fn voters(item: &Value) -> Vec<u64> {
    item["voters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

#[test]
fn shards_move_to_a_new_node_while_clients_write_and_nothing_acknowledged_is_lost() {
    let mut cluster = Cluster::start_sharded(3, 8, 3, &[]);
    let addr = cluster.add_node(4);
    let (status, body) = cluster.post(
        2,
        "/v1/cluster/learners",
        &json!({"node_id": 4, "addr": addr.to_string()}),
    );
    assert_eq!(status, 200, "node 4 joins group 0 as a learner: {body}");
    // It holds no shard yet: a node gets shards only by moves.
    let (status, view) = cluster.get(4, "/v1/cluster/shards");
    assert_eq!(status, 200, "{view}");
    assert!(
        view["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["role"].is_null()),
        "{view}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (view, stop) = (cluster.view(), stop.clone());
            std::thread::spawn(move || write_until(view, w, &stop))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));

    // Shard 0 from its leader, shard 1 from a voter that does not lead it.
    let leaders = cluster.wait_shard_leaders(Duration::from_secs(10));
    let from0 = leaders[0];
    let from1 = *voters(&shard_item(&cluster, 1, 1))
        .iter()
        .find(|&&v| v != leaders[1])
        .unwrap();
    let moves = [(0usize, from0), (1usize, from1)];
    for (i, (shard, from)) in moves.iter().enumerate() {
        let via = 1 + (i as u64 + 1) % 3;
        let started = Instant::now();
        let (status, body) = cluster.post(
            via,
            &format!("/v1/cluster/shards/{shard}/move"),
            &json!({"from": from, "to": 4}),
        );
        assert_eq!(status, 200, "move of shard {shard} from {from}: {body}");
        eprintln!(
            "shard {shard} moved from node {from} to node 4 in {:?}: {body}",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    // Shard 2's leadership goes to another of its voters, asked through any node.
    let item = shard_item(&cluster, 1, 2);
    let to = *voters(&item)
        .iter()
        .find(|&&v| Some(v) != item["leader"].as_u64())
        .unwrap();
    let (status, body) = cluster.post(4, "/v1/cluster/shards/2/leader", &json!({"to": to}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["shard"]["leader"], json!(to), "{body}");
    // A move whose source does not hold the shard (any more) is refused.
    let (status, body) = cluster.post(
        3,
        "/v1/cluster/shards/0/move",
        &json!({"from": from0, "to": 4}),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = cluster.post(3, "/v1/cluster/shards/2/move", &json!({"from": 4, "to": 1}));
    assert_eq!(status, 400, "node 4 holds no replica of shard 2: {body}");

    stop.store(true, Ordering::Release);
    let mut acknowledged = Vec::new();
    let mut retried = 0;
    for writer in writers {
        let (keys, r) = writer.join().unwrap();
        acknowledged.extend(keys);
        retried += r;
    }
    eprintln!(
        "{} writes acknowledged, {retried} retries after a 503",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() > 40,
        "too few writes: {}",
        acknowledged.len()
    );

    for (shard, from) in moves {
        let item = shard_item(&cluster, 4, shard);
        let v = voters(&item);
        assert!(
            v.contains(&4) && !v.contains(&from) && v.len() == 3,
            "shard {shard}: {item}"
        );
        assert_eq!(item["learners"], json!([]), "{item}");
        // The new replica holds what the others hold; the old one is stopped.
        let group = shard as u32 + 1;
        let converged = cluster.wait_group_converged(group, Duration::from_secs(60));
        assert_eq!(
            cluster.group_hash(4, group),
            Some(converged),
            "shard {shard}"
        );
        let start = Instant::now();
        while cluster.group_hash(from, group).is_some() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "node {from} still holds shard {shard}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    // The data equals the acknowledged writes, read through the new node.
    let mut found: BTreeMap<String, Value> = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let mut path = "/v1/records?limit=1000".to_owned();
        if let Some(a) = &after {
            path.push_str(&format!("&after={a}"));
        }
        let (status, page) = cluster.get(4, &path);
        assert_eq!(status, 200, "{page}");
        for row in page["rows"].as_array().unwrap() {
            found.insert(
                row["key"].as_str().unwrap().to_owned(),
                row["record"].clone(),
            );
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    acknowledged.sort();
    assert_eq!(found.keys().cloned().collect::<Vec<_>>(), acknowledged);
    let (status, report) = cluster.get(2, "/v1/verify");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["clean"], json!(true), "{report}");
}
