//! Reading one record: fetch it from `kv` and decode it, naming its key when it is corrupt.
//! Every path that reads records (get, the write path's old records, scans, index lookups, the
//! builder, verify) reports corruption through [`corrupt_at`], so messages agree.
//!
//! A record is decoded against the field-name dictionary as it is *after* the record was read
//! (or after the snapshot or iterator it was read through was made): a name is in the
//! dictionary before any record using it is written, so that table resolves every id.

use crate::encoding::names::NameTable;
use crate::encoding::record as record_codec;
use crate::error::{display_key, Error, Result};
use crate::inner::DbInner;
use crate::record::Record;
use crate::storage::Cf;

/// Reads and decodes the record at `key`, naming the key if it is corrupt.
pub(crate) fn read_record(inner: &DbInner, key: &[u8]) -> Result<Option<Record>> {
    match inner.storage.get(Cf::Kv, key)? {
        Some(bytes) => inner
            .names
            .with(|names| decode_at(key, &bytes, names))
            .map(Some),
        None => Ok(None),
    }
}

/// Decodes the stored record `bytes` found at `key`, against `names`.
pub(crate) fn decode_at(key: &[u8], bytes: &[u8], names: &NameTable) -> Result<Record> {
    record_codec::decode(bytes, names).map_err(|e| corrupt_at(key, e))
}

/// Prefixes a corruption message with the key it was found at.
pub(crate) fn corrupt_at(key: &[u8], error: Error) -> Error {
    match error {
        Error::Corruption(msg) => {
            Error::Corruption(format!("record at key {}: {msg}", display_key(key)))
        }
        other => other,
    }
}
