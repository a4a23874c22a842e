//! `Catalog`: the index definitions and their states, kept in memory and persisted in `meta`.
//!
//! | meta key                 | value                                             |
//! |--------------------------|---------------------------------------------------|
//! | `index/` ‖ id (u32 BE)   | an encoded [`IndexDef`] (layout below)            |
//! | `next_index_id`          | u32 BE: the id the next index will get           |
//!
//! A definition: u8 version (1), u8 flags (bit 0 unique, bit 1 counted; a definition written
//! before counts existed has 0 or 1 there), u32 LE field length, field bytes, u8 state
//! (0 building, 1 ready, 2 dropping); a building index adds u64 LE records done, u64 LE
//! estimated total, u8 has-cursor and, if set, u32 LE cursor length and the cursor (the last key
//! the build has indexed).
//!
//! The catalog sits behind the engine's `RwLock`: writers hold the read guard from choosing the
//! indexes to maintain until their batch is committed; state changes and build steps hold the
//! write guard, so they are ordered against every write. A definition is changed in memory only
//! after the batch that persists it is committed.

use std::collections::BTreeMap;

use byteorder::{ByteOrder, LittleEndian, WriteBytesExt};
use rocksdb::WriteBatch;

use crate::error::{corrupt, Result};
use crate::storage::Storage;

pub(crate) type IndexId = u32;

const DEF_PREFIX: &[u8] = b"index/";
const NEXT_ID_KEY: &[u8] = b"next_index_id";
const DEF_VERSION: u8 = 1;

/// The persisted state of an index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StoredState {
    Building {
        /// The last key indexed by the build, `None` before the first step.
        cursor: Option<Vec<u8>>,
        done: u64,
        total: u64,
    },
    Ready,
    Dropping,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexDef {
    pub(crate) id: IndexId,
    pub(crate) field: String,
    pub(crate) unique: bool,
    /// Keeps an exact count per value (`index::counts`).
    pub(crate) counted: bool,
    pub(crate) state: StoredState,
}

impl IndexDef {
    /// Writers keep entries of building and ready indexes up to date.
    pub(crate) fn is_maintained(&self) -> bool {
        !matches!(self.state, StoredState::Dropping)
    }

    fn meta_key(id: IndexId) -> Vec<u8> {
        let mut key = DEF_PREFIX.to_vec();
        key.extend_from_slice(&id.to_be_bytes());
        key
    }

    fn encode(&self) -> Vec<u8> {
        let flags = u8::from(self.unique) | (u8::from(self.counted) << 1);
        let mut out = vec![DEF_VERSION, flags];
        let _ = out.write_u32::<LittleEndian>(self.field.len() as u32);
        out.extend_from_slice(self.field.as_bytes());
        match &self.state {
            StoredState::Building {
                cursor,
                done,
                total,
            } => {
                out.push(0);
                let _ = out.write_u64::<LittleEndian>(*done);
                let _ = out.write_u64::<LittleEndian>(*total);
                match cursor {
                    Some(c) => {
                        out.push(1);
                        let _ = out.write_u32::<LittleEndian>(c.len() as u32);
                        out.extend_from_slice(c);
                    }
                    None => out.push(0),
                }
            }
            StoredState::Ready => out.push(1),
            StoredState::Dropping => out.push(2),
        }
        out
    }

    fn decode(id: IndexId, bytes: &[u8]) -> Result<IndexDef> {
        let bad = || crate::Error::Corruption(format!("index definition {id} is malformed"));
        let mut rest = bytes;
        let mut take = |n: usize| -> Result<&[u8]> {
            if n > rest.len() {
                return Err(bad());
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        if take(1)?[0] != DEF_VERSION {
            return Err(bad());
        }
        let flags = take(1)?[0];
        if flags & !0b11 != 0 {
            return Err(bad());
        }
        let (unique, counted) = (flags & 1 != 0, flags & 2 != 0);
        let field_len = LittleEndian::read_u32(take(4)?) as usize;
        let field = std::str::from_utf8(take(field_len)?)
            .map_err(|_| bad())?
            .to_owned();
        let state = match take(1)?[0] {
            0 => {
                let done = LittleEndian::read_u64(take(8)?);
                let total = LittleEndian::read_u64(take(8)?);
                let cursor = match take(1)?[0] {
                    0 => None,
                    1 => {
                        let len = LittleEndian::read_u32(take(4)?) as usize;
                        Some(take(len)?.to_vec())
                    }
                    _ => return Err(bad()),
                };
                StoredState::Building {
                    cursor,
                    done,
                    total,
                }
            }
            1 => StoredState::Ready,
            2 => StoredState::Dropping,
            _ => return Err(bad()),
        };
        if !rest.is_empty() || field.is_empty() {
            return Err(bad());
        }
        Ok(IndexDef {
            id,
            field,
            unique,
            counted,
            state,
        })
    }
}

#[derive(Debug, Default)]
pub(crate) struct Catalog {
    defs: BTreeMap<IndexId, IndexDef>,
    next_id: IndexId,
}

impl Catalog {
    pub(crate) fn load(storage: &Storage) -> Result<Catalog> {
        let meta = storage.meta()?;
        let next_id = match storage.db.get_cf(meta, NEXT_ID_KEY)? {
            Some(bytes) => <[u8; 4]>::try_from(bytes.as_slice())
                .map(u32::from_be_bytes)
                .map_err(|_| crate::Error::Corruption("next_index_id is malformed".to_string()))?,
            None => 1,
        };
        let mut defs = BTreeMap::new();
        for item in storage.db.prefix_iterator_cf(meta, DEF_PREFIX) {
            let (key, value) = item?;
            let Some(id_bytes) = key.strip_prefix(DEF_PREFIX) else {
                break;
            };
            let id = <[u8; 4]>::try_from(id_bytes)
                .map(u32::from_be_bytes)
                .map_err(|_| {
                    crate::Error::Corruption("index definition key is malformed".to_string())
                })?;
            if id >= next_id {
                return corrupt!("index id {id} is not below next_index_id {next_id}");
            }
            defs.insert(id, IndexDef::decode(id, &value)?);
        }
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

    /// Allocates an id for a new index, adding the new `next_index_id` to `batch`.
    pub(crate) fn allocate_id(&self, storage: &Storage, batch: &mut WriteBatch) -> Result<IndexId> {
        let id = self.next_id;
        let next = id
            .checked_add(1)
            .ok_or_else(|| crate::Error::InvalidArgument("index ids are exhausted".into()))?;
        batch.put_cf(storage.meta()?, NEXT_ID_KEY, next.to_be_bytes());
        Ok(id)
    }

    /// Adds the persisting of `def` to `batch`; call [`Catalog::apply`] once it is committed.
    pub(crate) fn stage_put(
        storage: &Storage,
        def: &IndexDef,
        batch: &mut WriteBatch,
    ) -> Result<()> {
        batch.put_cf(storage.meta()?, IndexDef::meta_key(def.id), def.encode());
        Ok(())
    }

    /// Adds the removal of definition `id` to `batch`.
    pub(crate) fn stage_remove(
        storage: &Storage,
        id: IndexId,
        batch: &mut WriteBatch,
    ) -> Result<()> {
        batch.delete_cf(storage.meta()?, IndexDef::meta_key(id));
        Ok(())
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
        let mut batch = WriteBatch::default();
        Catalog::stage_put(storage, &def, &mut batch)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_round_trip_in_every_state() {
        for state in [
            StoredState::Building {
                cursor: None,
                done: 0,
                total: 10,
            },
            StoredState::Building {
                cursor: Some(b"k\0ey".to_vec()),
                done: 5,
                total: 10,
            },
            StoredState::Ready,
            StoredState::Dropping,
        ] {
            for (unique, counted) in [(true, false), (false, true), (true, true), (false, false)] {
                let def = IndexDef {
                    id: 7,
                    field: "age".into(),
                    unique,
                    counted,
                    state: state.clone(),
                };
                assert_eq!(IndexDef::decode(7, &def.encode()).unwrap(), def);
            }
        }
    }

    #[test]
    fn malformed_definitions_are_corruption() {
        let def = IndexDef {
            id: 1,
            field: "f".into(),
            unique: false,
            counted: false,
            state: StoredState::Ready,
        };
        let bytes = def.encode();
        for cut in 0..bytes.len() {
            assert!(IndexDef::decode(1, &bytes[..cut]).is_err());
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(IndexDef::decode(1, &extra).is_err());
    }
}
