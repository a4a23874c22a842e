//! `Query` (equality, range, prefix), `QueryOptions` (limit, cursor, order) and `Page`, the
//! shape of every paged result; plus the translation of a query into a range of encoded values.
//!
//! A query's meaning is defined once, as a range of `keycode` bytes: an index query scans exactly
//! that range, and a scan filter keeps exactly the values whose encoding falls in it, so the two
//! paths always agree. A range with one open end stays within the type of its other end: `> 30`
//! matches numbers above 30, not strings. A range open at both ends matches every value.

use std::ops::Bound;

use crate::encoding::{keycode, prefix_successor};
use crate::error::{invalid, Result};
use crate::value::Value;

/// A condition on one field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// The value equals this one (ints and floats compare as numbers: `3 == 3.0`).
    Eq(Value),
    /// The value lies between two bounds, each inclusive, exclusive or open.
    Range {
        /// The lower bound.
        lo: Bound<Value>,
        /// The upper bound.
        hi: Bound<Value>,
    },
    /// The value is a string (or bytes) starting with this string (or bytes).
    Prefix(Value),
}

impl Query {
    /// Values equal to `v`.
    pub fn eq(v: impl Into<Value>) -> Query {
        Query::Eq(v.into())
    }
    /// Values between two bounds.
    pub fn range(lo: Bound<Value>, hi: Bound<Value>) -> Query {
        Query::Range { lo, hi }
    }
    /// Values `>= lo` and `<= hi`.
    pub fn between(lo: impl Into<Value>, hi: impl Into<Value>) -> Query {
        Query::range(Bound::Included(lo.into()), Bound::Included(hi.into()))
    }
    /// Values `> v` (of v's type).
    pub fn gt(v: impl Into<Value>) -> Query {
        Query::range(Bound::Excluded(v.into()), Bound::Unbounded)
    }
    /// Values `>= v` (of v's type).
    pub fn ge(v: impl Into<Value>) -> Query {
        Query::range(Bound::Included(v.into()), Bound::Unbounded)
    }
    /// Values `< v` (of v's type).
    pub fn lt(v: impl Into<Value>) -> Query {
        Query::range(Bound::Unbounded, Bound::Excluded(v.into()))
    }
    /// Values `<= v` (of v's type).
    pub fn le(v: impl Into<Value>) -> Query {
        Query::range(Bound::Unbounded, Bound::Included(v.into()))
    }
    /// Strings (or bytes) starting with `p`.
    pub fn prefix(p: impl Into<Value>) -> Query {
        Query::Prefix(p.into())
    }

    /// The encoded values this query matches: `[lower, upper)`, `upper` `None` when open.
    pub(crate) fn encoded_bounds(&self) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
        let check = |v: &Value| -> Result<()> {
            if v.is_nan() {
                return invalid!("NaN cannot be compared; use a number");
            }
            Ok(())
        };
        match self {
            Query::Eq(v) => {
                check(v)?;
                let enc = keycode::encode_to_vec(v);
                let upper = prefix_successor(&enc);
                Ok((enc, upper))
            }
            Query::Prefix(p) => {
                let enc = keycode::encode_prefix(p)?;
                let upper = prefix_successor(&enc);
                Ok((enc, upper))
            }
            Query::Range { lo, hi } => {
                let type_tag = |v: &Value| keycode::encode_to_vec(v)[0];
                let lower = match lo {
                    Bound::Included(v) => {
                        check(v)?;
                        keycode::encode_to_vec(v)
                    }
                    Bound::Excluded(v) => {
                        check(v)?;
                        prefix_successor(&keycode::encode_to_vec(v)).unwrap_or_default()
                    }
                    Bound::Unbounded => match hi {
                        Bound::Included(v) | Bound::Excluded(v) => vec![type_tag(v)],
                        Bound::Unbounded => Vec::new(),
                    },
                };
                let upper = match hi {
                    Bound::Included(v) => {
                        check(v)?;
                        prefix_successor(&keycode::encode_to_vec(v))
                    }
                    Bound::Excluded(v) => {
                        check(v)?;
                        Some(keycode::encode_to_vec(v))
                    }
                    Bound::Unbounded => match lo {
                        Bound::Included(v) | Bound::Excluded(v) => Some(vec![type_tag(v) + 1]),
                        Bound::Unbounded => None,
                    },
                };
                Ok((lower, upper))
            }
        }
    }

    /// A compiled form for testing many values (the scan filter).
    pub(crate) fn matcher(&self) -> Result<Matcher> {
        let (lower, upper) = self.encoded_bounds()?;
        Ok(Matcher { lower, upper })
    }
}

/// A query compiled to its range of encoded values.
pub(crate) struct Matcher {
    lower: Vec<u8>,
    upper: Option<Vec<u8>>,
}

impl Matcher {
    pub(crate) fn matches(&self, value: &Value) -> bool {
        let enc = keycode::encode_to_vec(value);
        enc >= self.lower && self.upper.as_ref().is_none_or(|u| enc < *u)
    }
}

/// Paging, order and the fields wanted, for queries.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    pub(crate) limit: Option<usize>,
    pub(crate) start_after: Option<Vec<u8>>,
    pub(crate) reverse: bool,
    pub(crate) fields: Option<Vec<String>>,
}

impl QueryOptions {
    /// No limit, from the start, ascending.
    pub fn new() -> Self {
        QueryOptions::default()
    }
    /// Return at most `n` rows; `Page::next` then tells where to resume.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }
    /// Resume after the cursor returned as `Page::next` by the previous page.
    pub fn start_after(mut self, cursor: impl Into<Vec<u8>>) -> Self {
        self.start_after = Some(cursor.into());
        self
    }
    /// Descending order.
    pub fn reverse(mut self, reverse: bool) -> Self {
        self.reverse = reverse;
        self
    }
    /// Return only these fields of each record, in this order (a record lacking one has it
    /// absent). Only those fields are decoded; when the index holds them all (its own fields,
    /// and those it includes, [`IndexSpec::include`]) no record is read at all.
    ///
    /// [`IndexSpec::include`]: crate::IndexSpec::include
    pub fn fields<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.fields = Some(names.into_iter().map(Into::into).collect());
        self
    }
    /// The most rows to return, if set.
    pub fn max_rows(&self) -> Option<usize> {
        self.limit
    }
    /// The cursor to resume after, if set.
    pub fn cursor(&self) -> Option<&[u8]> {
        self.start_after.as_deref()
    }
    /// Whether the order is descending.
    pub fn is_reverse(&self) -> bool {
        self.reverse
    }
    /// The fields asked for, if only some are.
    pub fn wanted_fields(&self) -> Option<&[String]> {
        self.fields.as_deref()
    }

    /// Refuses a list of wanted fields that is empty or names a field twice.
    pub(crate) fn check_fields(&self) -> Result<()> {
        let Some(fields) = &self.fields else {
            return Ok(());
        };
        if fields.is_empty() {
            return invalid!("a query asks for at least one field");
        }
        for (i, name) in fields.iter().enumerate() {
            if name.is_empty() {
                return invalid!("a query asks for fields by name; got an empty name");
            }
            if fields[..i].contains(name) {
                return invalid!("a query asks for the field `{name}` twice");
            }
        }
        Ok(())
    }
}

/// The position of the row (`key`, whose indexed field holds `value`) in an index query's
/// order: the cursor a page ending at that row returns. Positions of rows compare, as bytes,
/// in the query's (value, key) order, so pages from several databases (the shards of a cluster)
/// merge by it and one cursor resumes all of them.
pub fn index_position(value: &Value, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + key.len());
    keycode::encode_value(value, &mut out);
    out.extend_from_slice(key);
    out
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows of this page, in order.
    pub rows: Vec<T>,
    /// Where the next page starts (pass it to `QueryOptions::start_after` or
    /// `ScanOptions::start_after`), or `None` when this page is the last one. For a scan it is
    /// the last key returned; for an index query it is an opaque position in the index.
    pub next: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_open_end_stays_within_the_type() {
        let m = Query::gt(30).matcher().unwrap();
        assert!(m.matches(&Value::Int(31)));
        assert!(m.matches(&Value::Float(30.5)));
        assert!(!m.matches(&Value::Int(30)));
        assert!(!m.matches(&Value::Str("zz".into())));
        let m = Query::le("m").matcher().unwrap();
        assert!(m.matches(&Value::Str("m".into())));
        assert!(m.matches(&Value::from("")));
        assert!(!m.matches(&Value::Int(1)));
    }

    #[test]
    fn nan_bounds_are_refused() {
        assert!(Query::eq(f64::NAN).encoded_bounds().is_err());
        assert!(Query::between(0, f64::NAN).encoded_bounds().is_err());
        assert!(Query::prefix(3).encoded_bounds().is_err());
    }

    #[test]
    fn equality_spans_ints_and_floats() {
        let m = Query::eq(3).matcher().unwrap();
        assert!(m.matches(&Value::Float(3.0)));
        assert!(!m.matches(&Value::Float(3.5)));
    }
}
