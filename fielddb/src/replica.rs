//! Applying a replicated log: the one door through which a replica (a database opened with
//! `Options::replica`) changes. The consensus itself lives outside this crate; all FieldDB asks
//! of it is the commands in log order, each with its position.
//!
//! Determinism: a command's effects and answer depend only on the content it is applied to.
//! Index builds advance by `BuildStep` commands at positions of the log (never in the
//! background), so a unique check during a build, the counts and the build's own failure happen
//! at the same place on every replica. A failure that comes from the machine instead (storage,
//! I/O, a corrupt file: `!Error::is_deterministic()`) stops the apply with an error and writes
//! nothing of the group being applied; the caller must not go on past it.
//!
//! Every batch written here carries the position of the last command it holds (`meta`
//! `replica/applied`) and the replica's own entries changed by those commands (`meta`
//! `replica/data/...`, e.g. a table of client sessions), so content, position and sessions never
//! disagree after a crash, and a checkpoint of the database carries all three.

use std::path::Path;

use crate::batch::{prepare, BatchOp};
use crate::encoding::command::{BatchCommand, Command};
use crate::encoding::index_def::StoredState;
use crate::encoding::prefix_successor;
use crate::encoding::{replica_data_key, APPLIED_KEY, REPLICA_DATA_PREFIX};
use crate::error::{Error, Result};
use crate::index::builder::{self, Step};
use crate::index::dropper;
use crate::index::lookup::describe_indexes;
use crate::inner::{BuildFailure, DbInner};
use crate::record::{validate_key, Record};
use crate::storage::{Cf, KeyRange, Storage, WriteSet};
use crate::write::WritePlan;

/// A command with its place in the replicated log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedCommand {
    /// The command, or `None` for a log entry that changes no data (a membership change, a
    /// leader's blank entry): only the position and the replica's own entries are written.
    pub command: Option<Command>,
    /// The position this entry brings the replica to (opaque to FieldDB; the log's own id).
    pub position: Vec<u8>,
    /// The replica's own entries to set (`Some`) or remove (`None`) with this command.
    pub replica_data: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// What an applied command answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Done; nothing to tell.
    Done,
    /// A delete: whether there was a record.
    Existed(bool),
    /// An append: the record as written.
    Record(Record),
}

/// A replica's content, summed up: equal on every replica at the same position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentHash {
    /// FNV-1a (64-bit) over every record, index entry and count, in key order.
    pub hash: u64,
    /// The records read.
    pub records: u64,
    /// The position applied when the hash was taken.
    pub position: Option<Vec<u8>>,
}

/// Applies `entries` in order. Returns one answer per entry (an entry without a command
/// answers `Done`); an `Err` inside is the command's own deterministic failure, which changed
/// nothing but the position. The outer `Err` is a failure of this machine: the entry it
/// happened in and those after it were not applied.
/// The replica's own entries to set (`Some`) or remove (`None`).
pub type ReplicaData = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// `apply`, also asking `on_answer` (once per entry, in order, with the entry's index in
/// `entries` and its answer) for replica entries to write in the same batch, such as a client
/// session that must remember the answer.
pub(crate) fn apply(
    inner: &DbInner,
    entries: &[LoggedCommand],
    on_answer: &mut dyn FnMut(usize, &Result<Answer>) -> ReplicaData,
) -> Result<Vec<Result<Answer>>> {
    if !inner.options.replica {
        return Err(Error::InvalidArgument(
            "only a database opened with Options::replica applies a replicated log".into(),
        ));
    }
    let mut answers = Vec::with_capacity(entries.len());
    let mut next = 0;
    while next < entries.len() {
        let changes_catalog = entries[next]
            .command
            .as_ref()
            .is_some_and(|c| !c.changes_records());
        if changes_catalog {
            let entry = &entries[next];
            let index = next;
            answers.push(apply_catalog_command(inner, entry, &mut |answer| {
                on_answer(index, answer)
            })?);
            next += 1;
            continue;
        }
        // A run of record commands (and entries without a command): one plan, one batch.
        let mut plan = WritePlan::new(inner)?;
        while next < entries.len()
            && entries[next]
                .command
                .as_ref()
                .is_none_or(Command::changes_records)
        {
            let entry = &entries[next];
            let answer = match &entry.command {
                Some(command) => stage_record_command(&mut plan, command),
                None => Ok(Answer::Done),
            };
            let answer = match answer {
                Err(e) if !e.is_deterministic() => return Err(e),
                answer => answer,
            };
            stage_replica_data(plan.batch(), &entry.replica_data);
            stage_replica_data(plan.batch(), &on_answer(next, &answer));
            answers.push(answer);
            next += 1;
        }
        plan.batch()
            .put(Cf::Meta, APPLIED_KEY, &entries[next - 1].position);
        plan.commit()?;
    }
    Ok(answers)
}

fn stage_replica_data(batch: &mut WriteSet<'_>, data: &ReplicaData) {
    for (name, value) in data {
        let key = replica_data_key(name);
        match value {
            Some(value) => batch.put(Cf::Meta, &key, value),
            None => batch.delete(Cf::Meta, &key),
        }
    }
}

/// Stages the position and replica entries of `entry`, with those `on_answer` gives for its
/// answer (the batch of a catalog command).
fn stage_position(
    batch: &mut WriteSet<'_>,
    entry: &LoggedCommand,
    on_answer: &mut dyn FnMut(&Result<Answer>) -> ReplicaData,
    answer: &Result<Answer>,
) {
    stage_replica_data(batch, &entry.replica_data);
    stage_replica_data(batch, &on_answer(answer));
    batch.put(Cf::Meta, APPLIED_KEY, &entry.position);
}

fn stage_record_command(plan: &mut WritePlan<'_>, command: &Command) -> Result<Answer> {
    match command {
        Command::Put { key, record } => {
            let ops = prepare(
                plan.inner(),
                vec![BatchOp::Put(key.clone(), record.clone())],
            )?;
            plan.stage(&ops, false)?;
            Ok(Answer::Done)
        }
        Command::Delete { key } => {
            let ops = prepare(plan.inner(), vec![BatchOp::Delete(key.clone())])?;
            let existed = plan.stage(&ops, true)?;
            Ok(Answer::Existed(existed.first().copied().unwrap_or(false)))
        }
        Command::Batch(ops) => {
            let ops = prepare(
                plan.inner(),
                ops.iter()
                    .map(|op| match op {
                        BatchCommand::Put(key, record) => BatchOp::Put(key.clone(), record.clone()),
                        BatchCommand::Delete(key) => BatchOp::Delete(key.clone()),
                    })
                    .collect(),
            )?;
            plan.stage(&ops, false)?;
            Ok(Answer::Done)
        }
        Command::Append { key, field, value } => {
            validate_key(key)?;
            let record = plan.stage_append(key, field, value.clone(), false)?;
            Ok(Answer::Record(record))
        }
        Command::Update {
            key,
            update,
            create,
        } => {
            validate_key(key)?;
            let record = plan.stage_update(key, update, *create, false)?;
            Ok(Answer::Record(record))
        }
        Command::CreateIndex { .. } | Command::DropIndex { .. } | Command::BuildStep { .. } => {
            Err(Error::InvalidArgument("not a record command".into()))
        }
    }
}

/// Applies one command that changes the catalog, in a batch of its own. `on_answer` is asked
/// once, with the answer, just before that batch is written (the checks that can fail the
/// command deterministically all come before).
fn apply_catalog_command(
    inner: &DbInner,
    entry: &LoggedCommand,
    on_answer: &mut dyn FnMut(&Result<Answer>) -> ReplicaData,
) -> Result<Result<Answer>> {
    let Some(command) = &entry.command else {
        return Err(Error::InvalidArgument("not a catalog command".into()));
    };
    let storage = &inner.storage;
    let mut catalog = inner.catalog.write();
    let outcome = match command {
        Command::CreateIndex {
            fields,
            unique,
            counted,
            covering,
        } => catalog
            .create(
                storage,
                (fields, *unique, *counted, covering),
                StoredState::Building {
                    cursor: None,
                    done: 0,
                    total: 0,
                },
                |batch| stage_position(batch, entry, on_answer, &Ok(Answer::Done)),
            )
            .map(|_| Answer::Done),
        Command::DropIndex { field } => match catalog.active_on(field).map(|def| def.id) {
            Some(id) => {
                dropper::remove_locked(inner, &mut catalog, id, |batch| {
                    stage_position(batch, entry, on_answer, &Ok(Answer::Done))
                })?;
                drop(catalog);
                dropper::compact(inner, id)?;
                inner.notify_changed();
                return Ok(Ok(Answer::Done));
            }
            None => Err(Error::NoSuchIndex {
                field: field.clone(),
                indexes: describe_indexes(&catalog),
            }),
        },
        Command::BuildStep { field, records } => {
            let building = catalog
                .active_on(field)
                .filter(|def| matches!(def.state, StoredState::Building { .. }))
                .map(|def| def.id);
            match building {
                // Ready, dropped or never created: the step has nothing to do.
                None => Err(Error::InvalidArgument(format!(
                    "no index on `{field}` is building"
                ))),
                Some(id) => {
                    let chunk = (*records).max(1) as usize;
                    let stepped = builder::step_locked(inner, &mut catalog, id, chunk, |batch| {
                        stage_position(batch, entry, on_answer, &Ok(Answer::Done))
                    });
                    match stepped {
                        Ok(Step::More | Step::Finished) => Ok(Answer::Done),
                        Err(BuildFailure::Unique {
                            field,
                            value,
                            existing_key,
                        }) => {
                            // Deterministic: every replica finds the same duplicate here.
                            let failed = Err(Error::UniqueViolation {
                                field,
                                value,
                                existing_key,
                            });
                            dropper::remove_locked(inner, &mut catalog, id, |batch| {
                                stage_position(batch, entry, on_answer, &failed)
                            })?;
                            drop(catalog);
                            inner.notify_changed();
                            return Ok(failed);
                        }
                        Err(BuildFailure::Other { field, reason }) => {
                            return Err(Error::BuildFailed { field, reason })
                        }
                    }
                }
            }
        }
        Command::Put { .. }
        | Command::Delete { .. }
        | Command::Batch(_)
        | Command::Append { .. }
        | Command::Update { .. } => Err(Error::InvalidArgument("not a catalog command".into())),
    };
    match outcome {
        Ok(answer) => {
            drop(catalog);
            inner.notify_changed();
            Ok(Ok(answer))
        }
        Err(e) if e.is_deterministic() => {
            // The command failed on every replica alike: only the position moves on.
            let failed = Err(e);
            let mut batch = storage.batch()?;
            stage_position(&mut batch, entry, on_answer, &failed);
            storage.write(batch)?;
            Ok(failed)
        }
        Err(e) => Err(e),
    }
}

/// The position applied last, if any.
pub(crate) fn applied_position(storage: &Storage) -> Result<Option<Vec<u8>>> {
    Ok(storage.get(Cf::Meta, APPLIED_KEY)?.map(|v| v.to_vec()))
}

/// Forgets the replica's place in a log: the applied position and every replica entry go, the
/// records, indexes and counts stay (a replica restored from a backup, seeding a new group
/// whose log starts empty).
pub(crate) fn reset(storage: &Storage) -> Result<()> {
    let mut batch = storage.batch()?;
    batch.delete(Cf::Meta, APPLIED_KEY);
    if let Some(end) = prefix_successor(REPLICA_DATA_PREFIX) {
        batch.delete_range(Cf::Meta, REPLICA_DATA_PREFIX, &end);
    }
    storage.write(batch)
}

/// Every replica entry, by name.
pub(crate) fn replica_data(storage: &Storage) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let entries = storage.prefix_entries(Cf::Meta, REPLICA_DATA_PREFIX)?;
    Ok(entries
        .into_iter()
        .map(|(key, value)| (key[REPLICA_DATA_PREFIX.len()..].to_vec(), value))
        .collect())
}

/// The content hash of records, index entries and counts, with the position, from one snapshot.
pub(crate) fn content_hash(storage: &Storage) -> Result<ContentHash> {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for b in (bytes.len() as u64).to_le_bytes().iter().chain(bytes) {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    let snapshot = storage.snapshot();
    let position = snapshot.get(Cf::Meta, APPLIED_KEY)?.map(|v| v.to_vec());
    let mut records = 0;
    for cf in [Cf::Kv, Cf::Index] {
        eat(&[cf as u8]);
        let mut it = snapshot.iter(cf, KeyRange::all())?;
        it.seek_to_first();
        while let (Some(key), Some(value)) = (it.key(), it.value()) {
            if cf == Cf::Kv {
                records += 1;
            }
            eat(key);
            eat(value);
            it.next();
        }
        it.status()?;
    }
    Ok(ContentHash {
        hash,
        records,
        position,
    })
}

/// Writes a checkpoint of the database into `dir` (see `Storage::checkpoint`).
pub(crate) fn checkpoint(storage: &Storage, dir: &Path) -> Result<()> {
    storage.checkpoint(dir)
}
