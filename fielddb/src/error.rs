//! The one error type of the crate, and the helpers that render keys and values in messages.
//!
//! Every variant carries the context a user needs to act on it: the key that is corrupt, the
//! field whose index is missing together with the indexes that do exist, the key that already
//! holds a unique value.

use crate::value::Value;

/// Everything that can go wrong in FieldDB.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// RocksDB reported an error.
    #[error("storage error: {0}")]
    Storage(#[from] rocksdb::Error),
    /// An operating-system I/O error outside RocksDB.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Bytes read from disk are not what FieldDB wrote.
    #[error("corruption: {0}")]
    Corruption(String),
    /// The caller passed something FieldDB cannot accept; nothing was changed.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The database on disk was written in a format this build does not read.
    #[error("unsupported format version {found}: this build of FieldDB reads version {supported}")]
    UnsupportedFormat {
        /// The version found on disk.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// No index exists on the field.
    #[error("no index on field `{field}`; indexes: {indexes}")]
    NoSuchIndex {
        /// The field that was asked for.
        field: String,
        /// The existing indexes with their states, for the message.
        indexes: String,
    },
    /// An index on the field exists already.
    #[error("an index on field `{0}` already exists")]
    IndexExists(String),
    /// The index exists but is still being built (or is being dropped).
    #[error("index on field `{field}` is not ready; indexes: {indexes}")]
    IndexNotReady {
        /// The field that was asked for.
        field: String,
        /// The existing indexes with their states and progress, for the message.
        indexes: String,
    },
    /// A write would give a unique index a second key for one value; nothing was written.
    #[error(
        "unique index on `{field}` already holds {value} at key {}",
        display_key(existing_key)
    )]
    UniqueViolation {
        /// The field of the unique index.
        field: String,
        /// The value that is taken.
        value: Value,
        /// The key that holds it.
        existing_key: Vec<u8>,
    },
    /// A background index build gave up; the index was removed.
    #[error("building the index on `{field}` failed: {reason}")]
    BuildFailed {
        /// The field of the index.
        field: String,
        /// Why it failed.
        reason: String,
    },
    /// A failed storage write earlier made this handle refuse writes until the database is reopened.
    #[error("writes are refused after an earlier failed write ({0}); reopen the database")]
    Poisoned(String),
    /// The database handle has shut down.
    #[error("the database is closed")]
    Closed,
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Renders a key for a message: printable ASCII as is, other bytes escaped, in double quotes.
pub fn display_key(key: &[u8]) -> String {
    format!("\"{}\"", key.escape_ascii())
}

/// Shorthand for `Err(Error::InvalidArgument(format!(...)))`.
macro_rules! invalid {
    ($($arg:tt)*) => {
        Err($crate::error::Error::InvalidArgument(format!($($arg)*)))
    };
}
pub(crate) use invalid;

/// Shorthand for `Err(Error::Corruption(format!(...)))`.
macro_rules! corrupt {
    ($($arg:tt)*) => {
        Err($crate::error::Error::Corruption(format!($($arg)*)))
    };
}
pub(crate) use corrupt;
