//! `Value`: the typed content of one field, and its conversions from ordinary Rust types;
//! `ValueRef`: the same content borrowed from where it lies (a stored record read in place).
//!
//! Ints and floats are one numeric domain when values are compared (`3 == 3.0`), as they are in
//! index order (see `keycode`). The derived `PartialEq` compares variants structurally; use
//! [`Value::cmp_order`] for the index order.

use std::cmp::Ordering;
use std::fmt;

use crate::text::Text;

/// The value of one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (distinct from an absent field).
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float. NaN is refused by writes and queries: it has no place in the order.
    Float(f64),
    /// A UTF-8 string (held inline up to 24 bytes, see [`Text`]).
    Str(Text),
    /// Arbitrary bytes.
    Bytes(Vec<u8>),
}

impl Value {
    /// The name of the value's type, as used in messages and by the CLI.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
        }
    }

    /// True for a float NaN, which FieldDB refuses to store or query.
    pub fn is_nan(&self) -> bool {
        matches!(self, Value::Float(f) if f.is_nan())
    }

    /// The integer, if this is an `Int`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number as f64, if this is an `Int` or a `Float`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The string, if this is a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if this is `Bytes`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The boolean, if this is a `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Compares two values in index order: null < bool < number < string < bytes, ints and
    /// floats compared exactly as numbers (`Int(3)` equals `Float(3.0)`). NaN sorts after every
    /// other number; FieldDB never stores it.
    pub fn cmp_order(&self, other: &Value) -> Ordering {
        compare_values(self, other)
    }

    /// The value borrowed: a string's or bytes' content is not copied.
    pub fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Str(s) => ValueRef::Str(s),
            Value::Bytes(b) => ValueRef::Bytes(b),
        }
    }
}

/// The value of one field, borrowed from the bytes it was read from (see
/// [`RecordView`](crate::RecordView)): the cases of [`Value`], with a string's or bytes'
/// content left where it lies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// No value (distinct from an absent field).
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A UTF-8 string.
    Str(&'a str),
    /// Arbitrary bytes.
    Bytes(&'a [u8]),
}

impl<'a> ValueRef<'a> {
    /// The owned value, copying a string's or bytes' content.
    #[inline(always)]
    pub fn to_value(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Str(s) => Value::Str(Text::from(s)),
            ValueRef::Bytes(b) => Value::Bytes(b.to_vec()),
        }
    }

    /// The integer, if this is an `Int`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            ValueRef::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The string, if this is a `Str`, borrowed for as long as the bytes it lies in.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            ValueRef::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => {
                write!(f, "0x")?;
                for byte in b {
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(i64::from(v))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl TryFrom<u64> for Value {
    type Error = std::num::TryFromIntError;
    /// An `Int`, when `v` fits in an i64.
    fn try_from(v: u64) -> Result<Self, Self::Error> {
        i64::try_from(v).map(Value::Int)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(Text::from(v))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(Text::from(v))
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Str(Text::from(v))
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(v.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for Value {
    fn from(v: &[u8; N]) -> Self {
        Value::Bytes(v.to_vec())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl From<()> for Value {
    fn from(_: ()) -> Self {
        Value::Null
    }
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) => 2,
        Value::Str(_) => 3,
        Value::Bytes(_) => 4,
    }
}

/// Compares two values in index order, without encoding them.
pub(crate) fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => compare_floats(*x, *y),
        (Value::Int(i), Value::Float(f)) => compare_int_float(*i, *f),
        (Value::Float(f), Value::Int(i)) => compare_int_float(*i, *f).reverse(),
        (Value::Str(x), Value::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        _ => type_rank(a).cmp(&type_rank(b)),
    }
}

fn compare_floats(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        // Neither is NaN: partial_cmp is total here, and treats -0.0 == +0.0.
        (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

fn compare_int_float(i: i64, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Less;
    }
    // Rounding i to the nearest f64 is monotone, so a strict order between the rounded value
    // and f is the order between i and f; when they tie, f is integral and fits in an i128.
    match compare_floats(i as f64, f) {
        Ordering::Equal => i128::from(i).cmp(&(f as i128)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_pick_the_natural_variant() {
        assert_eq!(Value::from(7u8), Value::Int(7));
        assert_eq!(Value::from(-7i32), Value::Int(-7));
        assert_eq!(Value::from(1.5f32), Value::Float(1.5));
        assert_eq!(Value::from("a"), Value::Str("a".into()));
        assert_eq!(Value::from(b"ab"), Value::Bytes(b"ab".to_vec()));
        assert_eq!(Value::from(None::<i64>), Value::Null);
        assert_eq!(Value::from(Some(true)), Value::Bool(true));
        assert!(Value::try_from(u64::MAX).is_err());
        assert_eq!(Value::try_from(5u64).unwrap(), Value::Int(5));
    }

    #[test]
    fn display_is_readable() {
        assert_eq!(Value::Bytes(vec![0, 255]).to_string(), "0x00ff");
        assert_eq!(Value::Str("a\"b".into()).to_string(), "\"a\\\"b\"");
        assert_eq!(Value::Float(3.0).to_string(), "3.0");
    }
}
