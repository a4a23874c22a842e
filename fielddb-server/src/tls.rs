//! `TlsConfig`: HTTPS, from `--tls-cert` (a PEM certificate chain, the server's first) and
//! `--tls-key` (its PEM private key), on rustls with the `ring` provider, and with `--peer-ca`
//! the mutual TLS between a cluster's members. A file that is missing, holds no certificate or
//! key, or a key that does not match the certificate is refused at start with a message naming
//! the file.
//!
//! One listener serves clients and peers; the TLS client hello tells them apart:
//!
//! | ALPN offered              | server config                  | client certificate           |
//! |---------------------------|--------------------------------|------------------------------|
//! | `fielddb-peer/1` (a peer) | the peers' (needs `--peer-ca`) | required, signed by the CA   |
//! | anything else (a client)  | the clients'                   | not asked for                |
//!
//! A peer without a certificate signed by `--peer-ca` is refused at the handshake. A connection
//! made as a client is marked so, and the `/raft/...` routes refuse it (`auth.rs`), so only
//! members send Raft traffic. A node's own requests to its peers use the same certificate as
//! their client identity and verify the peer against the same CA (`PeerHttp`).

use std::path::Path;
use std::sync::Arc;

use fielddb_cluster::peer_http::{PeerHttp, PEER_ALPN};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls::{self, RootCertStore};
use tokio_rustls::server::TlsStream;
use tokio_rustls::LazyConfigAcceptor;

/// Who is at the other end of a TLS connection, as its handshake established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TlsPeer {
    /// A client (no certificate asked for).
    Client,
    /// A cluster member whose certificate the cluster's CA signed.
    Member,
}

/// A server's TLS settings (cheap to clone).
#[derive(Clone)]
pub struct TlsConfig {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
    clients: Arc<rustls::ServerConfig>,
    members: Option<Members>,
}

/// The mutual TLS between members (with `--peer-ca`).
#[derive(Clone)]
struct Members {
    server: Arc<rustls::ServerConfig>,
    client: rustls::ClientConfig,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("verifies_members", &self.members.is_some())
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(path)?)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{} is not a PEM certificate chain: {e}", path.display()))?;
    if chain.is_empty() {
        return Err(format!("{} holds no certificate", path.display()));
    }
    Ok(chain)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsConfig {
    /// Reads the certificate chain and the private key.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<TlsConfig, String> {
        let chain = certificates(cert)?;
        let key_der = PrivateKeyDer::from_pem_slice(&read(key)?)
            .map_err(|e| format!("{} holds no PEM private key: {e}", key.display()))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain.clone(), key_der.clone_key())
            .map_err(|e| {
                format!(
                    "the key in {} does not fit the certificate in {}: {e}",
                    key.display(),
                    cert.display()
                )
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig {
            chain,
            key: Arc::new(key_der),
            clients: Arc::new(config),
            members: None,
        })
    }

    /// Adds mutual TLS between members: peers must present a certificate signed by a CA in
    /// `ca` (PEM), and this node's requests to peers verify them against it and present this
    /// certificate.
    pub fn with_peer_ca(mut self, ca: &Path) -> Result<TlsConfig, String> {
        let mut roots = RootCertStore::empty();
        for certificate in certificates(ca)? {
            roots
                .add(certificate)
                .map_err(|e| format!("{} holds a certificate that is no CA: {e}", ca.display()))?;
        }
        let roots = Arc::new(roots);
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::clone(&roots),
            provider(),
        )
        .build()
        .map_err(|e| format!("cannot verify peers against {}: {e}", ca.display()))?;
        let mut server = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| format!("TLS: {e}"))?;
        server.alpn_protocols = vec![PEER_ALPN.to_vec()];
        let client = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots)
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| format!("TLS: this node's certificate as a client identity: {e}"))?;
        self.members = Some(Members {
            server: Arc::new(server),
            client,
        });
        Ok(self)
    }

    /// Whether members verify each other (`--peer-ca` was given).
    pub fn verifies_members(&self) -> bool {
        self.members.is_some()
    }

    /// How this node reaches its peers: HTTPS with the member identity, once `--peer-ca` is set.
    pub fn peer_http(&self) -> Option<PeerHttp> {
        self.members
            .as_ref()
            .map(|members| PeerHttp::tls(members.client.clone()))
    }

    /// The handshake of an accepted connection: a member's when it asks for [`PEER_ALPN`] and
    /// members are verified, a client's otherwise.
    pub(crate) async fn accept<S>(&self, stream: S) -> std::io::Result<(TlsStream<S>, TlsPeer)>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream).await?;
        let asks_member = start
            .client_hello()
            .alpn()
            .is_some_and(|mut offered| offered.any(|protocol| protocol == PEER_ALPN));
        let (config, peer) = match &self.members {
            Some(members) if asks_member => (Arc::clone(&members.server), TlsPeer::Member),
            _ => (Arc::clone(&self.clients), TlsPeer::Client),
        };
        let stream = start.into_stream(config).await?;
        Ok((stream, peer))
    }
}
