//! `Record`: an ordered list of named, typed fields, and the limits a stored record must respect.
//!
//! A `Record` is a plain value the caller builds freely; it is checked against the limits below
//! when it is written ([`Record::validate`]), so a bad record is refused whole and changes nothing.

use crate::error::{invalid, Result};
use crate::repeated_names::RepeatedNames;
use crate::value::Value;

/// A field's name as a record holds it: up to 24 bytes inline, so decoding a record (a query's
/// rows, a get) allocates nothing for its names.
pub(crate) type FieldName = compact_str::CompactString;

/// The longest key FieldDB accepts, in bytes.
pub const MAX_KEY_LEN: usize = 8 * 1024;
/// The longest field name FieldDB accepts, in bytes.
pub const MAX_FIELD_NAME_LEN: usize = 1024;
/// The most fields one record may have.
pub const MAX_FIELDS: usize = 65_536;
/// The largest encoded record FieldDB accepts, in bytes.
pub const MAX_RECORD_LEN: usize = 64 * 1024 * 1024;

/// An ordered list of named, typed fields.
///
/// ```
/// use fielddb::{Record, Value};
/// let r = Record::new().set("name", "Ada").set("age", 36);
/// assert_eq!(r.get("age"), Some(&Value::Int(36)));
/// assert_eq!(r.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    fields: Vec<(FieldName, Value)>,
}

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Record { fields: Vec::new() }
    }

    /// An empty record with room for `fields` fields, so that building a wide record field by
    /// field (an import's rows) allocates once instead of growing and copying.
    ///
    /// ```
    /// use fielddb::Record;
    /// let mut r = Record::with_capacity(2);
    /// r.push("a", 1);
    /// r.push("b", "x");
    /// assert_eq!(r, Record::new().set("a", 1).set("b", "x"));
    /// ```
    pub fn with_capacity(fields: usize) -> Self {
        Record {
            fields: Vec::with_capacity(fields),
        }
    }

    /// Sets a field, replacing its value in place if the name is present, else appending it.
    ///
    /// Names are taken as `AsRef<str>` and copied into the record (inline, without allocating,
    /// up to 24 bytes), so a `&str` name costs no `String`.
    pub fn set(mut self, name: impl AsRef<str>, value: impl Into<Value>) -> Self {
        self.insert(name, value);
        self
    }

    /// Sets a field in place; returns the previous value if the name was present.
    pub fn insert(&mut self, name: impl AsRef<str>, value: impl Into<Value>) -> Option<Value> {
        let name = FieldName::from(name.as_ref());
        let value = value.into();
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                self.fields.push((name, value));
                None
            }
        }
    }

    /// Appends a field without looking for an existing one (fast for wide records). A record
    /// with a duplicate name is refused when written.
    pub fn push(&mut self, name: impl AsRef<str>, value: impl Into<Value>) {
        self.fields
            .push((FieldName::from(name.as_ref()), value.into()));
    }

    /// Appends `value` to the field `name`: a string to a string field, bytes to a bytes field;
    /// a missing field is created holding `value`. Anything else (another type on either side)
    /// is `InvalidArgument`, and the record is left as it was.
    ///
    /// ```
    /// use fielddb::{Record, Value};
    /// let mut r = Record::new().set("log", "a");
    /// r.append_to("log", "b").unwrap();
    /// r.append_to("new", "c").unwrap();
    /// assert_eq!(r.get("log"), Some(&Value::from("ab")));
    /// assert!(r.append_to("log", 1).is_err());
    /// ```
    pub fn append_to(&mut self, name: &str, value: impl Into<Value>) -> Result<()> {
        let value = value.into();
        if !matches!(value, Value::Str(_) | Value::Bytes(_)) {
            return invalid!(
                "only a string or bytes can be appended, not {} ({value})",
                value.type_name()
            );
        }
        let Some((_, slot)) = self.fields.iter_mut().find(|(n, _)| n == name) else {
            self.fields.push((FieldName::from(name), value));
            return Ok(());
        };
        match (slot, value) {
            (Value::Str(old), Value::Str(tail)) => old.push_str(&tail),
            (Value::Bytes(old), Value::Bytes(tail)) => old.extend_from_slice(&tail),
            (old, value) => {
                return invalid!(
                    "cannot append {} to field `{name}`, which holds {}",
                    value.type_name(),
                    old.type_name()
                )
            }
        }
        Ok(())
    }

    /// Removes a field; returns its value if it was present.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let pos = self.fields.iter().position(|(n, _)| n == name)?;
        Some(self.fields.remove(pos).1)
    }

    /// The value of a field, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the record has no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The field names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(n, _)| n.as_str())
    }

    /// Checks the record against what FieldDB stores: field names non-empty, at most
    /// [`MAX_FIELD_NAME_LEN`] bytes and unique; at most [`MAX_FIELDS`] fields; no NaN float.
    pub fn validate(&self) -> Result<()> {
        if self.fields.len() > MAX_FIELDS {
            return invalid!(
                "a record has {} fields; the limit is {MAX_FIELDS}",
                self.fields.len()
            );
        }
        let mut names = RepeatedNames::for_count(self.fields.len());
        for (name, value) in &self.fields {
            if name.is_empty() {
                return invalid!("field names must not be empty");
            }
            if name.len() > MAX_FIELD_NAME_LEN {
                return invalid!(
                    "field name of {} bytes is over the limit of {MAX_FIELD_NAME_LEN}",
                    name.len()
                );
            }
            if let Some(name) = names.insert(name) {
                return invalid!("field `{name}` appears twice in one record");
            }
            if value.is_nan() {
                return invalid!("field `{name}` is NaN, which has no place in index order");
            }
        }
        if let Some(name) = names.finish() {
            return invalid!("field `{name}` appears twice in one record");
        }
        Ok(())
    }

    pub(crate) fn fields(&self) -> &[(FieldName, Value)] {
        &self.fields
    }

    pub(crate) fn from_fields_unchecked(fields: Vec<(FieldName, Value)>) -> Self {
        Record { fields }
    }

    /// The fields of this record among `wanted`, in the order of `wanted` (a query asking for
    /// some fields, `QueryOptions::fields`); `wanted` holds no name twice.
    pub(crate) fn project(mut self, wanted: &[String]) -> Record {
        let mut fields = Vec::with_capacity(wanted.len());
        for name in wanted {
            if let Some(at) = self.fields.iter().position(|(n, _)| n == name) {
                fields.push(self.fields.swap_remove(at));
            }
        }
        Record { fields }
    }
}

impl<N: AsRef<str>, V: Into<Value>> FromIterator<(N, V)> for Record {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Record {
            fields: iter
                .into_iter()
                .map(|(n, v)| (FieldName::from(n.as_ref()), v.into()))
                .collect(),
        }
    }
}

impl<'a> IntoIterator for &'a Record {
    type Item = (&'a str, &'a Value);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a Value)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// Checks a user key: non-empty and at most [`MAX_KEY_LEN`] bytes.
pub(crate) fn validate_key(key: &[u8]) -> Result<()> {
    if key.is_empty() {
        return invalid!("keys must not be empty");
    }
    if key.len() > MAX_KEY_LEN {
        return invalid!(
            "key of {} bytes is over the limit of {MAX_KEY_LEN}",
            key.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_in_place_and_keeps_order() {
        let r = Record::new().set("a", 1).set("b", 2).set("a", 3);
        let names: Vec<_> = r.names().collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(r.get("a"), Some(&Value::Int(3)));
    }

    #[test]
    fn validate_refuses_bad_names_and_nan() {
        let mut dup = Record::new();
        dup.push("x", 1);
        dup.push("x", 2);
        assert!(dup.validate().is_err());
        assert!(Record::new().set("", 1).validate().is_err());
        assert!(Record::new()
            .set("n".repeat(MAX_FIELD_NAME_LEN + 1), 1)
            .validate()
            .is_err());
        assert!(Record::new().set("f", f64::NAN).validate().is_err());
        assert!(Record::new().set("f", f64::INFINITY).validate().is_ok());
    }

    #[test]
    fn keys_must_be_non_empty_and_bounded() {
        assert!(validate_key(b"").is_err());
        assert!(validate_key(&vec![b'k'; MAX_KEY_LEN]).is_ok());
        assert!(validate_key(&vec![b'k'; MAX_KEY_LEN + 1]).is_err());
    }
}
