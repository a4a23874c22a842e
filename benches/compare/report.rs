//! The results of a run and their presentation: parsing each engine process's result lines,
//! the machine description, the markdown table with FieldDB/peer ratios, the issue-6 goals
//! checked against the figures, and splicing the section into `docs/benchmarks.md`.
//! The chart is drawn by `chart.rs` from the same rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::workload::{Result, BUILDS, QUERIES, WRITER_PACE};

pub const BEGIN: &str = "<!-- compare:begin -->";
pub const END: &str = "<!-- compare:end -->";

/// The engines, in column order; the first is FieldDB, the others its peers.
pub const ENGINES: [(&str, &str); 4] = [
    ("fielddb", "FieldDB"),
    ("rocksdb", "RocksDB (by hand)"),
    ("sqlite", "SQLite"),
    ("native_db", "native_db"),
];

pub fn display_name(engine: &str) -> &str {
    ENGINES
        .iter()
        .find(|(id, _)| *id == engine)
        .map_or(engine, |(_, name)| *name)
}

/// The engines' results at one size.
pub struct SizeRun {
    pub records: usize,
    /// Loaded, then compacted into files before the reads (`workload::Config::large`).
    pub large: bool,
    pub results: BTreeMap<String, EngineResult>,
    pub took: Duration,
}

/// The chart of one size's ratios, next to `benchmarks.md`.
pub fn chart_file(large: bool) -> &'static str {
    if large {
        "benchmarks-large.png"
    } else {
        "benchmarks.png"
    }
}

/// What one engine's process reported.
#[derive(Debug, Default, Clone)]
pub struct EngineResult {
    pub metrics: BTreeMap<String, f64>,
    pub notes: BTreeMap<String, String>,
    pub checks: BTreeMap<String, u64>,
    pub wall: Duration,
}

impl EngineResult {
    /// Reads the `M`, `N` and `C` lines of `workload::Emitter`.
    pub fn parse(stdout: &str) -> Result<EngineResult> {
        let mut r = EngineResult::default();
        for line in stdout.lines() {
            let mut parts = line.splitn(3, ' ');
            let (Some(kind), Some(key), Some(value)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            match kind {
                "M" => {
                    r.metrics.insert(key.to_owned(), value.parse()?);
                }
                "N" => {
                    r.notes.insert(key.to_owned(), value.to_owned());
                }
                "C" => {
                    r.checks.insert(key.to_owned(), value.parse()?);
                }
                _ => {}
            }
        }
        Ok(r)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    /// Operations per second: higher is better.
    PerSec,
    /// Seconds: lower is better.
    Secs,
    /// Microseconds: lower is better.
    Micros,
    /// KiB of memory: lower is better.
    Kib,
}

impl Unit {
    pub fn higher_is_better(self) -> bool {
        self == Unit::PerSec
    }
}

/// One row of the table.
pub struct Row {
    pub key: &'static str,
    pub label: String,
    pub unit: Unit,
}

pub fn rows(results: &BTreeMap<String, EngineResult>) -> Vec<Row> {
    let avg = |key: &str| {
        results
            .get("fielddb")
            .or_else(|| results.values().next())
            .and_then(|r| r.metrics.get(key).copied())
            .unwrap_or(0.0)
    };
    let row = |key, label: &str, unit| Row {
        key,
        label: label.to_owned(),
        unit,
    };
    vec![
        row(
            "load0_single",
            "load, no index, 1 record per write (rec/s)",
            Unit::PerSec,
        ),
        row(
            "load0_batch",
            "load, no index, 1,000 per batch (rec/s)",
            Unit::PerSec,
        ),
        row(
            "load1_single",
            "load, 1 index, 1 record per write (rec/s)",
            Unit::PerSec,
        ),
        row(
            "load1_batch",
            "load, 1 index, 1,000 per batch (rec/s)",
            Unit::PerSec,
        ),
        row(
            "load3_single",
            "load, 3 indexes, 1 record per write (rec/s)",
            Unit::PerSec,
        ),
        row(
            "load3_batch",
            "load, 3 indexes, 1,000 per batch (rec/s)",
            Unit::PerSec,
        ),
        row("get", "point get (gets/s)", Unit::PerSec),
        Row {
            key: "eq_query",
            label: format!(
                "equality query, {:.0} records each (queries/s)",
                avg("eq_rows")
            ),
            unit: Unit::PerSec,
        },
        row("eq_count", "equality count (counts/s)", Unit::PerSec),
        Row {
            key: "range_query",
            label: format!(
                "range query, {:.0} records each (queries/s)",
                avg("range_rows")
            ),
            unit: Unit::PerSec,
        },
        Row {
            key: "eq_fields_query",
            label: format!(
                "equality query asking for 2 of 5 fields, {:.0} records each (queries/s)",
                avg("eq_fields_rows")
            ),
            unit: Unit::PerSec,
        },
        Row {
            key: "eq_cover_query",
            label: format!(
                "the same through a covering index, {:.0} records each (queries/s)",
                avg("eq_cover_rows")
            ),
            unit: Unit::PerSec,
        },
        Row {
            key: "eq2_query",
            label: format!(
                "two equalities (city, age) via a compound index, {:.1} records each (queries/s)",
                avg("eq2_rows")
            ),
            unit: Unit::PerSec,
        },
        Row {
            key: "build_quiet",
            label: format!("index build over all records, median of {BUILDS} (s)"),
            unit: Unit::Secs,
        },
        row("build_busy", "index build, writer running (s)", Unit::Secs),
        row("lat_base_p50", "write p50, no build", Unit::Micros),
        row("lat_base_p99", "write p99, no build", Unit::Micros),
        row("lat_base_max", "write max, no build", Unit::Micros),
        row("lat_build_p50", "write p50 during the build", Unit::Micros),
        row("lat_build_p99", "write p99 during the build", Unit::Micros),
        row(
            "lat_build_max",
            "write max during the build (longest stall)",
            Unit::Micros,
        ),
        row("mix1", "concurrent mix, 1 thread (ops/s)", Unit::PerSec),
        row("mix2", "concurrent mix, 2 threads (ops/s)", Unit::PerSec),
        row("mix4", "concurrent mix, 4 threads (ops/s)", Unit::PerSec),
        row("rss", "peak RSS of the process", Unit::Kib),
        row(
            "disk",
            "disk size at the end, compacted (N records, 5 indexes; native_db 3)",
            Unit::Kib,
        ),
    ]
}

/// FieldDB's advantage over `peer` on a row: > 1 means FieldDB is better.
pub fn ratio(row: &Row, fielddb: f64, peer: f64) -> Option<f64> {
    if !(fielddb > 0.0 && peer > 0.0) {
        return None;
    }
    Some(if row.unit.higher_is_better() {
        fielddb / peer
    } else {
        peer / fielddb
    })
}

pub fn value(results: &BTreeMap<String, EngineResult>, engine: &str, key: &str) -> Option<f64> {
    results.get(engine)?.metrics.get(key).copied()
}

fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn format_value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::PerSec => thousands(v.round() as u64),
        Unit::Secs if v < 0.1 => format!("{:.1} ms", v * 1000.0),
        Unit::Secs => format!("{v:.2} s"),
        Unit::Micros if v >= 10_000.0 => format!("{:.0} ms", v / 1000.0),
        Unit::Micros if v >= 1_000.0 => format!("{:.1} ms", v / 1000.0),
        Unit::Micros => format!("{v:.0} µs"),
        Unit::Kib => format!("{:.0} MiB", v / 1024.0),
    }
}

fn format_ratio(r: Option<f64>) -> String {
    match r {
        Some(r) if r >= 10.0 => format!("{r:.0}×"),
        Some(r) => format!("{r:.2}×"),
        None => "N/A".into(),
    }
}

/// Where and on what the run happened.
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub disk: String,
    pub load_before: String,
    pub load_after: String,
    pub date: String,
    pub commit: String,
    pub rustc: String,
}

impl Machine {
    pub fn describe(dir: &Path, load_before: String) -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|m| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let manifest = env!("CARGO_MANIFEST_DIR");
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .current_dir(manifest)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        };
        let commit = match git(&["rev-parse", "--short", "HEAD"]) {
            Some(hash) => {
                let dirty =
                    git(&["status", "--porcelain", "--", "fielddb"]).is_some_and(|s| !s.is_empty());
                if dirty {
                    format!("{hash} with uncommitted changes in fielddb/")
                } else {
                    hash
                }
            }
            None => "unknown".into(),
        };
        let rustc = std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        Machine {
            cpu,
            cores,
            disk: disk_of(dir),
            load_before,
            load_after: String::new(),
            date: utc_now(),
            commit,
            rustc,
        }
    }
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The filesystem and device holding `dir`, from `/proc/self/mountinfo`.
fn disk_of(dir: &Path) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return "unknown".into();
    };
    let mut best: Option<(usize, String, String)> = None;
    for line in info.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(mount), Some(fstype), Some(source)) =
            (fields.get(4), fields.get(sep + 1), fields.get(sep + 2))
        else {
            continue;
        };
        if dir.starts_with(mount) && best.as_ref().is_none_or(|b| mount.len() >= b.0) {
            best = Some((mount.len(), fstype.to_string(), source.to_string()));
        }
    }
    let Some((_, fstype, source)) = best else {
        return "unknown".into();
    };
    let device = source.trim_start_matches("/dev/");
    let rotational = std::fs::read_to_string(format!("/sys/block/{device}/queue/rotational"))
        .ok()
        .map(|r| match r.trim() {
            "0" => ", non-rotational",
            _ => ", rotational",
        })
        .unwrap_or_default();
    format!("{fstype} on {source}{rotational}")
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// The whole section between the markers: the machine, then per size its table, footnotes,
/// chart and goals, then how the workload runs.
pub fn render(runs: &[SizeRun], machine: &Machine, total: Duration) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## FieldDB against raw RocksDB, SQLite and native_db (`make bench`)\n"
    );
    let sizes: Vec<String> = runs
        .iter()
        .map(|r| {
            format!(
                "N = {} ({:.0} s)",
                thousands(r.records as u64),
                r.took.as_secs_f64()
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "Generated by `cargo bench --bench compare` ([benches/compare/](../benches/compare/main.rs)) \
         on {}, commit {}, {}. **{}**; the whole run (every engine, one after the other, each \
         in its own process) took {:.0} s.\n",
        machine.date,
        machine.commit,
        machine.rustc,
        sizes.join(", "),
        total.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "Machine: {} ({} cores), temp dir on {}; load average {} before the run, {} after.\n",
        machine.cpu, machine.cores, machine.disk, machine.load_before, machine.load_after
    );
    let _ = writeln!(
        s,
        "**Ratios: above 1 means FieldDB is better.** For throughput rows the ratio is FieldDB's \
         rate over the peer's; for times, latencies and memory it is the peer's figure over \
         FieldDB's. N/A: the engine has no such operation (native_db cannot add an index at \
         run time, so it has no build and no latency rows).\n"
    );
    for run in runs {
        s.push_str(&size_section(run));
    }
    s.push_str(&method(runs));
    s
}

/// One size's heading, table, footnotes, chart and goals.
fn size_section(run: &SizeRun) -> String {
    let results = &run.results;
    let mut s = String::new();
    let present: Vec<(&str, &str)> = ENGINES
        .iter()
        .copied()
        .filter(|(id, _)| results.contains_key(*id))
        .collect();
    let peers: Vec<(&str, &str)> = present.iter().copied().skip(1).collect();
    let _ = writeln!(
        s,
        "### N = {} records, {}\n",
        thousands(run.records as u64),
        if run.large {
            "compacted into files before the reads"
        } else {
            "in memtables"
        }
    );
    let mut header = String::from("| workload |");
    let mut rule = String::from("|---|");
    for (_, name) in &present {
        let _ = write!(header, " {name} |");
        rule.push_str("---:|");
    }
    for (_, name) in &peers {
        let _ = write!(
            header,
            " FieldDB/{} |",
            name.split(' ').next().unwrap_or(name)
        );
        rule.push_str("---:|");
    }
    let _ = writeln!(s, "{header}\n{rule}");
    let mut footnotes: Vec<String> = Vec::new();
    for row in rows(results) {
        let mut line = format!("| {} |", row.label);
        for (id, name) in &present {
            match value(results, id, row.key) {
                Some(v) => {
                    let mut cell = format_value(row.unit, v);
                    if let Some(note) = results[*id].notes.get(row.key) {
                        footnotes.push(format!("{name}, {}: {note}.", row.label));
                        let _ = write!(cell, " [{}]", footnotes.len());
                    }
                    let _ = write!(line, " {cell} |");
                }
                None => line.push_str(" N/A |"),
            }
        }
        let fielddb = value(results, "fielddb", row.key);
        for (id, _) in &peers {
            let r = match (fielddb, value(results, id, row.key)) {
                (Some(f), Some(p)) => ratio(&row, f, p),
                _ => None,
            };
            let _ = write!(line, " {} |", format_ratio(r));
        }
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s);
    for (i, note) in footnotes.iter().enumerate() {
        let _ = writeln!(s, "[{}] {note}  ", i + 1);
    }
    if !footnotes.is_empty() {
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "![FieldDB/peer ratios per workload, N = {}]({})\n",
        thousands(run.records as u64),
        chart_file(run.large)
    );
    s.push_str(&goals(results));
    s
}

/// Issue 6's goals, checked against this run's figures.
fn goals(results: &BTreeMap<String, EngineResult>) -> String {
    let all = rows(results);
    let find = |key: &str| all.iter().find(|r| r.key == key);
    let r = |key: &str, peer: &str| -> Option<f64> {
        ratio(
            find(key)?,
            value(results, "fielddb", key)?,
            value(results, peer, key)?,
        )
    };
    let worst = |keys: &[&str], peer: &str| -> (Option<f64>, String) {
        let mut worst: Option<(f64, &str)> = None;
        for key in keys {
            if let Some(v) = r(key, peer) {
                if worst.is_none_or(|(w, _)| v < w) {
                    worst = Some((v, key));
                }
            }
        }
        match worst {
            Some((v, key)) => (
                Some(v),
                format!(
                    "lowest {} ({})",
                    format_ratio(Some(v)),
                    find(key).map_or(key.to_string(), |r| r.label.clone())
                ),
            ),
            None => (None, "not measured".into()),
        }
    };
    let loads = [
        "load0_single",
        "load0_batch",
        "load1_single",
        "load1_batch",
        "load3_single",
        "load3_batch",
    ];
    let indexed = ["load1_single", "load1_batch", "load3_single", "load3_batch"];
    let reads = ["get", "eq_query", "eq_count", "range_query"];
    let met = |v: Option<f64>, min: f64| match v {
        Some(v) if v >= min => "met",
        Some(_) => "**missed**",
        None => "not measured",
    };
    let mut s = String::from("Goals (issues 6 and 15), checked against these figures:\n\n");
    s.push_str("| goal | figure | |\n|---|---|---|\n");
    let (v, text) = worst(&loads, "rocksdb");
    let _ = writeln!(
        s,
        "| every write workload at least 0.9× the hand-written RocksDB floor | {text} | {} |",
        met(v, 0.9)
    );
    let (v, text) = worst(&indexed, "sqlite");
    let _ = writeln!(
        s,
        "| indexed writes, batched and single, at least 5× SQLite | {text} | {} |",
        met(v, 5.0)
    );
    let (v, text) = worst(&reads, "sqlite");
    let _ = writeln!(
        s,
        "| point gets, equality and range queries, counts at least 1× SQLite | {text} | {} |",
        met(v, 1.0)
    );
    for (key, goal, at_least) in [
        (
            "eq2_query",
            "a two-equality query through a compound index at least 1× SQLite with the same index (issue 16)",
            1.0,
        ),
        (
            "eq_fields_query",
            "an equality query asking for 2 of 5 fields at least 1× SQLite (issue 15)",
            1.0,
        ),
        (
            "eq_cover_query",
            "the same through a covering index at least 1.5× SQLite with a covering index (issue 15)",
            1.5,
        ),
        (
            "disk",
            "disk size after compaction no larger than SQLite's file (issue 15)",
            1.0,
        ),
        (
            "mix4",
            "the concurrent mix at 4 threads at least 2× SQLite (issue 15)",
            2.0,
        ),
    ] {
        let v = r(key, "sqlite");
        let _ = writeln!(s, "| {goal} | {} | {} |", format_ratio(v), met(v, at_least));
    }
    let scaling = match (
        value(results, "fielddb", "mix4"),
        value(results, "fielddb", "mix1"),
    ) {
        (Some(four), Some(one)) if one > 0.0 => Some(four / one),
        _ => None,
    };
    let _ = writeln!(
        s,
        "| FieldDB's own mix at 4 threads at least 1.5× its 1-thread figure (issue 15) | {} | {} |",
        format_ratio(scaling),
        met(scaling, 1.5)
    );
    let v = r("build_quiet", "sqlite");
    let _ = writeln!(
        s,
        "| index build no slower than SQLite's CREATE INDEX | {} ({} against {}) | {} |",
        format_ratio(v),
        value(results, "fielddb", "build_quiet").map_or("N/A".into(), |x| format!("{x:.2} s")),
        value(results, "sqlite", "build_quiet").map_or("N/A".into(), |x| format!("{x:.2} s")),
        met(v, 1.0)
    );
    let p99 = value(results, "fielddb", "lat_build_p99");
    let _ = writeln!(
        s,
        "| p99 write latency during a build at most 5 ms | {} | {} |\n",
        p99.map_or("N/A".into(), |v| format_value(Unit::Micros, v)),
        match p99 {
            Some(v) if v <= 5_000.0 => "met",
            Some(_) => "**missed**",
            None => "not measured",
        }
    );
    s
}

/// How the workload runs, for readers of the table.
fn method(runs: &[SizeRun]) -> String {
    let eq_rows = runs
        .first()
        .and_then(|r| value(&r.results, "fielddb", "eq_rows"))
        .unwrap_or(0.0);
    format!(
        "How it runs (details at the top of each file in `benches/compare/`):\n\n\
         - Records: a random 16-hex-digit key and 5 fields (`name` string, `city` one of N/200 \
         strings (at least 1,000), `score` int uniform in 0..10N, `age` int 0..99, `balance` float), about 48 bytes \
         in FieldDB's encoding (record version 3, fields named by dictionary ids; 71 in version 2, 118 in version 1) and 47 in the hand-written \
         floor's fixed layout. Every engine gets the same records from the same seeds.\n\
         - Sizes: at the first, the records sit in RocksDB's memtables (and SQLite's page \
         cache) through the reads. At the second, ten times larger, every load but the kept \
         3-index batched one stops after 5 s and reports its rate so far (a footnote says how \
         many records it wrote), and the kept database is settled as in the disk-size row \
         below before the reads, so that they come from files through the 64 MiB caches; \
         native_db runs at the first size only (its loads alone would take minutes).\n\
         - Loads: a fresh database per row, indexes created before the first record (1 index: \
         `city`; 3: `city`, `score`, `name`). FieldDB's index on `city` is counted \
         (`IndexSpec::counted`: a per-value count kept in each write's batch), and the RocksDB \
         floor keeps the same counts by hand (merge operands), so their equality counts are one \
         read; SQLite and native_db count by walking their index. The 3-index batched database \
         then serves the reads: N or 100,000 (the fewer) point gets of random keys, {q} equality queries on `city` returning \
         the records ({eq_rows:.0} each at the first size), the same {q} as counts, the same {q} \
         asking for 2 of the 5 fields (`score`, `name`; FieldDB `QueryOptions::fields`, SQLite \
         `SELECT key, score, name`), then again through a covering index (FieldDB: the index on \
         `city` rebuilt with `include([\"score\", \"name\"])`, answering from its entries alone; \
         SQLite: an index on (`city`, `score`, `name`, `key`)), after which the plain index is \
         back; {q} range \
         queries on `score` returning about 100 records each; then a compound index on (`city`, \
         `age`) is built, {q} queries ask for one city and one age (FieldDB: `query` with two \
         `Filter::eq`; SQLite: `WHERE city = ? AND age = ?`; the RocksDB floor and native_db \
         have no compound indexes), and the index is dropped again.\n\
         - Index build: an index on `age` over the N records, nothing else running, built \
         {builds} times (each build but the last dropped again; the row is the median) \
         (FieldDB: `create_index(..).wait()`, a background build by ingestion: the records \
         walked from a snapshot on one thread per core, the entries sorted into table files \
         that join the `index` column family, then the keys written meanwhile re-indexed \
         while writers go on; RocksDB by hand: a chunked walk of `kv` writing entries through \
         the memtable; SQLite: `CREATE INDEX`). Then a writer \
         thread overwrites random keys (3 indexes maintained), sleeping {pace} µs after each \
         write: once for 2 s with no build, once while an index on `balance` is built. The \
         latency rows count the writes that overlapped the build; SQLite's writer runs on a \
         second connection with a busy timeout, so its max is the longest stall \
         `CREATE INDEX` caused.\n\
         - Durability: FieldDB `sync_writes(false)`, RocksDB default `WriteOptions` (no sync), \
         SQLite WAL with `synchronous=NORMAL`: a write survives a crash of the process, not a \
         power loss. native_db has no durability setting: each commit fsyncs (redb \
         `Durability::Immediate`), so its one-record-per-write loads run for 2 s only.\n\
         - Caches: 64 MiB each (FieldDB's and RocksDB's block cache, SQLite `cache_size`, \
         redb's cache). Peak RSS is `VmHWM` of each engine's process at its end, the N \
         records held in memory by the harness included.\n\
         - Concurrent mix (FieldDB, the floor and SQLite): 1, 2 and 4 threads for 2 s each (0.2 s in the smoke run), every \
         thread with its own handle (SQLite: its own connection, WAL, a busy timeout; one \
         writer at a time is SQLite's rule), each operation 45% a point get, 45% an equality \
         query on `city` returning the records, 10% an indexed put of a random record at a \
         random existing key. It runs last, after the latency runs, since its puts change \
         records by however many each engine manages; ops/s over all threads.\n\
         - Disk size: every file under the 3-index database's directory at the end of the run \
         (its N records, overwritten by the writers, and the indexes built on `age` and \
         `balance`: 5 in all, native_db's 3), after settling it: FieldDB `compact()`, RocksDB \
         flush and full compaction, SQLite `PRAGMA wal_checkpoint(TRUNCATE)`, native_db as \
         it is.\n\
         - Answers are cross-checked: every engine must return the same rows per query \
         (count and a hash of keys and scores), the same counts and the same gets, or the run \
         fails. `cargo test` runs the same harness at 2,000 and 20,000 records as that check.\n\n\
         Re-run: `make bench`, or `cargo bench --bench compare -- --records 50000 --one-size \
         --engines fielddb,rocksdb --no-write` to print a quicker partial table (one size) \
         without touching the docs.\n",
        q = thousands(QUERIES as u64),
        pace = WRITER_PACE.as_micros(),
        builds = BUILDS,
    )
}

/// Replaces the text between the markers in `path` (adding the markers after the title if
/// the file has none), leaving the rest of the file as it is.
pub fn splice(path: &Path, section: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let block = format!("{BEGIN}\n{section}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{block}{}", &old[..b], &old[e + END.len()..])
        }
        _ => {
            let after_title = old
                .find('\n')
                .filter(|_| old.starts_with("# "))
                .map_or(0, |i| i + 1);
            format!(
                "{}\n{block}\n\n{}",
                &old[..after_title],
                old[after_title..].trim_start_matches('\n')
            )
        }
    };
    std::fs::write(path, new)?;
    Ok(())
}
