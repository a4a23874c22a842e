//! `fielddb-server`: FieldDB over HTTP/JSON. Parses the command line, refuses an unsafe
//! listening set-up, opens the database, serves until SIGTERM or Ctrl-C (finishing in-flight
//! requests), then closes the database cleanly. The first line on stdout is
//! `listening on ADDR` (useful with `--listen 127.0.0.1:0`). The serving itself is the
//! `fielddb_server` library's.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use fielddb::FieldDb;
use fielddb_server::{Server, ServerConfig, Store, Token};

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
    // Refuse before opening (and perhaps creating) the database.
    config.check()?;
    let db =
        FieldDb::open(&args.db).map_err(|e| format!("cannot open {}: {e}", args.db.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let result = runtime.block_on(serve(config, Arc::new(db)));
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
