//! `fielddb-server`: FieldDB over HTTP/JSON. Parses the command line, refuses an unsafe
//! listening set-up, opens the database, serves until SIGTERM or Ctrl-C (finishing in-flight
//! requests), then closes the database cleanly. The first line on stdout is
//! `listening on ADDR` (useful with `--listen 127.0.0.1:0`). The serving itself is the
//! `fielddb_server` library's. With `--node-id` and `--peers` the server is one node of a
//! replicated cluster (`fielddb_cluster`); without them it serves one database, as before.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use fielddb::FieldDb;
use fielddb_cluster::{ClusterNode, NodeConfig};
use fielddb_server::{
    BackupSource, Backups, ClusterStore, ConnectionLimits, Server, ServerConfig, Store, TlsConfig,
    Token,
};

/// The server allocates from mimalloc: with many threads handing buffers to each other, glibc's
/// allocator spent a sixth of a cluster leader's time (profiled with perf). With the crate's
/// `override` feature (the shell's choice, which cargo would give this binary anyway), RocksDB
/// allocates from it too; PUT and GET throughput did not move (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// FieldDB over HTTP/JSON.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The database directory (created if missing).
    #[arg(long, default_value = "fielddb-data")]
    db: PathBuf,
    /// The address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:7070")]
    listen: SocketAddr,
    /// A file holding the bearer token every route but /health requires.
    #[arg(long)]
    auth_token_file: Option<PathBuf>,
    /// Allow a non-loopback address without a token.
    #[arg(long)]
    insecure: bool,
    /// Fsync every write to the write-ahead log before answering (single node; a cluster's
    /// log is always fsynced on a majority).
    #[arg(long)]
    sync_writes: bool,
    /// This node's id in a cluster (with --peers); without it the server runs single-node.
    #[arg(long)]
    node_id: Option<u64>,
    /// Every member of the cluster, as ID=HOST:PORT,... (its --listen addresses).
    #[arg(long, value_parser = parse_peers)]
    peers: Option<BTreeMap<u64, String>>,
    /// How long a request may take once its body has arrived: then 408 (e.g. 5s, 500ms). In a
    /// cluster, how long it may wait for the group before it is answered 503.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    request_timeout: Duration,
    /// Take a snapshot of the replica every this many applied log entries.
    #[arg(long, default_value_t = 20_000)]
    snapshot_every: u64,
    /// Drop a client's retry session after this long without a request (by the leader's clock).
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    session_ttl: Duration,
    /// Threads serving requests (default: one per core). Nodes sharing a machine, as in a test
    /// cluster on one host, do better with fewer each.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Connections served at once; one more is answered 503 (with Retry-After) and closed.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
    /// Time a client has to send a request's headers (and, kept alive, to start the next one).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    header_timeout: Duration,
    /// Time a request's body has to arrive, plus a second per MiB announced; then 408.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    body_timeout: Duration,
    /// `/v1` requests served at once; one more is answered 503 (with Retry-After) at once.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_in_flight: u32,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The PEM CA certificate that signed every cluster member's --tls-cert: peers then talk
    /// HTTPS, verify each other's certificates (mutual TLS), and take Raft traffic only from
    /// connections presenting a certificate it signed.
    #[arg(long, requires = "tls_cert", requires = "node_id")]
    peer_ca: Option<PathBuf>,
    /// A backup target directory (repeatable): `POST /v1/admin/backups` backs up into each
    /// (a single node's database; a cluster node's replica, with the log id it had applied).
    #[arg(long = "backup-dir")]
    backup_dirs: Vec<PathBuf>,
    /// Back up into every --backup-dir this often (e.g. 1h, 30m).
    #[arg(long, value_parser = parse_duration, requires = "backup_dirs")]
    backup_every: Option<Duration>,
    /// After each backup, keep only the newest N in its target.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), requires = "backup_dirs")]
    backup_keep: Option<u32>,
    /// A new cluster node only: start from a backup (of a one-shard cluster's node, or of a
    /// single node) as DIR or DIR:ID (default: its newest). Every member of the new cluster
    /// must be seeded from the same backup.
    #[arg(long, requires = "node_id")]
    seed_backup: Option<String>,
    /// Threads of the blocking pool where RocksDB calls run.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=4096))]
    blocking_threads: u16,
}

/// Reads `1=127.0.0.1:7071,2=127.0.0.1:7072`.
fn parse_peers(text: &str) -> Result<BTreeMap<u64, String>, String> {
    let mut peers = BTreeMap::new();
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (id, addr) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not ID=HOST:PORT"))?;
        let id: u64 = id
            .trim()
            .parse()
            .map_err(|_| format!("`{id}` is not a node id (a whole number)"))?;
        let addr = addr.trim();
        addr.parse::<SocketAddr>()
            .map_err(|_| format!("`{addr}` is not HOST:PORT"))?;
        if peers.insert(id, addr.to_owned()).is_some() {
            return Err(format!("node {id} is named twice"));
        }
    }
    if peers.is_empty() {
        return Err("no peers given".into());
    }
    Ok(peers)
}

/// Reads `5s`, `500ms`, `2m`, `1h`, or a number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 5s or 500ms"))?;
    let ms = match unit {
        "ms" => n,
        "" | "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        _ => return Err(format!("`{text}`: the unit is one of ms, s, m, h")),
    };
    if ms == 0 {
        return Err("a duration must be above zero".into());
    }
    Ok(Duration::from_millis(ms))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fielddb-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let mut config = ServerConfig::new(args.listen);
    config.token = args
        .auth_token_file
        .as_deref()
        .map(Token::from_file)
        .transpose()?;
    config.insecure = args.insecure;
    if args.tls_cert.is_some() && args.node_id.is_some() && args.peer_ca.is_none() {
        return Err(
            "--tls-cert with --node-id needs --peer-ca: the CA that signed the members' \
             certificates, which the nodes verify each other against"
                .into(),
        );
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let mut tls = TlsConfig::from_pem_files(cert, key)?;
        if let Some(ca) = &args.peer_ca {
            tls = tls.with_peer_ca(ca)?;
        }
        config.tls = Some(tls);
    }
    config.request_timeout = args.request_timeout;
    config.connections = ConnectionLimits {
        max_connections: args.max_connections as usize,
        header_read_timeout: args.header_timeout,
    };
    config.body_timeout = args.body_timeout;
    config.max_in_flight = args.max_in_flight as usize;
    // Refuse before opening (and perhaps creating) the database.
    config.check()?;
    for dir in &args.backup_dirs {
        if dir.is_file() {
            return Err(format!("--backup-dir {} is a file", dir.display()));
        }
    }
    config.backup_every = args.backup_every;
    let backup_dirs = (!args.backup_dirs.is_empty()).then(|| {
        (
            args.backup_dirs.clone(),
            args.backup_keep.map(|k| k as usize),
        )
    });
    let cluster = match (args.node_id, args.peers) {
        (None, None) => None,
        (Some(id), Some(peers)) => {
            if !peers.contains_key(&id) {
                return Err(format!("--peers does not name this node ({id})"));
            }
            let mut node = NodeConfig::new(id, args.db.clone(), peers);
            node.token = config.token.as_ref().map(|t| t.secret().to_owned());
            node.request_timeout = args.request_timeout;
            node.snapshot_every = args.snapshot_every;
            node.session_ttl_ms = args.session_ttl.as_millis() as u64;
            if let Some(peer_http) = config.tls.as_ref().and_then(TlsConfig::peer_http) {
                node.peer_http = peer_http;
            }
            Some(node)
        }
        _ => return Err("--node-id and --peers go together".into()),
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        runtime.worker_threads(usize::from(threads));
    }
    let runtime = runtime
        .max_blocking_threads(usize::from(args.blocking_threads))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let result = match cluster {
        None => {
            let options = fielddb::Options::default().sync_writes(args.sync_writes);
            let db = FieldDb::open_with(&args.db, options)
                .map_err(|e| format!("cannot open {}: {e}", args.db.display()))?;
            if let Some((dirs, keep)) = &backup_dirs {
                config.backups = Some(Arc::new(Backups::new(
                    BackupSource::Db(db.clone()),
                    dirs.clone(),
                    *keep,
                )));
            }
            runtime.block_on(serve(config, Arc::new(db)))
        }
        Some(node) => runtime.block_on(async move {
            if let Some(seed) = &args.seed_backup {
                let (dir, which) = match seed.rsplit_once(':') {
                    Some((dir, id)) if id.chars().all(|c| c.is_ascii_digit()) && !id.is_empty() => {
                        let id = id
                            .parse()
                            .map_err(|_| format!("backup id {id} is too large"))?;
                        (dir, fielddb::BackupId::Id(id))
                    }
                    _ => (seed.as_str(), fielddb::BackupId::Latest),
                };
                let id = ClusterNode::seed(&node.dir, std::path::Path::new(dir), which)?;
                tracing::info!("seeded from backup {id} of {dir}");
            }
            let node = ClusterNode::start(node).await?;
            let mut config = config;
            if let Some((dirs, keep)) = &backup_dirs {
                config.backups = Some(Arc::new(Backups::new(
                    BackupSource::Node(Arc::clone(&node)),
                    dirs.clone(),
                    *keep,
                )));
            }
            let store = Arc::new(ClusterStore::new(Arc::clone(&node)));
            let result = serve(config.with_cluster(Arc::clone(&node)), store).await;
            node.shutdown().await;
            result
        }),
    };
    // Every request has finished; dropping the runtime joins the blocking pool, and dropping the
    // last store handle closes RocksDB (a running index build keeps its cursor).
    drop(runtime);
    tracing::info!("database closed");
    result
}

async fn serve(config: ServerConfig, store: Arc<dyn Store>) -> Result<(), String> {
    let server = Server::bind(config, store).await?;
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {}", server.local_addr());
    let _ = stdout.flush();
    server.serve(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        _ = term => tracing::info!("SIGTERM: shutting down"),
    }
}
