//! A cluster of real `fielddb-server` processes on loopback ports, for tests. Every link
//! between two nodes goes through a `FaultProxy` of its own (node i reaches node j through the
//! proxy (i, j): node i's `--peers` names it), so a test can cut and heal links. Nodes are
//! killed with SIGKILL. Everything is stopped when the `Cluster` is dropped, also when a test
//! fails.

#![allow(dead_code)]

pub mod history;
pub mod linearizability;
pub mod proxy;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::Value;

use proxy::FaultProxy;

/// A loopback port free at this moment, for a node to listen on once it starts. It is taken
/// below the kernel's ephemeral range (32768 and up on Linux), from a counter of this process
/// starting at a point drawn from the process id: the port 0 binds of proxies and clients, which
/// come from the ephemeral range, cannot take it in the moment between this check and the
/// node's own bind (which made a node fail to start now and then), and two tests running
/// together never get the same one.
pub fn free_port() -> SocketAddr {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        (std::process::id().wrapping_mul(7919)) % SPAN,
        Ordering::AcqRel,
        Ordering::Acquire,
    );
    for _ in 0..SPAN {
        let port = LOW + NEXT.fetch_add(1, Ordering::AcqRel) % SPAN;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port as u16)) {
            return listener.local_addr().expect("its address");
        }
    }
    panic!("no free loopback port in {LOW}..{}", LOW + SPAN)
}

pub struct Cluster {
    _temp: tempfile::TempDir,
    root: PathBuf,
    /// Each node's own listening address, by id.
    pub listen: BTreeMap<u64, SocketAddr>,
    /// The proxy carrying node i's traffic to node j, by (i, j).
    proxies: BTreeMap<(u64, u64), FaultProxy>,
    children: BTreeMap<u64, Child>,
    extra: Vec<String>,
    pub client: Client,
    /// `http`, or `https` for a cluster started with TLS.
    scheme: &'static str,
}

impl Cluster {
    /// Starts `n` nodes (ids 1..=n) with `extra` arguments, initializes the group through
    /// node 1 and waits for a leader.
    pub fn start(n: u64, extra: &[&str]) -> Cluster {
        let client = Client::builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .expect("an HTTP client");
        Cluster::start_with(n, extra, client, "http")
    }

    /// As `start`, with the test's own client and URL scheme (`https` for a TLS cluster).
    pub fn start_with(n: u64, extra: &[&str], client: Client, scheme: &'static str) -> Cluster {
        let cluster = Cluster::launch(n, extra, client, scheme);
        let (status, body) = cluster.post(1, "/v1/cluster/init", &serde_json::json!({}));
        assert_eq!(status, 200, "init: {body}");
        cluster.wait_leader(Duration::from_secs(15));
        cluster
    }

    /// Starts `n` nodes and creates a cluster of `shards` shards of `replicas` replicas through
    /// node 1; waits until every shard has a leader.
    pub fn start_sharded(n: u64, shards: u32, replicas: u32, extra: &[&str]) -> Cluster {
        let client = Client::builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .expect("an HTTP client");
        let cluster = Cluster::launch(n, extra, client, "http");
        let layout = serde_json::json!({"shards": shards, "replicas": replicas});
        let (status, body) = cluster.post(1, "/v1/cluster/init", &layout);
        assert_eq!(status, 200, "init: {body}");
        cluster.wait_shard_leaders(Duration::from_secs(30));
        cluster
    }

    /// Each shard's leader, as the running nodes holding it see it (`None` while a shard has
    /// none), by shard.
    pub fn shard_leaders(&self) -> Vec<Option<u64>> {
        let mut leaders: Vec<Option<u64>> = Vec::new();
        for id in self.alive() {
            let (status, view) = self.get(id, "/v1/cluster/shards");
            if status != 200 {
                continue;
            }
            let items = view["items"].as_array().cloned().unwrap_or_default();
            leaders.resize(leaders.len().max(items.len()), None);
            for (i, item) in items.iter().enumerate() {
                let leader = item["leader"]
                    .as_u64()
                    .filter(|l| self.children.contains_key(l));
                if item["role"] == "leader" || leaders[i].is_none() {
                    leaders[i] = leaders[i].or(leader);
                }
            }
        }
        leaders
    }

    /// Waits until every shard has a leader among the running nodes; returns them by shard.
    pub fn wait_shard_leaders(&self, timeout: Duration) -> Vec<u64> {
        let start = Instant::now();
        loop {
            let leaders = self.shard_leaders();
            if !leaders.is_empty() && leaders.iter().all(Option::is_some) {
                return leaders.into_iter().flatten().collect();
            }
            assert!(
                start.elapsed() < timeout,
                "not every shard has a leader within {timeout:?}: {leaders:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Node `id`'s content hash of group `group`, if it answers.
    pub fn group_hash(&self, id: u64, group: u32) -> Option<Value> {
        let (status, body) = self.get(id, &format!("/v1/cluster/hash?group={group}"));
        (status == 200).then_some(body)
    }

    /// Waits until every running node holding group `group` has applied the same index with
    /// the same content hash; returns it. Panics after `timeout`.
    pub fn wait_group_converged(&self, group: u32, timeout: Duration) -> Value {
        self.wait_group_converged_on(group, 1, timeout)
    }

    /// As `wait_group_converged`, once at least `holders` running nodes hold the group (a
    /// restarted node starts its groups a moment after it listens).
    pub fn wait_group_converged_on(&self, group: u32, holders: usize, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let hashes: Vec<Value> = self
                .alive()
                .iter()
                .filter_map(|&id| self.group_hash(id, group))
                .collect();
            if let Some(first) = hashes.first() {
                if hashes.len() >= holders
                    && hashes.iter().all(|h| h == first)
                    && !first["applied"].is_null()
                {
                    return first.clone();
                }
            }
            assert!(
                start.elapsed() < timeout,
                "group {group} did not converge on {holders} nodes within {timeout:?}: {hashes:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts `n` nodes (ids 1..=n) without initializing anything.
    pub fn launch(n: u64, extra: &[&str], client: Client, scheme: &'static str) -> Cluster {
        let temp = tempfile::tempdir().expect("a temporary directory");
        let root = temp.path().to_path_buf();
        let mut cluster = Cluster {
            _temp: temp,
            root,
            listen: BTreeMap::new(),
            proxies: BTreeMap::new(),
            children: BTreeMap::new(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            client,
            scheme,
        };
        for id in 1..=n {
            cluster.listen.insert(id, free_port());
        }
        let ids: Vec<u64> = cluster.listen.keys().copied().collect();
        for &from in &ids {
            for &to in &ids {
                if from != to {
                    cluster
                        .proxies
                        .insert((from, to), FaultProxy::start(cluster.listen[&to]));
                }
            }
        }
        for &id in &ids {
            cluster.spawn(id);
        }
        cluster
    }

    /// The node's `--peers`: itself at its own address, every other node through its proxy.
    fn peers_of(&self, id: u64) -> String {
        self.listen
            .keys()
            .map(|&other| {
                let addr = if other == id {
                    self.listen[&id]
                } else {
                    self.proxies[&(id, other)].addr()
                };
                format!("{other}={addr}")
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The node's data directory.
    pub fn dir(&self, id: u64) -> PathBuf {
        self.root.join(format!("node{id}"))
    }

    /// Starts node `id`'s process and waits until it listens.
    pub fn spawn(&mut self, id: u64) {
        let peers = self.peers_of(id);
        self.spawn_with(id, &peers);
    }

    /// Adds a node that is not in the group yet (a new id, a fresh directory, its own port);
    /// it reaches the others directly. Returns its address.
    pub fn add_node(&mut self, id: u64) -> SocketAddr {
        let addr = free_port();
        self.listen.insert(id, addr);
        let peers = self
            .listen
            .iter()
            .map(|(other, addr)| format!("{other}={addr}"))
            .collect::<Vec<_>>()
            .join(",");
        self.spawn_with(id, &peers);
        addr
    }

    fn spawn_with(&mut self, id: u64, peers: &str) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fielddb-server"));
        command
            .arg("--db")
            .arg(self.dir(id))
            .arg("--listen")
            .arg(self.listen[&id].to_string())
            .arg("--node-id")
            .arg(id.to_string())
            .arg("--peers")
            .arg(peers)
            .args(&self.extra)
            .env(
                "RUST_LOG",
                std::env::var("CLUSTER_LOG").unwrap_or_else(|_| "error".into()),
            )
            .stdout(Stdio::piped())
            .stderr(match std::env::var("CLUSTER_LOG_DIR") {
                // Each node's log, kept when asked for (to look into a failure).
                Ok(dir) => std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(format!("{dir}/node{id}.log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
                Err(_) => Stdio::null(),
            });
        let mut child = command.spawn().expect("start fielddb-server");
        let stdout = child.stdout.take().expect("its stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the node printed its address within 30 s");
        assert!(
            line.starts_with("listening on"),
            "node {id} printed {line:?}"
        );
        self.children.insert(id, child);
    }

    /// SIGKILLs node `id`.
    pub fn kill(&mut self, id: u64) {
        if let Some(mut child) = self.children.remove(&id) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts node `id` again over its data.
    pub fn restart(&mut self, id: u64) {
        self.kill(id);
        self.spawn(id);
    }

    /// The ids of the running nodes.
    pub fn alive(&self) -> Vec<u64> {
        self.children.keys().copied().collect()
    }

    pub fn url(&self, id: u64, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.listen[&id])
    }

    pub fn get(&self, id: u64, path: &str) -> (u16, Value) {
        json(self.client.get(self.url(id, path)).send())
    }

    pub fn post(&self, id: u64, path: &str, body: &Value) -> (u16, Value) {
        json(self.client.post(self.url(id, path)).json(body).send())
    }

    pub fn put(&self, id: u64, key: &str, record: &Value) -> (u16, Value) {
        json(
            self.client
                .put(self.url(id, &format!("/v1/records/{key}")))
                .json(record)
                .send(),
        )
    }

    /// Node `id`'s view of the group, if it answers.
    pub fn status(&self, id: u64) -> Option<Value> {
        let (status, body) = self.get(id, "/v1/cluster");
        (status == 200).then_some(body)
    }

    /// A running node that says it is the leader, if any.
    pub fn leader(&self) -> Option<u64> {
        self.alive()
            .into_iter()
            .find(|&id| self.status(id).is_some_and(|s| s["role"] == "leader"))
    }

    /// Waits for a leader among the running nodes; panics after `timeout`.
    pub fn wait_leader(&self, timeout: Duration) -> u64 {
        let start = Instant::now();
        loop {
            if let Some(id) = self.leader() {
                return id;
            }
            assert!(start.elapsed() < timeout, "no leader within {timeout:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for a leader that every running node names as its leader (so a request sent to a
    /// follower right after is forwarded, not answered 503 "no leader is known"); panics after
    /// `timeout`.
    pub fn wait_leader_known(&self, timeout: Duration) -> u64 {
        let start = Instant::now();
        loop {
            if let Some(id) = self.leader() {
                let known = self.alive().into_iter().all(|n| {
                    self.status(n)
                        .is_some_and(|s| s["leader"].as_u64() == Some(id))
                });
                if known {
                    return id;
                }
            }
            assert!(
                start.elapsed() < timeout,
                "no leader known to every node within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops node `id` and deletes its data.
    pub fn wipe(&mut self, id: u64) {
        self.kill(id);
        let _ = std::fs::remove_dir_all(self.dir(id));
    }

    /// Cuts every link to and from node `id`.
    pub fn isolate(&self, id: u64) {
        for ((from, to), proxy) in &self.proxies {
            if *from == id || *to == id {
                proxy.cut();
            }
        }
    }

    /// Heals every link.
    pub fn heal(&self) {
        for proxy in self.proxies.values() {
            proxy.heal();
        }
    }

    /// Node `id`'s content hash, records and applied index.
    pub fn hash(&self, id: u64) -> Option<Value> {
        let (status, body) = self.get(id, "/v1/cluster/hash");
        (status == 200).then_some(body)
    }

    /// Waits until every running node has applied the same index and has the same content
    /// hash there; returns that hash. Panics after `timeout`, showing each node's.
    pub fn wait_converged(&self, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let hashes: Vec<Option<Value>> = self.alive().iter().map(|&id| self.hash(id)).collect();
            if let Some(Some(first)) = hashes.first() {
                if hashes.iter().all(|h| h.as_ref() == Some(first)) && !first["applied"].is_null() {
                    return first.clone();
                }
            }
            assert!(
                start.elapsed() < timeout,
                "replicas did not converge within {timeout:?}: {hashes:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, mut child) in std::mem::take(&mut self.children) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Status and JSON body of an answer; a transport error is status 0.
pub fn json(response: reqwest::Result<reqwest::blocking::Response>) -> (u16, Value) {
    match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let text = response.text().unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        Err(e) => (0, Value::String(e.to_string())),
    }
}

/// The nodes' addresses, for client threads.
#[derive(Clone)]
pub struct ClusterView {
    pub listen: BTreeMap<u64, SocketAddr>,
}

impl ClusterView {
    pub fn url(&self, id: u64, path: &str) -> String {
        format!("http://{}{path}", self.listen[&id])
    }
}

impl Cluster {
    /// The addresses of the nodes, to hand to client threads.
    pub fn view(&self) -> ClusterView {
        ClusterView {
            listen: self.listen.clone(),
        }
    }
}

/// A small deterministic generator (xorshift), seeded per test so a failure can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The seed of a test run: `CLUSTER_SEED`, or the clock.
pub fn seed() -> u64 {
    std::env::var("CLUSTER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        })
}

/// An environment variable as a number, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
