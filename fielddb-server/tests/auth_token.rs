//! `--auth-token-file`: every route but `/health` needs the bearer token; a non-loopback
//! address without a token is refused unless `--insecure`.

mod common;

use std::process::Command;

use common::*;

#[test]
fn every_route_but_health_needs_the_bearer_token() {
    let temp = tempfile::tempdir().unwrap();
    let token_file = temp.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let s = Server::start_in(
        &temp.path().join("db"),
        &["--auth-token-file", token_file.to_str().unwrap()],
    );
    let c = client();
    assert_eq!(get(&c, &s, "/health").0, 200);
    for path in [
        "/v1/records",
        "/v1/indexes",
        "/metrics",
        "/v1/openapi.json",
        "/v1/records/x",
    ] {
        let (status, body) = get(&c, &s, path);
        assert_eq!((status, code(&body)), (401, "unauthorized"), "{path}");
    }
    let wrong = c
        .get(s.url("/v1/records"))
        .header("authorization", "Bearer s3cret-tokem")
        .send()
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let put = c
        .put(s.url("/v1/records/x"))
        .header("authorization", "Bearer s3cret-token")
        .json(&serde_json::json!({"a": 1}))
        .send()
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    let right = c
        .get(s.url("/v1/records/x"))
        .header("authorization", "Bearer s3cret-token")
        .send()
        .unwrap();
    assert_eq!(right.status().as_u16(), 200);
}

#[test]
fn a_non_loopback_address_without_a_token_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fielddb-server"))
        .arg("--db")
        .arg(temp.path().join("db"))
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to listen"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_non_loopback_address_is_allowed_with_insecure() {
    let temp = tempfile::tempdir().unwrap();
    let mut s = Server::start_in(
        &temp.path().join("db"),
        &["--listen", "0.0.0.0:0", "--insecure"],
    );
    let port = s.base.rsplit(':').next().unwrap().to_string();
    let c = client();
    let resp = c
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(s.terminate());
}
