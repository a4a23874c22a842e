//! The JSON form of values, records and keys, shared by `--json` output, `put KEY {...}`,
//! JSON-lines import and export.
//!
//! | value       | JSON                                   |
//! |-------------|----------------------------------------|
//! | null, bool  | `null`, `true` / `false`               |
//! | int         | an integer                             |
//! | float       | a number with a fraction or exponent (`3.0`); ±infinity as `{"$float": "inf"}` / `"-inf"` |
//! | string      | a string                               |
//! | bytes       | `{"$base64": "..."}`                   |
//!
//! A key is a JSON string when it is UTF-8, else `{"$base64": "..."}`.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD as BASE64};
use base64::Engine as _;

/// Decoding accepts non-zero trailing bits (`"AB=="` as well as the canonical `"AA=="`), as
/// many encoders and JSON Schema's base64 pattern do; encoding is always canonical.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);
use fielddb::{Record, RecordView, Value, ValueRef};
use serde_json::{json, Map, Value as Json};

/// The JSON form of a value (see the table above).
pub fn value_to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => json!(i),
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => Json::Number(n),
            None if *f > 0.0 => json!({"$float": "inf"}),
            None => json!({"$float": "-inf"}),
        },
        Value::Str(s) => Json::String(s.to_string()),
        Value::Bytes(b) => json!({"$base64": BASE64.encode(b)}),
    }
}

/// A record as a JSON object of its fields, in field order.
pub fn record_to_json(record: &Record) -> Json {
    Json::Object(
        record
            .iter()
            .map(|(n, v)| (n.to_string(), value_to_json(v)))
            .collect(),
    )
}

/// A value that serializes to exactly the JSON of [`value_to_json`], written straight to the
/// output without building a `serde_json::Value` (the shell streams rows through it).
pub struct ValueJson<'a>(pub &'a Value);

/// A record that serializes to exactly the JSON of [`record_to_json`], streamed.
pub struct RecordJson<'a>(pub &'a Record);

/// A borrowed value that serializes as [`ValueJson`] does the same value owned.
pub struct ValueRefJson<'a>(pub ValueRef<'a>);

/// A record read in place that serializes as [`RecordJson`] does the same record owned.
pub struct RecordViewJson<'a>(pub RecordView<'a>);

/// A key that serializes to exactly the JSON of [`key_to_json`], streamed.
pub struct KeyJson<'a>(pub &'a [u8]);

fn tagged_string<S: serde::Serializer>(s: S, tag: &str, text: &str) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(tag, text)?;
    map.end()
}

impl serde::Serialize for ValueJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&ValueRefJson(self.0.as_value_ref()), s)
    }
}

impl serde::Serialize for ValueRefJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            ValueRef::Null => s.serialize_unit(),
            ValueRef::Bool(b) => s.serialize_bool(b),
            ValueRef::Int(i) => s.serialize_i64(i),
            ValueRef::Float(f) if f.is_finite() => s.serialize_f64(f),
            ValueRef::Float(f) if f > 0.0 => tagged_string(s, "$float", "inf"),
            ValueRef::Float(_) => tagged_string(s, "$float", "-inf"),
            ValueRef::Str(text) => s.serialize_str(text),
            ValueRef::Bytes(b) => tagged_string(s, "$base64", &BASE64.encode(b)),
        }
    }
}

impl serde::Serialize for RecordJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fields_json(
            s,
            self.0.len(),
            self.0.iter().map(|(n, v)| (n, v.as_value_ref())),
        )
    }
}

impl serde::Serialize for RecordViewJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fields_json(s, self.0.len(), self.0.iter())
    }
}

/// A record's fields as a JSON object, in order.
fn fields_json<'a, S: serde::Serializer>(
    s: S,
    len: usize,
    fields: impl Iterator<Item = (&'a str, ValueRef<'a>)>,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(len))?;
    for (name, value) in fields {
        map.serialize_entry(name, &ValueRefJson(value))?;
    }
    map.end()
}

impl serde::Serialize for KeyJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => tagged_string(s, "$base64", &BASE64.encode(self.0)),
        }
    }
}

/// A key as JSON: a string when UTF-8, else `{"$base64": ...}`.
pub fn key_to_json(key: &[u8]) -> Json {
    match std::str::from_utf8(key) {
        Ok(s) => Json::String(s.to_string()),
        Err(_) => json!({"$base64": BASE64.encode(key)}),
    }
}

/// A key as the shell prints it: the string when UTF-8, else `0x` hex.
pub fn key_to_text(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(s) => s.to_string(),
        Err(_) => format!(
            "0x{}",
            key.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

fn tagged<'a>(map: &'a Map<String, Json>, tag: &str) -> Option<&'a str> {
    (map.len() == 1).then(|| map.get(tag)?.as_str()).flatten()
}

/// The value a JSON field holds; the error names the field.
pub fn json_to_value(field: &str, json: &Json) -> Result<Value, String> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(f)) if n.is_f64() => Value::Float(f),
            _ => {
                return Err(format!(
                    "field `{field}`: {n} does not fit in a 64-bit integer"
                ))
            }
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Object(map) => {
            if let Some(b64) = tagged(map, "$base64") {
                Value::Bytes(
                    BASE64_LENIENT
                        .decode(b64)
                        .map_err(|e| format!("field `{field}`: bad base64: {e}"))?,
                )
            } else if let Some(f) = tagged(map, "$float") {
                match f {
                    "inf" => Value::Float(f64::INFINITY),
                    "-inf" => Value::Float(f64::NEG_INFINITY),
                    other => {
                        return Err(format!(
                            "field `{field}`: $float must be \"inf\" or \"-inf\", not {other:?}"
                        ))
                    }
                }
            } else {
                return Err(format!(
                    "field `{field}`: nested objects are not supported (only {{\"$base64\": ...}} and {{\"$float\": ...}})"
                ));
            }
        }
        Json::Array(_) => return Err(format!("field `{field}`: arrays are not supported")),
    })
}

/// A record from a JSON object of fields.
pub fn json_to_record(json: &Json) -> Result<Record, String> {
    let Json::Object(map) = json else {
        return Err("a record must be a JSON object of fields".into());
    };
    let mut record = Record::with_capacity(map.len());
    for (name, value) in map {
        record.push(name, json_to_value(name, value)?);
    }
    Ok(record)
}

/// A key from JSON: a string, a number (its text) or `{"$base64": ...}`.
pub fn json_to_key(json: &Json) -> Result<Vec<u8>, String> {
    match json {
        Json::String(s) => Ok(s.clone().into_bytes()),
        Json::Number(n) => Ok(n.to_string().into_bytes()),
        Json::Object(map) => match tagged(map, "$base64") {
            Some(b64) => BASE64_LENIENT
                .decode(b64)
                .map_err(|e| format!("key: bad base64: {e}")),
            None => Err("a key must be a string, a number or {\"$base64\": ...}".into()),
        },
        _ => Err("a key must be a string, a number or {\"$base64\": ...}".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>()
                .prop_filter("no NaN", |f| !f.is_nan())
                .prop_map(Value::Float),
            Just(Value::Float(f64::INFINITY)),
            Just(Value::Float(f64::NEG_INFINITY)),
            "\\PC{0,8}".prop_map(Value::from),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
        ]
    }

    proptest! {
        /// The streamed forms write exactly the bytes of the `serde_json::Value` forms they
        /// replaced in the shell's output.
        #[test]
        fn streamed_json_is_byte_identical_to_the_value_form(
            values in proptest::collection::vec(arb_value(), 0..6),
            key in proptest::collection::vec(any::<u8>(), 1..6),
        ) {
            let mut record = Record::new();
            for (i, v) in values.into_iter().enumerate() {
                record.push(format!("f{i}"), v);
            }
            prop_assert_eq!(
                serde_json::to_string(&RecordJson(&record)).unwrap(),
                record_to_json(&record).to_string()
            );
            prop_assert_eq!(
                serde_json::to_string(&KeyJson(&key)).unwrap(),
                key_to_json(&key).to_string()
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// A record read in place (`query_by_index_each`) writes exactly the JSON of the same
        /// record owned: what the shell streams for a query is what it printed before.
        #[test]
        fn a_record_read_in_place_writes_the_json_of_the_record(
            records in proptest::collection::vec(
                proptest::collection::vec(arb_value(), 0..6), 1..8),
            wanted in proptest::option::of(proptest::collection::vec(0usize..6, 1..4)),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let db = fielddb::FieldDb::open(dir.path()).unwrap();
            db.create_index(fielddb::IndexSpec::on("k")).unwrap().wait().unwrap();
            let mut stored = std::collections::BTreeMap::new();
            for (i, values) in records.into_iter().enumerate() {
                let mut record = Record::new().set("k", 1);
                for (f, v) in values.into_iter().enumerate() {
                    record.push(format!("f{f}"), v);
                }
                let key = format!("key{i}");
                db.put(&key, record.clone()).unwrap();
                stored.insert(key.into_bytes(), record);
            }
            let mut options = fielddb::QueryOptions::new();
            let mut wanted_names: Option<Vec<String>> = None;
            if let Some(wanted) = wanted {
                let mut names: Vec<String> = wanted.iter().map(|f| format!("f{f}")).collect();
                // Distinct, and in an order other than the records' own.
                names.sort();
                names.dedup();
                names.reverse();
                options = options.fields(names.clone());
                wanted_names = Some(names);
            }
            let mut seen = Vec::new();
            db.query_by_index_each("k", &fielddb::Query::eq(1), &options, |key, view| {
                seen.push((
                    key.to_vec(),
                    serde_json::to_string(&RecordViewJson(view)).unwrap(),
                    view.to_record(),
                ));
            })
            .unwrap();
            prop_assert_eq!(seen.len(), stored.len());
            for (key, json, copied) in seen {
                let mut record = stored[&key].clone();
                if let Some(names) = &wanted_names {
                    let mut only = Record::new();
                    for name in names {
                        if let Some(v) = record.get(name) {
                            only.push(name.clone(), v.clone());
                        }
                    }
                    record = only;
                }
                prop_assert_eq!(&json, &record_to_json(&record).to_string());
                prop_assert_eq!(&json, &serde_json::to_string(&RecordJson(&record)).unwrap());
                prop_assert_eq!(copied, record);
            }
        }
    }

    #[test]
    fn values_round_trip_through_json() {
        for v in [
            Value::Null,
            Value::Bool(true),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Float(3.0),
            Value::Float(-0.5),
            Value::Float(f64::INFINITY),
            Value::Float(f64::NEG_INFINITY),
            Value::Str("é\"".into()),
            Value::Bytes(vec![0, 1, 255]),
        ] {
            let back = json_to_value("f", &value_to_json(&v)).unwrap();
            assert_eq!(back, v);
            assert_eq!(back.type_name(), v.type_name());
        }
    }

    #[test]
    fn base64_with_trailing_bits_is_accepted() {
        let v = json_to_value("b", &json!({"$base64": "AB=="})).unwrap();
        assert_eq!(v, Value::Bytes(vec![0]));
        assert!(json_to_value("b", &json!({"$base64": "A"})).is_err());
    }

    #[test]
    fn unsupported_json_is_refused_with_the_field_name() {
        let err = json_to_value("tags", &json!([1, 2])).unwrap_err();
        assert!(err.contains("`tags`"));
        assert!(json_to_value("n", &json!(18446744073709551615u64)).is_err());
        assert!(json_to_value("o", &json!({"a": 1})).is_err());
    }
}
