//! `Batch`: several puts and deletes applied atomically, in order, as one RocksDB write.

use crate::encoding::command::{BatchCommand, Command};
use crate::encoding::record as record_codec;
use crate::error::Result;
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

/// Validates and encodes every operation, so that a bad one is found before anything is written.
pub(crate) fn prepare(ops: Vec<BatchOp>) -> Result<Vec<PreparedOp>> {
    ops.into_iter()
        .map(|op| match op {
            BatchOp::Put(key, record) => prepare_put(key, record),
            BatchOp::Delete(key) => {
                validate_key(&key)?;
                Ok(PreparedOp { key, put: None })
            }
        })
        .collect()
}

pub(crate) fn prepare_put(key: Vec<u8>, record: Record) -> Result<PreparedOp> {
    validate_key(&key)?;
    record.validate()?;
    let encoded = record_codec::encode(&record)?;
    Ok(PreparedOp {
        key,
        put: Some((record, encoded)),
    })
}
