//! With `--tls-cert`, `--tls-key` and `--peer-ca`, a cluster's nodes talk HTTPS to each other
//! and verify each other's certificates: writes forwarded through a follower and replicated to
//! every node work over it, a peer whose certificate another CA signed (or that has none) is
//! refused at the TLS handshake, and a client connection is refused the Raft routes.

mod cluster_support;
mod test_pki;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cluster_support::Cluster;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::json;
use test_pki::{test_pki, trusting};
use tokio_rustls::rustls;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn roots(ca_pem: &str) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    roots
}

/// A client config trusting `ca_pem`, offering `alpn`, presenting `identity` (certificate and
/// key, PEM) when given.
fn client_config(
    ca_pem: &str,
    alpn: &[u8],
    identity: Option<(&str, &str)>,
) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(ca_pem));
    let mut config = match identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(cert.as_bytes())
                    .map(Result::unwrap)
                    .collect(),
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![alpn.to_vec()];
    config
}

/// Opens a TLS connection to `addr` with `config`, sends a vote request and reads the answer:
/// the HTTP status line, or the error that ended the connection.
fn raft_vote_over(addr: SocketAddr, config: rustls::ClientConfig) -> Result<String, String> {
    let name = ServerName::try_from("127.0.0.1").unwrap().to_owned();
    let mut connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut socket = TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut stream = rustls::Stream::new(&mut connection, &mut socket);
    let request = format!(
        "POST /raft/vote HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 3\r\nconnection: close\r\n\r\nxyz"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) if answer.is_empty() => Err("closed without an answer".into()),
        Ok(_) => Ok(String::from_utf8_lossy(&answer)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn members_replicate_over_mutual_tls_and_a_peer_without_a_ca_signed_certificate_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_pki();
    let (ca_file, cert_file, key_file) = (
        write(temp.path(), "ca.pem", &ca),
        write(temp.path(), "node.pem", &cert),
        write(temp.path(), "node.key", &key),
    );
    let client = trusting(&ca).build().unwrap();
    let cluster = Cluster::start_with(
        3,
        &[
            "--tls-cert",
            &cert_file,
            "--tls-key",
            &key_file,
            "--peer-ca",
            &ca_file,
        ],
        client,
        "https",
    );
    let leader = cluster.wait_leader_known(Duration::from_secs(15));
    let follower = (1..=3).find(|&n| n != leader).unwrap();

    // A write sent to a follower is forwarded to the leader over mutual TLS, and replicated.
    let (status, body) = cluster.put(follower, "ada", &json!({"name": "Ada"}));
    assert_eq!(status, 200, "{body}");
    let converged = cluster.wait_converged(Duration::from_secs(20));
    assert_eq!(converged["records"], json!(1), "{converged}");
    for id in 1..=3 {
        let (status, body) = cluster.get(id, "/v1/records/ada?consistency=stale");
        assert_eq!(status, 200, "node {id}: {body}");
        assert_eq!(body["record"]["name"], "Ada", "node {id}: {body}");
    }
    // A redirect names the leader's https URL.
    let no_redirects = trusting(&ca)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = no_redirects
        .get(cluster.url(follower, "/v1/records/ada?redirect=1"))
        .send()
        .unwrap();
    assert_eq!(answer.status(), 307);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("https://"), "{location}");

    let addr = cluster.listen[&leader];
    let peer = fielddb_cluster::peer_http::PEER_ALPN;
    // A peer whose certificate another CA signed: refused at the handshake.
    let (_, rogue_cert, rogue_key) = test_pki();
    let refused = raft_vote_over(
        addr,
        client_config(&ca, peer, Some((&rogue_cert, &rogue_key))),
    );
    let error = refused.expect_err("a certificate from another CA was accepted");
    assert!(
        error.contains("alert") || error.contains("closed"),
        "unexpected failure: {error}"
    );
    eprintln!("another CA's certificate: {error}");
    // A peer with no certificate at all: refused at the handshake too.
    let refused = raft_vote_over(addr, client_config(&ca, peer, None));
    let error = refused.expect_err("a peer without a certificate was accepted");
    eprintln!("no certificate: {error}");
    // A client connection (no peer protocol) is served, but not the Raft routes.
    let answer = raft_vote_over(addr, client_config(&ca, b"http/1.1", None)).unwrap();
    assert!(answer.contains(" 403 "), "{answer}");
    // A member's certificate passes the handshake and reaches the route (which refuses the
    // body: it is no vote).
    let answer = raft_vote_over(addr, client_config(&ca, peer, Some((&cert, &key)))).unwrap();
    assert!(!answer.contains(" 403 "), "{answer}");

    let metrics = cluster
        .client
        .get(cluster.url(leader, "/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let failed: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("fielddb_tls_handshakes_failed_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(failed >= 2, "{failed} handshakes counted as failed");
}

#[test]
fn a_tls_node_without_a_peer_ca_is_refused_at_start() {
    let temp = tempfile::tempdir().unwrap();
    let (_, cert, key) = test_pki();
    let (cert_file, key_file) = (
        write(temp.path(), "node.pem", &cert),
        write(temp.path(), "node.key", &key),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fielddb-server"))
        .args(["--db", temp.path().join("db").to_str().unwrap()])
        .args(["--node-id", "1", "--peers", "1=127.0.0.1:7999"])
        .args(["--tls-cert", &cert_file, "--tls-key", &key_file])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs --peer-ca"), "{stderr}");
    assert!(!temp.path().join("db").exists());
}
