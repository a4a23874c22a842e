//! FieldDB through its public API only, with default `Options` (`sync_writes` false, 64 MiB
//! block cache). Indexes of the loads are created on the empty database and waited for; the one
//! on `city` is counted (`IndexSpec::counted`), the others are plain.

use std::path::Path;

use fielddb::{Batch, FieldDb, Filter, IndexSpec, Query, QueryOptions, Record, Value};

use crate::workload::{mix_op, row_hash, Answer, Engine, Field, Mixer, Rec, Result, Val, Writer};

pub struct FieldDbEngine {
    db: FieldDb,
}

fn record(rec: &Rec) -> Record {
    Record::new()
        .set("name", rec.name.as_str())
        .set("city", rec.city.as_str())
        .set("score", rec.score)
        .set("age", rec.age)
        .set("balance", rec.balance)
}

fn value(v: &Val) -> Value {
    match v {
        Val::Str(s) => Value::from(s.as_str()),
        Val::Int(i) => Value::from(*i),
    }
}

fn score(record: &Record) -> i64 {
    record.get("score").and_then(Value::as_i64).unwrap_or(-1)
}

impl Engine for FieldDbEngine {
    fn open(dir: &Path, indexed: &[Field]) -> Result<Self> {
        let db = FieldDb::open_with(dir, fielddb::Options::default().sync_writes(false))?;
        for field in indexed {
            let spec = IndexSpec::on(field.name());
            let spec = if field.counted() {
                spec.counted()
            } else {
                spec
            };
            db.create_index(spec)?.wait()?;
        }
        Ok(FieldDbEngine { db })
    }

    fn put(&self, rec: &Rec) -> Result<()> {
        Ok(self.db.put(&rec.key, record(rec))?)
    }

    fn put_batch(&self, recs: &[Rec]) -> Result<()> {
        let mut batch = Batch::new();
        for rec in recs {
            batch.put(&rec.key, record(rec));
        }
        Ok(self.db.write_batch(batch)?)
    }

    fn get(&self, key: &str) -> Result<Option<u64>> {
        Ok(self
            .db
            .get(key)?
            .map(|r| row_hash(key.as_bytes(), score(&r))))
    }

    fn query_eq(&self, field: Field, v: &Val) -> Result<Answer> {
        let page =
            self.db
                .query_by_index(field.name(), &Query::eq(value(v)), &QueryOptions::new())?;
        let mut answer = Answer::default();
        for (key, record) in &page.rows {
            answer.add(key, score(record));
        }
        Ok(answer)
    }

    fn count_eq(&self, field: Field, v: &Val) -> Result<u64> {
        Ok(self.db.count_by_index(field.name(), &Query::eq(value(v)))?)
    }

    fn query_range(&self, field: Field, lo: i64, hi: i64) -> Result<Answer> {
        let page =
            self.db
                .query_by_index(field.name(), &Query::between(lo, hi), &QueryOptions::new())?;
        let mut answer = Answer::default();
        for (key, record) in &page.rows {
            answer.add(key, score(record));
        }
        Ok(answer)
    }

    fn build_index(&self, field: Field) -> Result<bool> {
        self.db.create_index(IndexSpec::on(field.name()))?.wait()?;
        Ok(true)
    }

    fn drop_index(&self, field: Field) -> Result<()> {
        self.db.drop_index(field.name())?;
        self.db.wait_for_tasks();
        Ok(())
    }

    fn build_compound_index(&self) -> Result<bool> {
        self.db
            .create_index(IndexSpec::on_fields(["city", "age"]))?
            .wait()?;
        Ok(true)
    }

    fn drop_compound_index(&self) -> Result<()> {
        self.db.drop_index("city,age")?;
        self.db.wait_for_tasks();
        Ok(())
    }

    fn query_two_equalities(&self, city: &str, age: i64) -> Result<Answer> {
        let filter = Filter::eq("city", city).and(Filter::eq("age", age));
        let page = self.db.query(&filter, &QueryOptions::new())?;
        let mut answer = Answer::default();
        for (key, record) in &page.rows {
            answer.add(key, score(record));
        }
        Ok(answer)
    }

    fn query_eq_two_fields(&self, v: &Val) -> Result<Option<Answer>> {
        let options = QueryOptions::new().fields(["score", "name"]);
        let page = self
            .db
            .query_by_index("city", &Query::eq(value(v)), &options)?;
        let mut answer = Answer::default();
        for (key, record) in &page.rows {
            if record.len() != 2 {
                return Err(format!("asked for 2 fields, got {record:?}").into());
            }
            answer.add(key, score(record));
        }
        Ok(Some(answer))
    }

    fn build_covering_index(&self) -> Result<bool> {
        self.db.drop_index("city")?;
        let spec = IndexSpec::on("city").counted().include(["score", "name"]);
        self.db.create_index(spec)?.wait()?;
        self.db.wait_for_tasks();
        Ok(true)
    }

    fn drop_covering_index(&self) -> Result<()> {
        self.db.drop_index("city")?;
        self.db
            .create_index(IndexSpec::on("city").counted())?
            .wait()?;
        self.db.wait_for_tasks();
        Ok(())
    }

    fn mixer(&self) -> Result<Option<Mixer>> {
        let engine = FieldDbEngine {
            db: self.db.clone(),
        };
        Ok(Some(Box::new(move |op| mix_op(&engine, op))))
    }

    fn compact(&self) -> Result<()> {
        self.db.wait_for_tasks();
        Ok(self.db.compact()?)
    }

    fn writer(&self) -> Result<Option<Writer>> {
        let db = self.db.clone();
        Ok(Some(Box::new(move |rec: &Rec| {
            Ok(db.put(&rec.key, record(rec))?)
        })))
    }
}
