//! `PeerHttp`: how a node's own HTTP requests reach the other nodes — the Raft RPCs
//! (`network`) and the client requests a follower forwards to its leader (the server's
//! routing). Without TLS they are plain `http://`. With TLS they are `https://`, the peer's
//! certificate is verified against the cluster's CA (`--peer-ca`), the node presents its own
//! certificate as its client identity, and the connection asks for the [`PEER_ALPN`] protocol,
//! which is how a node's listener tells a peer's connection (certificate required at the
//! handshake) from a client's.

use std::time::Duration;

/// The ALPN protocol a node's connection to a peer asks for: HTTP/1.1 between members.
pub const PEER_ALPN: &[u8] = b"fielddb-peer/1";

/// The scheme and TLS settings of a node's requests to its peers (cheap to clone).
#[derive(Clone, Debug, Default)]
pub struct PeerHttp {
    /// The client's TLS settings (roots: the cluster CA; identity: this node's certificate);
    /// `None` for plain HTTP.
    tls: Option<tokio_rustls::rustls::ClientConfig>,
}

impl PeerHttp {
    /// Plain HTTP between members.
    pub fn plain() -> PeerHttp {
        PeerHttp { tls: None }
    }

    /// HTTPS between members with `config` (which should verify against the cluster's CA and
    /// carry this node's certificate); its ALPN is set to [`PEER_ALPN`].
    pub fn tls(mut config: tokio_rustls::rustls::ClientConfig) -> PeerHttp {
        config.alpn_protocols = vec![PEER_ALPN.to_vec()];
        PeerHttp { tls: Some(config) }
    }

    /// Whether requests go over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The URL of `path_and_query` (starting with `/`) on the node listening at `addr`.
    pub fn url(&self, addr: &str, path_and_query: &str) -> String {
        let scheme = if self.is_tls() { "https" } else { "http" };
        format!("{scheme}://{addr}{path_and_query}")
    }

    /// An HTTP client for requests to peers: no proxy, a bounded connect, and TLS when set.
    pub fn client(&self, timeout: Option<Duration>) -> Result<reqwest::Client, String> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_millis(500));
        if let Some(timeout) = timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(tls) = &self.tls {
            builder = builder.use_preconfigured_tls(tls.clone());
        }
        builder
            .build()
            .map_err(|e| format!("cannot build the peers' HTTP client: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_scheme_of_the_peers_transport() {
        let plain = PeerHttp::plain();
        assert_eq!(
            plain.url("127.0.0.1:7071", "/raft/vote"),
            "http://127.0.0.1:7071/raft/vote"
        );
        assert!(plain.client(None).is_ok());
    }
}
