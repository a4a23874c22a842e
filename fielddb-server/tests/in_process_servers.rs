//! The server as a library: two servers run in one test process, each over its own temporary
//! `FieldDb`, on loopback ports the test picks. What is written through one is not seen through
//! the other, and both shut down cleanly: their databases reopen in this same process (so the
//! servers let go of them) holding what was written.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use fielddb::FieldDb;
use fielddb_server::{RunningServer, ServerConfig};
use reqwest::blocking::Client;
use serde_json::{json, Value};

/// The whole test must finish within this.
const TIME_LIMIT: Duration = Duration::from_secs(120);

/// Two distinct free loopback addresses: both are bound at once (so they differ), then let go.
fn two_free_loopback_addrs() -> [SocketAddr; 2] {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    [a.local_addr().unwrap(), b.local_addr().unwrap()]
}

/// A server over a new database in `dir`, listening on `addr`.
fn start(dir: &Path, addr: SocketAddr) -> Result<RunningServer, String> {
    let db = FieldDb::open(dir).map_err(|e| e.to_string())?;
    RunningServer::start(ServerConfig::new(addr), Arc::new(db))
}

/// Status and parsed JSON body.
fn send(request: reqwest::blocking::RequestBuilder) -> (u16, Value) {
    let resp = request.send().unwrap();
    let status = resp.status().as_u16();
    (status, serde_json::from_str(&resp.text().unwrap()).unwrap())
}

/// Two servers on two ports picked here. Another process could take a port between the probe
/// and the server's bind, so a failed start is tried again with new ports.
fn start_two(dir_a: &Path, dir_b: &Path) -> (RunningServer, RunningServer) {
    let mut last = String::new();
    for _ in 0..5 {
        let [addr_a, addr_b] = two_free_loopback_addrs();
        // If `b` fails to start, `a` is dropped, which shuts it down and closes its database.
        match start(dir_a, addr_a).and_then(|a| start(dir_b, addr_b).map(|b| (a, b))) {
            Ok((a, b)) => {
                assert_eq!((a.addr(), b.addr()), (addr_a, addr_b));
                return (a, b);
            }
            Err(e) => last = e,
        }
    }
    panic!("could not start two servers: {last}");
}

fn the_test() {
    let temp = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (temp.path().join("a"), temp.path().join("b"));
    let (a, b) = start_two(&dir_a, &dir_b);
    assert!(a.addr().ip().is_loopback() && b.addr().ip().is_loopback());
    assert_ne!(a.addr(), b.addr());

    let c = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let url = |s: &RunningServer, path: &str| format!("http://{}{path}", s.addr());
    let record = json!({"name": "Ada", "born": 1815});
    assert_eq!(
        send(c.put(url(&a, "/v1/records/ada")).json(&record)),
        (200, json!({"key": "ada"}))
    );
    assert_eq!(
        send(c.get(url(&a, "/v1/records/ada"))),
        (200, json!({"key": "ada", "record": record}))
    );
    let (status, body) = send(c.get(url(&b, "/v1/records/ada")));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    assert_eq!(
        send(c.get(url(&b, "/health"))),
        (200, json!({"status": "ok"}))
    );
    drop(c);

    a.shutdown().unwrap();
    b.shutdown().unwrap();
    let db_a = FieldDb::open(&dir_a).unwrap();
    assert_eq!(
        db_a.get("ada").unwrap().unwrap().get("born"),
        Some(&fielddb::Value::Int(1815))
    );
    let db_b = FieldDb::open(&dir_b).unwrap();
    assert_eq!(db_b.get("ada").unwrap(), None);
}

#[test]
fn two_servers_run_in_one_process_on_ports_the_test_chooses() {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        the_test();
        let _ = done.send(());
    });
    match finished.recv_timeout(TIME_LIMIT) {
        Ok(()) => {}
        // The test thread panicked: its message is above.
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the test failed"),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test took over {TIME_LIMIT:?}"),
    }
}
