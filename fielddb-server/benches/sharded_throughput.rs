//! The same write workload on a 3-node cluster of 1 shard and of 8 shards (3 replicas each):
//! `clients` HTTP clients put records for a fixed time, each sending to the three nodes in turn
//! (any node takes any request: with one shard the followers forward to the leader; with 8 each
//! node proposes to the shard's leader, here or on a peer). Prints writes/s, p50, p99 and the CPU
//! each node used (user + system time from `/proc/<pid>/stat` over the run, in cores), one line
//! per layout, from one run.
//!
//! `cargo bench --bench sharded_throughput [-- --seconds N --clients N]` (defaults 8 s a row and
//! 16 clients; the run in docs/benchmarks.md used 15 s); `cargo test` runs it for 1 second with
//! 4 clients as a smoke test.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::json;
use support::{append_rpcs, drive, spawn_cluster, Servers};

mod support;

/// Three nodes created with `shards` shards; returns them once every shard has a leader.
fn cluster(dir: &Path, client: &Client, shards: u32) -> (Servers, Vec<String>) {
    let (nodes, addrs) = spawn_cluster(dir, &[]);
    let init = client
        .post(format!("http://{}/v1/cluster/init", addrs[0]))
        .json(&json!({"shards": shards, "replicas": 3}))
        .send()
        .expect("init");
    assert!(init.status().is_success(), "init: {:?}", init.text());
    let start = Instant::now();
    loop {
        let view: serde_json::Value = client
            .get(format!("http://{}/v1/cluster/shards", addrs[0]))
            .send()
            .and_then(|r| r.json())
            .unwrap_or_default();
        let items = view["items"].as_array().cloned().unwrap_or_default();
        if items.len() == shards as usize && items.iter().all(|i| i["leader"].is_u64()) {
            return (nodes, addrs);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no leaders: {view}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// User + system CPU seconds process `pid` has used (fields 14 and 15 of `/proc/<pid>/stat`).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the name, field 3 (state) is index 0: utime (14) is index 11, stime (15) index 12.
    (ticks(11) + ticks(12)) / 100.0
}

fn put(client: &Client, addr: &str, c: usize, n: u64) -> bool {
    client
        .put(format!("http://{addr}/v1/records/c{c}-{n}"))
        .json(&json!({"client": c as i64, "n": n as i64, "text": "a record of a few fields"}))
        .send()
        .is_ok_and(|r| r.status().is_success())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut seconds, mut clients, mut full) = (1u64, 4usize, false);
    // `cargo bench` passes `--bench` after the caller's arguments, which win over its sizes.
    let (mut asked_seconds, mut asked_clients) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => {
                full = true;
                seconds = 8;
                clients = 16;
            }
            "--seconds" => asked_seconds = args.next().and_then(|v| v.parse().ok()),
            "--clients" => asked_clients = args.next().and_then(|v| v.parse().ok()),
            _ => {}
        }
    }
    let seconds: u64 = asked_seconds.unwrap_or(seconds);
    let clients: usize = asked_clients.unwrap_or(clients);
    let client = Client::builder().no_proxy().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    println!(
        "{clients} clients sending to the 3 nodes in turn, {seconds} s per row{}; {} cores",
        if full { "" } else { " (smoke run)" },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "| layout | writes/s | p50 | p99 | CPU node 1 | CPU node 2 | CPU node 3 | append RPCs | writes per RPC |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for shards in [1u32, 8] {
        let (nodes, addrs) = cluster(&dir.path().join(format!("s{shards}")), &client, shards);
        let pids: Vec<u32> = nodes.0.iter().map(|c| c.id()).collect();
        let before: Vec<f64> = pids.iter().map(|&p| cpu_seconds(p)).collect();
        let rpcs =
            |addrs: &[String]| -> u64 { addrs.iter().map(|a| append_rpcs(&client, a)).sum() };
        let rpcs_before = rpcs(&addrs);
        let started = Instant::now();
        let f = drive(&addrs, clients, seconds, put);
        let wall = started.elapsed().as_secs_f64();
        let appends = rpcs(&addrs) - rpcs_before;
        // Each write reaches two followers: RPCs per write counts both.
        let writes_per_rpc = 2.0 * f.count as f64 / appends.max(1) as f64;
        let cores: Vec<String> = pids
            .iter()
            .zip(&before)
            .map(|(&p, b)| format!("{:.2} cores", (cpu_seconds(p) - b) / wall))
            .collect();
        println!(
            "| 3 nodes, {shards} shard{} of 3 replicas | {:.0} | {:.2} ms | {:.2} ms | {} | {appends} | {writes_per_rpc:.1} |",
            if shards == 1 { "" } else { "s" },
            f.rate,
            f.p50.as_secs_f64() * 1000.0,
            f.p99.as_secs_f64() * 1000.0,
            cores.join(" | ")
        );
        drop(nodes);
    }
}
