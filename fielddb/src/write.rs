//! The write path: validated operations become ONE RocksDB batch holding the records and every
//! index change they cause, so data and indexes can never disagree (DESIGN.md section 5).
//!
//! It is split in two, so that a caller (a replica applying its log) can add keys of its own to
//! the batch and commit several commands at once:
//!
//! - **plan** ([`WritePlan::new`], [`WritePlan::stage`]): take the catalog's read guard, held
//!   until the batch is committed, so an index state change or build step (which take the write
//!   guard) is ordered against this write. For each group of operations: with no index to
//!   maintain, stage the records blindly; otherwise lock the keys' stripes, read each old record
//!   (or the version left by an earlier operation of the plan), and for every maintained index
//!   whose value changed stage the removal of the old entry and the new one (with its payload:
//!   the fields a covering index stores), and for a counted index the change of each value's
//!   count (`index::counts`); a covering index whose value stayed but whose covered fields
//!   changed gets its entry rewritten. For unique indexes lock the
//!   claimed values' stripes and check that no other key holds them, on disk or in the plan; a
//!   conflict is `Error::UniqueViolation` and the group stages nothing.
//! - **commit** ([`WritePlan::commit`]): write the batch, atomically.

use std::collections::{BTreeMap, HashMap};

use parking_lot::RwLockReadGuard;

use crate::batch::{prepare_put, PreparedOp};
use crate::catalog::Catalog;
use crate::encoding::build_marker;
use crate::encoding::index_def::{IndexDef, StoredState};
use crate::encoding::index_entry::{self, Covering, IndexId};
use crate::encoding::names::NameTable;
use crate::error::{Error, Result};
use crate::index::counts::{self, CountDeltas};
use crate::inner::DbInner;
use crate::locks::HeldStripes;
use crate::read::read_record;
use crate::record::Record;
use crate::storage::{Cf, KeyRange, WriteSet};
use crate::update::Update;
use crate::value::Value;

/// Applies `ops` atomically. When `report_existed` is set, returns for each op whether its key
/// held a record just before it.
pub(crate) fn apply(
    inner: &DbInner,
    ops: &[PreparedOp],
    report_existed: bool,
) -> Result<Vec<bool>> {
    let mut plan = WritePlan::new(inner)?;
    let existed = plan.stage_last(ops, report_existed)?;
    plan.commit()?;
    Ok(existed)
}

/// Appends `value` to `field` of the record at `key` (creating both when absent) atomically, and
/// returns the record as written. See [`Record::append_to`] for what may be appended.
pub(crate) fn append(inner: &DbInner, key: &[u8], field: &str, value: Value) -> Result<Record> {
    let mut plan = WritePlan::new(inner)?;
    let record = plan.stage_append(key, field, value, true)?;
    plan.commit()?;
    Ok(record)
}

/// Applies `update` to the record at `key` (creating it when `create`), atomically with its
/// index changes; returns the new record.
pub(crate) fn update(inner: &DbInner, key: &[u8], update: &Update, create: bool) -> Result<Record> {
    let mut plan = WritePlan::new(inner)?;
    let record = plan.stage_update(key, update, create, true)?;
    plan.commit()?;
    Ok(record)
}

/// A write being planned: groups of operations staged into one batch, not yet committed.
/// Dropping it writes nothing.
pub(crate) struct WritePlan<'a> {
    inner: &'a DbInner,
    catalog: RwLockReadGuard<'a, Catalog>,
    batch: WriteSet<'a>,
    key_stripes: HeldStripes<'a>,
    value_stripes: HeldStripes<'a>,
    /// The state of each key the plan has staged: `Some(record)` or `None` (absent); kept only
    /// while more groups may follow.
    latest: HashMap<Vec<u8>, Option<Record>>,
    /// Final fate of each index entry the plan touches: `Some(payload)` = put, `None` = delete.
    entry_changes: BTreeMap<Vec<u8>, EntryFate>,
    count_deltas: CountDeltas,
    /// Set by [`WritePlan::stage_last`]: no group may follow, so no overlay was kept.
    closed: bool,
}

/// What becomes of an index entry: put with this payload (see `index_entry::Covering`), or
/// deleted.
type EntryFate = Option<Vec<u8>>;

/// A unique value a put wants to hold.
struct Claim<'a> {
    def: &'a IndexDef,
    key: &'a [u8],
    value_prefix: Vec<u8>,
    entry: Vec<u8>,
}

/// What one group of operations stages, kept apart until the whole group is known to succeed.
#[derive(Default)]
struct Group<'o> {
    latest: HashMap<&'o [u8], Option<Record>>,
    entry_changes: BTreeMap<Vec<u8>, EntryFate>,
    count_deltas: CountDeltas,
}

impl<'a> WritePlan<'a> {
    /// The database the plan writes to.
    pub(crate) fn inner(&self) -> &'a DbInner {
        self.inner
    }

    /// Starts a plan: refuses at once when the handle takes no writes, then holds the catalog's
    /// read guard until the plan is committed or dropped.
    pub(crate) fn new(inner: &'a DbInner) -> Result<WritePlan<'a>> {
        inner.storage.check_writable()?;
        let catalog = inner.catalog.read();
        Ok(WritePlan {
            inner,
            catalog,
            batch: inner.storage.batch()?,
            key_stripes: inner.key_locks.none(),
            value_stripes: inner.value_locks.none(),
            latest: HashMap::new(),
            entry_changes: BTreeMap::new(),
            count_deltas: CountDeltas::default(),
            closed: false,
        })
    }

    /// Stages `ops`, in order, after everything staged before: all of them, or (on any error)
    /// none. When `report_existed` is set, returns for each op whether its key held a record
    /// just before it (else an empty vector when no index is maintained).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn stage(&mut self, ops: &[PreparedOp], report_existed: bool) -> Result<Vec<bool>> {
        self.stage_group(ops, report_existed, false)
    }

    /// Like [`WritePlan::stage`], for the plan's last group: it keeps no record of what it
    /// staged for later groups to read, which a single write does not need. A later `stage` is
    /// refused.
    pub(crate) fn stage_last(
        &mut self,
        ops: &[PreparedOp],
        report_existed: bool,
    ) -> Result<Vec<bool>> {
        self.stage_group(ops, report_existed, true)
    }

    fn check_open(&self) -> Result<()> {
        if self.closed {
            return Err(Error::InvalidArgument(
                "this write plan's last group is already staged".into(),
            ));
        }
        Ok(())
    }

    fn stage_group(
        &mut self,
        ops: &[PreparedOp],
        report_existed: bool,
        last: bool,
    ) -> Result<Vec<bool>> {
        self.check_open()?;
        let WritePlan {
            inner,
            catalog,
            batch,
            key_stripes,
            value_stripes,
            latest,
            entry_changes,
            count_deltas,
            closed,
        } = self;
        *closed = last;
        let storage = &inner.storage;
        // An index built by ingestion gets a marker per changed key instead of entries.
        let (ingesting, indexes): (Vec<&IndexDef>, Vec<&IndexDef>) = catalog
            .maintained()
            .partition(|def| matches!(def.state, StoredState::Ingesting { .. }));
        let ingesting: Vec<IndexId> = ingesting.iter().map(|def| def.id).collect();

        if indexes.is_empty() && !report_existed {
            for op in ops {
                stage_record(batch, op, &ingesting);
                if !last {
                    let state = op.put.as_ref().map(|(record, _)| record.clone());
                    latest.insert(op.key.clone(), state);
                }
            }
            return Ok(Vec::new());
        }

        key_stripes.lock_more(ops.iter().map(|op| op.key.as_slice()));
        // The payloads of covering indexes are written against the dictionary, which holds the
        // names of the new records (interned by `prepare`) and of the old ones.
        let dictionary = indexes
            .iter()
            .any(|def| def.covering != Covering::Nothing)
            .then(|| inner.names.current());
        let dictionary = dictionary.as_deref().unwrap_or(NameTable::empty());

        let mut group = Group::default();
        let mut existed = Vec::with_capacity(ops.len());
        let mut claims: Vec<Claim> = Vec::new();
        for op in ops {
            let mut unreadable = false;
            let staged = group
                .latest
                .get(op.key.as_slice())
                .or_else(|| latest.get(op.key.as_slice()));
            let old: Option<Record> = match staged {
                Some(state) => state.clone(),
                None if indexes.is_empty() => {
                    // Only existence is wanted.
                    storage.contains(Cf::Kv, &op.key)?.then(Record::new)
                }
                None => match read_record(inner, &op.key) {
                    Ok(record) => record,
                    Err(Error::Corruption(_)) => {
                        // The old record cannot be read, so its index entries cannot be
                        // computed from it: find them by their key instead, so this write
                        // repairs the damage.
                        for &def in &indexes {
                            for (entry, value) in entries_pointing_to(inner, def, &op.key)? {
                                group.entry_changes.insert(entry, None);
                                if counts::writer_counts(def, &op.key) {
                                    group.count_deltas.add_encoded(def.id, value, -1);
                                }
                            }
                        }
                        unreadable = true;
                        None
                    }
                    Err(other) => return Err(other),
                },
            };
            existed.push(old.is_some() || unreadable);
            let new = op.put.as_ref().map(|(record, _)| record);
            let new_bytes = op.put.as_ref().map(|(_, encoded)| encoded.as_slice());
            for &def in &indexes {
                let old_values = old
                    .as_ref()
                    .and_then(|r| index_entry::record_values(&def.fields, r));
                let new_values = new.and_then(|r| index_entry::record_values(&def.fields, r));
                // The new entry's payload: empty unless the index covers more fields.
                let new_payload = match (new, &new_values) {
                    (Some(record), Some(_)) => {
                        def.covering.payload(record, new_bytes, dictionary)?
                    }
                    _ => Vec::new(),
                };
                if old_values == new_values {
                    // Same entry; a covering index rewrites it when its payload changed.
                    let (Some(values), Some(old)) = (&new_values, &old) else {
                        continue;
                    };
                    if def.covering != Covering::Nothing
                        && def.covering.payload(old, None, dictionary)? != new_payload
                    {
                        let entry = index_entry::entry_key(def.id, values, &op.key);
                        group.entry_changes.insert(entry, Some(new_payload));
                    }
                    continue;
                }
                let counted = counts::writer_counts(def, &op.key);
                if let Some(v) = &old_values {
                    let entry = index_entry::entry_key(def.id, v, &op.key);
                    if counted {
                        group
                            .count_deltas
                            .add_for_entry(def.id, &entry, op.key.len(), -1);
                    }
                    group.entry_changes.insert(entry, None);
                }
                if let Some(v) = new_values {
                    let entry = index_entry::entry_key(def.id, &v, &op.key);
                    if counted {
                        group
                            .count_deltas
                            .add_for_entry(def.id, &entry, op.key.len(), 1);
                    }
                    group.entry_changes.insert(entry.clone(), Some(new_payload));
                    if def.unique {
                        claims.push(Claim {
                            def,
                            key: &op.key,
                            value_prefix: index_entry::value_prefix(def.id, &v),
                            entry,
                        });
                    }
                }
            }
            group.latest.insert(&op.key, new.cloned());
        }

        // A claim whose entry a later operation of the group removed claims nothing.
        claims.retain(|c| matches!(group.entry_changes.get(&c.entry), Some(Some(_))));
        value_stripes.lock_more(claims.iter().map(|c| c.value_prefix.as_slice()));
        check_claims(inner, &claims, &group.entry_changes, entry_changes)?;

        // The group succeeded: it joins the plan.
        for op in ops {
            stage_record(batch, op, &ingesting);
        }
        if !last {
            for (key, state) in group.latest {
                latest.insert(key.to_vec(), state);
            }
        }
        if entry_changes.is_empty() {
            *entry_changes = group.entry_changes;
        } else {
            entry_changes.extend(group.entry_changes);
        }
        count_deltas.absorb(group.count_deltas);
        Ok(existed)
    }

    /// Stages an append of `value` to `field` of the record at `key` (which the caller has
    /// validated) as a group of its own, reading the record as the plan has left it, and returns
    /// the new record. The key's stripe is held from the read to the commit, so no other
    /// writer's change to the key is lost.
    pub(crate) fn stage_append(
        &mut self,
        key: &[u8],
        field: &str,
        value: Value,
        last: bool,
    ) -> Result<Record> {
        let mut record = self.locked_current(key)?.unwrap_or_default();
        record.append_to(field, value)?;
        self.stage_one_put(key, record, last)
    }

    /// Locks `key`'s stripe (held until the commit) and reads its record as the plan has left
    /// it, so a read-modify-write of the key is one atomic step.
    fn locked_current(&mut self, key: &[u8]) -> Result<Option<Record>> {
        self.check_open()?;
        self.key_stripes.lock_more([key]);
        match self.latest.get(key) {
            Some(state) => Ok(state.clone()),
            None => read_record(self.inner, key),
        }
    }

    /// Stages a put of `record` at `key` as a group of its own; returns the record.
    fn stage_one_put(&mut self, key: &[u8], record: Record, last: bool) -> Result<Record> {
        let op = prepare_put(self.inner, key.to_vec(), record.clone())?;
        self.stage_group(std::slice::from_ref(&op), false, last)?;
        Ok(record)
    }

    /// Stages `update` of the record at `key` (validated by the caller) as a group of its own,
    /// reading the record as the plan has left it, and returns the new record. Without a record
    /// there, `create` starts from an empty one; else the answer is `NotFound`. The key's stripe
    /// is held from the read to the commit, as for an append.
    pub(crate) fn stage_update(
        &mut self,
        key: &[u8],
        update: &Update,
        create: bool,
        last: bool,
    ) -> Result<Record> {
        let mut record = match self.locked_current(key)? {
            Some(record) => record,
            None if create => Record::new(),
            None => return Err(Error::NotFound(key.to_vec())),
        };
        update.apply_to(&mut record);
        self.stage_one_put(key, record, last)
    }

    /// The batch, for keys of the caller's own that must commit with the staged operations
    /// (a replica's applied log position; used by the tests until the replicated apply lands).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn batch(&mut self) -> &mut WriteSet<'a> {
        &mut self.batch
    }

    /// Writes everything staged as one atomic batch.
    pub(crate) fn commit(mut self) -> Result<()> {
        for (entry, fate) in &self.entry_changes {
            match fate {
                Some(payload) => self.batch.put(Cf::Index, entry, payload),
                None => self.batch.delete(Cf::Index, entry),
            }
        }
        self.count_deltas.stage(&mut self.batch);
        let WritePlan {
            inner,
            catalog,
            batch,
            key_stripes,
            value_stripes,
            ..
        } = self;
        inner.storage.write(batch)?;
        // Held until the batch is in: the stripes and the catalog guard order this write.
        drop((value_stripes, key_stripes, catalog));
        Ok(())
    }
}

/// Stages the record change of one operation, and its key's marker for each index being
/// built by ingestion (`ingesting`).
fn stage_record(batch: &mut WriteSet<'_>, op: &PreparedOp, ingesting: &[IndexId]) {
    match &op.put {
        Some((_, encoded)) => batch.put(Cf::Kv, &op.key, encoded),
        None => batch.delete(Cf::Kv, &op.key),
    }
    for &id in ingesting {
        batch.put(Cf::Meta, &build_marker::marker_key(id, &op.key), &[]);
    }
}

/// The entries of index `def` whose user key is `key`, with their encoded values, found by
/// walking the whole index (the repair path for a record that no longer decodes).
fn entries_pointing_to(
    inner: &DbInner,
    def: &IndexDef,
    key: &[u8],
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let (start, end) = index_entry::id_range(def.id);
    let prefix_len = start.len();
    let mut found = Vec::new();
    let mut it = inner
        .storage
        .iter(Cf::Index, KeyRange::between(start, end))?;
    it.seek_to_first();
    while let Some(raw) = it.key() {
        let suffix = &raw[prefix_len..];
        if let Ok((_, holder)) = index_entry::split_suffix(suffix, def.fields.len()) {
            if holder == key {
                let value = suffix[..suffix.len() - holder.len()].to_vec();
                found.push((raw.to_vec(), value));
            }
        }
        it.next();
    }
    it.status()?;
    Ok(found)
}

/// Fails with `UniqueViolation` when a claimed value is held by another key: claimed earlier in
/// the group, staged by an earlier group of the plan, or stored and not removed by the plan.
fn check_claims(
    inner: &DbInner,
    claims: &[Claim],
    group_changes: &BTreeMap<Vec<u8>, EntryFate>,
    plan_changes: &BTreeMap<Vec<u8>, EntryFate>,
) -> Result<()> {
    // The fate the plan gives an entry so far, the group's word overriding earlier groups':
    // `Some(true)` put, `Some(false)` deleted, `None` untouched.
    let fate = |entry: &[u8]| {
        group_changes
            .get(entry)
            .or_else(|| plan_changes.get(entry))
            .map(Option::is_some)
    };
    for (i, claim) in claims.iter().enumerate() {
        let violation = |existing_key: &[u8]| Error::UniqueViolation {
            field: claim.def.name(),
            value: index_entry::encoded_values_for_message(
                &claim.value_prefix[index_entry::id_prefix(claim.def.id).len()..],
            ),
            existing_key: existing_key.to_vec(),
        };
        // Two puts of one group claiming the same value for different keys.
        if let Some(other) = claims[..i]
            .iter()
            .find(|o| o.value_prefix == claim.value_prefix && o.key != claim.key)
        {
            return Err(violation(other.key));
        }
        // An earlier group of the plan put an entry of this value for another key.
        for (entry, _) in plan_changes
            .range(claim.value_prefix.clone()..)
            .take_while(|(entry, _)| entry.starts_with(&claim.value_prefix))
        {
            let holder = &entry[claim.value_prefix.len()..];
            if holder != claim.key && fate(entry) == Some(true) {
                return Err(violation(holder));
            }
        }
        let mut it = inner.storage.iter(Cf::Index, KeyRange::all())?;
        it.seek(&claim.value_prefix);
        while let Some(found) = it.key() {
            let Some(holder) = found.strip_prefix(claim.value_prefix.as_slice()) else {
                break;
            };
            let removed_here = fate(found) == Some(false);
            if holder != claim.key && !removed_here {
                return Err(violation(holder));
            }
            it.next();
        }
        it.status()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{prepare, BatchOp};
    use crate::{FieldDb, IndexSpec, Record};

    fn put(db: &FieldDb, key: &str, e: i64) -> Vec<PreparedOp> {
        prepare(
            db.inner(),
            vec![BatchOp::Put(key.into(), Record::new().set("e", e))],
        )
        .unwrap()
    }

    fn unique_db() -> (tempfile::TempDir, FieldDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = FieldDb::open(dir.path()).unwrap();
        db.put("old", Record::new().set("e", 1)).unwrap();
        db.create_index(IndexSpec::on("e").unique().counted())
            .unwrap()
            .wait()
            .unwrap();
        (dir, db)
    }

    #[test]
    fn a_failed_group_stages_nothing_and_the_plan_goes_on() {
        let (_dir, db) = unique_db();
        let mut plan = WritePlan::new(db.inner()).unwrap();
        plan.stage(&put(&db, "a", 2), false).unwrap();
        // Held by an earlier group of the plan, then by a stored record.
        let err = plan.stage(&put(&db, "b", 2), false).unwrap_err();
        assert!(
            matches!(&err, Error::UniqueViolation { existing_key, .. } if existing_key == b"a")
        );
        let err = plan.stage(&put(&db, "c", 1), false).unwrap_err();
        assert!(
            matches!(&err, Error::UniqueViolation { existing_key, .. } if existing_key == b"old")
        );
        // A group that frees a value lets a later group claim it.
        let delete_old = prepare(db.inner(), vec![BatchOp::Delete(b"old".to_vec())]).unwrap();
        assert_eq!(plan.stage(&delete_old, true).unwrap(), vec![true]);
        plan.stage(&put(&db, "d", 1), false).unwrap();
        plan.batch().put(Cf::Meta, b"test/applied", b"7");
        plan.commit().unwrap();

        assert!(db.get("b").unwrap().is_none() && db.get("c").unwrap().is_none());
        assert!(db.get("old").unwrap().is_none());
        assert_eq!(db.get("d").unwrap().unwrap().get("e"), Some(&1.into()));
        let applied = db.inner().storage.get(Cf::Meta, b"test/applied").unwrap();
        assert_eq!(applied.as_deref(), Some(&b"7"[..]));
        assert_eq!(db.count_by_index("e", &crate::Query::eq(1)).unwrap(), 1);
        assert_eq!(db.count_by_index("e", &crate::Query::eq(2)).unwrap(), 1);
        assert!(db.verify().unwrap().is_clean());
    }

    #[test]
    fn a_later_group_reads_what_an_earlier_one_staged() {
        let (_dir, db) = unique_db();
        let mut plan = WritePlan::new(db.inner()).unwrap();
        plan.stage(&put(&db, "a", 5), false).unwrap();
        let delete_a = prepare(db.inner(), vec![BatchOp::Delete(b"a".to_vec())]).unwrap();
        assert_eq!(plan.stage(&delete_a, true).unwrap(), vec![true]);
        assert_eq!(plan.stage(&delete_a, true).unwrap(), vec![false]);
        plan.stage(&put(&db, "b", 5), false).unwrap();
        plan.commit().unwrap();
        assert!(db.get("a").unwrap().is_none());
        assert_eq!(db.count_by_index("e", &crate::Query::eq(5)).unwrap(), 1);
        assert!(db.verify().unwrap().is_clean());
    }

    #[test]
    fn nothing_may_follow_the_last_group() {
        let (_dir, db) = unique_db();
        let mut plan = WritePlan::new(db.inner()).unwrap();
        plan.stage_last(&put(&db, "a", 3), false).unwrap();
        assert!(matches!(
            plan.stage(&put(&db, "b", 4), false),
            Err(Error::InvalidArgument(_))
        ));
        plan.commit().unwrap();
        assert!(db.get("a").unwrap().is_some() && db.get("b").unwrap().is_none());
    }

    #[test]
    fn a_dropped_plan_writes_nothing() {
        let (_dir, db) = unique_db();
        let mut plan = WritePlan::new(db.inner()).unwrap();
        plan.stage(&put(&db, "a", 9), false).unwrap();
        drop(plan);
        assert!(db.get("a").unwrap().is_none());
        db.put("a", Record::new().set("e", 9)).unwrap();
        assert!(db.verify().unwrap().is_clean());
    }
}
