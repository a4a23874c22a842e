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
    let mut lens = Vec::with_capacity(ops.len());
    for op in &ops {
        lens.push(match op {
            BatchOp::Put(key, record) => validate_put(key, record)?,
            BatchOp::Delete(key) => validate_key(key).map(|()| 0)?,
        });
    }
    let puts = || {
        ops.iter().zip(&lens).filter_map(|(op, len)| match op {
            BatchOp::Put(_, record) => Some((record, *len)),
            BatchOp::Delete(_) => None,
        })
    };
    let encoded = encode_all(inner, puts)?;
    let mut encoded = encoded.into_iter();
    Ok(ops
        .into_iter()
        .map(|op| match op {
            BatchOp::Put(key, record) => PreparedOp {
                key,
                put: encoded.next().map(|bytes| (record, bytes)),
            },
            BatchOp::Delete(key) => PreparedOp { key, put: None },
        })
        .collect())
}

/// [`prepare`] for one put.
pub(crate) fn prepare_put(inner: &DbInner, key: Vec<u8>, record: Record) -> Result<PreparedOp> {
    let len = validate_put(&key, &record)?;
    let mut encoded = encode_all(inner, || std::iter::once((&record, len)))?;
    Ok(PreparedOp {
        key,
        put: encoded.pop().map(|bytes| (record, bytes)),
    })
}

/// The encodings of `puts` (each record with its length, as [`validate_put`] measured it),
/// their names given ids first. Encoded against the dictionary as it is, as most writes name
/// no new field; only when a name has no id are the names interned and the records encoded
/// again, so a write usually looks each name up once.
fn encode_all<'r, I>(inner: &DbInner, puts: impl Fn() -> I) -> Result<Vec<Vec<u8>>>
where
    I: Iterator<Item = (&'r Record, usize)> + Clone,
{
    let names = inner.names.current();
    let mut all_named = true;
    let encoded: Vec<Vec<u8>> = puts()
        .map(|(record, len)| {
            let (bytes, named) = record_codec::encode_measured(record, &names, len);
            all_named &= named;
            bytes
        })
        .collect();
    if all_named {
        return Ok(encoded);
    }
    let names = inner.names.intern(
        &inner.storage,
        puts().flat_map(|(record, _)| record.fields().iter().map(|(name, _)| name.as_str())),
    )?;
    Ok(puts()
        .map(|(record, len)| record_codec::encode_measured(record, &names, len).0)
        .collect())
}

/// Checks a put; returns the record's length, as [`record_codec::check_len`] measures it.
fn validate_put(key: &[u8], record: &Record) -> Result<usize> {
    validate_key(key)?;
    record.validate()?;
    record_codec::check_len(record)
}
