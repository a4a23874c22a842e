//! `Batch`: several puts and deletes applied atomically, in order, as one RocksDB write.

use crate::encoding::command::{BatchCommand, Command};
use crate::encoding::record as record_codec;
use crate::error::Result;
use crate::inner::DbInner;
use crate::record::{validate_key, Record};

/// An atomic group of writes: all of them are applied, or (on any error) none.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = fielddb::FieldDb::open(dir.path()).unwrap();
/// use fielddb::{Batch, Record};
/// let mut batch = Batch::new();
/// batch.put("a", Record::new().set("n", 1)).put("b", Record::new().set("n", 2)).delete("c");
/// db.write_batch(batch).unwrap();
/// assert_eq!(db.len().unwrap(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub(crate) ops: Vec<BatchOp>,
}

#[derive(Debug, Clone)]
pub(crate) enum BatchOp {
    Put(Vec<u8>, Record),
    Delete(Vec<u8>),
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// Adds a put of `record` at `key`.
    pub fn put(&mut self, key: impl AsRef<[u8]>, record: Record) -> &mut Self {
        self.ops.push(BatchOp::Put(key.as_ref().to_vec(), record));
        self
    }

    /// Adds a delete of `key`.
    pub fn delete(&mut self, key: impl AsRef<[u8]>) -> &mut Self {
        self.ops.push(BatchOp::Delete(key.as_ref().to_vec()));
        self
    }

    /// The batch as a replicated log carries it.
    pub fn into_command(self) -> Command {
        Command::Batch(
            self.ops
                .into_iter()
                .map(|op| match op {
                    BatchOp::Put(key, record) => BatchCommand::Put(key, record),
                    BatchOp::Delete(key) => BatchCommand::Delete(key),
                })
                .collect(),
        )
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// A validated, encoded write, ready for the write path.
pub(crate) struct PreparedOp {
    pub(crate) key: Vec<u8>,
    /// The record and its encoding for a put; `None` for a delete.
    pub(crate) put: Option<(Record, Vec<u8>)>,
}

/// Validates every operation, so that a bad one is found before anything is written (the
/// dictionary included), gives the records' field names ids, and encodes the records.
pub(crate) fn prepare(inner: &DbInner, ops: Vec<BatchOp>) -> Result<Vec<PreparedOp>> {
    for op in &ops {
        match op {
            BatchOp::Put(key, record) => validate_put(key, record)?,
            BatchOp::Delete(key) => validate_key(key)?,
        }
    }
    let names = inner.names.intern(
        &inner.storage,
        ops.iter()
            .filter_map(|op| match op {
                BatchOp::Put(_, record) => Some(record),
                BatchOp::Delete(_) => None,
            })
            .flat_map(|record| record.fields().iter().map(|(name, _)| name.as_str())),
    )?;
    ops.into_iter()
        .map(|op| match op {
            BatchOp::Put(key, record) => {
                let encoded = record_codec::encode(&record, &names)?;
                Ok(PreparedOp {
                    key,
                    put: Some((record, encoded)),
                })
            }
            BatchOp::Delete(key) => Ok(PreparedOp { key, put: None }),
        })
        .collect()
}

/// [`prepare`] for one put.
pub(crate) fn prepare_put(inner: &DbInner, key: Vec<u8>, record: Record) -> Result<PreparedOp> {
    validate_put(&key, &record)?;
    let names = inner.names.intern(
        &inner.storage,
        record.fields().iter().map(|(name, _)| name.as_str()),
    )?;
    let encoded = record_codec::encode(&record, &names)?;
    Ok(PreparedOp {
        key,
        put: Some((record, encoded)),
    })
}

fn validate_put(key: &[u8], record: &Record) -> Result<()> {
    validate_key(key)?;
    record.validate()?;
    record_codec::check_len(record).map(drop)
}
