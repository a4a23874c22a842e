//! The fuzz targets' view of FieldDB: the real source files of its byte formats (`encoding/`)
//! with the values, records, errors and queries they use, and of the shell's parser, compiled
//! without RocksDB. Only the `fielddb` and `fielddb_json` crate names are provided here.
#![allow(dead_code, unused_imports, unused_macros)]

extern crate self as fielddb;
// The shell's parser uses fielddb-json's lexer and condition parser, which need only
// `fielddb::{Query, Value}`; they are compiled in here under that crate name, with its
// `literal.rs`.
extern crate self as fielddb_json;
#[path = "../../fielddb-json/src/conditions.rs"]
pub mod conditions;
#[path = "../../fielddb-json/src/lexer.rs"]
pub mod lexer;
#[path = "../../fielddb-json/src/literal.rs"]
pub mod literal;
pub use conditions::{parse_conditions, token_value, Tokens};
pub use literal::{hex, parse_literal, parse_word, unhex};

// FieldDB's own files, unchanged: values (and their strings), records (owned and viewed in
// place), updates, errors, queries and `encoding/`, the bottom layer holding every byte format.
// None of them touches RocksDB.
#[path = "../../fielddb/src/encoding/mod.rs"]
pub mod encoding;
#[path = "../../fielddb/src/error.rs"]
pub mod error;
#[path = "../../fielddb/src/query.rs"]
pub mod query;
#[path = "../../fielddb/src/record.rs"]
pub mod record;
#[path = "../../fielddb/src/record_view.rs"]
pub mod record_view;
#[path = "../../fielddb/src/repeated_names.rs"]
mod repeated_names;
#[path = "../../fielddb/src/text.rs"]
pub mod text;
#[path = "../../fielddb/src/update.rs"]
pub mod update;
#[path = "../../fielddb/src/value.rs"]
pub mod value;
use encoding::{keycode, record as record_codec};
pub use encoding::index_entry::Covering;
pub use error::{Error, Result};
pub use query::{Page, Query, QueryOptions};
pub use record::Record;
pub use value::Value;

#[path = "../../fielddb-cli/src/command.rs"]
pub mod command;

/// Decodes a stored record, against no dictionary and against a small one; on success,
/// re-encoding and decoding again must give it back, and a record read in version 2 or 3 (the
/// versions written) must re-encode in that version to the very bytes read: the decoder accepts
/// one encoding per record and dictionary.
pub fn check_record_decoder(bytes: &[u8]) {
    use encoding::names::NameTable;
    let (small, _) = NameTable::default().extended(&["a", "b", "name", "city"]);
    for names in [NameTable::empty(), &small] {
        // A read of some fields refuses all that a read of the whole record refuses but the
        // content of other fields' values, and finds what it finds.
        let wanted = ["b".to_string(), "city".to_string()];
        let mut found: [Option<value::Value>; 2] = [None, None];
        let picked = record_codec::decode_fields_into(bytes, &wanted, names, &mut found);
        if let Ok(record) = record_codec::decode(bytes, names) {
            picked.expect("a record decoded whole decodes in part");
            assert_eq!(found, [record.get("b").cloned(), record.get("city").cloned()]);
            let again = match bytes.first() {
                Some(&3) => record_codec::encode(&record, names),
                _ => record_codec::encode_self_describing(&record),
            }
            .expect("a decoded record re-encodes");
            if matches!(bytes.first(), Some(&2) | Some(&3)) {
                assert_eq!(again, bytes, "a record re-encodes to other bytes");
            }
            assert_eq!(record_codec::decode(&again, names).expect("re-decodes"), record);
        }
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

/// Parses a shell command, and the text as the conditions of `GET /v1/query?where=`.
pub fn check_command_parser(text: &str) {
    let _ = command::parse(text);
    let _ = conditions::parse_conditions(text);
    for piece in lexer::split_commands(text) {
        let _ = command::parse(&piece);
    }
}
