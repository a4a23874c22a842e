//! The workload every engine runs, and the `Engine` trait it runs through.
//!
//! Owns: the records (generated from fixed seeds, so every engine sees the same data), the
//! order of the phases and their sizes, the timing, and the digests of the answers that the
//! parent process compares across engines. It does not know any engine: each one lives in its
//! own `engine_*.rs` behind [`Engine`].
//!
//! A record is a random 16-hex-digit key and five fields of about 45 bytes of values:
//!
//! | field     | type   | values                                   | role                          |
//! |-----------|--------|------------------------------------------|-------------------------------|
//! | `name`    | string | `user-` + 8 random hex digits            | third index of the 3-index load |
//! | `city`    | string | `city-000` .. (N / 200, at least 1,000 values) | equality: ~200 records (0.1% at N = 200,000) |
//! | `score`   | int    | uniform in `0 .. 10 * N`                 | range of width 1,000: ~100 records |
//! | `age`     | int    | uniform in `0 .. 100`                    | the index built over N records  |
//! | `balance` | float  | uniform cents in `0 .. 10,000.00`        | the index built while writing   |
//!
//! FieldDB encodes such a record in about 48 bytes (record version 3: 2 bytes of header, 5 x 2
//! of name ids and tags, 2 string lengths, 13 + 8 of strings, 3-4 + 1-2 of varint ints, 8 of
//! float; 71 bytes in version 2, which writes out the 23 bytes of names and their lengths, and
//! 118 in version 1, with u32 lengths and 8-byte ints). Phases, in order, each engine in its own
//! process:
//!
//! 1. load N records into a fresh database with 0, 1 (`city`) and 3 (`city`, `score`, `name`)
//!    indexes created up front, once one record per write and once 1,000 per batch; the
//!    batched 3-index database is kept for the next phases. At the large size
//!    (`Config::large`) every load but the kept one stops after a time budget and reports the
//!    rate so far, and the kept database is compacted (`Engine::compact`) before the reads, so
//!    that they come from files rather than memtables;
//! 2. point gets of random existing keys; equality queries on `city` returning the records;
//!    the same as counts; range queries on `score` returning about 100 records;
//! 3. building an index on `age` over the N records with nothing else running, `BUILDS`
//!    times (each build but the last dropped again): the row is the median;
//! 4. a paced writer (one overwrite of a random existing key, then a 100 µs sleep) for a fixed
//!    time with no build, then the same writer while an index on `balance` is built: latency of
//!    each write, p50 / p99 / max.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fielddb_suite::rng::Rng;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

/// Distinct values of `city` in a database of `n` records: an equality query matches about
/// 200 records at every size from 200,000 up (1/1000 of the records below it).
pub fn cities(n: usize) -> u64 {
    (n as u64 / 200).max(1_000)
}
/// Width of a `score` range query; scores are uniform in `0 .. 10 * N`, so ~100 records match.
pub const RANGE_WIDTH: i64 = 1_000;
/// Records per batch in the batched loads.
pub const BATCH: usize = 1_000;
/// Queries of each kind (equality, count, range).
pub const QUERIES: usize = 1_000;
/// Builds of the quiet index build; the row is their median.
pub const BUILDS: usize = 5;
/// Sleep between two writes of the latency writer.
pub const WRITER_PACE: Duration = Duration::from_micros(100);

/// The fields of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    City,
    Score,
    Age,
    Balance,
}

impl Field {
    /// Whether FieldDB's index on this field keeps per-value counts (`IndexSpec::counted`), as
    /// the RocksDB floor then does by hand: `city`, the field the equality counts ask about.
    pub fn counted(self) -> bool {
        self == Field::City
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::City => "city",
            Field::Score => "score",
            Field::Age => "age",
            Field::Balance => "balance",
        }
    }
}

/// The indexes of the three loads.
pub const INDEX_SETS: [(&str, &[Field]); 3] = [
    ("load0", &[]),
    ("load1", &[Field::City]),
    ("load3", &[Field::City, Field::Score, Field::Name]),
];

/// One record as the application holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    pub key: String,
    pub name: String,
    pub city: String,
    pub score: i64,
    pub age: i64,
    pub balance: f64,
}

impl Rec {
    /// A record with random fields at `key`, for a database of `n` records.
    pub fn random(rng: &mut Rng, key: String, n: usize) -> Rec {
        Rec {
            key,
            name: format!("user-{:08x}", rng.next_u64() as u32),
            city: city(rng.below(cities(n))),
            score: rng.below(10 * n as u64) as i64,
            age: rng.below(100) as i64,
            balance: rng.below(1_000_000) as f64 / 100.0,
        }
    }
}

pub fn city(i: u64) -> String {
    format!("city-{i:03}")
}

/// A value to look up.
#[derive(Debug, Clone)]
pub enum Val {
    Str(String),
    Int(i64),
}

/// The digest of one answer: how many rows, and an order-independent hash of their keys and
/// scores (engines return rows in different orders).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Answer {
    pub rows: u64,
    pub sum: u64,
}

impl Answer {
    pub fn add(&mut self, key: &[u8], score: i64) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(row_hash(key, score));
    }
}

/// FNV-1a over the key, mixed with the score.
pub fn row_hash(key: &[u8], score: i64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (score as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A writer usable from another thread (its own connection or a clone of the handle).
pub type Writer = Box<dyn FnMut(&Rec) -> Result<()> + Send>;

/// One operation of the concurrent mix.
pub enum MixOp<'a> {
    Get(&'a str),
    QueryCity(&'a Val),
    Put(&'a Rec),
}

/// A handle of its own on the engine's database for one thread of the concurrent mix (SQLite:
/// its own connection): runs an operation and returns the rows it read.
pub type Mixer = Box<dyn FnMut(MixOp<'_>) -> Result<u64> + Send>;

/// Runs `op` on `engine` with its own methods: what a mixer does with its handle.
pub fn mix_op<E: Engine>(engine: &E, op: MixOp<'_>) -> Result<u64> {
    Ok(match op {
        MixOp::Get(key) => u64::from(engine.get(key)?.is_some()),
        MixOp::QueryCity(city) => engine.query_eq(Field::City, city)?.rows,
        MixOp::Put(rec) => {
            engine.put(rec)?;
            0
        }
    })
}

/// One engine, doing the workload's operations its own way.
pub trait Engine: Sized {
    /// Opens a fresh database in `dir` with indexes on `indexed`, created before any record.
    fn open(dir: &Path, indexed: &[Field]) -> Result<Self>;
    /// How long the one-record-per-write loads may run before they stop and report the rate
    /// of the records written so far (`None`: all N records).
    fn single_write_budget(_full: bool) -> Option<Duration> {
        None
    }
    /// Stores a record (replacing any at its key) with its index entries, as one write.
    fn put(&self, rec: &Rec) -> Result<()>;
    /// Stores records atomically, as one write. Keys are distinct within a batch.
    fn put_batch(&self, recs: &[Rec]) -> Result<()>;
    /// The row hash of the record at `key`, if any.
    fn get(&self, key: &str) -> Result<Option<u64>>;
    /// The records whose `field` equals `value`, fetched whole.
    fn query_eq(&self, field: Field, value: &Val) -> Result<Answer>;
    /// How many records have `field` equal to `value`.
    fn count_eq(&self, field: Field, value: &Val) -> Result<u64>;
    /// The records whose int `field` lies in `lo ..= hi`, fetched whole.
    fn query_range(&self, field: Field, lo: i64, hi: i64) -> Result<Answer>;
    /// Adds an index on `field` over the existing records and returns when it is usable;
    /// `false` when the engine cannot add an index at run time.
    fn build_index(&self, field: Field) -> Result<bool>;
    /// Drops the index on `field` that `build_index` added, and returns when its entries are
    /// gone.
    fn drop_index(&self, field: Field) -> Result<()>;
    /// A writer for another thread, or `None` when the engine takes no part in the latency runs.
    fn writer(&self) -> Result<Option<Writer>>;
    /// Adds a compound index on (`city`, `age`) over the existing records and returns when it
    /// is usable; `false` when the engine has no compound indexes.
    fn build_compound_index(&self) -> Result<bool> {
        Ok(false)
    }
    /// Drops the compound index again.
    fn drop_compound_index(&self) -> Result<()> {
        Ok(())
    }
    /// The records whose `city` and `age` equal these, fetched whole, through the compound
    /// index.
    fn query_two_equalities(&self, _city: &str, _age: i64) -> Result<Answer> {
        Err("no compound index".into())
    }
    /// The `key`, `score` and `name` of the records whose `city` equals `value`: 2 of the 5
    /// fields, from the records (`None` when the engine cannot ask for some fields).
    fn query_eq_two_fields(&self, _value: &Val) -> Result<Option<Answer>> {
        Ok(None)
    }
    /// Makes the index on `city` a covering one holding `score` and `name` (an index on
    /// (`city`, `score`, `name`, `key`) for SQLite); `false` when the engine has none.
    fn build_covering_index(&self) -> Result<bool> {
        Ok(false)
    }
    /// Puts the plain index on `city` back.
    fn drop_covering_index(&self) -> Result<()> {
        Ok(())
    }
    /// A handle for one thread of the concurrent mix, or `None` when the engine takes no part.
    fn mixer(&self) -> Result<Option<Mixer>> {
        Ok(None)
    }
    /// Settles the files on disk as a bulk load would end: memtables flushed and compacted
    /// (FieldDB, RocksDB), the WAL checkpointed into the database file (SQLite); nothing where
    /// the engine has no such step.
    fn compact(&self) -> Result<()> {
        Ok(())
    }
}

/// Sizes and where to work.
pub struct Config {
    pub records: usize,
    /// The full benchmark (longer latency runs and budgets) rather than the smoke run.
    pub full: bool,
    /// The large size: every load but the kept one runs for `load_budget` only, and the kept
    /// database is compacted before the reads.
    pub large: bool,
    pub dir: PathBuf,
}

impl Config {
    /// How long a load that is not the kept one may run at the large size.
    fn load_budget(&self) -> Option<Duration> {
        self.large.then_some(if self.full {
            Duration::from_secs(5)
        } else {
            Duration::from_millis(500)
        })
    }
    fn gets(&self) -> usize {
        self.records.min(100_000)
    }
    fn latency_run(&self) -> Duration {
        if self.full {
            Duration::from_secs(2)
        } else {
            Duration::from_millis(200)
        }
    }
}

/// Results as lines on stdout, read by the parent process (`report::EngineResult::parse`):
/// `M key value` a measurement, `N key text` a note on it, `C key value` an answer digest.
pub struct Emitter;

impl Emitter {
    pub fn metric(&self, key: &str, value: f64) {
        println!("M {key} {value}");
    }
    pub fn note(&self, key: &str, text: &str) {
        println!("N {key} {text}");
    }
    pub fn check(&self, key: &str, value: u64) {
        println!("C {key} {value}");
    }
}

fn progress(engine: &str, what: &str, took: Duration) {
    eprintln!("  {engine:<10} {what:<36} {:>8.3} s", took.as_secs_f64());
}

/// Runs every phase against engine `E` and prints the results.
pub fn run<E: Engine>(label: &str, cfg: &Config, out: &Emitter) -> Result<()> {
    let n = cfg.records;
    let mut rng = Rng::new(0x5eed_0001);
    let records: Vec<Rec> = (0..n)
        .map(|_| {
            let key = format!("{:016x}", rng.next_u64());
            Rec::random(&mut rng, key, n)
        })
        .collect();

    let mut main_db: Option<E> = None;
    let main_dir = cfg
        .dir
        .join(format!("{}-batch", INDEX_SETS[INDEX_SETS.len() - 1].0));
    for (set_no, (set, fields)) in INDEX_SETS.iter().enumerate() {
        let dir = cfg.dir.join(format!("{set}-single"));
        let db = E::open(&dir, fields)?;
        let budget = shorter(E::single_write_budget(cfg.full), cfg.load_budget());
        let start = Instant::now();
        let mut written = 0usize;
        for rec in &records {
            db.put(rec)?;
            written += 1;
            if budget.is_some_and(|b| written.is_multiple_of(16) && start.elapsed() >= b) {
                break;
            }
        }
        let took = start.elapsed();
        progress(label, &format!("{set} one per write ({written})"), took);
        out.metric(
            &format!("{set}_single"),
            written as f64 / took.as_secs_f64(),
        );
        if written < n {
            out.note(
                &format!("{set}_single"),
                &format!(
                    "first {written} of {n} records (stopped after {:.1} s)",
                    took.as_secs_f64()
                ),
            );
        }
        drop(db);
        std::fs::remove_dir_all(&dir)?;

        let dir = cfg.dir.join(format!("{set}-batch"));
        let db = E::open(&dir, fields)?;
        let kept = set_no + 1 == INDEX_SETS.len();
        let budget = if kept { None } else { cfg.load_budget() };
        let start = Instant::now();
        let mut written = 0usize;
        for chunk in records.chunks(BATCH) {
            db.put_batch(chunk)?;
            written += chunk.len();
            if budget.is_some_and(|b| start.elapsed() >= b) {
                break;
            }
        }
        let took = start.elapsed();
        progress(label, &format!("{set} batched ({written})"), took);
        out.metric(&format!("{set}_batch"), written as f64 / took.as_secs_f64());
        if written < n {
            out.note(
                &format!("{set}_batch"),
                &format!(
                    "first {written} of {n} records (stopped after {:.1} s)",
                    took.as_secs_f64()
                ),
            );
        }
        if kept {
            main_db = Some(db);
        } else {
            drop(db);
            std::fs::remove_dir_all(&dir)?;
        }
    }
    let db = main_db.ok_or("no database after the loads")?;
    if cfg.large {
        // The reads below come from files, as they do once a database outgrows its memtables.
        let start = Instant::now();
        db.compact()?;
        progress(label, "compaction before the reads", start.elapsed());
    }

    // Point gets.
    let mut rng = Rng::new(0x5eed_0002);
    let picks: Vec<usize> = (0..cfg.gets())
        .map(|_| rng.below(n as u64) as usize)
        .collect();
    let mut got = Answer::default();
    let start = Instant::now();
    for &i in &picks {
        if let Some(h) = db.get(&records[i].key)? {
            got.rows += 1;
            got.sum = got.sum.wrapping_add(h);
        }
    }
    let took = start.elapsed();
    progress(label, &format!("{} gets", picks.len()), took);
    out.metric("get", picks.len() as f64 / took.as_secs_f64());
    out.check("get_found", got.rows);
    out.check("get_sum", got.sum);

    // Equality queries returning records, then the same as counts.
    let mut rng = Rng::new(0x5eed_0003);
    let city_asks: Vec<Val> = (0..QUERIES)
        .map(|_| Val::Str(city(rng.below(cities(n)))))
        .collect();
    time_queries(label, out, ("equality queries", "eq"), &city_asks, |v| {
        db.query_eq(Field::City, v)
    })?;

    let mut counts = 0u64;
    let start = Instant::now();
    for v in &city_asks {
        counts = counts
            .wrapping_mul(1_000_003)
            .wrapping_add(db.count_eq(Field::City, v)?);
    }
    let took = start.elapsed();
    progress(label, &format!("{QUERIES} equality counts"), took);
    out.metric("eq_count", QUERIES as f64 / took.as_secs_f64());
    out.check("eq_counts", counts);

    // The same equalities asking for 2 of the 5 fields: from the records, then from a
    // covering index (rebuilt as the plain one afterwards, so the writes below maintain the
    // same indexes on every engine).
    if db.query_eq_two_fields(&city_asks[0])?.is_some() {
        let ask = |v: &Val| Ok(db.query_eq_two_fields(v)?.unwrap_or_default());
        time_queries(
            label,
            out,
            ("2-field equality queries", "eq_fields"),
            &city_asks,
            ask,
        )?;
        if db.build_covering_index()? {
            time_queries(
                label,
                out,
                ("2-field equality queries, covering index", "eq_cover"),
                &city_asks,
                ask,
            )?;
            db.drop_covering_index()?;
        }
    }

    // Range queries of about 100 records.
    let mut rng = Rng::new(0x5eed_0004);
    let span = (10 * n as i64 - RANGE_WIDTH).max(1) as u64;
    let lows: Vec<i64> = (0..QUERIES).map(|_| rng.below(span) as i64).collect();
    time_queries(label, out, ("range queries", "range"), &lows, |lo| {
        db.query_range(Field::Score, *lo, lo + RANGE_WIDTH - 1)
    })?;

    // Two equalities through a compound index on (city, age), dropped again so that it does
    // not weigh on the writes below.
    if db.build_compound_index()? {
        let mut rng = Rng::new(0x5eed_0005);
        let asks: Vec<(String, i64)> = (0..QUERIES)
            .map(|_| (city(rng.below(cities(n))), rng.below(100) as i64))
            .collect();
        time_queries(
            label,
            out,
            ("two-equality queries", "eq2"),
            &asks,
            |(c, age)| db.query_two_equalities(c, *age),
        )?;
        db.drop_compound_index()?;
    }
    // An index built over the N records, nothing else running: `BUILDS` builds, each but the
    // last dropped again, and their median.
    let mut builds = Vec::with_capacity(BUILDS);
    for round in 0..BUILDS {
        let start = Instant::now();
        if !db.build_index(Field::Age)? {
            break;
        }
        let took = start.elapsed();
        progress(label, "index build on age", took);
        builds.push(took);
        if round + 1 < BUILDS {
            db.drop_index(Field::Age)?;
        }
    }
    builds.sort();
    if let Some(median) = builds.get(builds.len() / 2) {
        out.metric("build_quiet", median.as_secs_f64());
        out.check("age_42_count", db.count_eq(Field::Age, &Val::Int(42))?);
    }

    // Write latency: no build, then during a build.
    let keys: Arc<Vec<String>> = Arc::new(records.iter().map(|r| r.key.clone()).collect());
    drop(records);
    if let Some(w) = db.writer()? {
        let lat = run_writer(w, &keys, n, 1, || {
            std::thread::sleep(cfg.latency_run());
            Ok(())
        })?;
        let base = summarise(&lat.samples, lat.start, lat.end);
        progress(
            label,
            &format!("writer, no build ({} writes)", base.0),
            lat.end - lat.start,
        );
        emit_latency(out, "lat_base", base);
    }
    if let Some(w) = db.writer()? {
        let mut built = Ok(false);
        let mut window = (Instant::now(), Instant::now());
        let lat = run_writer(w, &keys, n, 2, || {
            std::thread::sleep(Duration::from_millis(20));
            let start = Instant::now();
            built = db.build_index(Field::Balance);
            window = (start, Instant::now());
            std::thread::sleep(Duration::from_millis(20));
            Ok(())
        })?;
        if built? {
            let took = window.1 - window.0;
            progress(label, "index build on balance, writer on", took);
            out.metric("build_busy", took.as_secs_f64());
            let during = summarise(&lat.samples, window.0, window.1);
            emit_latency(out, "lat_build", during);
        }
    }
    // A concurrent mix: 1, 2 and 4 threads, each with its own handle, doing 90% reads (half
    // point gets, half equality queries on `city`) and 10% indexed puts, for a fixed time.
    // Last, since its puts change records by however many each engine manages.
    for threads in [1usize, 2, 4] {
        let mut mixers = Vec::with_capacity(threads);
        for _ in 0..threads {
            match db.mixer()? {
                Some(m) => mixers.push(m),
                None => break,
            }
        }
        if mixers.len() < threads {
            break;
        }
        let (ops, took) = run_mix(mixers, &keys, n, cfg.latency_run())?;
        progress(label, &format!("mix, {threads} threads ({ops} ops)"), took);
        out.metric(&format!("mix{threads}"), ops as f64 / took.as_secs_f64());
    }

    // The bytes on disk at the end: N records and every index built above, compacted.
    db.compact()?;
    out.metric("disk", dir_bytes(&main_dir)? as f64 / 1024.0);
    drop(db);
    Ok(())
}

/// The shorter of two optional budgets.
fn shorter(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Runs each mixer on a thread of its own for `run`; returns the operations done and the time.
fn run_mix(
    mixers: Vec<Mixer>,
    keys: &Arc<Vec<String>>,
    n: usize,
    run: Duration,
) -> Result<(u64, Duration)> {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let handles: Vec<_> = mixers
        .into_iter()
        .enumerate()
        .map(|(t, mut mix)| {
            let (stop, keys) = (Arc::clone(&stop), Arc::clone(keys));
            std::thread::spawn(move || -> Result<u64> {
                let mut rng = Rng::new(0x5eed_0200 + t as u64);
                let mut ops = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let key = &keys[rng.below(keys.len() as u64) as usize];
                    match rng.below(10) {
                        0 => mix(MixOp::Put(&Rec::random(&mut rng, key.clone(), n)))?,
                        1..=4 => mix(MixOp::Get(key))?,
                        _ => mix(MixOp::QueryCity(&Val::Str(city(rng.below(cities(n))))))?,
                    };
                    ops += 1;
                }
                Ok(ops)
            })
        })
        .collect();
    std::thread::sleep(run);
    stop.store(true, Ordering::Release);
    let mut total = 0;
    for handle in handles {
        total += handle.join().map_err(|_| "a mix thread panicked")??;
    }
    Ok((total, start.elapsed()))
}

/// The bytes of the files under `dir`.
fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// Runs `ask` on each of `inputs`, timed, and emits `{key}_query` (queries/s), `{key}_rows`
/// (rows per query) and the checks `{key}_rows_per_query` and `{key}_sum` that every engine
/// must agree on; `what` names the queries in the progress line.
fn time_queries<T>(
    label: &str,
    out: &Emitter,
    (what, key): (&str, &str),
    inputs: &[T],
    mut ask: impl FnMut(&T) -> Result<Answer>,
) -> Result<()> {
    let (mut total, mut per_query) = (Answer::default(), 0u64);
    let start = Instant::now();
    for input in inputs {
        let a = ask(input)?;
        total.rows += a.rows;
        total.sum = total.sum.wrapping_add(a.sum);
        per_query = per_query.wrapping_mul(1_000_003).wrapping_add(a.rows);
    }
    let took = start.elapsed();
    let n = inputs.len();
    progress(label, &format!("{n} {what}"), took);
    out.metric(&format!("{key}_query"), n as f64 / took.as_secs_f64());
    out.metric(&format!("{key}_rows"), total.rows as f64 / n as f64);
    out.check(&format!("{key}_rows_per_query"), per_query);
    out.check(&format!("{key}_sum"), total.sum);
    Ok(())
}

struct Latencies {
    /// (start, latency) of each write.
    samples: Vec<(Instant, Duration)>,
    start: Instant,
    end: Instant,
}

/// Runs a paced writer of overwrites on another thread while `during` runs on this one.
fn run_writer(
    mut put: Writer,
    keys: &Arc<Vec<String>>,
    n: usize,
    seed: u64,
    during: impl FnOnce() -> Result<()>,
) -> Result<Latencies> {
    let stop = Arc::new(AtomicBool::new(false));
    let handle = {
        let (stop, keys) = (Arc::clone(&stop), Arc::clone(keys));
        std::thread::spawn(move || -> Result<Vec<(Instant, Duration)>> {
            let mut rng = Rng::new(0x5eed_0100 + seed);
            let mut samples = Vec::new();
            while !stop.load(Ordering::Acquire) {
                let key = keys[rng.below(keys.len() as u64) as usize].clone();
                let rec = Rec::random(&mut rng, key, n);
                let start = Instant::now();
                put(&rec)?;
                samples.push((start, start.elapsed()));
                std::thread::sleep(WRITER_PACE);
            }
            Ok(samples)
        })
    };
    let start = Instant::now();
    let result = during();
    let end = Instant::now();
    stop.store(true, Ordering::Release);
    let samples = handle.join().map_err(|_| "the writer thread panicked")??;
    result?;
    Ok(Latencies {
        samples,
        start,
        end,
    })
}

/// Writes that overlapped `[from, to]`: (count, p50, p99, max).
fn summarise(
    samples: &[(Instant, Duration)],
    from: Instant,
    to: Instant,
) -> (usize, Duration, Duration, Duration) {
    let mut lat: Vec<Duration> = samples
        .iter()
        .filter(|(start, d)| *start <= to && *start + *d >= from)
        .map(|(_, d)| *d)
        .collect();
    lat.sort();
    let pick = |p: f64| {
        if lat.is_empty() {
            Duration::ZERO
        } else {
            lat[((lat.len() - 1) as f64 * p).round() as usize]
        }
    };
    (
        lat.len(),
        pick(0.5),
        pick(0.99),
        lat.last().copied().unwrap_or_default(),
    )
}

fn emit_latency(
    out: &Emitter,
    key: &str,
    (count, p50, p99, max): (usize, Duration, Duration, Duration),
) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    out.metric(&format!("{key}_n"), count as f64);
    if count == 0 {
        return;
    }
    out.metric(&format!("{key}_p50"), us(p50));
    out.metric(&format!("{key}_p99"), us(p99));
    out.metric(&format!("{key}_max"), us(max));
}

/// Peak resident set size of this process, in KiB (`VmHWM`).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
