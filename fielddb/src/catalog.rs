//! `Catalog`: the index definitions and their states, kept in memory and persisted in `meta`
//! (byte formats in `encoding::index_def`).
//!
//! The catalog sits behind the database's `RwLock`: writers hold the read guard from choosing
//! the indexes to maintain until their batch is committed; state changes and build steps hold
//! the write guard, so they are ordered against every write. A definition is changed in memory
//! only after the batch that persists it is committed.

use std::collections::BTreeMap;

use crate::encoding::index_def::{self, IndexDef, StoredState, DEF_PREFIX, NEXT_ID_KEY};
use crate::encoding::index_entry::IndexId;
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

    /// The index on `field` that is building or ready (at most one is).
    pub(crate) fn active_on(&self, field: &str) -> Option<&IndexDef> {
        self.maintained().find(|d| d.field == field)
    }

    /// Creates a building index on `field` (with `total` as the estimate of records to index)
    /// in one batch, to which `extra` may add keys of its own; returns its id. Refuses a bad
    /// field name and a field that already has an index, writing nothing.
    pub(crate) fn create(
        &mut self,
        storage: &Storage,
        (field, unique, counted): (&str, bool, bool),
        total: u64,
        extra: impl FnOnce(&mut WriteSet<'_>),
    ) -> Result<IndexId> {
        if field.is_empty() || field.len() > MAX_FIELD_NAME_LEN {
            return invalid!(
                "an index needs a field name of 1 to {MAX_FIELD_NAME_LEN} bytes, got {}",
                field.len()
            );
        }
        if self.active_on(field).is_some() {
            return Err(Error::IndexExists(field.to_owned()));
        }
        let mut batch = storage.batch()?;
        let id = self.allocate_id(&mut batch)?;
        let def = IndexDef {
            id,
            field: field.to_owned(),
            unique,
            counted,
            state: StoredState::Building {
                cursor: None,
                done: 0,
                total,
            },
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
