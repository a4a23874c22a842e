//! The JSON form of FieldDB values, records and keys (`json`), and value literals as the shell
//! and the server's query strings write them (`literal`). Shared by `fielddb-cli` and
//! `fielddb-server` so both speak exactly the same JSON.

mod json;
mod literal;

pub use json::{
    json_to_key, json_to_record, json_to_value, key_to_json, key_to_text, record_to_json,
    value_to_json,
};
pub use literal::{hex, parse_literal, parse_word, unhex};
