//! The comparison benchmark: the same workload through FieldDB, raw RocksDB doing FieldDB's
//! work by hand, SQLite and native_db, one engine per child process (so each has its own peak
//! RSS), answers cross-checked, and a table of FieldDB/peer ratios.
//!
//! - `cargo bench --bench compare [-- --records N]` (cargo passes `--bench`): the full run,
//!   at two sizes, N = 200,000 by default (the records stay in memtables) and 10 × N (loaded,
//!   then compacted into files before the reads; native_db, whose loads alone would take
//!   minutes there, runs at the first size only); `--one-size` runs N only. Writes the section
//!   between the markers in `docs/benchmarks.md`, `docs/benchmarks.png` (first size) and
//!   `docs/benchmarks-large.png`. `--one-size --large` runs N alone as the large size.
//! - `cargo test --bench compare` (no `--bench`): the smoke run, N = 2,000 and 20,000, output in
//!   a temp dir only; it fails if any two engines answered a query, count or get differently.
//! - `--engines fielddb,rocksdb` runs only those engines and `--no-write` leaves the docs
//!   alone: quick partial runs while tuning. `--engine NAME --dir DIR` is the child mode.
//!
//! Files: `workload.rs` (records, phases, the `Engine` trait), `engine_*.rs` (one per engine),
//! `report.rs` (table, machine, goals, docs), `chart.rs` (the PNG).

mod chart;
mod engine_fielddb;
mod engine_native_db;
mod engine_rocksdb;
mod engine_sqlite;
mod report;
mod workload;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use report::{EngineResult, Machine, SizeRun, ENGINES};
use workload::{Config, Emitter, Result};

struct Args {
    full: bool,
    records: Option<usize>,
    engine: Option<String>,
    engines: Vec<String>,
    dir: Option<PathBuf>,
    no_write: bool,
    /// Child mode: this is the large size.
    large: bool,
    one_size: bool,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        full: false,
        records: None,
        engine: None,
        engines: ENGINES.iter().map(|(id, _)| id.to_string()).collect(),
        dir: None,
        no_write: false,
        large: false,
        one_size: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--bench" | "--full" => args.full = true,
            "--records" => args.records = Some(value()?.replace('_', "").parse()?),
            "--engine" => args.engine = Some(value()?),
            "--engines" => args.engines = value()?.split(',').map(str::to_owned).collect(),
            "--dir" => args.dir = Some(PathBuf::from(value()?)),
            "--no-write" => args.no_write = true,
            "--large" => args.large = true,
            "--one-size" => args.one_size = true,
            // Flags cargo or a test runner may pass; nothing to do with them.
            _ if arg.starts_with("--") => {}
            _ => {}
        }
    }
    for e in &args.engines {
        if !ENGINES.iter().any(|(id, _)| id == e) {
            return Err(format!(
                "unknown engine {e}; engines: fielddb, rocksdb, sqlite, native_db"
            )
            .into());
        }
    }
    Ok(args)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("compare: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = parse_args()?;
    let records = args
        .records
        .unwrap_or(if args.full { 200_000 } else { 2_000 });
    if let Some(engine) = &args.engine {
        let dir = args.dir.clone().ok_or("--engine needs --dir")?;
        return child(engine, records, &args, &dir);
    }
    // `--large` with `--one-size`: that one size as the large one (a quicker partial run).
    let mut sizes = vec![(records, args.large)];
    if !args.one_size {
        sizes.push((records * 10, true));
    }
    parent(&args, &sizes)
}

/// Child mode: one engine, results as lines on stdout.
fn child(engine: &str, records: usize, args: &Args, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let cfg = Config {
        records,
        full: args.full,
        large: args.large,
        dir: dir.to_path_buf(),
    };
    let out = Emitter;
    let label = report::display_name(engine);
    match engine {
        "fielddb" => workload::run::<engine_fielddb::FieldDbEngine>(label, &cfg, &out)?,
        "rocksdb" => workload::run::<engine_rocksdb::RocksDbEngine>(label, &cfg, &out)?,
        "sqlite" => workload::run::<engine_sqlite::SqliteEngine>(label, &cfg, &out)?,
        "native_db" => workload::run::<engine_native_db::NativeDbEngine>(label, &cfg, &out)?,
        other => return Err(format!("unknown engine {other}").into()),
    }
    if let Some(kib) = workload::peak_rss_kib() {
        out.metric("rss", kib as f64);
    }
    Ok(())
}

/// Parent mode: each size in turn, each engine in its own process, one after the other, then
/// the report.
fn parent(args: &Args, sizes: &[(usize, bool)]) -> Result<()> {
    let started = Instant::now();
    let load_before = report::load_average();
    let tmp = tempfile::Builder::new()
        .prefix("fielddb-compare")
        .tempdir()?;
    let exe = std::env::current_exe()?;
    let mode = if args.full { "full" } else { "smoke" };
    let mut runs = Vec::new();
    for &(records, large) in sizes {
        let size_started = Instant::now();
        // native_db's loads at the large size would take minutes; it runs at the first only.
        let engines: Vec<&str> = ENGINES
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| args.engines.iter().any(|e| e == id))
            .filter(|id| !(large && *id == "native_db"))
            .collect();
        eprintln!(
            "compare ({mode}): {records} records{}, engines {}, in {}",
            if large {
                ", compacted before the reads"
            } else {
                ""
            },
            engines.join(", "),
            tmp.path().display()
        );
        let mut results: BTreeMap<String, EngineResult> = BTreeMap::new();
        for id in engines {
            let start = Instant::now();
            let mut cmd = Command::new(&exe);
            cmd.args(["--engine", id, "--records", &records.to_string(), "--dir"])
                .arg(tmp.path().join(id))
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            if args.full {
                cmd.arg("--full");
            }
            if large {
                cmd.arg("--large");
            }
            let output = cmd.output()?;
            if !output.status.success() {
                return Err(format!("the {id} run failed ({})", output.status).into());
            }
            let mut result = EngineResult::parse(&String::from_utf8_lossy(&output.stdout))?;
            result.wall = start.elapsed();
            eprintln!(
                "  {:<10} done in {:.1} s",
                report::display_name(id),
                result.wall.as_secs_f64()
            );
            std::fs::remove_dir_all(tmp.path().join(id)).ok();
            results.insert(id.to_string(), result);
        }
        cross_check(&results)?;
        runs.push(SizeRun {
            records,
            large,
            results,
            took: size_started.elapsed(),
        });
    }

    let mut machine = Machine::describe(tmp.path(), load_before);
    machine.load_after = report::load_average();
    let total = started.elapsed();
    let section = report::render(&runs, &machine, total);
    println!("{section}");

    let all_engines = args.engines.len() == ENGINES.len();
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let out = if args.full && all_engines && !args.no_write {
        docs
    } else {
        // The smoke run still renders everything, to a temp dir, so the code stays working.
        std::fs::write(tmp.path().join("benchmarks.md"), "# Benchmarks\n")?;
        tmp.path().to_path_buf()
    };
    report::splice(&out.join("benchmarks.md"), &section)?;
    for run in &runs {
        chart::draw(&out.join(report::chart_file(run.large)), &run.results)?;
    }
    if out == tmp.path() {
        eprintln!("docs left alone (smoke run, partial run or --no-write)");
    } else {
        eprintln!("wrote docs/benchmarks.md (between the compare markers) and its charts");
    }
    eprintln!(
        "compare ({mode}) took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Every engine that answered a check must have given the same answer as the others.
fn cross_check(results: &BTreeMap<String, EngineResult>) -> Result<()> {
    let mut keys: Vec<&String> = results.values().flat_map(|r| r.checks.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut problems = Vec::new();
    for key in keys {
        let answers: Vec<(&String, u64)> = results
            .iter()
            .filter_map(|(engine, r)| r.checks.get(key).map(|v| (engine, *v)))
            .collect();
        if answers.windows(2).any(|w| w[0].1 != w[1].1) {
            problems.push(format!("{key}: {answers:?}"));
        }
    }
    let checked = results.values().map(|r| r.checks.len()).sum::<usize>();
    if problems.is_empty() {
        eprintln!("cross-check: {checked} answers, every engine agrees");
        Ok(())
    } else {
        Err(format!("engines disagree:\n  {}", problems.join("\n  ")).into())
    }
}
