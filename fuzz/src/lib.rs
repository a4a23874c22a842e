//! The fuzz targets' view of FieldDB: the real source files of the record codec, the keycode
//! and the shell's parser, compiled without RocksDB. The few crate paths those files use
//! (`crate::error`, `crate::catalog::IndexId`, the `fielddb` and `fielddb_json` crate names) are
//! provided here.
#![allow(dead_code, unused_imports, unused_macros)]

extern crate self as fielddb;
// The shell's `literal.rs` calls `fielddb_json::parse_word`; fielddb-json's `literal.rs` needs
// only `fielddb::Value`, so it is compiled in here under that crate name.
extern crate self as fielddb_json;
#[path = "../../fielddb-json/src/literal.rs"]
pub mod json_literal;
pub use json_literal::{hex, parse_literal as json_parse_literal, parse_word, unhex};

pub mod error {
    //! Stand-in for `fielddb/src/error.rs` with the variants the codecs construct.
    #[derive(Debug)]
    pub enum Error {
        Corruption(String),
        InvalidArgument(String),
    }
    pub type Result<T, E = Error> = std::result::Result<T, E>;
    macro_rules! invalid {
        ($($arg:tt)*) => { Err($crate::error::Error::InvalidArgument(format!($($arg)*))) };
    }
    pub(crate) use invalid;
    macro_rules! corrupt {
        ($($arg:tt)*) => { Err($crate::error::Error::Corruption(format!($($arg)*))) };
    }
    pub(crate) use corrupt;
}
pub use error::{Error, Result};

pub mod catalog {
    pub type IndexId = u32;
}

#[path = "../../fielddb/src/index/entry.rs"]
pub mod index_entry;
#[path = "../../fielddb/src/keycode.rs"]
pub mod keycode;
#[path = "../../fielddb/src/query.rs"]
pub mod query;
#[path = "../../fielddb/src/record.rs"]
pub mod record;
#[path = "../../fielddb/src/record_codec.rs"]
pub mod record_codec;
#[path = "../../fielddb/src/value.rs"]
pub mod value;
pub mod index {
    pub use crate::index_entry as entry;
}
pub use query::{Page, Query, QueryOptions};
pub use record::Record;
pub use value::Value;

#[path = "../../fielddb-cli/src/command.rs"]
pub mod command;
#[path = "../../fielddb-cli/src/lexer.rs"]
pub mod lexer;
#[path = "../../fielddb-cli/src/literal.rs"]
pub mod literal;

/// Decodes a stored record; on success, re-encoding and decoding again must give it back.
pub fn check_record_decoder(bytes: &[u8]) {
    if let Ok(record) = record_codec::decode(bytes) {
        let again = record_codec::encode(&record).expect("a decoded record re-encodes");
        assert_eq!(record_codec::decode(&again).expect("re-decodes"), record);
    }
}

/// Decodes a keycode value; on success, its encoding must be exactly the bytes it consumed,
/// unless the value is a number (decoding gives the canonical form of the number).
pub fn check_keycode_decoder(bytes: &[u8]) {
    if let Ok((value, used)) = keycode::decode_value(bytes) {
        assert!(used <= bytes.len());
        let again = keycode::encode_to_vec(&value);
        if !matches!(value, Value::Int(_) | Value::Float(_)) {
            assert_eq!(&again[..], &bytes[..used]);
        }
        let (back, used_again) = keycode::decode_value(&again).expect("re-decodes");
        assert_eq!(used_again, again.len());
        assert_eq!(back.cmp_order(&value), std::cmp::Ordering::Equal);
    }
}

/// Parses a shell command.
pub fn check_command_parser(text: &str) {
    let _ = command::parse(text);
    for piece in lexer::split_commands(text) {
        let _ = command::parse(&piece);
    }
}
