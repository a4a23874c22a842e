//! The commands a replica applies from its log, and their byte format (the payload of a log
//! entry). Every command is self-contained: applying the same commands in the same order to the
//! same content gives the same content and the same answers on every replica.
//!
//! | command       | bytes after the u8 version (1) and the u8 tag                      |
//! |---------------|--------------------------------------------------------------------|
//! | 1 put         | key, record                                                        |
//! | 2 delete      | key                                                                |
//! | 3 batch       | u32 LE n, then n ops: u8 1 and key, record; or u8 2 and key         |
//! | 4 append      | key, record holding the one field and the value to append          |
//! | 5 create index| u8 flags (bit 0 unique, bit 1 counted, bit 2 several fields, bit 3 |
//! |               | covers the record, bit 4 covers listed fields), then the field;    |
//! |               | with bit 2, u8 n (2 to 8) and n fields; then with bit 4, u32 LE m  |
//! |               | and the m covered fields                                           |
//! | 6 drop index  | the index's name (its field, or its fields joined by `,`)          |
//! | 7 build step  | the index's name, u32 LE most records to index                     |
//! | 8 update      | key, u8 create (0 or 1), u32 LE n, then n changes: u8 1 and a record holding the one field to set; or u8 2 and the field to remove |
//!
//! A key, a field and a record are each a u32 LE length and that many bytes (a record in the
//! `record` encoding, a field in UTF-8). Decoding checks every length and refuses trailing
//! bytes, so a malformed entry is `Error::Corruption`, never a panic.

use byteorder::{ByteOrder, LittleEndian, WriteBytesExt};

use crate::encoding::index_def::MAX_INDEX_FIELDS;
use crate::encoding::index_entry::Covering;
use crate::encoding::record as record_codec;
use crate::error::{corrupt, invalid, Result};
use crate::record::Record;
use crate::update::{FieldChange, Update};
use crate::value::Value;

const VERSION: u8 = 1;
const PUT: u8 = 1;
const DELETE: u8 = 2;
const BATCH: u8 = 3;
const APPEND: u8 = 4;
const CREATE_INDEX: u8 = 5;
const DROP_INDEX: u8 = 6;
const BUILD_STEP: u8 = 7;
const UPDATE: u8 = 8;
const SET: u8 = 1;
const UNSET: u8 = 2;

/// One change to a replicated database, as its log carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Store a record, replacing any at the key.
    Put {
        /// The key.
        key: Vec<u8>,
        /// The record.
        record: Record,
    },
    /// Delete the record at the key; the answer says whether there was one.
    Delete {
        /// The key.
        key: Vec<u8>,
    },
    /// Puts and deletes applied together, all or nothing.
    Batch(Vec<BatchCommand>),
    /// Append a string or bytes to a field (see `FieldDb::append`); the answer is the record.
    Append {
        /// The key.
        key: Vec<u8>,
        /// The field.
        field: String,
        /// What to append.
        value: Value,
    },
    /// Create an index. On a replica it is built by `BuildStep` commands, not in the background.
    CreateIndex {
        /// The indexed fields: one, or several for a compound index.
        fields: Vec<String>,
        /// No two records may hold one value.
        unique: bool,
        /// Keep a count per value.
        counted: bool,
        /// What the entries store besides the indexed values.
        covering: Covering,
    },
    /// Drop an index, entries and all, at once.
    DropIndex {
        /// The index's name: its field, or its fields joined by `,`.
        field: String,
    },
    /// Index up to `records` more records of the building index named `field`, from its
    /// cursor.
    BuildStep {
        /// The index's name: its field, or its fields joined by `,`.
        field: String,
        /// The most records this step indexes.
        records: u32,
    },
    /// Set and remove fields of a record (see `FieldDb::update`); the answer is the record.
    Update {
        /// The key.
        key: Vec<u8>,
        /// The changes, in order.
        update: Update,
        /// Create the record when there is none (`FieldDb::upsert`); else that is `NotFound`.
        create: bool,
    },
}

/// One operation of a [`Command::Batch`].
#[derive(Debug, Clone, PartialEq)]
pub enum BatchCommand {
    /// Store a record.
    Put(Vec<u8>, Record),
    /// Delete a record.
    Delete(Vec<u8>),
}

impl Command {
    /// The one key a single-record command (put, delete, append, update) writes; `None` for a
    /// batch or an index command.
    pub fn key(&self) -> Option<&[u8]> {
        match self {
            Command::Put { key, .. }
            | Command::Delete { key }
            | Command::Append { key, .. }
            | Command::Update { key, .. } => Some(key),
            Command::Batch(_)
            | Command::CreateIndex { .. }
            | Command::DropIndex { .. }
            | Command::BuildStep { .. } => None,
        }
    }

    /// True for commands that change records (as opposed to the catalog of indexes).
    pub(crate) fn changes_records(&self) -> bool {
        matches!(
            self,
            Command::Put { .. }
                | Command::Delete { .. }
                | Command::Batch(_)
                | Command::Append { .. }
                | Command::Update { .. }
        )
    }

    /// The command's bytes. Fails (`InvalidArgument`) for a record `FieldDb` would refuse: over
    /// the size limit, or with an empty, over-long or repeated field name, or a NaN.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = vec![VERSION];
        match self {
            Command::Put { key, record } => {
                out.push(PUT);
                put_bytes(&mut out, key);
                put_record(&mut out, record)?;
            }
            Command::Delete { key } => {
                out.push(DELETE);
                put_bytes(&mut out, key);
            }
            Command::Batch(ops) => {
                out.push(BATCH);
                let _ = out.write_u32::<LittleEndian>(ops.len() as u32);
                for op in ops {
                    match op {
                        BatchCommand::Put(key, record) => {
                            out.push(PUT);
                            put_bytes(&mut out, key);
                            put_record(&mut out, record)?;
                        }
                        BatchCommand::Delete(key) => {
                            out.push(DELETE);
                            put_bytes(&mut out, key);
                        }
                    }
                }
            }
            Command::Append { key, field, value } => {
                out.push(APPEND);
                put_bytes(&mut out, key);
                let carrier = Record::new().set(field.as_str(), value.clone());
                put_record(&mut out, &carrier)?;
            }
            Command::CreateIndex {
                fields,
                unique,
                counted,
                covering,
            } => {
                out.push(CREATE_INDEX);
                let mut flags = u8::from(*unique) | (u8::from(*counted) << 1);
                match covering {
                    Covering::Nothing => {}
                    Covering::Record => flags |= 8,
                    Covering::Fields(_) => flags |= 16,
                }
                match fields.as_slice() {
                    [field] => {
                        out.push(flags);
                        put_bytes(&mut out, field.as_bytes());
                    }
                    _ => {
                        if !(2..=MAX_INDEX_FIELDS).contains(&fields.len()) {
                            return invalid!(
                                "an index covers 1 to {MAX_INDEX_FIELDS} fields, not {}",
                                fields.len()
                            );
                        }
                        out.push(flags | 4);
                        out.push(fields.len() as u8);
                        for field in fields {
                            put_bytes(&mut out, field.as_bytes());
                        }
                    }
                }
                if let Covering::Fields(covered) = covering {
                    let _ = out.write_u32::<LittleEndian>(covered.len() as u32);
                    for field in covered {
                        put_bytes(&mut out, field.as_bytes());
                    }
                }
            }
            Command::DropIndex { field } => {
                out.push(DROP_INDEX);
                put_bytes(&mut out, field.as_bytes());
            }
            Command::BuildStep { field, records } => {
                out.push(BUILD_STEP);
                put_bytes(&mut out, field.as_bytes());
                let _ = out.write_u32::<LittleEndian>(*records);
            }
            Command::Update {
                key,
                update,
                create,
            } => {
                out.push(UPDATE);
                put_bytes(&mut out, key);
                out.push(u8::from(*create));
                let _ = out.write_u32::<LittleEndian>(update.changes().len() as u32);
                for change in update.changes() {
                    match change {
                        FieldChange::Set(field, value) => {
                            out.push(SET);
                            put_record(
                                &mut out,
                                &Record::new().set(field.as_str(), value.clone()),
                            )?;
                        }
                        FieldChange::Unset(field) => {
                            out.push(UNSET);
                            // The name is checked as a record's would be.
                            Record::new().set(field.as_str(), Value::Null).validate()?;
                            put_bytes(&mut out, field.as_bytes());
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Reads a command's bytes back.
    pub fn decode(bytes: &[u8]) -> Result<Command> {
        let mut input = Reader(bytes);
        if input.take(1)?[0] != VERSION {
            return corrupt!("command: unknown version");
        }
        let command = match input.take(1)?[0] {
            PUT => Command::Put {
                key: input.bytes()?.to_vec(),
                record: input.record()?,
            },
            DELETE => Command::Delete {
                key: input.bytes()?.to_vec(),
            },
            BATCH => {
                let n = LittleEndian::read_u32(input.take(4)?) as usize;
                // Each op takes at least 5 bytes, so `n` cannot ask for more than the input.
                let mut ops = Vec::with_capacity(n.min(input.0.len() / 5));
                for _ in 0..n {
                    ops.push(match input.take(1)?[0] {
                        PUT => BatchCommand::Put(input.bytes()?.to_vec(), input.record()?),
                        DELETE => BatchCommand::Delete(input.bytes()?.to_vec()),
                        _ => return corrupt!("command: unknown batch operation"),
                    });
                }
                Command::Batch(ops)
            }
            APPEND => {
                let key = input.bytes()?.to_vec();
                let carrier = input.record()?;
                let mut fields = carrier.iter();
                let (Some((field, value)), None) = (fields.next(), fields.next()) else {
                    return corrupt!("command: an append carries one field");
                };
                Command::Append {
                    key,
                    field: field.to_owned(),
                    value: value.clone(),
                }
            }
            CREATE_INDEX => {
                let flags = input.take(1)?[0];
                if flags & !0b11111 != 0 || flags & 0b11000 == 0b11000 {
                    return corrupt!("command: unknown index flags");
                }
                let fields = if flags & 4 == 0 {
                    vec![input.text()?]
                } else {
                    let n = input.take(1)?[0] as usize;
                    if !(2..=MAX_INDEX_FIELDS).contains(&n) {
                        return corrupt!("command: an index of {n} fields");
                    }
                    (0..n).map(|_| input.text()).collect::<Result<_>>()?
                };
                let covering = if flags & 8 != 0 {
                    Covering::Record
                } else if flags & 16 != 0 {
                    let m = LittleEndian::read_u32(input.take(4)?) as usize;
                    // Each field takes at least 4 bytes: refuse a count the input cannot hold.
                    if m > input.0.len() / 4 {
                        return corrupt!("command: {m} covered fields in a short entry");
                    }
                    Covering::Fields((0..m).map(|_| input.text()).collect::<Result<_>>()?)
                } else {
                    Covering::Nothing
                };
                Command::CreateIndex {
                    unique: flags & 1 != 0,
                    counted: flags & 2 != 0,
                    fields,
                    covering,
                }
            }
            DROP_INDEX => Command::DropIndex {
                field: input.text()?,
            },
            BUILD_STEP => Command::BuildStep {
                field: input.text()?,
                records: LittleEndian::read_u32(input.take(4)?),
            },
            UPDATE => {
                let key = input.bytes()?.to_vec();
                let create = match input.take(1)?[0] {
                    0 => false,
                    1 => true,
                    _ => return corrupt!("command: an update's create flag is not 0 or 1"),
                };
                let n = LittleEndian::read_u32(input.take(4)?) as usize;
                // Each change takes at least 5 bytes, so `n` cannot ask for more than the input.
                let mut changes = Vec::with_capacity(n.min(input.0.len() / 5));
                for _ in 0..n {
                    changes.push(match input.take(1)?[0] {
                        SET => {
                            let carrier = input.record()?;
                            let mut fields = carrier.iter();
                            let (Some((field, value)), None) = (fields.next(), fields.next())
                            else {
                                return corrupt!("command: an update's set carries one field");
                            };
                            FieldChange::Set(field.to_owned(), value.clone())
                        }
                        UNSET => FieldChange::Unset(input.text()?),
                        _ => return corrupt!("command: unknown update change"),
                    });
                }
                Command::Update {
                    key,
                    update: Update::from(changes),
                    create,
                }
            }
            _ => return corrupt!("command: unknown tag"),
        };
        if !input.0.is_empty() {
            return corrupt!("command: trailing bytes");
        }
        Ok(command)
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let _ = out.write_u32::<LittleEndian>(bytes.len() as u32);
    out.extend_from_slice(bytes);
}

/// Writes a record, refusing (as `InvalidArgument`) one that `FieldDb` would refuse, so an
/// entry that cannot apply never enters a log.
fn put_record(out: &mut Vec<u8>, record: &Record) -> Result<()> {
    record.validate()?;
    put_bytes(out, &record_codec::encode_self_describing(record)?);
    Ok(())
}

/// The unread rest of a command.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.0.len() {
            return corrupt!("command: truncated");
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = LittleEndian::read_u32(self.take(4)?) as usize;
        self.take(n)
    }

    fn text(&mut self) -> Result<String> {
        match std::str::from_utf8(self.bytes()?) {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => corrupt!("command: a field name is not UTF-8"),
        }
    }

    fn record(&mut self) -> Result<Record> {
        record_codec::decode_self_describing(self.bytes()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Command> {
        let record = Record::new().set("a", 1).set("b", "x");
        vec![
            Command::Put {
                key: b"k\0".to_vec(),
                record: record.clone(),
            },
            Command::Delete { key: b"k".to_vec() },
            Command::Batch(vec![
                BatchCommand::Put(b"a".to_vec(), record),
                BatchCommand::Delete(b"b".to_vec()),
            ]),
            Command::Batch(Vec::new()),
            Command::Append {
                key: b"k".to_vec(),
                field: "log".into(),
                value: Value::Bytes(vec![0, 1]),
            },
            Command::CreateIndex {
                fields: vec!["city".into()],
                unique: true,
                counted: false,
                covering: Covering::Nothing,
            },
            Command::CreateIndex {
                fields: vec!["carrier".into(), "dest".into()],
                unique: false,
                counted: true,
                covering: Covering::Record,
            },
            Command::CreateIndex {
                fields: vec!["city".into()],
                unique: false,
                counted: false,
                covering: Covering::Fields(vec!["name".into(), "score".into()]),
            },
            Command::DropIndex {
                field: "city".into(),
            },
            Command::BuildStep {
                field: "city".into(),
                records: 1000,
            },
            Command::Update {
                key: b"k".to_vec(),
                update: Update::new().set("a", 1).unset("b").set("c", Value::Null),
                create: true,
            },
            Command::Update {
                key: b"k".to_vec(),
                update: Update::new(),
                create: false,
            },
        ]
    }

    #[test]
    fn commands_round_trip() {
        for command in samples() {
            let bytes = command.encode().unwrap();
            assert_eq!(Command::decode(&bytes).unwrap(), command);
        }
    }

    #[test]
    fn truncated_or_extended_commands_are_corruption() {
        for command in samples() {
            let bytes = command.encode().unwrap();
            for cut in 0..bytes.len() {
                assert!(
                    Command::decode(&bytes[..cut]).is_err(),
                    "{command:?} cut at {cut}"
                );
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(Command::decode(&longer).is_err());
        }
    }

    #[test]
    fn a_record_fielddb_would_refuse_is_refused_at_encoding_not_at_apply() {
        let bad = [
            Record::from_fields_unchecked(vec![(Default::default(), Value::Null)]),
            Record::from_fields_unchecked(vec![("a".into(), Value::Null), ("a".into(), 1.into())]),
            Record::new().set("f", f64::NAN),
        ];
        for record in bad {
            let commands = [
                Command::Put {
                    key: b"k".to_vec(),
                    record: record.clone(),
                },
                Command::Batch(vec![BatchCommand::Put(b"k".to_vec(), record.clone())]),
            ];
            for command in commands {
                let refused = command.encode();
                assert!(
                    matches!(refused, Err(crate::Error::InvalidArgument(_))),
                    "{command:?}: {refused:?}"
                );
            }
        }
        let empty_field = Command::Append {
            key: b"k".to_vec(),
            field: String::new(),
            value: "x".into(),
        };
        assert!(matches!(
            empty_field.encode(),
            Err(crate::Error::InvalidArgument(_))
        ));
    }
}
