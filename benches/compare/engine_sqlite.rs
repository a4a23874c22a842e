//! SQLite (rusqlite, bundled) as a user would set it up: WAL, `synchronous=NORMAL`, a 64 MiB
//! page cache (FieldDB's block cache size), one table `t (key TEXT PRIMARY KEY, name, city,
//! score, age, balance)`, `CREATE INDEX` per indexed column, cached prepared statements.
//!
//! A put is an upsert (`INSERT ... ON CONFLICT(key) DO UPDATE`) in its own implicit
//! transaction; a batch is one `BEGIN ... COMMIT`. An index build is `CREATE INDEX` on the main
//! connection; the latency writer uses a second connection with a busy timeout, so it waits
//! (stalls) for as long as `CREATE INDEX` holds the write lock.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection};

use crate::workload::{mix_op, row_hash, Answer, Engine, Field, Mixer, Rec, Result, Val, Writer};

const UPSERT: &str = "INSERT INTO t (key, name, city, score, age, balance) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(key) DO UPDATE SET \
     name = excluded.name, city = excluded.city, score = excluded.score, \
     age = excluded.age, balance = excluded.balance";
const GET: &str = "SELECT key, name, city, score, age, balance FROM t WHERE key = ?1";

pub struct SqliteEngine {
    conn: Connection,
    path: PathBuf,
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(60))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -64 * 1024)?;
    Ok(conn)
}

fn upsert(conn: &Connection, rec: &Rec) -> Result<()> {
    conn.prepare_cached(UPSERT)?.execute(params![
        rec.key,
        rec.name,
        rec.city,
        rec.score,
        rec.age,
        rec.balance
    ])?;
    Ok(())
}

/// The statements per field, written out so no SQL is formatted per call.
fn select_eq(field: Field) -> &'static str {
    match field {
        Field::Name => "SELECT key, name, city, score, age, balance FROM t WHERE name = ?1",
        Field::City => "SELECT key, name, city, score, age, balance FROM t WHERE city = ?1",
        Field::Score => "SELECT key, name, city, score, age, balance FROM t WHERE score = ?1",
        Field::Age => "SELECT key, name, city, score, age, balance FROM t WHERE age = ?1",
        Field::Balance => "SELECT key, name, city, score, age, balance FROM t WHERE balance = ?1",
    }
}

fn count_eq(field: Field) -> &'static str {
    match field {
        Field::Name => "SELECT count(*) FROM t WHERE name = ?1",
        Field::City => "SELECT count(*) FROM t WHERE city = ?1",
        Field::Score => "SELECT count(*) FROM t WHERE score = ?1",
        Field::Age => "SELECT count(*) FROM t WHERE age = ?1",
        Field::Balance => "SELECT count(*) FROM t WHERE balance = ?1",
    }
}

fn select_range(field: Field) -> &'static str {
    match field {
        Field::Score => {
            "SELECT key, name, city, score, age, balance FROM t WHERE score BETWEEN ?1 AND ?2"
        }
        Field::Age => {
            "SELECT key, name, city, score, age, balance FROM t WHERE age BETWEEN ?1 AND ?2"
        }
        _ => "SELECT key, name, city, score, age, balance FROM t WHERE balance BETWEEN ?1 AND ?2",
    }
}

fn rec_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Rec> {
    Ok(Rec {
        key: row.get(0)?,
        name: row.get(1)?,
        city: row.get(2)?,
        score: row.get(3)?,
        age: row.get(4)?,
        balance: row.get(5)?,
    })
}

fn create_index(conn: &Connection, field: Field) -> Result<()> {
    let name = field.name();
    conn.execute_batch(&format!("CREATE INDEX t_{name} ON t ({name})"))?;
    Ok(())
}

impl SqliteEngine {
    fn rows(&self, sql: &str, params: impl rusqlite::Params) -> Result<Answer> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        let mut answer = Answer::default();
        while let Some(row) = rows.next()? {
            let rec = rec_from_row(row)?;
            answer.add(rec.key.as_bytes(), rec.score);
        }
        Ok(answer)
    }
}

impl Engine for SqliteEngine {
    fn open(dir: &Path, indexed: &[Field]) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("bench.sqlite");
        let conn = connect(&path)?;
        conn.execute_batch(
            "CREATE TABLE t (key TEXT PRIMARY KEY, name TEXT, city TEXT, score INTEGER, \
             age INTEGER, balance REAL)",
        )?;
        for &field in indexed {
            create_index(&conn, field)?;
        }
        Ok(SqliteEngine { conn, path })
    }

    fn put(&self, rec: &Rec) -> Result<()> {
        upsert(&self.conn, rec)
    }

    fn put_batch(&self, recs: &[Rec]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        for rec in recs {
            upsert(&tx, rec)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<u64>> {
        // The whole row is read, as the other engines fetch the whole record.
        let mut stmt = self.conn.prepare_cached(GET)?;
        let mut rows = stmt.query([key])?;
        match rows.next()? {
            Some(row) => {
                let rec = rec_from_row(row)?;
                Ok(Some(row_hash(rec.key.as_bytes(), rec.score)))
            }
            None => Ok(None),
        }
    }

    fn query_eq(&self, field: Field, value: &Val) -> Result<Answer> {
        match value {
            Val::Str(s) => self.rows(select_eq(field), [s]),
            Val::Int(i) => self.rows(select_eq(field), [i]),
        }
    }

    fn count_eq(&self, field: Field, value: &Val) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(count_eq(field))?;
        let n: i64 = match value {
            Val::Str(s) => stmt.query_row([s], |r| r.get(0))?,
            Val::Int(i) => stmt.query_row([i], |r| r.get(0))?,
        };
        Ok(n as u64)
    }

    fn query_range(&self, field: Field, lo: i64, hi: i64) -> Result<Answer> {
        self.rows(select_range(field), [lo, hi])
    }

    fn build_index(&self, field: Field) -> Result<bool> {
        create_index(&self.conn, field)?;
        Ok(true)
    }

    fn drop_index(&self, field: Field) -> Result<()> {
        let name = field.name();
        self.conn.execute_batch(&format!("DROP INDEX t_{name}"))?;
        Ok(())
    }

    fn build_compound_index(&self) -> Result<bool> {
        self.conn
            .execute_batch("CREATE INDEX t_city_age ON t (city, age)")?;
        Ok(true)
    }

    fn drop_compound_index(&self) -> Result<()> {
        self.conn.execute_batch("DROP INDEX t_city_age")?;
        Ok(())
    }

    fn query_two_equalities(&self, city: &str, age: i64) -> Result<Answer> {
        self.rows(
            "SELECT key, name, city, score, age, balance FROM t WHERE city = ?1 AND age = ?2",
            rusqlite::params![city, age],
        )
    }

    fn query_eq_two_fields(&self, v: &Val) -> Result<Option<Answer>> {
        let Val::Str(city) = v else {
            return Err("cities are strings".into());
        };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, score, name FROM t WHERE city = ?1")?;
        let mut rows = stmt.query([city])?;
        let mut answer = Answer::default();
        while let Some(row) = rows.next()? {
            let key: String = row.get(0)?;
            let _name: String = row.get(2)?;
            answer.add(key.as_bytes(), row.get(1)?);
        }
        Ok(Some(answer))
    }

    fn build_covering_index(&self) -> Result<bool> {
        self.conn
            .execute_batch("CREATE INDEX t_city_cover ON t (city, score, name, key)")?;
        Ok(true)
    }

    fn drop_covering_index(&self) -> Result<()> {
        self.conn.execute_batch("DROP INDEX t_city_cover")?;
        Ok(())
    }

    fn mixer(&self) -> Result<Option<Mixer>> {
        let engine = SqliteEngine {
            conn: connect(&self.path)?,
            path: self.path.clone(),
        };
        Ok(Some(Box::new(move |op| mix_op(&engine, op))))
    }

    fn compact(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    fn writer(&self) -> Result<Option<Writer>> {
        let conn = connect(&self.path)?;
        Ok(Some(Box::new(move |rec: &Rec| upsert(&conn, rec))))
    }
}
