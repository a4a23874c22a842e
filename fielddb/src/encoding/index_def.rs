//! The catalog's byte formats in the `meta` column family: index definitions and the next
//! index id.
//!
//! | meta key                 | value                                             |
//! |--------------------------|---------------------------------------------------|
//! | `index/` ‖ id (u32 BE)   | an encoded [`IndexDef`] (layout below)            |
//! | `next_index_id`          | u32 BE: the id the next index will get           |
//!
//! A definition:
//!
//! | bytes                 | content                                                        |
//! |-----------------------|----------------------------------------------------------------|
//! | u8                    | version: 1 one field, 2 several (a compound index)             |
//! | u8                    | flags: bit 0 unique, bit 1 counted, bit 2 covers the record,   |
//! |                       | bit 3 covers listed fields (older definitions: 0 or 1)         |
//! | version 2 only: u8    | the number of fields, 2 to [`MAX_INDEX_FIELDS`]                |
//! | u32 LE, n (each field)| field length, then the field (UTF-8, non-empty)                |
//! | bit 3 only: u32 LE    | the number of covered fields, at least 1                       |
//! | u32 LE, n (each)      | covered field length, then the field (UTF-8, non-empty)        |
//! | u8                    | state: 0 building, 1 ready, 2 dropping, 3 building by ingestion|
//! | building only: u64 LE | records done                                                   |
//! | building only: u64 LE | estimated total                                                |
//! | building only: u8     | has-cursor; if 1, u32 LE length and the cursor (the last key    |
//! |                       | the build has indexed)                                         |
//! | ingestion only: u64 LE| estimated total                                                |
//!
//! A build by ingestion in its last step (`StoredState::Merging`, in memory only) is stored as
//! state 3, building by ingestion.

use byteorder::{ByteOrder, LittleEndian, WriteBytesExt};

use crate::encoding::index_entry::{Covering, IndexId};
use crate::error::Result;

pub(crate) const DEF_PREFIX: &[u8] = b"index/";
pub(crate) const NEXT_ID_KEY: &[u8] = b"next_index_id";
const DEF_VERSION_ONE_FIELD: u8 = 1;
const DEF_VERSION_FIELDS: u8 = 2;
const FLAG_UNIQUE: u8 = 1;
const FLAG_COUNTED: u8 = 2;
const FLAG_COVERS_RECORD: u8 = 4;
const FLAG_COVERS_FIELDS: u8 = 8;

/// The most fields one index may cover.
pub(crate) const MAX_INDEX_FIELDS: usize = 8;

/// The persisted state of an index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StoredState {
    Building {
        /// The last key indexed by the build, `None` before the first step.
        cursor: Option<Vec<u8>>,
        done: u64,
        total: u64,
    },
    /// Built by ingesting sorted table files (`index::ingest`): writers leave "key changed"
    /// markers instead of entries until the build's last step.
    Ingesting {
        total: u64,
    },
    /// The last step of a build by ingestion: the files are in, writers maintain the index's
    /// entries and counts as for a ready index, and the build re-indexes the keys writers
    /// marked meanwhile (`index::ingest`). Held in memory only: it is stored as `Ingesting`,
    /// so an interrupted merge starts the build over.
    Merging {
        total: u64,
    },
    Ready,
    Dropping,
}

impl StoredState {
    /// Either way of building: the index does not answer queries yet.
    pub(crate) fn is_building(&self) -> bool {
        matches!(
            self,
            StoredState::Building { .. }
                | StoredState::Ingesting { .. }
                | StoredState::Merging { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexDef {
    pub(crate) id: IndexId,
    /// The indexed fields, in the order of their values in an entry (one, or several for a
    /// compound index).
    pub(crate) fields: Vec<String>,
    pub(crate) unique: bool,
    /// Keeps an exact count per value (`index::counts`).
    pub(crate) counted: bool,
    /// What the entries' payloads hold.
    pub(crate) covering: Covering,
    pub(crate) state: StoredState,
}

impl IndexDef {
    /// Writers keep entries of building and ready indexes up to date.
    pub(crate) fn is_maintained(&self) -> bool {
        !matches!(self.state, StoredState::Dropping)
    }

    /// The index's name: its fields joined by `,` (`carrier,dest`).
    pub(crate) fn name(&self) -> String {
        self.fields.join(",")
    }

    pub(crate) fn meta_key(id: IndexId) -> Vec<u8> {
        let mut key = DEF_PREFIX.to_vec();
        key.extend_from_slice(&id.to_be_bytes());
        key
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut flags = 0;
        if self.unique {
            flags |= FLAG_UNIQUE;
        }
        if self.counted {
            flags |= FLAG_COUNTED;
        }
        match &self.covering {
            Covering::Nothing => {}
            Covering::Record => flags |= FLAG_COVERS_RECORD,
            Covering::Fields(_) => flags |= FLAG_COVERS_FIELDS,
        }
        let mut out = if self.fields.len() == 1 {
            vec![DEF_VERSION_ONE_FIELD, flags]
        } else {
            vec![DEF_VERSION_FIELDS, flags, self.fields.len() as u8]
        };
        for field in &self.fields {
            let _ = out.write_u32::<LittleEndian>(field.len() as u32);
            out.extend_from_slice(field.as_bytes());
        }
        if let Covering::Fields(covered) = &self.covering {
            let _ = out.write_u32::<LittleEndian>(covered.len() as u32);
            for field in covered {
                let _ = out.write_u32::<LittleEndian>(field.len() as u32);
                out.extend_from_slice(field.as_bytes());
            }
        }
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
            StoredState::Ingesting { total } | StoredState::Merging { total } => {
                out.push(3);
                let _ = out.write_u64::<LittleEndian>(*total);
            }
        }
        out
    }

    pub(crate) fn decode(id: IndexId, bytes: &[u8]) -> Result<IndexDef> {
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
        let version = take(1)?[0];
        let flags = take(1)?[0];
        let known = FLAG_UNIQUE | FLAG_COUNTED | FLAG_COVERS_RECORD | FLAG_COVERS_FIELDS;
        let both = FLAG_COVERS_RECORD | FLAG_COVERS_FIELDS;
        if flags & !known != 0 || flags & both == both {
            return Err(bad());
        }
        let (unique, counted) = (flags & FLAG_UNIQUE != 0, flags & FLAG_COUNTED != 0);
        let n = match version {
            DEF_VERSION_ONE_FIELD => 1,
            DEF_VERSION_FIELDS => match take(1)?[0] as usize {
                n @ 2..=MAX_INDEX_FIELDS => n,
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        };
        fn take_name<'a>(
            take: &mut impl FnMut(usize) -> Result<&'a [u8]>,
            bad: impl Fn() -> crate::Error,
        ) -> Result<String> {
            let len = LittleEndian::read_u32(take(4)?) as usize;
            match std::str::from_utf8(take(len)?) {
                Ok(name) if !name.is_empty() => Ok(name.to_owned()),
                _ => Err(bad()),
            }
        }
        let fields = (0..n)
            .map(|_| take_name(&mut take, bad))
            .collect::<Result<Vec<_>>>()?;
        let covering = if flags & FLAG_COVERS_RECORD != 0 {
            Covering::Record
        } else if flags & FLAG_COVERS_FIELDS != 0 {
            let count = LittleEndian::read_u32(take(4)?) as usize;
            // Each name takes at least 5 bytes, so a count the input cannot hold is refused
            // before anything is allocated for it.
            if count == 0 || count > bytes.len() / 5 {
                return Err(bad());
            }
            let covered = (0..count).map(|_| take_name(&mut take, bad));
            Covering::Fields(covered.collect::<Result<_>>()?)
        } else {
            Covering::Nothing
        };
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
            3 => StoredState::Ingesting {
                total: LittleEndian::read_u64(take(8)?),
            },
            _ => return Err(bad()),
        };
        if !rest.is_empty() {
            return Err(bad());
        }
        Ok(IndexDef {
            id,
            fields,
            unique,
            counted,
            covering,
            state,
        })
    }
}

/// The id named by a definition's `meta` key (`index/` ‖ id), or `None` when the key is not one.
pub(crate) fn id_of_meta_key(key: &[u8]) -> Option<Result<IndexId>> {
    let id_bytes = key.strip_prefix(DEF_PREFIX)?;
    Some(
        <[u8; 4]>::try_from(id_bytes)
            .map(u32::from_be_bytes)
            .map_err(|_| crate::Error::Corruption("index definition key is malformed".to_string())),
    )
}

/// Encodes the next index id.
pub(crate) fn encode_next_id(id: IndexId) -> [u8; 4] {
    id.to_be_bytes()
}

/// Decodes the stored next index id.
pub(crate) fn decode_next_id(bytes: &[u8]) -> Result<IndexId> {
    <[u8; 4]>::try_from(bytes)
        .map(u32::from_be_bytes)
        .map_err(|_| crate::Error::Corruption("next_index_id is malformed".to_string()))
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
            StoredState::Ingesting { total: 12 },
            StoredState::Ready,
            StoredState::Dropping,
        ] {
            for (unique, counted) in [(true, false), (false, true), (true, true), (false, false)] {
                for fields in [vec!["age"], vec!["carrier", "dest", "day"]] {
                    for covering in [
                        Covering::Nothing,
                        Covering::Record,
                        Covering::Fields(vec!["name".into(), "score".into()]),
                    ] {
                        let def = IndexDef {
                            id: 7,
                            fields: fields.iter().map(|f| f.to_string()).collect(),
                            unique,
                            counted,
                            covering,
                            state: state.clone(),
                        };
                        assert_eq!(IndexDef::decode(7, &def.encode()).unwrap(), def);
                    }
                }
            }
        }
    }

    #[test]
    fn a_merging_definition_is_stored_as_ingesting_so_a_reopen_starts_the_build_over() {
        let def = |state| IndexDef {
            id: 3,
            fields: vec!["city".into()],
            unique: false,
            counted: true,
            covering: Covering::Nothing,
            state,
        };
        let merging = def(StoredState::Merging { total: 9 });
        assert_eq!(
            IndexDef::decode(3, &merging.encode()).unwrap(),
            def(StoredState::Ingesting { total: 9 })
        );
    }

    #[test]
    fn malformed_definitions_are_corruption() {
        for (fields, covering) in [
            (vec!["f".to_string()], Covering::Nothing),
            (vec!["f".to_string(), "g".to_string()], Covering::Nothing),
            (vec!["f".to_string()], Covering::Fields(vec!["h".into()])),
            (vec!["f".to_string()], Covering::Record),
        ] {
            let def = IndexDef {
                id: 1,
                fields,
                unique: false,
                counted: false,
                covering,
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
        // A compound definition claiming one field (or too many) is not one FieldDB writes.
        let compound = IndexDef {
            id: 1,
            fields: vec!["f".into(), "g".into()],
            unique: false,
            counted: false,
            covering: Covering::Nothing,
            state: StoredState::Ready,
        }
        .encode();
        for n in [0u8, 1, MAX_INDEX_FIELDS as u8 + 1] {
            let mut bad = compound.clone();
            bad[2] = n;
            assert!(IndexDef::decode(1, &bad).is_err());
        }
        // Covering both the record and listed fields, or an unknown flag, is not a definition.
        let mut both = compound.clone();
        both[1] = FLAG_COVERS_RECORD | FLAG_COVERS_FIELDS;
        assert!(IndexDef::decode(1, &both).is_err());
        let mut unknown = compound;
        unknown[1] = 16;
        assert!(IndexDef::decode(1, &unknown).is_err());
    }
}
