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
    /// The storage engine (RocksDB) reported an error.
    #[error("storage error: {0}")]
    Storage(StorageError),
    /// An operating-system I/O error outside RocksDB.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Bytes read from disk are not what FieldDB wrote.
    #[error("corruption: {0}")]
    Corruption(String),
    /// The caller passed something FieldDB cannot accept; nothing was changed.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The operation needs a record at the key, and there is none; nothing was changed.
    #[error("no record at key {}", display_key(.0))]
    NotFound(Vec<u8>),
    /// The database on disk was written in a format this build does not read.
    #[error(
        "unsupported format version {found}: this build of FieldDB reads versions 1 to {supported}"
    )]
    UnsupportedFormat {
        /// The version found on disk.
        found: u32,
        /// The newest version this build reads (and the one it writes).
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

impl Error {
    /// A stable, machine-readable name for the kind of error, shared by the CLI's `--json`
    /// mode, the server's error bodies and the cluster. One table, here:
    ///
    /// | code                 | variant             |
    /// |----------------------|---------------------|
    /// | `storage`            | `Storage`           |
    /// | `io`                 | `Io`                |
    /// | `corruption`         | `Corruption`        |
    /// | `invalid_argument`   | `InvalidArgument`   |
    /// | `not_found`          | `NotFound`          |
    /// | `unsupported_format` | `UnsupportedFormat` |
    /// | `no_such_index`      | `NoSuchIndex`       |
    /// | `index_exists`       | `IndexExists`       |
    /// | `index_not_ready`    | `IndexNotReady`     |
    /// | `unique_violation`   | `UniqueViolation`   |
    /// | `build_failed`       | `BuildFailed`       |
    /// | `unavailable`        | `Poisoned`, `Closed`: the handle takes no more writes |
    pub fn code(&self) -> &'static str {
        match self {
            Error::Storage(_) => "storage",
            Error::Io(_) => "io",
            Error::Corruption(_) => "corruption",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::NotFound(_) => "not_found",
            Error::UnsupportedFormat { .. } => "unsupported_format",
            Error::NoSuchIndex { .. } => "no_such_index",
            Error::IndexExists(_) => "index_exists",
            Error::IndexNotReady { .. } => "index_not_ready",
            Error::UniqueViolation { .. } => "unique_violation",
            Error::BuildFailed { .. } => "build_failed",
            Error::Poisoned(_) | Error::Closed => "unavailable",
        }
    }

    /// True when the error follows from the command and the database's logical content alone,
    /// so every replica applying the same command to the same content gets the same error: a
    /// bad argument, a unique violation, a missing or existing index.  False when it comes from
    /// this machine (storage, I/O, corruption of its files, a closed or poisoned handle): then
    /// another replica may well succeed, and a replicated apply must not treat it as the
    /// command's answer.
    pub fn is_deterministic(&self) -> bool {
        match self {
            Error::InvalidArgument(_)
            | Error::NotFound(_)
            | Error::NoSuchIndex { .. }
            | Error::IndexExists(_)
            | Error::UniqueViolation { .. } => true,
            // Depends on how far a background build has come on this machine.
            Error::IndexNotReady { .. } => false,
            Error::Storage(_)
            | Error::Io(_)
            | Error::Corruption(_)
            | Error::UnsupportedFormat { .. }
            | Error::BuildFailed { .. }
            | Error::Poisoned(_)
            | Error::Closed => false,
        }
    }
}

/// An error the storage engine reported, kept as its message: RocksDB's own error type stays
/// inside the `storage` module, which converts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError {
    message: String,
}

impl StorageError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        StorageError {
            message: message.into(),
        }
    }

    /// The storage engine's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StorageError {}

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
