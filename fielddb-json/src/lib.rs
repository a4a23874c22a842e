//! The JSON form of FieldDB values, records and keys (`json`); value literals as the shell
//! and the server's query strings write them (`literal`); and the text form of commands'
//! tokens (`lexer`) and of conditions (`conditions`: `carrier = "UA" and dep_delay > 60`).
//! Shared by `fielddb-cli` and `fielddb-server` so both speak exactly the same JSON and read
//! exactly the same conditions.

pub mod conditions;
mod json;
pub mod lexer;
mod literal;
mod plan;

pub use conditions::{parse_conditions, token_value, Tokens};
pub use json::{
    json_to_key, json_to_record, json_to_value, key_to_json, key_to_text, record_to_json,
    value_to_json, KeyJson, RecordJson, RecordViewJson, ValueJson, ValueRefJson,
};
pub use literal::{hex, parse_literal, parse_word, unhex};
pub use plan::{include_json, plan_to_json, plan_to_text};
