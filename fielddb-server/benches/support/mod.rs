//! What the server benches share: starting the real `fielddb-server` and stopping it however
//! the bench ends.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;

/// Server processes, killed and reaped when dropped (also when a bench panics).
pub struct Servers(pub Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `fielddb-server` with `args` and waits until it listens; returns the process and the
/// address it printed.
pub fn spawn_server(args: &[String]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fielddb-server"))
        .args(args)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fielddb-server");
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
    let Some(addr) = line.trim().strip_prefix("listening on ") else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("unexpected first line {line:?}");
    };
    let addr = addr.to_string();
    (child, addr)
}

/// How many `POST /raft/append` requests `addr` has served (from its `/metrics`).
pub fn append_rpcs(client: &Client, addr: &str) -> u64 {
    let text = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    text.lines()
        .filter(|l| {
            l.starts_with("fielddb_http_requests_total") && l.contains("route=\"/raft/append\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// What `drive` measured.
pub struct Figures {
    /// Requests answered.
    pub count: usize,
    /// Requests a second.
    pub rate: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
}

/// `clients` threads send requests built by `request(client, addr, c, n)` for `seconds`; client c's
/// n-th request goes to `addrs[(c + n) % addrs.len()]`. A failed request stops the bench.
pub fn drive(
    addrs: &[String],
    clients: usize,
    seconds: u64,
    request: impl Fn(&Client, &str, usize, u64) -> bool + Send + Sync + 'static,
) -> Figures {
    let request = Arc::new(request);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (request, stop, addrs) = (request.clone(), stop.clone(), addrs.to_vec());
            std::thread::spawn(move || {
                let client = Client::builder()
                    .timeout(Duration::from_secs(10))
                    .no_proxy()
                    .build()
                    .unwrap();
                let mut latencies = Vec::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let addr = &addrs[(c + n as usize) % addrs.len()];
                    let sent = Instant::now();
                    assert!(request(&client, addr, c, n), "a request failed");
                    latencies.push(sent.elapsed());
                    n += 1;
                }
                latencies
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Release);
    let mut all: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let elapsed = start.elapsed();
    all.sort();
    Figures {
        count: all.len(),
        rate: all.len() as f64 / elapsed.as_secs_f64(),
        p50: all[all.len() / 2],
        p99: all[all.len() * 99 / 100],
    }
}

/// A loopback port free at this moment.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts a 3-node cluster (nodes `n1`..`n3` under `dir`, each with `extra` arguments) without
/// initializing it; returns the processes and their addresses.
pub fn spawn_cluster(dir: &std::path::Path, extra: &[String]) -> (Servers, Vec<String>) {
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let peers = ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{}=127.0.0.1:{p}", i + 1))
        .collect::<Vec<_>>()
        .join(",");
    let children = ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut args = vec![
                "--db".into(),
                dir.join(format!("n{}", i + 1)).display().to_string(),
                "--listen".into(),
                format!("127.0.0.1:{p}"),
                "--node-id".into(),
                (i + 1).to_string(),
                "--peers".into(),
                peers.clone(),
            ];
            args.extend(extra.iter().cloned());
            spawn_server(&args).0
        })
        .collect();
    let addrs = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    (Servers(children), addrs)
}
