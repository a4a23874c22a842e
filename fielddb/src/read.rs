//! Reading one record: fetch it from `kv` and decode it, naming its key when it is corrupt.
//! Every path that reads records (get, the write path's old records, scans, index lookups, the
//! builder, verify) reports corruption through [`corrupt_at`], so messages agree.

use crate::encoding::record as record_codec;
use crate::error::{display_key, Error, Result};
use crate::record::Record;
use crate::storage::{Cf, Storage};

/// Reads and decodes the record at `key`, naming the key if it is corrupt.
pub(crate) fn read_record(storage: &Storage, key: &[u8]) -> Result<Option<Record>> {
    match storage.get(Cf::Kv, key)? {
        Some(bytes) => decode_at(key, &bytes).map(Some),
        None => Ok(None),
    }
}

/// Decodes the stored record `bytes` found at `key`.
pub(crate) fn decode_at(key: &[u8], bytes: &[u8]) -> Result<Record> {
    record_codec::decode(bytes).map_err(|e| corrupt_at(key, e))
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
