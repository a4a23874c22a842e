//! With `--tls-cert` and `--tls-key` the server speaks HTTPS: a client trusting the test CA
//! round-trips a record; a client that does not trust it, and a plain-HTTP client, get nothing.
//! A non-loopback address without TLS is refused at start.

mod common;
mod test_pki;

use std::time::Duration;

use common::Server;
use test_pki::{test_pki, trusting};

#[test]
fn a_client_trusting_the_ca_round_trips_over_https_and_others_get_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_pki();
    let (cert_file, key_file) = (
        temp.path().join("server.pem"),
        temp.path().join("server.key"),
    );
    std::fs::write(&cert_file, cert).unwrap();
    std::fs::write(&key_file, key).unwrap();
    let server = Server::start_in(
        &temp.path().join("db"),
        &[
            "--tls-cert",
            cert_file.to_str().unwrap(),
            "--tls-key",
            key_file.to_str().unwrap(),
        ],
    );
    let https = server.base.replacen("http://", "https://", 1);
    let trusting = trusting(&ca).build().unwrap();
    let put = trusting
        .put(format!("{https}/v1/records/ada"))
        .header("Content-Type", "application/json")
        .body(r#"{"name": "Ada"}"#)
        .send()
        .unwrap();
    assert_eq!(put.status(), 200);
    let got: serde_json::Value = trusting
        .get(format!("{https}/v1/records/ada"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(got["record"]["name"], "Ada", "{got}");

    let untrusting = reqwest::blocking::Client::builder()
        .no_proxy()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert!(untrusting.get(format!("{https}/health")).send().is_err());
    let plain = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert!(plain.get(server.url("/health")).send().is_err());
}

#[test]
fn a_non_loopback_address_without_tls_or_a_bad_key_is_refused_at_start() {
    let temp = tempfile::tempdir().unwrap();
    let token = temp.path().join("token");
    std::fs::write(&token, "a-token-of-enough-length-0123456789").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fielddb-server"))
        .args(["--db", temp.path().join("db").to_str().unwrap()])
        .args([
            "--listen",
            "0.0.0.0:0",
            "--auth-token-file",
            token.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("without TLS"), "{stderr}");
    assert!(
        !temp.path().join("db").exists(),
        "the database was created anyway"
    );

    let (_, cert, _) = test_pki();
    let (_, _, other_key) = test_pki();
    let (cert_file, key_file) = (temp.path().join("c.pem"), temp.path().join("k.pem"));
    std::fs::write(&cert_file, cert).unwrap();
    std::fs::write(&key_file, other_key).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fielddb-server"))
        .args(["--db", temp.path().join("db").to_str().unwrap()])
        .args(["--tls-cert", cert_file.to_str().unwrap()])
        .args(["--tls-key", key_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does not fit"), "{stderr}");
}
