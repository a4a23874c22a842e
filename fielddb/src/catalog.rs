//! `Catalog`: the index definitions and their states, kept in memory and persisted in `meta`
//! (byte formats in `encoding::index_def`).
//!
//! The catalog sits behind the database's `RwLock`: writers hold the read guard from choosing
//! the indexes to maintain until their batch is committed; state changes and build steps hold
//! the write guard, so they are ordered against every write. A definition is changed in memory
//! only after the batch that persists it is committed.

use std::collections::BTreeMap;

use crate::encoding::index_def::{
    self, IndexDef, StoredState, DEF_PREFIX, MAX_INDEX_FIELDS, NEXT_ID_KEY,
};
use crate::encoding::index_entry::{Covering, IndexId};
use crate::encoding::prefix_successor;
use crate::error::{corrupt, invalid, Error, Result};
use crate::record::MAX_FIELD_NAME_LEN;
use crate::storage::{Cf, KeyRange, Storage, WriteSet};

#[derive(Debug, Default)]
pub(crate) struct Catalog {
    defs: BTreeMap<IndexId, IndexDef>,
    next_id: IndexId,
}

impl Catalog {
    pub(crate) fn load(storage: &Storage) -> Result<Catalog> {
        let next_id = match storage.get(Cf::Meta, NEXT_ID_KEY)? {
            Some(bytes) => index_def::decode_next_id(&bytes)?,
            None => 1,
        };
        let mut defs = BTreeMap::new();
        let range = KeyRange {
            lower: Some(DEF_PREFIX.to_vec()),
            upper: prefix_successor(DEF_PREFIX),
        };
        let mut it = storage.iter(Cf::Meta, range)?;
        it.seek_to_first();
        while let (Some(key), Some(value)) = (it.key(), it.value()) {
            let Some(id) = index_def::id_of_meta_key(key) else {
                break;
            };
            let id = id?;
            if id >= next_id {
                return corrupt!("index id {id} is not below next_index_id {next_id}");
            }
            defs.insert(id, IndexDef::decode(id, value)?);
            it.next();
        }
        it.status()?;
        Ok(Catalog { defs, next_id })
    }

    pub(crate) fn get(&self, id: IndexId) -> Option<&IndexDef> {
        self.defs.get(&id)
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &IndexDef> {
        self.defs.values()
    }

    /// The indexes writers must keep up to date.
    pub(crate) fn maintained(&self) -> impl Iterator<Item = &IndexDef> {
        self.defs.values().filter(|d| d.is_maintained())
    }

    /// The index named `name` (its field, or its fields joined by `,`) that is building or
    /// ready (at most one is).
    pub(crate) fn active_on(&self, name: &str) -> Option<&IndexDef> {
        self.maintained().find(|d| {
            // Compare without joining: the fields, `,`-separated, spell the name.
            let mut rest = name;
            d.fields.iter().enumerate().all(|(i, f)| {
                if i > 0 {
                    match rest.strip_prefix(',') {
                        Some(r) => rest = r,
                        None => return false,
                    }
                }
                match rest.strip_prefix(f.as_str()) {
                    Some(r) => {
                        rest = r;
                        true
                    }
                    None => false,
                }
            }) && rest.is_empty()
        })
    }

    /// Creates an index on `fields` in `state` (one of the two building states) in one batch,
    /// to which `extra` may add keys of its own; returns its id. Refuses bad field names and
    /// fields that already have an index, writing nothing.
    pub(crate) fn create(
        &mut self,
        storage: &Storage,
        (fields, unique, counted, covering): (&[String], bool, bool, &Covering),
        state: StoredState,
        extra: impl FnOnce(&mut WriteSet<'_>),
    ) -> Result<IndexId> {
        check_index_fields(fields)?;
        check_covering(fields, covering)?;
        let name = fields.join(",");
        if self.active_on(&name).is_some() {
            return Err(Error::IndexExists(name));
        }
        let mut batch = storage.batch()?;
        let id = self.allocate_id(&mut batch)?;
        let def = IndexDef {
            id,
            fields: fields.to_vec(),
            unique,
            counted,
            covering: covering.clone(),
            state,
        };
        Catalog::stage_put(&def, &mut batch);
        extra(&mut batch);
        storage.write(batch)?;
        self.apply(def);
        Ok(id)
    }

    /// Allocates an id for a new index, adding the new `next_index_id` to `batch`.
    pub(crate) fn allocate_id(&self, batch: &mut WriteSet<'_>) -> Result<IndexId> {
        let id = self.next_id;
        let next = id
            .checked_add(1)
            .ok_or_else(|| crate::Error::InvalidArgument("index ids are exhausted".into()))?;
        batch.put(Cf::Meta, NEXT_ID_KEY, &index_def::encode_next_id(next));
        Ok(id)
    }

    /// Adds the persisting of `def` to `batch`; call [`Catalog::apply`] once it is committed.
    pub(crate) fn stage_put(def: &IndexDef, batch: &mut WriteSet<'_>) {
        batch.put(Cf::Meta, &IndexDef::meta_key(def.id), &def.encode());
    }

    /// Adds the removal of definition `id` to `batch`.
    pub(crate) fn stage_remove(id: IndexId, batch: &mut WriteSet<'_>) {
        batch.delete(Cf::Meta, &IndexDef::meta_key(id));
    }

    /// Persists a new state for index `id` in its own batch, then records it in memory.
    /// Returns the updated definition, or `None` when the index does not exist.
    pub(crate) fn commit_state(
        &mut self,
        storage: &Storage,
        id: IndexId,
        state: StoredState,
    ) -> Result<Option<IndexDef>> {
        let Some(def) = self.get(id).cloned() else {
            return Ok(None);
        };
        let def = IndexDef { state, ..def };
        let mut batch = storage.batch()?;
        Catalog::stage_put(&def, &mut batch);
        storage.write(batch)?;
        self.apply(def.clone());
        Ok(Some(def))
    }

    /// Records in memory a definition whose batch was committed.
    pub(crate) fn apply(&mut self, def: IndexDef) {
        self.next_id = self.next_id.max(def.id + 1);
        self.defs.insert(def.id, def);
    }

    /// Forgets in memory a definition whose removal was committed.
    pub(crate) fn forget(&mut self, id: IndexId) {
        self.defs.remove(&id);
    }
}

/// Refuses what cannot be indexed: no field, more than [`MAX_INDEX_FIELDS`], an empty or
/// over-long name, a field named twice, and in a compound index a name holding `,` (the
/// index's name joins its fields with `,`).
fn check_index_fields(fields: &[String]) -> Result<()> {
    if fields.is_empty() || fields.len() > MAX_INDEX_FIELDS {
        return invalid!(
            "an index covers 1 to {MAX_INDEX_FIELDS} fields, not {}",
            fields.len()
        );
    }
    for (i, field) in fields.iter().enumerate() {
        if field.is_empty() || field.len() > MAX_FIELD_NAME_LEN {
            return invalid!(
                "an index needs field names of 1 to {MAX_FIELD_NAME_LEN} bytes, got {}",
                field.len()
            );
        }
        if fields.len() > 1 && field.contains(',') {
            return invalid!(
                "a field of a compound index cannot hold `,` (`{field}`): the index is named \
                 by its fields joined by `,`"
            );
        }
        if fields[..i].contains(field) {
            return invalid!("an index names the field `{field}` twice");
        }
    }
    Ok(())
}

/// Refuses a bad list of fields to cover: empty, an empty or over-long name, a name given
/// twice, or an indexed field (whose value every entry holds already).
fn check_covering(fields: &[String], covering: &Covering) -> Result<()> {
    let Covering::Fields(covered) = covering else {
        return Ok(());
    };
    if covered.is_empty() {
        return invalid!("an index includes at least one field (or the whole record)");
    }
    for (i, name) in covered.iter().enumerate() {
        if name.is_empty() || name.len() > MAX_FIELD_NAME_LEN {
            return invalid!(
                "an index includes fields named by 1 to {MAX_FIELD_NAME_LEN} bytes, got {}",
                name.len()
            );
        }
        if covered[..i].contains(name) {
            return invalid!("an index includes the field `{name}` twice");
        }
        if fields.contains(name) {
            return invalid!(
                "the index is on `{name}` already, so its entries hold it; include other fields"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(id: IndexId, fields: &[&str]) -> IndexDef {
        IndexDef {
            id,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            unique: false,
            counted: false,
            covering: Covering::Nothing,
            state: StoredState::Ready,
        }
    }

    #[test]
    fn indexes_are_found_by_their_name() {
        let mut catalog = Catalog::default();
        catalog.apply(def(1, &["carrier"]));
        catalog.apply(def(2, &["carrier", "dest"]));
        catalog.apply(def(3, &["a,b"]));
        assert_eq!(catalog.active_on("carrier").map(|d| d.id), Some(1));
        assert_eq!(catalog.active_on("carrier,dest").map(|d| d.id), Some(2));
        assert_eq!(catalog.active_on("a,b").map(|d| d.id), Some(3));
        for missing in [
            "carrier,",
            "carrier,des",
            "carrier,dest,",
            "dest",
            "",
            "carrierdest",
        ] {
            assert!(catalog.active_on(missing).is_none(), "{missing}");
        }
    }

    #[test]
    fn bad_index_fields_are_refused() {
        let f = |names: &[&str]| -> Vec<String> { names.iter().map(|n| n.to_string()).collect() };
        assert!(check_index_fields(&f(&["a"])).is_ok());
        assert!(check_index_fields(&f(&["a,b"])).is_ok());
        assert!(check_index_fields(&f(&["a", "b"])).is_ok());
        for bad in [
            f(&[]),
            f(&[""]),
            f(&["a", "a"]),
            f(&["a", "b,c"]),
            f(&["a", ""]),
            f(&["a", "b", "c", "d", "e", "f", "g", "h", "i"]),
        ] {
            assert!(check_index_fields(&bad).is_err(), "{bad:?}");
        }
    }
}
