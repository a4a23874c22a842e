//! What the server benches share: starting the real `fielddb-server` and stopping it however
//! the bench ends.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

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
