//! The Raft group's types: what a log entry carries ([`Request`]), what applying it answers
//! ([`Response`]), and openraft's type configuration for FieldDB.
//!
//! A request is serialized with serde (bincode on the wire and in the log store: `wire`); the
//! FieldDB command inside it is kept in FieldDB's own byte format (`fielddb::Command::encode`),
//! so the state machine decodes exactly what the library defines.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One entry of the log: a FieldDB command, who sent it, and when the leader took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// `fielddb::Command::encode` bytes, or empty for an entry that only expires sessions.
    pub command: Vec<u8>,
    /// The client's session and the request's number in it, for de-duplicating retries.
    pub session: Option<ClientRequest>,
    /// Milliseconds since the Unix epoch on the leader when it proposed the entry: the only
    /// clock the state machine knows (idle sessions expire by it, never by a replica's clock).
    pub stamp_ms: u64,
}

/// A client's request number within its session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRequest {
    /// The client's id (`Fielddb-Client`).
    pub client: String,
    /// The request's number, increasing per client (`Fielddb-Request`).
    pub serial: u64,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.session {
            Some(s) => write!(
                f,
                "request {}#{} ({} bytes)",
                s.client,
                s.serial,
                self.command.len()
            ),
            None => write!(f, "request ({} bytes)", self.command.len()),
        }
    }
}

/// What applying an entry answered: the same on every replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// Done, nothing to tell.
    Done,
    /// A delete: whether there was a record.
    Existed(bool),
    /// An append: the record as written, in FieldDB's record encoding.
    Record(Vec<u8>),
    /// The command failed the same way on every replica.
    Failed(Failure),
    /// A retry of a request already applied whose answer is no longer kept.
    Stale,
}

openraft::declare_raft_types!(
    /// openraft's types for a FieldDB group: node ids are u64, a node is its address.
    pub TypeConfig:
        D = Request,
        R = Response,
        NodeId = u64,
        Node = openraft::BasicNode,
);

/// A node's id.
pub type NodeId = u64;
/// A log id of this group.
pub type LogId = openraft::type_config::alias::LogIdOf<TypeConfig>;

/// A command's own failure, as the log's answer carries it: enough to give the client the same
/// error a single node gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Failure {
    /// `fielddb::Error::InvalidArgument`.
    InvalidArgument(String),
    /// `fielddb::Error::NoSuchIndex`.
    NoSuchIndex {
        /// The field asked for.
        field: String,
        /// The indexes there are.
        indexes: String,
    },
    /// `fielddb::Error::IndexExists`.
    IndexExists(String),
    /// `fielddb::Error::UniqueViolation`.
    UniqueViolation {
        /// The indexed field.
        field: String,
        /// The value, as a one-field record in FieldDB's encoding.
        value: Vec<u8>,
        /// The key that holds it.
        existing_key: Vec<u8>,
    },
    /// Anything else, by its code and message (a log entry that does not decode).
    Other {
        /// `fielddb::Error::code`.
        code: String,
        /// The message.
        message: String,
    },
    /// `fielddb::Error::NotFound` (after the variants above, so they keep their encoding).
    NotFound(Vec<u8>),
    /// `fielddb::Error::IndexNotReady` (a shard's read; new variants go last).
    IndexNotReady {
        /// The field asked for.
        field: String,
        /// The indexes there are, with their states.
        indexes: String,
    },
}

impl Failure {
    /// The failure of `error`.
    pub fn from_error(error: &fielddb::Error) -> Failure {
        use fielddb::Error as E;
        match error {
            E::InvalidArgument(message) => Failure::InvalidArgument(message.clone()),
            E::NoSuchIndex { field, indexes } => Failure::NoSuchIndex {
                field: field.clone(),
                indexes: indexes.clone(),
            },
            E::IndexExists(field) => Failure::IndexExists(field.clone()),
            E::NotFound(key) => Failure::NotFound(key.clone()),
            E::IndexNotReady { field, indexes } => Failure::IndexNotReady {
                field: field.clone(),
                indexes: indexes.clone(),
            },
            E::UniqueViolation {
                field,
                value,
                existing_key,
            } => match fielddb::encode_record(&fielddb::Record::new().set("v", value.clone())) {
                Ok(value) => Failure::UniqueViolation {
                    field: field.clone(),
                    value,
                    existing_key: existing_key.clone(),
                },
                Err(_) => Failure::Other {
                    code: error.code().into(),
                    message: error.to_string(),
                },
            },
            other => Failure::Other {
                code: other.code().into(),
                message: other.to_string(),
            },
        }
    }

    /// The error a single node would have returned.
    pub fn into_error(self) -> fielddb::Error {
        use fielddb::Error as E;
        match self {
            Failure::InvalidArgument(message) => E::InvalidArgument(message),
            Failure::NoSuchIndex { field, indexes } => E::NoSuchIndex { field, indexes },
            Failure::IndexExists(field) => E::IndexExists(field),
            Failure::UniqueViolation {
                field,
                value,
                existing_key,
            } => {
                let value = fielddb::decode_record(&value)
                    .ok()
                    .and_then(|r| r.get("v").cloned())
                    .unwrap_or(fielddb::Value::Null);
                E::UniqueViolation {
                    field,
                    value,
                    existing_key,
                }
            }
            Failure::Other { message, .. } => E::Corruption(message),
            Failure::NotFound(key) => E::NotFound(key),
            Failure::IndexNotReady { field, indexes } => E::IndexNotReady { field, indexes },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_gives_back_the_error_a_single_node_would_have_returned() {
        let errors = [
            fielddb::Error::InvalidArgument("bad".into()),
            fielddb::Error::NotFound(b"ada".to_vec()),
            fielddb::Error::IndexExists("city".into()),
            fielddb::Error::IndexNotReady {
                field: "city".into(),
                indexes: "city (building 40%)".into(),
            },
        ];
        for error in errors {
            let back = Failure::from_error(&error).into_error();
            assert_eq!(
                (back.code(), back.to_string()),
                (error.code(), error.to_string())
            );
        }
    }
}
