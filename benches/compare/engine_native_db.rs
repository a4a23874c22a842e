//! native_db 0.8 (typed records on redb 2) with the secondary keys of each load declared on the
//! model: `Plain` (none), `OneIndex` (`city`), `ThreeIndexes` (`city`, `score`, `name`). A put
//! is an upsert in its own read-write transaction; a batch one transaction.
//!
//! Durability: native_db offers no setting, so every commit is redb's default
//! `Durability::Immediate` (an fsync per commit); that is the least durable setting it offers.
//! One-record-per-write loads are therefore fsync-bound and run for a bounded time
//! (`single_write_budget`), over a database that stays small. native_db declares secondary keys
//! in the type, so it cannot add an index at run time: no build or latency figures. Its
//! secondary-key scans have no keys-only form, so a count fetches and decodes every record;
//! the redb cache is set to 64 MiB, FieldDB's block cache size.

use std::path::Path;
use std::time::Duration;

use native_db::{native_db, Builder, Database, Models, ToInput, ToKey};
use native_model::{native_model, Model};
use serde::{Deserialize, Serialize};

use crate::workload::{row_hash, Answer, Engine, Field, Rec, Result, Val, Writer};

#[derive(Serialize, Deserialize, Debug, Clone)]
#[native_model(id = 1, version = 1)]
#[native_db]
pub struct Plain {
    #[primary_key]
    key: String,
    name: String,
    city: String,
    score: i64,
    age: i64,
    balance: f64,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[native_model(id = 2, version = 1)]
#[native_db]
pub struct OneIndex {
    #[primary_key]
    key: String,
    name: String,
    #[secondary_key]
    city: String,
    score: i64,
    age: i64,
    balance: f64,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[native_model(id = 3, version = 1)]
#[native_db]
pub struct ThreeIndexes {
    #[primary_key]
    key: String,
    #[secondary_key]
    name: String,
    #[secondary_key]
    city: String,
    #[secondary_key]
    score: i64,
    age: i64,
    balance: f64,
}

macro_rules! from_rec {
    ($t:ident) => {
        impl From<&Rec> for $t {
            fn from(r: &Rec) -> Self {
                $t {
                    key: r.key.clone(),
                    name: r.name.clone(),
                    city: r.city.clone(),
                    score: r.score,
                    age: r.age,
                    balance: r.balance,
                }
            }
        }
    };
}
from_rec!(Plain);
from_rec!(OneIndex);
from_rec!(ThreeIndexes);

#[derive(Clone, Copy)]
enum Model3 {
    Plain,
    OneIndex,
    ThreeIndexes,
}

pub struct NativeDbEngine {
    db: Database<'static>,
    model: Model3,
}

fn upsert<T: ToInput>(db: &Database<'static>, items: impl Iterator<Item = T>) -> Result<()> {
    let rw = db.rw_transaction()?;
    for item in items {
        rw.upsert(item)?;
    }
    rw.commit()?;
    Ok(())
}

impl NativeDbEngine {
    fn write(&self, recs: &[Rec]) -> Result<()> {
        match self.model {
            Model3::Plain => upsert(&self.db, recs.iter().map(Plain::from)),
            Model3::OneIndex => upsert(&self.db, recs.iter().map(OneIndex::from)),
            Model3::ThreeIndexes => upsert(&self.db, recs.iter().map(ThreeIndexes::from)),
        }
    }

    fn check_queryable(&self) -> Result<()> {
        match self.model {
            Model3::ThreeIndexes => Ok(()),
            _ => Err("queries run on the three-index database only".into()),
        }
    }

    /// The records whose secondary `key` lies in `lo ..= hi`.
    fn scan(&self, key: ThreeIndexesKey, lo: &Val, hi: &Val) -> Result<Answer> {
        self.check_queryable()?;
        let r = self.db.r_transaction()?;
        let scan = r.scan().secondary::<ThreeIndexes>(key)?;
        let mut answer = Answer::default();
        let mut add = |item: native_db::db_type::Result<ThreeIndexes>| -> Result<()> {
            let item = item?;
            answer.add(item.key.as_bytes(), item.score);
            Ok(())
        };
        match (lo, hi) {
            (Val::Str(lo), Val::Str(hi)) => {
                for item in scan.range(lo.clone()..=hi.clone())? {
                    add(item)?;
                }
            }
            (Val::Int(lo), Val::Int(hi)) => {
                for item in scan.range(*lo..=*hi)? {
                    add(item)?;
                }
            }
            _ => return Err("a range needs two bounds of one type".into()),
        }
        Ok(answer)
    }
}

fn secondary(field: Field) -> Result<ThreeIndexesKey> {
    match field {
        Field::City => Ok(ThreeIndexesKey::city),
        Field::Score => Ok(ThreeIndexesKey::score),
        Field::Name => Ok(ThreeIndexesKey::name),
        _ => Err(format!("no native_db secondary key on {}", field.name()).into()),
    }
}

impl Engine for NativeDbEngine {
    fn open(dir: &Path, indexed: &[Field]) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut models = Models::new();
        let model = match indexed.len() {
            0 => {
                models.define::<Plain>()?;
                Model3::Plain
            }
            1 => {
                models.define::<OneIndex>()?;
                Model3::OneIndex
            }
            _ => {
                models.define::<ThreeIndexes>()?;
                Model3::ThreeIndexes
            }
        };
        // `Database` borrows its models for its whole life; a few small leaks per run.
        let models: &'static Models = Box::leak(Box::new(models));
        let db = Builder::new()
            .set_cache_size(64 * 1024 * 1024)
            .create(models, dir.join("bench.redb"))?;
        Ok(NativeDbEngine { db, model })
    }

    fn single_write_budget(full: bool) -> Option<Duration> {
        Some(if full {
            Duration::from_secs(2)
        } else {
            Duration::from_millis(200)
        })
    }

    fn put(&self, rec: &Rec) -> Result<()> {
        self.write(std::slice::from_ref(rec))
    }

    fn put_batch(&self, recs: &[Rec]) -> Result<()> {
        self.write(recs)
    }

    fn get(&self, key: &str) -> Result<Option<u64>> {
        self.check_queryable()?;
        let r = self.db.r_transaction()?;
        let found: Option<ThreeIndexes> = r.get().primary(key.to_string())?;
        Ok(found.map(|item| row_hash(item.key.as_bytes(), item.score)))
    }

    fn query_eq(&self, field: Field, value: &Val) -> Result<Answer> {
        self.scan(secondary(field)?, value, value)
    }

    fn count_eq(&self, field: Field, value: &Val) -> Result<u64> {
        Ok(self.query_eq(field, value)?.rows)
    }

    fn query_range(&self, field: Field, lo: i64, hi: i64) -> Result<Answer> {
        self.scan(secondary(field)?, &Val::Int(lo), &Val::Int(hi))
    }

    fn build_index(&self, _field: Field) -> Result<bool> {
        Ok(false)
    }

    fn drop_index(&self, _field: Field) -> Result<()> {
        Err("native_db cannot drop an index at run time".into())
    }

    fn writer(&self) -> Result<Option<Writer>> {
        Ok(None)
    }
}
