//! `ShardRead`: a read of one group's replica — a record, a page of a scan or of an index
//! query, a count, the indexes, a verify, the storage figures — in a form that travels between
//! nodes (a node reads a shard it does not lead through the shard's leader), and `ShardAnswer`,
//! its answer. [`ShardRead::run`] answers a read from a replica.
//!
//! Both travel in `wire`'s encoding. Values (in conditions) and records go in FieldDB's record
//! encoding (a value as the one-field record `{v: value}`), so they keep their exact types.

use std::ops::Bound;

use fielddb::{
    Covering, FieldDb, IndexInfo, IndexReport, IndexState, Page, Query, QueryOptions, Record,
    ScanOptions, StorageStats, Value, VerifyReport,
};
use serde::{Deserialize, Serialize};

use crate::types::Failure;

/// A condition on a field (`fielddb::Query`), values in FieldDB's record encoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Condition {
    /// `Query::Eq`.
    Eq(Vec<u8>),
    /// `Query::Range`.
    Range {
        /// The lower bound.
        lo: Edge,
        /// The upper bound.
        hi: Edge,
    },
    /// `Query::Prefix`.
    Prefix(Vec<u8>),
}

/// One bound of a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Edge {
    /// No bound.
    Open,
    /// Up to and including this value.
    Included(Vec<u8>),
    /// Up to and excluding this value.
    Excluded(Vec<u8>),
}

/// A read of one replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ShardRead {
    /// The record at a key.
    Get(Vec<u8>),
    /// A page of records in key order (`ScanOptions`).
    Scan {
        /// The first key, inclusive.
        from: Option<Vec<u8>>,
        /// The key to stop before.
        to: Option<Vec<u8>>,
        /// The key to resume after.
        after: Option<Vec<u8>>,
        /// The most rows.
        limit: Option<u64>,
        /// Descending.
        reverse: bool,
        /// The conditions records must meet.
        filter: Vec<(String, Condition)>,
    },
    /// A page of an index query (`QueryOptions`).
    Query {
        /// The indexed field.
        field: String,
        /// The condition.
        condition: Condition,
        /// The cursor to resume after.
        after: Option<Vec<u8>>,
        /// The most rows.
        limit: Option<u64>,
        /// Descending.
        reverse: bool,
    },
    /// The number of records an index query matches.
    Count {
        /// The indexed field.
        field: String,
        /// The condition.
        condition: Condition,
    },
    /// The indexes and their states.
    Indexes,
    /// `FieldDb::verify`.
    Verify,
    /// `FieldDb::storage_stats`.
    Stats,
}

/// An index as one replica reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexLine {
    /// The indexed fields (one, or several for a compound index).
    pub fields: Vec<String>,
    /// Unique.
    pub unique: bool,
    /// Counted.
    pub counted: bool,
    /// The fields its entries include (`IndexSpec::include`), if any.
    pub include: Option<Vec<String>>,
    /// Its entries hold the whole record (`IndexSpec::include_all`).
    pub include_all: bool,
    /// `Some((done, total))` while building.
    pub building: Option<(u64, u64)>,
    /// Being dropped.
    pub dropping: bool,
}

/// A replica's verify report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyLine {
    /// Records read.
    pub records: u64,
    /// Keys whose record does not decode.
    pub corrupt_records: Vec<Vec<u8>>,
    /// Per index: field, entries, missing, stale, wrong counts, wrong covered fields.
    pub indexes: Vec<(String, u64, u64, u64, u64, u64)>,
}

/// What a read answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ShardAnswer {
    /// The record at the key, encoded, if any.
    Record(Option<Vec<u8>>),
    /// A page of (key, encoded record) rows and its cursor.
    Rows {
        /// The rows, in order.
        rows: Vec<(Vec<u8>, Vec<u8>)>,
        /// Where the next page starts, if more follow.
        next: Option<Vec<u8>>,
    },
    /// A count.
    Count(u64),
    /// The indexes.
    Indexes(Vec<IndexLine>),
    /// A verify report.
    Verify(VerifyLine),
    /// kv, index and meta file bytes, memtable bytes, estimated records.
    Stats([u64; 5]),
    /// The read failed as it would have on a single node.
    Failed(Failure),
}

fn encode_value(value: &Value) -> fielddb::Result<Vec<u8>> {
    fielddb::encode_record(&Record::new().set("v", value.clone()))
}

fn decode_value(bytes: &[u8]) -> fielddb::Result<Value> {
    fielddb::decode_record(bytes)?
        .get("v")
        .cloned()
        .ok_or_else(|| fielddb::Error::InvalidArgument("a condition's value is missing".into()))
}

impl Condition {
    /// The condition of `query`.
    pub fn of(query: &Query) -> fielddb::Result<Condition> {
        let edge = |bound: &Bound<Value>| -> fielddb::Result<Edge> {
            Ok(match bound {
                Bound::Unbounded => Edge::Open,
                Bound::Included(v) => Edge::Included(encode_value(v)?),
                Bound::Excluded(v) => Edge::Excluded(encode_value(v)?),
            })
        };
        Ok(match query {
            Query::Eq(v) => Condition::Eq(encode_value(v)?),
            Query::Prefix(v) => Condition::Prefix(encode_value(v)?),
            Query::Range { lo, hi } => Condition::Range {
                lo: edge(lo)?,
                hi: edge(hi)?,
            },
        })
    }

    /// The query it stands for.
    pub fn query(&self) -> fielddb::Result<Query> {
        let bound = |edge: &Edge| -> fielddb::Result<Bound<Value>> {
            Ok(match edge {
                Edge::Open => Bound::Unbounded,
                Edge::Included(v) => Bound::Included(decode_value(v)?),
                Edge::Excluded(v) => Bound::Excluded(decode_value(v)?),
            })
        };
        Ok(match self {
            Condition::Eq(v) => Query::Eq(decode_value(v)?),
            Condition::Prefix(v) => Query::Prefix(decode_value(v)?),
            Condition::Range { lo, hi } => Query::Range {
                lo: bound(lo)?,
                hi: bound(hi)?,
            },
        })
    }
}

impl ShardRead {
    /// The read of a scan page.
    pub fn scan(options: &ScanOptions) -> fielddb::Result<ShardRead> {
        Ok(ShardRead::Scan {
            from: options.from_key().map(<[u8]>::to_vec),
            to: options.to_key().map(<[u8]>::to_vec),
            after: options.after_key().map(<[u8]>::to_vec),
            limit: options.max_rows().map(|n| n as u64),
            reverse: options.is_reverse(),
            filter: options
                .conditions()
                .iter()
                .map(|(field, query)| Ok((field.clone(), Condition::of(query)?)))
                .collect::<fielddb::Result<_>>()?,
        })
    }

    /// The read of an index query page.
    pub fn query(field: &str, query: &Query, options: &QueryOptions) -> fielddb::Result<ShardRead> {
        if options.wanted_fields().is_some() {
            // The shards' pages merge by the indexed values, which a projection may drop.
            return Err(fielddb::Error::InvalidArgument(
                "asking for some fields is not available on a cluster of several shards yet; \
                 ask for whole records"
                    .into(),
            ));
        }
        Ok(ShardRead::Query {
            field: field.to_owned(),
            condition: Condition::of(query)?,
            after: options.cursor().map(<[u8]>::to_vec),
            limit: options.max_rows().map(|n| n as u64),
            reverse: options.is_reverse(),
        })
    }

    /// The read of a count.
    pub fn count(field: &str, query: &Query) -> fielddb::Result<ShardRead> {
        Ok(ShardRead::Count {
            field: field.to_owned(),
            condition: Condition::of(query)?,
        })
    }

    /// Answers the read from `db`.
    pub fn run(&self, db: &FieldDb) -> ShardAnswer {
        match self.try_run(db) {
            Ok(answer) => answer,
            Err(e) => ShardAnswer::Failed(Failure::from_error(&e)),
        }
    }

    fn try_run(&self, db: &FieldDb) -> fielddb::Result<ShardAnswer> {
        let limit = |n: &Option<u64>| n.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        Ok(match self {
            ShardRead::Get(key) => ShardAnswer::Record(match db.get(key)? {
                Some(record) => Some(fielddb::encode_record(&record)?),
                None => None,
            }),
            ShardRead::Scan {
                from,
                to,
                after,
                limit: max,
                reverse,
                filter,
            } => {
                let mut options = ScanOptions::new().reverse(*reverse);
                if let Some(from) = from {
                    options = options.from(from);
                }
                if let Some(to) = to {
                    options = options.to(to);
                }
                if let Some(after) = after {
                    options = options.start_after(after);
                }
                if let Some(n) = limit(max) {
                    options = options.limit(n);
                }
                for (field, condition) in filter {
                    options = options.filter(field.clone(), condition.query()?);
                }
                rows(db.scan(&options)?)?
            }
            ShardRead::Query {
                field,
                condition,
                after,
                limit: max,
                reverse,
            } => {
                let mut options = QueryOptions::new().reverse(*reverse);
                if let Some(after) = after {
                    options = options.start_after(after.clone());
                }
                if let Some(n) = limit(max) {
                    options = options.limit(n);
                }
                rows(db.query_by_index(field, &condition.query()?, &options)?)?
            }
            ShardRead::Count { field, condition } => {
                ShardAnswer::Count(db.count_by_index(field, &condition.query()?)?)
            }
            ShardRead::Indexes => ShardAnswer::Indexes(
                db.indexes()
                    .into_iter()
                    .map(|info| IndexLine {
                        building: match info.state {
                            IndexState::Building { done, total } => Some((done, total)),
                            _ => None,
                        },
                        dropping: info.state == IndexState::Dropping,
                        include: match &info.covering {
                            Covering::Fields(fields) => Some(fields.clone()),
                            _ => None,
                        },
                        include_all: info.covering == Covering::Record,
                        fields: info.fields,
                        unique: info.unique,
                        counted: info.counted,
                    })
                    .collect(),
            ),
            ShardRead::Verify => {
                let report = db.verify()?;
                ShardAnswer::Verify(VerifyLine {
                    records: report.records,
                    corrupt_records: report.corrupt_records,
                    indexes: report
                        .indexes
                        .into_iter()
                        .map(|i| {
                            let counts = (i.entries, i.missing, i.stale, i.wrong_counts);
                            (
                                i.field,
                                counts.0,
                                counts.1,
                                counts.2,
                                counts.3,
                                i.wrong_covered,
                            )
                        })
                        .collect(),
                })
            }
            ShardRead::Stats => {
                let s = db.storage_stats()?;
                ShardAnswer::Stats([
                    s.kv_file_bytes,
                    s.index_file_bytes,
                    s.meta_file_bytes,
                    s.memtable_bytes,
                    s.estimated_records,
                ])
            }
        })
    }
}

fn rows(page: Page<(Vec<u8>, Record)>) -> fielddb::Result<ShardAnswer> {
    let rows = page
        .rows
        .into_iter()
        .map(|(key, record)| Ok((key, fielddb::encode_record(&record)?)))
        .collect::<fielddb::Result<Vec<_>>>()?;
    Ok(ShardAnswer::Rows {
        rows,
        next: page.next,
    })
}

fn unexpected(what: &str) -> fielddb::Error {
    fielddb::Error::Corruption(format!(
        "a shard answered a {what} read with something else"
    ))
}

impl ShardAnswer {
    /// The record of a `Get`.
    pub fn into_record(self) -> fielddb::Result<Option<Record>> {
        match self {
            ShardAnswer::Record(bytes) => bytes.as_deref().map(fielddb::decode_record).transpose(),
            ShardAnswer::Failed(f) => Err(f.into_error()),
            _ => Err(unexpected("record")),
        }
    }

    /// The page of a `Scan` or a `Query`.
    pub fn into_rows(self) -> fielddb::Result<Page<(Vec<u8>, Record)>> {
        match self {
            ShardAnswer::Rows { rows, next } => Ok(Page {
                rows: rows
                    .into_iter()
                    .map(|(key, bytes)| Ok((key, fielddb::decode_record(&bytes)?)))
                    .collect::<fielddb::Result<_>>()?,
                next,
            }),
            ShardAnswer::Failed(f) => Err(f.into_error()),
            _ => Err(unexpected("page")),
        }
    }

    /// The number of a `Count`.
    pub fn into_count(self) -> fielddb::Result<u64> {
        match self {
            ShardAnswer::Count(n) => Ok(n),
            ShardAnswer::Failed(f) => Err(f.into_error()),
            _ => Err(unexpected("count")),
        }
    }

    /// The indexes of an `Indexes`.
    pub fn into_indexes(self) -> fielddb::Result<Vec<IndexInfo>> {
        match self {
            ShardAnswer::Indexes(lines) => Ok(lines
                .into_iter()
                .map(|line| {
                    let state = match (line.building, line.dropping) {
                        (Some((done, total)), _) => IndexState::Building { done, total },
                        (None, true) => IndexState::Dropping,
                        (None, false) => IndexState::Ready,
                    };
                    let covering = match (line.include, line.include_all) {
                        (_, true) => Covering::Record,
                        (Some(fields), false) => Covering::Fields(fields),
                        (None, false) => Covering::Nothing,
                    };
                    IndexInfo::new(line.fields, line.unique, line.counted, state)
                        .with_covering(covering)
                })
                .collect()),
            ShardAnswer::Failed(f) => Err(f.into_error()),
            _ => Err(unexpected("indexes")),
        }
    }

    /// The report of a `Verify`.
    pub fn into_verify(self) -> fielddb::Result<VerifyReport> {
        match self {
            ShardAnswer::Verify(line) => Ok(VerifyReport {
                records: line.records,
                corrupt_records: line.corrupt_records,
                indexes: line
                    .indexes
                    .into_iter()
                    .map(
                        |(field, entries, missing, stale, wrong_counts, wrong_covered)| {
                            IndexReport {
                                field,
                                entries,
                                missing,
                                stale,
                                wrong_counts,
                                wrong_covered,
                            }
                        },
                    )
                    .collect(),
            }),
            ShardAnswer::Failed(f) => Err(f.into_error()),
            _ => Err(unexpected("verify")),
        }
    }

    /// The figures of a `Stats`.
    pub fn into_stats(self) -> fielddb::Result<StorageStats> {
        match self {
            ShardAnswer::Stats([kv, index, meta, memtable, records]) => Ok(StorageStats {
                kv_file_bytes: kv,
                index_file_bytes: index,
                meta_file_bytes: meta,
                memtable_bytes: memtable,
                estimated_records: records,
            }),
            ShardAnswer::Failed(f) => Err(f.into_error()),
            _ => Err(unexpected("stats")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through_the_wire(read: &ShardRead) -> ShardRead {
        crate::wire::decode(&crate::wire::encode(read).unwrap()).unwrap()
    }

    #[test]
    fn a_sharded_query_for_some_fields_is_refused_as_bad_input() {
        let options = QueryOptions::new().fields(["name"]);
        let refused = ShardRead::query("city", &Query::eq("Oslo"), &options);
        assert!(matches!(refused, Err(fielddb::Error::InvalidArgument(_))));
        assert!(ShardRead::query("city", &Query::eq("Oslo"), &QueryOptions::new()).is_ok());
    }

    #[test]
    fn reads_sent_to_another_replica_answer_what_the_replica_itself_answers() {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        for i in 0..20i64 {
            let city = if i % 2 == 0 { "Oslo" } else { "Lima" };
            db.put(
                format!("k{i:02}"),
                Record::new().set("age", i).set("city", city),
            )
            .unwrap();
        }
        db.create_index(fielddb::IndexSpec::on("age"))
            .unwrap()
            .wait()
            .unwrap();
        let age = Query::range(
            Bound::Excluded(Value::Int(3)),
            Bound::Included(Value::Float(9.0)),
        );
        let options = QueryOptions::new().limit(4).reverse(true);
        let read = through_the_wire(&ShardRead::query("age", &age, &options).unwrap());
        let page = read.run(&db).into_rows().unwrap();
        assert_eq!(page, db.query_by_index("age", &age, &options).unwrap());

        let scan = ScanOptions::new()
            .from("k03")
            .to("k15")
            .limit(3)
            .filter("city", Query::Prefix(Value::Str("Li".into())));
        let read = through_the_wire(&ShardRead::scan(&scan).unwrap());
        assert_eq!(read.run(&db).into_rows().unwrap(), db.scan(&scan).unwrap());

        let read = through_the_wire(&ShardRead::count("age", &age).unwrap());
        assert_eq!(read.run(&db).into_count().unwrap(), 6);
        let got = through_the_wire(&ShardRead::Get(b"k04".to_vec())).run(&db);
        assert_eq!(got.into_record().unwrap(), db.get("k04").unwrap());
        assert_eq!(
            ShardRead::Indexes.run(&db).into_indexes().unwrap(),
            db.indexes()
        );
        assert_eq!(
            ShardRead::Verify.run(&db).into_verify().unwrap(),
            db.verify().unwrap()
        );
        let refused = ShardRead::count("city", &age).unwrap().run(&db);
        assert_eq!(refused.into_count().unwrap_err().code(), "no_such_index");
    }
}
