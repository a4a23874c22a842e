//! A seeded, deterministic stream of operations for the SIGKILL crash harness.
//!
//! The child process (`fielddb_test_workload crash DIR SEED INDEXES`) applies the stream and
//! reports `ack N` after operation N returns. The parent regenerates the same stream from the
//! same seed, so it knows every acknowledged operation and the one that may have been in flight
//! when it killed the child, without the child having to describe them.

use std::collections::{BTreeMap, BTreeSet};

use fielddb::{Batch, FieldDb, IndexSpec, Record};

pub use crate::rng::Rng;

/// The keys the workload touches.
pub const KEYS: u64 = 2_000;
/// The indexes it may create and drop, by name: one per field and the compound `a,b`.
pub const INDEXES: [&str; 4] = ["a", "b", "c", "a,b"];

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Put(String, Record),
    Delete(String),
    /// Puts (`Some`) and deletes (`None`), applied atomically in order.
    Batch(Vec<(String, Option<Record>)>),
    CreateIndex(String),
    DropIndex(String),
}

/// The state the workload believes the database is in: records and active indexes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    pub records: BTreeMap<String, Record>,
    pub indexes: BTreeSet<String>,
}

impl Model {
    pub fn apply(&mut self, op: &Op) {
        match op {
            Op::Put(k, r) => {
                self.records.insert(k.clone(), r.clone());
            }
            Op::Delete(k) => {
                self.records.remove(k);
            }
            Op::Batch(ops) => {
                for (k, r) in ops {
                    match r {
                        Some(r) => self.records.insert(k.clone(), r.clone()),
                        None => self.records.remove(k),
                    };
                }
            }
            Op::CreateIndex(f) => {
                self.indexes.insert(f.clone());
            }
            Op::DropIndex(f) => {
                self.indexes.remove(f);
            }
        }
    }
}

/// Generates the operations of one run.
pub struct Workload {
    rng: Rng,
    indexes: BTreeSet<String>,
}

fn key(rng: &mut Rng) -> String {
    format!("k{:04}", rng.below(KEYS))
}

fn record(rng: &mut Rng) -> Record {
    let mut r = Record::new();
    if rng.below(10) > 0 {
        r.push("a", rng.below(100) as i64);
    }
    if rng.below(10) > 0 {
        r.push("b", format!("v{}", rng.below(50)));
    }
    if rng.below(2) > 0 {
        r.push("c", rng.below(1000) as f64 / 8.0);
    }
    r.push("pad", "x".repeat(rng.below(64) as usize));
    r
}

impl Workload {
    /// `indexes`: the indexes active (building or ready) when the run starts.
    pub fn new(seed: u64, indexes: BTreeSet<String>) -> Self {
        Workload {
            rng: Rng::new(seed),
            indexes,
        }
    }

    pub fn next_op(&mut self) -> Op {
        let rng = &mut self.rng;
        match rng.below(100) {
            0..=49 => Op::Put(key(rng), record(rng)),
            50..=64 => Op::Delete(key(rng)),
            65..=89 => {
                let n = 2 + rng.below(5);
                Op::Batch(
                    (0..n)
                        .map(|_| {
                            let k = key(rng);
                            let r = (rng.below(4) > 0).then(|| record(rng));
                            (k, r)
                        })
                        .collect(),
                )
            }
            n => {
                let field = INDEXES[(n as usize) % INDEXES.len()].to_string();
                if self.indexes.remove(&field) {
                    Op::DropIndex(field)
                } else {
                    self.indexes.insert(field.clone());
                    Op::CreateIndex(field)
                }
            }
        }
    }
}

/// Applies one operation to the database.
pub fn execute(db: &FieldDb, op: &Op) -> fielddb::Result<()> {
    match op {
        Op::Put(k, r) => db.put(k, r.clone()),
        Op::Delete(k) => db.delete(k).map(drop),
        Op::Batch(ops) => {
            let mut batch = Batch::new();
            for (k, r) in ops {
                match r {
                    Some(r) => batch.put(k, r.clone()),
                    None => batch.delete(k),
                };
            }
            db.write_batch(batch)
        }
        // The indexes on `b` and on `a,b` keep per-value counts, so crashes are checked
        // against them too.
        Op::CreateIndex(f) if f == "b" => db.create_index(IndexSpec::on("b").counted()).map(drop),
        Op::CreateIndex(f) if f == "a,b" => db
            .create_index(IndexSpec::on_fields(["a", "b"]).counted())
            .map(drop),
        Op::CreateIndex(f) => db.create_index_on_field(f.as_str()).map(drop),
        Op::DropIndex(f) => db.drop_index(f),
    }
}

/// The indexes that are building or ready, as the workload counts them.
pub fn active_indexes(db: &FieldDb) -> BTreeSet<String> {
    db.indexes()
        .into_iter()
        .filter(|i| i.state != fielddb::IndexState::Dropping)
        .map(|i| i.field)
        .collect()
}
