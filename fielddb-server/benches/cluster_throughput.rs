//! Replicated writes against one node: 16 concurrent HTTP clients put records for a fixed time
//! into (a) one `fielddb-server` with `--sync-writes`, (b) one without, (c) a 3-node cluster
//! (every write fsynced on a majority before it is acknowledged), then read them back from the
//! cluster with linearizable and with stale reads. Prints writes/s (or reads/s) with p50 and
//! p99 latency, one line per setup, from one run.
//!
//! `cargo bench --bench cluster_throughput [-- --seconds N --clients N --cluster-only
//! --node-threads N]` (defaults 5 s a row and 16 clients; the runs in docs/benchmarks.md used
//! 10 s); `cargo test` runs it for 1 second with 4 clients as a smoke test.
//! `--node-threads` starts the cluster's nodes with `--threads N` (three nodes on one machine).

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::json;
use support::{append_rpcs, drive, free_port, spawn_cluster, spawn_server, Figures, Servers};

mod support;

fn spawn(args: &[String]) -> Child {
    spawn_server(args).0
}

fn single(dir: &Path, sync: bool) -> (Servers, Vec<String>) {
    let port = free_port();
    let mut args = vec![
        "--db".to_string(),
        dir.display().to_string(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
    ];
    if sync {
        args.push("--sync-writes".into());
    }
    (
        Servers(vec![spawn(&args)]),
        vec![format!("127.0.0.1:{port}")],
    )
}

fn cluster(dir: &Path, client: &Client, threads: Option<&str>) -> (Servers, Vec<String>) {
    let extra: Vec<String> = match threads {
        Some(threads) => vec!["--threads".into(), threads.into()],
        None => Vec::new(),
    };
    let (nodes, addrs) = spawn_cluster(dir, &extra);
    let init = client
        .post(format!("http://{}/v1/cluster/init", addrs[0]))
        .send()
        .expect("init");
    assert!(init.status().is_success());
    // Wait for a leader, and put it first: clients talk to it (no forwarding hop).
    let start = Instant::now();
    loop {
        for (i, addr) in addrs.iter().enumerate() {
            let status: serde_json::Value = client
                .get(format!("http://{addr}/v1/cluster"))
                .send()
                .and_then(|r| r.json())
                .unwrap_or_default();
            if status["role"] == "leader" {
                let mut ordered = addrs.clone();
                ordered.swap(0, i);
                return (nodes, ordered);
            }
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no leader");
        std::thread::sleep(Duration::from_millis(50));
    }
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
    let (mut cluster_only, mut node_threads) = (false, None::<String>);
    // `cargo bench` passes `--bench` after the caller's arguments, which win over its sizes.
    let (mut asked_seconds, mut asked_clients) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => {
                full = true;
                seconds = 5;
                clients = 16;
            }
            "--seconds" => asked_seconds = args.next().and_then(|v| v.parse().ok()),
            "--clients" => asked_clients = args.next().and_then(|v| v.parse().ok()),
            "--cluster-only" => cluster_only = true,
            "--node-threads" => node_threads = args.next(),
            _ => {}
        }
    }
    let seconds: u64 = asked_seconds.unwrap_or(seconds);
    let clients: usize = asked_clients.unwrap_or(clients);
    let client = Client::builder().no_proxy().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let line = |name: &str, f: &Figures, unit: &str| {
        println!(
            "| {name} | {:.0} {unit}/s | {:.2} ms | {:.2} ms |",
            f.rate,
            f.p50.as_secs_f64() * 1000.0,
            f.p99.as_secs_f64() * 1000.0
        );
    };
    println!(
        "{clients} clients, {seconds} s per row{}",
        if full { "" } else { " (smoke run)" }
    );
    println!(
        "cluster nodes: --threads {}",
        node_threads.as_deref().unwrap_or("(default: one per core)")
    );
    println!("| setup | throughput | p50 | p99 |\n|---|---:|---:|---:|");
    if !cluster_only {
        let (_nodes, addrs) = single(&dir.path().join("sync"), true);
        line(
            "1 node, sync_writes = true, puts",
            &drive(&[addrs[0].clone()], clients, seconds, put),
            "writes",
        );
    }
    if !cluster_only {
        let (_nodes, addrs) = single(&dir.path().join("nosync"), false);
        line(
            "1 node, sync_writes = false, puts",
            &drive(&[addrs[0].clone()], clients, seconds, put),
            "writes",
        );
    }
    let (_nodes, addrs) = cluster(
        &dir.path().join("cluster"),
        &client,
        node_threads.as_deref(),
    );
    let appends_before = append_rpcs(&client, &addrs[1]);
    let writes = drive(&[addrs[0].clone()], clients, seconds, put);
    line(
        "3 nodes (fsynced on a majority), puts to the leader",
        &writes,
        "writes",
    );
    let appends = append_rpcs(&client, &addrs[1]) - appends_before;
    println!(
        "(a follower received {appends} append RPCs: {:.1} writes per RPC)",
        writes.count as f64 / appends.max(1) as f64
    );
    let get = |stale: bool| {
        move |client: &Client, addr: &str, c: usize, n: u64| {
            let query = if stale { "?consistency=stale" } else { "" };
            client
                .get(format!("http://{addr}/v1/records/c{c}-{}{query}", n % 50))
                .send()
                .is_ok_and(|r| r.status().is_success() || r.status().as_u16() == 404)
        }
    };
    line(
        "3 nodes, linearizable gets (leader)",
        &drive(&[addrs[0].clone()], clients, seconds, get(false)),
        "reads",
    );
    line(
        "3 nodes, stale gets (a follower)",
        &drive(&[addrs[1].clone()], clients, seconds, get(true)),
        "reads",
    );
}
