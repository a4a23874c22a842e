//! Helpers shared by the scenario files: a seeded random generator and model comparisons.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::ops::Bound;

use fielddb::{Query, Value};

/// SplitMix64: small, seeded, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
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

/// The model of a query: does `value` match it? Written from the documented semantics, not
/// from the encoding.
pub fn model_matches(query: &Query, value: &Value) -> bool {
    match query {
        Query::Eq(v) => value.cmp_order(v) == Ordering::Equal,
        Query::Prefix(p) => match (p, value) {
            (Value::Str(p), Value::Str(s)) => s.starts_with(p.as_str()),
            (Value::Bytes(p), Value::Bytes(b)) => b.starts_with(p),
            _ => false,
        },
        Query::Range { lo, hi } => {
            let above = match lo {
                Bound::Included(b) => value.cmp_order(b) != Ordering::Less,
                Bound::Excluded(b) => value.cmp_order(b) == Ordering::Greater,
                Bound::Unbounded => match hi {
                    Bound::Included(h) | Bound::Excluded(h) => type_rank(value) >= type_rank(h),
                    Bound::Unbounded => true,
                },
            };
            let below = match hi {
                Bound::Included(b) => value.cmp_order(b) != Ordering::Greater,
                Bound::Excluded(b) => value.cmp_order(b) == Ordering::Less,
                Bound::Unbounded => match lo {
                    Bound::Included(l) | Bound::Excluded(l) => type_rank(value) <= type_rank(l),
                    Bound::Unbounded => true,
                },
            };
            above && below
        }
    }
}
