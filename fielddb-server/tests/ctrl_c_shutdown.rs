//! Ctrl-C (SIGINT) shuts the server down like SIGTERM: it exits 0 and the database, closed
//! cleanly, opens with the library holding what was written.

mod common;

use std::process::Command;

use common::*;
use serde_json::json;

#[test]
fn ctrl_c_closes_the_database_cleanly() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("db");
    let mut s = Server::start_in(&dir, &[]);
    let c = client();
    assert_eq!(put(&c, &s, "ada", &json!({"born": 1815})).0, 200);
    let status = Command::new("kill")
        .args(["-INT", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(s.child.wait().unwrap().success());
    let db = fielddb::FieldDb::open(&dir).unwrap();
    assert_eq!(
        db.get("ada").unwrap().unwrap().get("born"),
        Some(&fielddb::Value::Int(1815))
    );
}
