//! The in-memory side of a build by ingestion (`index::ingest`): the entries one walking thread
//! computes, gathered in a [`SortBuffer`] and sorted there, and the merge of several sorted
//! buffers into one run in entry order ([`merged`]), which the build writes as table files.
//!
//! An entry is `id ‖ encoded values ‖ user key` (`encoding::index_entry`). Comparing whole
//! entries byte by byte was a fifth of a build's time: entries of one value share their first
//! bytes, so each comparison ran on into the user keys. Two facts make that unneeded:
//! - a thread walks its records in key order, so its entries of one value arrive in key order,
//!   and a stable sort on the values alone keeps them so;
//! - the threads walk ranges of keys in order, so of two buffers' entries of one value, the
//!   earlier buffer's come first.
//!
//! (Both rest on the values' encoding, `encoding::keycode`, being prefix-free: no encoded values
//! begin another's, so the order of two entries of different values is their values' order.)
//! So entries are compared by their values, first by the values' first 17 bytes kept in the
//! [`Item`] (no read of the buffer at all), then by range number, and otherwise stay in the
//! order pushed.
//!
//! Those kept bytes also allow a radix sort: when the buffer's entries differ in few of them
//! (a field of few values, or of values alike in most bytes), a counting pass per differing
//! byte, least significant first, sorts stably without comparing; entries alike in all kept
//! bytes but with longer values are then compared among themselves.

use std::cmp::Ordering;

use crate::encoding::index_entry;
use crate::options::MAX_BUILD_THREADS;
use crate::prefetch::prefetch;

/// How many bytes of an entry's values an [`Item`] holds in its `head`; with its `tail`, the
/// byte after them, it compares values of up to [`KEPT_LEN`] bytes without reading the buffer:
/// a short string (`"N14228"` is 9 bytes encoded) or a number (17 bytes). Without the tail,
/// entries of one number tied on all 16 bytes and were compared in the buffer; heads of 24
/// bytes, tried twice, cost what they saved in larger items (docs/benchmarks.md), while the
/// tail fits in the item's padding.
const HEAD_LEN: usize = 16;

/// The bytes of an entry's values an [`Item`] keeps: its head and its tail.
const KEPT_LEN: usize = HEAD_LEN + 1;

// Every walking thread's range number fits in `Item::part`.
const _: () = assert!(MAX_BUILD_THREADS <= u16::MAX as usize + 1);

/// Entries gathered in one buffer: keys and payloads back to back, in the order pushed until
/// sorted.
#[derive(Default)]
pub(crate) struct SortBuffer {
    pub(crate) bytes: Vec<u8>,
    /// Where each entry is in `bytes`.
    pub(crate) items: Vec<Item>,
}

#[derive(Clone, Copy)]
pub(crate) struct Item {
    at: usize,
    entry_len: u32,
    payload_len: u32,
    /// The length of the user key ending the entry.
    key_len: u32,
    /// The first [`HEAD_LEN`] bytes of the entry's values, zero-padded, as two big-endian
    /// numbers: the order of two heads is the order of the values wherever the heads differ.
    head: [u64; 2],
    /// The byte of the entry's values after the head, or zero.
    tail: u8,
    /// The number of the key range the entry's record was read from.
    part: u16,
}

// The tail and the range number take the room the item's alignment leaves.
const _: () = assert!(std::mem::size_of::<Item>() == 40);

impl Item {
    fn values_len(&self) -> usize {
        self.entry_len as usize - index_entry::id_prefix(0).len() - self.key_len as usize
    }
}

impl SortBuffer {
    /// Adds an entry ending in a user key of `key_len` bytes, with its payload, from key range
    /// `part`. Entries are pushed in the order of their user keys: range numbers never fall,
    /// and within a range keys rise.
    #[cfg(test)]
    pub(crate) fn push(&mut self, entry: &[u8], payload: &[u8], key_len: usize, part: u16) {
        let pushed = self.push_with(key_len, part, |out| {
            out.extend_from_slice(entry);
            out.extend_from_slice(payload);
            Ok::<_, ()>(Some(entry.len()))
        });
        assert_eq!(pushed, Ok(true));
    }

    /// As [`SortBuffer::push`], the entry and then its payload written into the buffer by
    /// `write`, which returns the entry's length, or `None` for no entry (what it wrote, if
    /// anything, is then dropped, as on an error). Returns whether an entry was added.
    pub(crate) fn push_with<E>(
        &mut self,
        key_len: usize,
        part: u16,
        write: impl FnOnce(&mut Vec<u8>) -> Result<Option<usize>, E>,
    ) -> Result<bool, E> {
        let at = self.bytes.len();
        let entry_len = match write(&mut self.bytes) {
            Ok(Some(len)) => len,
            other => {
                self.bytes.truncate(at);
                return other.map(|_| false);
            }
        };
        let payload_len = self.bytes.len() - at - entry_len;
        let values = &self.bytes[at + index_entry::id_prefix(0).len()..at + entry_len - key_len];
        let mut head = [0u8; HEAD_LEN];
        let n = values.len().min(HEAD_LEN);
        head[..n].copy_from_slice(&values[..n]);
        let tail = values.get(HEAD_LEN).copied().unwrap_or(0);
        self.items.push(Item {
            at,
            entry_len: entry_len as u32,
            payload_len: payload_len as u32,
            key_len: key_len as u32,
            head: {
                let head = u128::from_be_bytes(head);
                [(head >> 64) as u64, head as u64]
            },
            tail,
            part,
        });
        Ok(true)
    }

    /// Makes room for `entries` more entries, their items at once and their bytes at the
    /// average size of the entries already in (an eighth more, for the spread), the bytes at
    /// most `max_bytes` in all. A buffer grown by doubling copies what it holds into fresh
    /// memory at each step, so every byte is written, and its page faulted in, about twice
    /// over; room reserved and never written costs address space, not memory.
    pub(crate) fn reserve_like_so_far(&mut self, entries: usize, max_bytes: usize) {
        self.items.reserve(entries);
        if let Some(per_entry) = self.bytes.len().checked_div(self.items.len()) {
            let more = entries.saturating_mul(per_entry + per_entry / 8);
            let room = max_bytes.saturating_sub(self.bytes.len());
            self.bytes.reserve(more.min(room));
        }
    }

    pub(crate) fn entry(&self, item: &Item) -> &[u8] {
        entry_in(&self.bytes, item)
    }

    pub(crate) fn payload(&self, item: &Item) -> &[u8] {
        let start = item.at + item.entry_len as usize;
        &self.bytes[start..start + item.payload_len as usize]
    }

    /// The encoded values of an entry: after the index id, before the user key.
    pub(crate) fn values(&self, item: &Item) -> &[u8] {
        values_in(&self.bytes, item)
    }

    /// Sorts the entries into entry order: by values, stably, so entries of one value stay in
    /// the order pushed (their keys' order).
    ///
    /// When few of the kept bytes vary between entries (a field of few values, or of values
    /// alike but for a few bytes: ages, states, codes), a radix sort on those bytes alone is
    /// several times quicker than comparing; otherwise the entries are compared.
    pub(crate) fn sort(&mut self) {
        self.sort_with(RADIX_MIN_ITEMS, RADIX_MAX_PASSES);
    }

    /// [`SortBuffer::sort`], by radix when the buffer holds at least `radix_min_items` and its
    /// items vary in at most `radix_max_passes` digits.
    fn sort_with(&mut self, radix_min_items: usize, radix_max_passes: usize) {
        let digits = varying_digits(&self.items);
        if self.items.len() < radix_min_items || digits.len() > radix_max_passes {
            let bytes = &self.bytes;
            self.items
                .sort_by(|a, b| cmp_values((bytes, a), (bytes, b)));
            return;
        }
        radix_sort(&mut self.items, &digits);
        // Entries alike in their kept bytes whose values run longer are ordered by their
        // values, stably (entries of one value keep their order).
        let bytes = &self.bytes;
        for run in self
            .items
            .chunk_by_mut(|a, b| (a.head, a.tail) == (b.head, b.tail))
        {
            if run.len() > 1 && run.iter().any(|i| i.values_len() > KEPT_LEN) {
                run.sort_by(|a, b| cmp_values((bytes, a), (bytes, b)));
            }
        }
    }

    /// The items whose entries lie in `[lower, upper)` (the buffer sorted).
    pub(crate) fn range(&self, (lower, upper): (Option<&[u8]>, Option<&[u8]>)) -> &[Item] {
        let start = lower.map_or(0, |l| self.items.partition_point(|i| self.entry(i) < l));
        let end = upper.map_or(self.items.len(), |u| {
            self.items.partition_point(|i| self.entry(i) < u)
        });
        &self.items[start..end.max(start)]
    }

    /// Empties the buffer, keeping its memory.
    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.bytes.clear();
    }
}

fn entry_in<'b>(bytes: &'b [u8], item: &Item) -> &'b [u8] {
    &bytes[item.at..item.at + item.entry_len as usize]
}

fn values_in<'b>(bytes: &'b [u8], item: &Item) -> &'b [u8] {
    let entry = entry_in(bytes, item);
    &entry[index_entry::id_prefix(0).len()..entry.len() - item.key_len as usize]
}

/// The byte order of two entries' values. Equal heads and tails of values both within
/// [`KEPT_LEN`] bytes mean that the shorter is the longer with its zero padding cut off, so the
/// shorter is first.
fn cmp_values((a_bytes, a): (&[u8], &Item), (b_bytes, b): (&[u8], &Item)) -> Ordering {
    a.head.cmp(&b.head).then_with(|| {
        let (a_len, b_len) = (a.values_len(), b.values_len());
        if a_len <= KEPT_LEN && b_len <= KEPT_LEN {
            a.tail.cmp(&b.tail).then(a_len.cmp(&b_len))
        } else {
            values_in(a_bytes, a).cmp(values_in(b_bytes, b))
        }
    })
}

/// Below this many entries, a buffer is sorted by comparing.
const RADIX_MIN_ITEMS: usize = 1_024;

/// The most passes a radix sort may take (one per varying digit); past them the items are
/// compared. Measured on the entries of 200,000 benchmark records, 100,000 to a walking thread
/// (docs/benchmarks.md): comparing took 7.2–12.3 ms per buffer, a radix sort 1.2–2.6 ms with 3
/// digits (`age`, `city`), 3.2 ms with 4 (`score`) and 2.5–4.4 ms with 8 (`name`, `balance`).
/// No field there varied in more digits, so more passes were not measured.
const RADIX_MAX_PASSES: usize = 8;

/// One byte of what orders items in a radix sort: a byte of the head, the tail, or the length
/// of the values (capped; only values within [`KEPT_LEN`] bytes are ordered by it).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Digit {
    Head(usize),
    Tail,
    Len,
}

impl Digit {
    fn of(self, item: &Item) -> u8 {
        match self {
            Digit::Head(at) => (item.head[at / 8] >> (56 - 8 * (at % 8))) as u8,
            Digit::Tail => item.tail,
            Digit::Len => item.values_len().min(usize::from(u8::MAX)) as u8,
        }
    }
}

/// The digits on which `items` differ, least significant first: the length, the tail, then
/// the head's bytes from last to first. A digit every item shares orders nothing.
fn varying_digits(items: &[Item]) -> Vec<Digit> {
    let Some(first) = items.first() else {
        return Vec::new();
    };
    let (mut head_and, mut head_or) = (first.head, first.head);
    let (mut tail_and, mut tail_or) = (first.tail, first.tail);
    let (mut len_min, mut len_max) = (first.values_len(), first.values_len());
    for item in items {
        for i in 0..2 {
            head_and[i] &= item.head[i];
            head_or[i] |= item.head[i];
        }
        tail_and &= item.tail;
        tail_or |= item.tail;
        len_min = len_min.min(item.values_len());
        len_max = len_max.max(item.values_len());
    }
    let mut digits = Vec::new();
    if len_min.min(KEPT_LEN + 1) != len_max.min(KEPT_LEN + 1) {
        digits.push(Digit::Len);
    }
    if tail_and != tail_or {
        digits.push(Digit::Tail);
    }
    for at in (0..HEAD_LEN).rev() {
        let shift = 56 - 8 * (at % 8);
        if (head_and[at / 8] >> shift) as u8 != (head_or[at / 8] >> shift) as u8 {
            digits.push(Digit::Head(at));
        }
    }
    digits
}

/// Sorts `items` stably by `digits`, least significant first: one counting pass each.
fn radix_sort(items: &mut Vec<Item>, digits: &[Digit]) {
    let Some(&first) = items.first().filter(|_| !digits.is_empty()) else {
        return;
    };
    let mut other = vec![first; items.len()];
    for &digit in digits {
        let mut starts = [0usize; 256];
        for item in items.iter() {
            starts[usize::from(digit.of(item))] += 1;
        }
        let mut at = 0;
        for start in starts.iter_mut() {
            let n = *start;
            *start = at;
            at += n;
        }
        for item in items.iter() {
            let slot = &mut starts[usize::from(digit.of(item))];
            other[*slot] = *item;
            *slot += 1;
        }
        std::mem::swap(items, &mut other);
    }
}

/// Up to `parts - 1` entry keys splitting the sorted `buffers` into `parts` ranges of about
/// equal size: quantiles of the largest buffer (the walk's ranges hold about as many records).
pub(crate) fn entry_split_points(buffers: &[SortBuffer], parts: usize) -> Vec<Vec<u8>> {
    let Some(largest) = buffers.iter().max_by_key(|b| b.items.len()) else {
        return Vec::new();
    };
    let n = largest.items.len();
    let mut points: Vec<Vec<u8>> = (1..parts)
        .map(|i| i * n / parts)
        .filter(|&at| at > 0 && at < n)
        .map(|at| largest.entry(&largest.items[at]).to_vec())
        .collect();
    points.dedup();
    points
}

/// How many items ahead of the one a merge hands out it asks into the cache. The entries
/// were pushed in key order and are read in value order, so each one is a cache miss unless
/// asked for early enough: at 16 (both of an entry's cache lines), writing a 200,000-record
/// build's files took 8.2–9.0 ms per thread, against 10.6–11.4 ms at 8 (the first line only).
const PREFETCH_AHEAD: usize = 16;

/// The entries of the sorted `buffers` that lie in `range`, in entry order: by values, then by
/// range number (no two buffers hold one range), then in each buffer's order.
///
/// A sorted buffer's entries lie in the order pushed, so reading them in sorted order missed
/// the cache at nearly every entry (the table-file writer's first look at each key, its order
/// check, was a fifth of a build's time); each step asks for an entry a few ahead.
pub(crate) fn merged<'b>(
    buffers: &'b [SortBuffer],
    range: (Option<&[u8]>, Option<&[u8]>),
) -> impl Iterator<Item = (&'b SortBuffer, &'b Item)> {
    // A handful of buffers: each step picks the smallest head linearly.
    let mut heads: Vec<(&SortBuffer, &[Item])> = buffers
        .iter()
        .map(|b| (b, b.range(range)))
        .filter(|(_, items)| !items.is_empty())
        .collect();
    std::iter::from_fn(move || {
        let next = (0..heads.len()).min_by(|&a, &b| {
            let ((ba, ia), (bb, ib)) = (heads[a], heads[b]);
            cmp_values((&ba.bytes, &ia[0]), (&bb.bytes, &ib[0])).then(ia[0].part.cmp(&ib[0].part))
        })?;
        let (buffer, items) = heads[next];
        if let Some(ahead) = items.get(PREFETCH_AHEAD) {
            // An entry and its payload may straddle two cache lines: ask for both ends.
            let stored = ahead.at..ahead.at + ahead.entry_len as usize + ahead.payload_len as usize;
            if let Some(first) = buffer.bytes.get(stored.start..) {
                prefetch(first);
            }
            if let Some(last) = stored
                .end
                .checked_sub(1)
                .and_then(|at| buffer.bytes.get(at..))
            {
                prefetch(last);
            }
        }
        if items.len() == 1 {
            heads.swap_remove(next);
        } else {
            heads[next].1 = &items[1..];
        }
        Some((buffer, &items[0]))
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::encoding::keycode;
    use crate::Value;

    /// An entry of `len` bytes with values `i` and a one-byte key.
    fn entry_of(i: u32, len: usize) -> Vec<u8> {
        let mut entry = [&0u32.to_be_bytes()[..], &i.to_be_bytes()].concat();
        entry.resize(len - 1, 7);
        entry.push(b'k');
        entry
    }

    #[test]
    fn room_made_like_the_entries_so_far_takes_the_rest_without_moving_the_buffer() {
        let mut buffer = SortBuffer::default();
        for i in 0..100 {
            buffer.push(&entry_of(i, 24), b"payload!", 1, 0);
        }
        // 32 bytes an entry so far: room for 1,000 more is 36,000 bytes, an eighth to spare.
        buffer.reserve_like_so_far(1_000, usize::MAX);
        assert!(buffer.items.capacity() >= 1_100);
        assert!(buffer.bytes.capacity() >= 100 * 32 + 36_000);
        let (items, bytes) = (buffer.items.as_ptr(), buffer.bytes.as_ptr());
        for i in 100..1_100 {
            buffer.push(&entry_of(i, 24), b"payload!", 1, 0);
        }
        assert_eq!(
            (buffer.items.as_ptr(), buffer.bytes.as_ptr()),
            (items, bytes)
        );

        // The bytes never get room past the cap; an empty buffer gets room for items only.
        let mut capped = SortBuffer::default();
        capped.push(&entry_of(0, 24), b"", 1, 0);
        capped.reserve_like_so_far(1_000_000, 4_096);
        assert!(capped.bytes.capacity() < 8_192);
        let mut empty = SortBuffer::default();
        empty.reserve_like_so_far(50, 4_096);
        assert!(empty.items.capacity() >= 50);
        assert_eq!(empty.bytes.capacity(), 0);
    }

    #[test]
    fn the_entry_ranges_cover_every_buffered_entry_exactly_once() {
        let mut buffers = vec![SortBuffer::default(), SortBuffer::default()];
        for i in 0..1_000u32 {
            let entry = [
                &0u32.to_be_bytes()[..],
                &(i * 7 % 1_000).to_be_bytes(),
                b"k",
            ]
            .concat();
            buffers[(i % 2) as usize].push(&entry, b"", 1, i as u16);
        }
        buffers.iter_mut().for_each(SortBuffer::sort);
        for parts in [1, 2, 3, 8] {
            let bounds = entry_split_points(&buffers, parts);
            assert!(bounds.len() < parts && bounds.windows(2).all(|w| w[0] < w[1]));
            let mut seen = Vec::new();
            for part in 0..=bounds.len() {
                let lower = part.checked_sub(1).map(|j| bounds[j].as_slice());
                let upper = bounds.get(part).map(Vec::as_slice);
                for buffer in &buffers {
                    for item in buffer.range((lower, upper)) {
                        seen.push(buffer.entry(item).to_vec());
                    }
                }
            }
            seen.sort();
            let mut all: Vec<Vec<u8>> = buffers
                .iter()
                .flat_map(|b| b.items.iter().map(|i| b.entry(i).to_vec()))
                .collect();
            all.sort();
            assert_eq!(seen, all, "{parts} parts");
        }
    }

    #[test]
    fn a_write_giving_no_entry_or_failing_leaves_the_buffer_as_it_was() {
        let mut buffer = SortBuffer::default();
        buffer.push(b"\0\0\0\x07v1k", b"p", 1, 0);
        let before = (buffer.bytes.clone(), buffer.items.len());
        let none = buffer.push_with(1, 0, |out| {
            out.extend_from_slice(b"half");
            Ok::<_, ()>(None)
        });
        assert_eq!(none, Ok(false));
        let failed = buffer.push_with(1, 0, |out| {
            out.extend_from_slice(b"half");
            Err("bad record")
        });
        assert_eq!(failed, Err("bad record"));
        assert_eq!((buffer.bytes.clone(), buffer.items.len()), before);
        assert_eq!(buffer.payload(&buffer.items[0]), b"p");
    }

    /// `arity` values encoded as entries hold them: often shared between records, short and
    /// long, with zero bytes inside.
    fn arb_values(arity: usize) -> impl Strategy<Value = Vec<u8>> {
        let value = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-3i64..3).prop_map(Value::Int),
            any::<i64>().prop_map(Value::Int),
            any::<f64>()
                .prop_filter("no NaN", |f| !f.is_nan())
                .prop_map(Value::Float),
            proptest::sample::select(vec![
                "",
                "N14228",
                "N1422",
                "abcdefg",
                "abcdefghijklmn",
                "abcdefghijklmno",
            ])
            .prop_map(Value::from),
            "[a-c\\x00]{0,20}".prop_map(Value::from),
            proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..24)
                .prop_map(Value::Bytes),
        ];
        proptest::collection::vec(value, arity).prop_map(|values| {
            let mut out = Vec::new();
            values
                .iter()
                .for_each(|v| keycode::encode_value(v, &mut out));
            out
        })
    }

    /// Checks that two entries of values `a` and `b`, pushed into a buffer, compare both ways
    /// as `a` and `b` do byte by byte.
    fn compared_in_byte_order(a: &[u8], b: &[u8]) -> Result<(), TestCaseError> {
        let mut buffer = SortBuffer::default();
        for values in [a, b] {
            buffer.push(&[&[0, 0, 0, 7][..], values, b"key"].concat(), b"", 3, 0);
        }
        let (x, y) = (&buffer.items[0], &buffer.items[1]);
        let bytes = &buffer.bytes[..];
        prop_assert_eq!(cmp_values((bytes, x), (bytes, y)), a.cmp(b));
        prop_assert_eq!(cmp_values((bytes, y), (bytes, x)), b.cmp(a));
        Ok(())
    }

    /// The order of a buffer's items, as where their entries are in the buffer.
    fn order(buffer: &SortBuffer) -> Vec<usize> {
        buffer.items.iter().map(|i| i.at).collect()
    }

    #[test]
    fn only_the_bytes_that_differ_are_radix_digits() {
        let mut buffer = SortBuffer::default();
        for age in [5i64, 99, 5, 0] {
            let mut values = Vec::new();
            keycode::encode_value(&Value::Int(age), &mut values);
            buffer.push(&[&[0, 0, 0, 7][..], &values, b"k"].concat(), b"", 1, 0);
        }
        // Numbers are encoded as ordered doubles: 0, 5 and 99 differ in the first three
        // bytes after the tag (the sign, the exponent and the mantissa's top), nowhere else.
        assert_eq!(
            varying_digits(&buffer.items),
            [Digit::Head(3), Digit::Head(2), Digit::Head(1)]
        );
        buffer.sort_with(0, usize::MAX);
        let ages: Vec<Vec<u8>> = buffer
            .items
            .iter()
            .map(|i| buffer.values(i).to_vec())
            .collect();
        assert!(ages.windows(2).all(|w| w[0] <= w[1]));
        // The two entries of 5 stay in the order pushed.
        assert_eq!(buffer.items[1].at, 0);
        // No entries, or entries all alike, take no pass.
        let mut empty = SortBuffer::default();
        empty.sort_with(0, usize::MAX);
        assert!(empty.items.is_empty());
    }

    proptest! {
        /// A radix sort orders a buffer exactly as comparing does: by values, entries of one
        /// value in the order pushed, whether the values are short, long, alike in their
        /// first bytes, repeated, or (as raw bytes) one another with zeros after.
        #[test]
        fn a_radix_sort_orders_entries_as_comparing_does(
            pool in proptest::collection::vec(
                (
                    prop_oneof![
                        (1..3usize).prop_flat_map(arb_values),
                        proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..20),
                    ],
                    0..3usize,
                )
                    .prop_map(|(values, zeros)| [values, vec![0; zeros]].concat()),
                1..12,
            ),
            picks in proptest::collection::vec(any::<proptest::sample::Index>(), 0..300),
        ) {
            let mut buffer = SortBuffer::default();
            for (n, pick) in picks.iter().enumerate() {
                let key = format!("{n:05}").into_bytes();
                let entry = [&7u32.to_be_bytes()[..], &pool[pick.index(pool.len())], &key].concat();
                buffer.push(&entry, b"", key.len(), 0);
            }
            let mut compared = SortBuffer {
                bytes: buffer.bytes.clone(),
                items: buffer.items.clone(),
            };
            compared.sort_with(usize::MAX, 0);
            buffer.sort_with(0, usize::MAX);
            prop_assert_eq!(order(&buffer), order(&compared));
        }

        /// Whatever the bytes, the comparison of two entries' values is their byte order.
        #[test]
        fn values_compare_in_byte_order(
            a in proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..24),
            b in proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..24),
        ) {
            compared_in_byte_order(&a, &b)?;
        }

        /// As above, for values sharing their first bytes (a number's 17 bytes tie on the
        /// 16 of the head when they differ only in the last): the comparison is still their
        /// byte order, whichever of the head, the tail or the buffer decides it.
        #[test]
        fn values_sharing_a_prefix_compare_in_byte_order(
            shared in proptest::collection::vec(any::<u8>(), 12..20),
            a_rest in proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..4),
            b_rest in proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..4),
        ) {
            let (a, b) = ([&shared[..], &a_rest].concat(), [&shared[..], &b_rest].concat());
            compared_in_byte_order(&a, &b)?;
        }

        /// The walk's shape: entries of one index (one arity), their records split into
        /// numbered ranges in key order, each range's entries pushed in key order, several
        /// ranges to a buffer (as a buffer spilled and refilled). Sorted and merged, with or
        /// without a range of entries, they come out in the byte order of whole entries, each
        /// once.
        #[test]
        fn merged_buffers_give_every_entry_in_byte_order(
            records in (1..3usize).prop_flat_map(|arity| {
                proptest::collection::vec((arb_values(arity), 1..4usize), 1..200)
            }),
            range_len in 1..20usize,
            takers in proptest::collection::vec(0..3usize, 200),
            split in any::<proptest::sample::Index>(),
        ) {
            let mut buffers: Vec<SortBuffer> = (0..3).map(|_| SortBuffer::default()).collect();
            let mut all = Vec::new();
            for (n, (values, key_len)) in records.iter().enumerate() {
                let part = n / range_len;
                // Keys rise with `n`, of several lengths.
                let key = format!("{n:05}{}", "x".repeat(*key_len)).into_bytes();
                let entry = [&7u32.to_be_bytes()[..], values, &key].concat();
                buffers[takers[part]].push(&entry, &key, key.len(), part as u16);
                all.push(entry);
            }
            buffers.iter_mut().for_each(SortBuffer::sort);
            all.sort();
            let out: Vec<Vec<u8>> =
                merged(&buffers, (None, None)).map(|(b, i)| b.entry(i).to_vec()).collect();
            prop_assert_eq!(&out, &all);
            let lower = all[split.index(all.len())].clone();
            let out: Vec<Vec<u8>> = merged(&buffers, (Some(&lower), None))
                .map(|(b, i)| b.entry(i).to_vec())
                .collect();
            let expected: Vec<Vec<u8>> = all.iter().filter(|e| **e >= lower).cloned().collect();
            prop_assert_eq!(out, expected);
            for buffer in &buffers {
                for item in &buffer.items {
                    prop_assert_eq!(buffer.payload(item), &buffer.entry(item)[buffer.entry(item).len() - item.key_len as usize..]);
                }
            }
        }
    }
}
