//! The field-name dictionary: the small ids that records of version 3 (`record.rs`) carry in
//! place of their field names, and how the dictionary is kept in `meta`.
//!
//! | column family | key                     | value                              |
//! |---------------|-------------------------|------------------------------------|
//! | `meta`        | `names/` ‖ id (u32 BE)  | the field name, UTF-8, non-empty   |
//!
//! Ids are handed out from 0 in the order names are first written, are never reused and never
//! change, and are dense: a dictionary of `n` names holds ids `0..n`. At most [`MAX_NAMES`] are
//! handed out; a record then names a field the dictionary lacks inline. An entry is written in
//! a write of its own, committed before the first record that uses it, so no stored record
//! carries an id its database cannot resolve, and a write that fails after it leaves only an
//! unused name behind. On a replica, names are interned while its log is applied, in log
//! order, so every replica hands out the same ids.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::{corrupt, Result};
use crate::record::FieldName;

/// The `meta` prefix of the dictionary's entries.
pub(crate) const NAMES_PREFIX: &[u8] = b"names/";

/// The most names a dictionary holds. A database whose records use more distinct field names
/// names the others inline (which keeps a dictionary of names used once from growing without
/// end, and the copy a new name costs bounded).
pub(crate) const MAX_NAMES: usize = 4096;

/// The `meta` key of the entry of `id`.
pub(crate) fn name_key(id: u32) -> Vec<u8> {
    [NAMES_PREFIX, &id.to_be_bytes()].concat()
}

/// FNV-1a: field names are short, and SipHash's setup would cost more than the hash.
#[derive(Clone, Copy)]
pub(crate) struct NameHasher(u64);

impl Default for NameHasher {
    fn default() -> Self {
        NameHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for NameHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A dictionary entry as `meta` stores it: key and name.
pub(crate) type StoredName = (Vec<u8>, Vec<u8>);

/// The dictionary as one database holds it at one moment. It only grows: a newer table holds
/// every id of an older one, with the same name.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameTable {
    by_id: Vec<FieldName>,
    by_name: HashMap<FieldName, u32, BuildHasherDefault<NameHasher>>,
}

impl NameTable {
    /// A table with no names (what a replicated command, which names every field inline, is
    /// read against).
    pub(crate) fn empty() -> &'static NameTable {
        static EMPTY: std::sync::OnceLock<NameTable> = std::sync::OnceLock::new();
        EMPTY.get_or_init(NameTable::default)
    }

    /// The table of the stored entries `(key, value)` of `meta` under [`NAMES_PREFIX`], in key
    /// order; anything but the names `0..n` in order is corruption.
    pub(crate) fn from_stored<K, V>(entries: impl IntoIterator<Item = (K, V)>) -> Result<Self>
    where
        K: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let mut table = NameTable::default();
        for (key, value) in entries {
            let (key, value) = (key.as_ref(), value.as_ref());
            let expected = name_key(table.by_id.len() as u32);
            if key != expected.as_slice() {
                return corrupt!(
                    "field-name dictionary: found key {key:?} where id {} was expected",
                    table.by_id.len()
                );
            }
            let Ok(name) = std::str::from_utf8(value) else {
                return corrupt!("field-name dictionary: name {key:?} is not UTF-8");
            };
            if name.is_empty() || table.id(name).is_some() || table.is_full() {
                return corrupt!(
                    "field-name dictionary: name `{name}` is empty, repeated or past the limit"
                );
            }
            table.push(name);
        }
        Ok(table)
    }

    /// True when no more names can be added.
    pub(crate) fn is_full(&self) -> bool {
        self.by_id.len() >= MAX_NAMES
    }

    /// The id of `name`, if it has one.
    #[inline]
    pub(crate) fn id(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// The name of `id`, if the table holds it.
    #[inline]
    pub(crate) fn name(&self, id: u64) -> Option<&FieldName> {
        self.by_id.get(usize::try_from(id).ok()?)
    }

    /// The names of `names` that have no id yet, each once, in order of first appearance, as
    /// many as there is room for.
    pub(crate) fn missing<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> Vec<&'n str> {
        let room = MAX_NAMES - self.by_id.len().min(MAX_NAMES);
        let mut missing: Vec<&str> = Vec::new();
        let mut seen: HashSet<&str, BuildHasherDefault<NameHasher>> = HashSet::default();
        for name in names {
            if missing.len() == room {
                break;
            }
            if self.id(name).is_none() && seen.insert(name) {
                missing.push(name);
            }
        }
        missing
    }

    /// This table with `names` added, ids following on; returns the entries to store.
    pub(crate) fn extended(&self, names: &[&str]) -> (NameTable, Vec<StoredName>) {
        let mut table = self.clone();
        let mut entries = Vec::with_capacity(names.len());
        for name in names {
            entries.push((name_key(table.by_id.len() as u32), name.as_bytes().to_vec()));
            table.push(name);
        }
        (table, entries)
    }

    fn push(&mut self, name: &str) {
        let id = self.by_id.len() as u32;
        self.by_id.push(FieldName::from(name));
        self.by_name.insert(FieldName::from(name), id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_dense_ids_in_order_and_read_back_from_their_entries() {
        let (table, entries) = NameTable::default().extended(&["city", "age"]);
        assert_eq!(table.id("city"), Some(0));
        assert_eq!(table.id("age"), Some(1));
        assert_eq!(table.name(1).map(|n| n.as_str()), Some("age"));
        assert_eq!(table.name(2), None);
        let (table, more) = table.extended(&table.missing(["age", "name", "name", "city"]));
        assert_eq!(more, vec![(name_key(2), b"name".to_vec())]);
        let back = NameTable::from_stored(entries.into_iter().chain(more)).unwrap();
        assert_eq!(back.by_id, table.by_id);
        assert_eq!(back.id("name"), Some(2));
    }

    #[test]
    fn a_gap_a_repeat_or_an_empty_name_in_the_stored_dictionary_is_corruption() {
        let gap = [(name_key(0), b"a".to_vec()), (name_key(2), b"b".to_vec())];
        assert!(NameTable::from_stored(gap).is_err());
        let repeat = [(name_key(0), b"a".to_vec()), (name_key(1), b"a".to_vec())];
        assert!(NameTable::from_stored(repeat).is_err());
        assert!(NameTable::from_stored([(name_key(0), Vec::new())]).is_err());
        assert!(NameTable::from_stored([(name_key(0), vec![0xff])]).is_err());
    }

    #[test]
    fn the_dictionary_stops_growing_at_its_limit() {
        let names: Vec<String> = (0..MAX_NAMES + 10).map(|i| format!("f{i}")).collect();
        let table = NameTable::default();
        let missing = table.missing(names.iter().map(String::as_str));
        assert_eq!(missing.len(), MAX_NAMES);
        let (table, _) = table.extended(&missing);
        assert!(table.is_full());
        assert!(table.missing(["another"]).is_empty());
        assert_eq!(table.id(&names[MAX_NAMES]), None);
    }
}
