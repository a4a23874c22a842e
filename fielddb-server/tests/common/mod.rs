//! Starts the real `fielddb-server` binary on an ephemeral loopback port over a temporary
//! database, and offers small helpers to talk to it with a blocking reqwest client.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use serde_json::Value;

pub struct Server {
    pub child: Child,
    pub base: String,
    pub dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// A server over a fresh temporary database.
    pub fn start() -> Server {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("db");
        let mut server = Server::start_in(&dir, &[]);
        server._temp = Some(temp);
        server
    }

    /// A server over `dir` with extra arguments; panics if it does not print its address.
    pub fn start_in(dir: &Path, extra: &[&str]) -> Server {
        let listen: &[&str] = if extra.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_fielddb-server"))
            .arg("--db")
            .arg(dir)
            .args(listen)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server {
            child,
            base: format!("http://{addr}"),
            dir: dir.to_path_buf(),
            _temp: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited with 0.
    pub fn terminate(&mut self) -> bool {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap().success()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Status and parsed JSON body (Null when the body is empty).
pub fn json(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, body)
}

pub fn put(c: &Client, s: &Server, key: &str, record: &Value) -> (u16, Value) {
    json(
        c.put(s.url(&format!("/v1/records/{key}")))
            .json(record)
            .send()
            .unwrap(),
    )
}

pub fn get(c: &Client, s: &Server, path: &str) -> (u16, Value) {
    json(c.get(s.url(path)).send().unwrap())
}

pub fn post(c: &Client, s: &Server, path: &str, body: &Value) -> (u16, Value) {
    json(c.post(s.url(path)).json(body).send().unwrap())
}

/// Polls `/v1/indexes/{field}` until the index is ready.
pub fn wait_ready(c: &Client, s: &Server, field: &str) {
    for _ in 0..6000 {
        let (status, body) = get(c, s, &format!("/v1/indexes/{field}"));
        assert_eq!(status, 200, "{body}");
        if body["state"] == "ready" {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("index on {field} never became ready");
}

/// The `error.code` of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}
