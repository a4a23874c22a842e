//! Secondary indexes: the public types (`IndexSpec`, `IndexState`, `IndexInfo`, `IndexBuild`)
//! here, and in the submodules the background build and drop, lookups, counts and verify.
//! Maintenance on write lives in the write path (`write.rs`), in the record's own batch; the
//! entry layout lives in `encoding::index_entry`.

pub(crate) mod builder;
pub(crate) mod counts;
pub(crate) mod dropper;
pub(crate) mod ingest;
pub(crate) mod key_split;
pub(crate) mod lookup;
pub(crate) mod sorted_entries;
pub(crate) mod verify;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::encoding::index_def::{IndexDef, StoredState};
use crate::encoding::index_entry::{Covering, IndexId};
use crate::error::{Error, Result};
use crate::handle::DbHandle;
use crate::inner::{BuildFailure, DbInner};

/// What index to create: on one field, or on several (a compound index, whose entries sort by
/// the first field's value, then the second's, and so on).
///
/// ```
/// let spec = fielddb::IndexSpec::on("email").unique();
/// let compound = fielddb::IndexSpec::on_fields(["carrier", "dest"]).counted();
/// assert_eq!(compound.name(), "carrier,dest");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    pub(crate) fields: Vec<String>,
    pub(crate) unique: bool,
    pub(crate) counted: bool,
    pub(crate) covering: Covering,
}

impl IndexSpec {
    /// The indexed fields, in order.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }
    /// The index's name: its fields joined by `,` (`carrier,dest`), or its one field. Indexes
    /// are dropped and queried by name.
    pub fn name(&self) -> String {
        self.fields.join(",")
    }
    /// Whether values are unique.
    pub fn is_unique(&self) -> bool {
        self.unique
    }
    /// Whether a count per value is kept.
    pub fn is_counted(&self) -> bool {
        self.counted
    }
    /// What the entries store besides the indexed values.
    pub fn covering(&self) -> &Covering {
        &self.covering
    }
    /// A non-unique index on `field`.
    pub fn on(field: impl Into<String>) -> Self {
        IndexSpec {
            fields: vec![field.into()],
            unique: false,
            counted: false,
            covering: Covering::Nothing,
        }
    }
    /// A non-unique compound index on `fields` (2 to 8 of them; one makes an ordinary index).
    /// A record lacking any of the fields has no entry in it, as a record lacking the field of
    /// a single-field index has none. A query uses it for equalities on a leading run of its
    /// fields, then at most one range or prefix on the next field.
    pub fn on_fields<S: Into<String>>(fields: impl IntoIterator<Item = S>) -> Self {
        IndexSpec {
            fields: fields.into_iter().map(Into::into).collect(),
            unique: false,
            counted: false,
            covering: Covering::Nothing,
        }
    }
    /// Makes the index unique: no two records may hold the same value in the field (for a
    /// compound index, the same tuple of values).
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    /// Keeps an exact count of the records holding each value, updated in the batch of every
    /// write, so that [`FieldDb::count_by_index`] of an equality is one read instead of a walk
    /// over the matching entries. It costs one more key per changed entry on every write; worth
    /// it for a field with few distinct values that is counted often.
    ///
    /// [`FieldDb::count_by_index`]: crate::FieldDb::count_by_index
    pub fn counted(mut self) -> Self {
        self.counted = true;
        self
    }
    /// Makes the index covering: its entries also store `fields` of each record, so a query
    /// asking only for indexed and included fields ([`QueryOptions::fields`]) is one walk of the
    /// index, reading no record. Writers rewrite an entry when an included field changes.
    ///
    /// ```
    /// let spec = fielddb::IndexSpec::on("city").include(["name", "score"]);
    /// assert_eq!(spec.covering(), &fielddb::Covering::Fields(vec!["name".into(), "score".into()]));
    /// ```
    ///
    /// [`QueryOptions::fields`]: crate::QueryOptions::fields
    pub fn include<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.covering = Covering::Fields(fields.into_iter().map(Into::into).collect());
        self
    }
    /// Makes the index store each whole record in its entry, so every query through it reads
    /// no record: a copy of the data, sorted by the indexed values (it costs the records' size
    /// again on disk, and a rewrite of the entry on every change to the record).
    pub fn include_all(mut self) -> Self {
        self.covering = Covering::Record;
        self
    }
}

/// The state of an index.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexState {
    /// Being filled in the background; writers already maintain it, queries wait for `Ready`.
    Building {
        /// Records indexed so far.
        done: u64,
        /// Estimated records in all.
        total: u64,
    },
    /// Complete and answering queries.
    Ready,
    /// Being removed in the background.
    Dropping,
}

/// An index as `FieldDb::indexes` lists it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IndexInfo {
    /// The index's name: its field, or its fields joined by `,` (`carrier,dest`).
    pub field: String,
    /// The indexed fields, in order (one, or several for a compound index).
    pub fields: Vec<String>,
    /// Whether values are unique.
    pub unique: bool,
    /// Whether the index keeps a count per value ([`IndexSpec::counted`]).
    pub counted: bool,
    /// What its entries store besides the indexed values ([`IndexSpec::include`]).
    pub covering: Covering,
    /// Its state.
    pub state: IndexState,
    /// Why its background build or drop failed in this process, if it did. A build that fails
    /// is dropped; a build whose task panicked, and a drop that fails, stay as they were on
    /// disk and go on at the next open.
    pub failure: Option<String>,
}

impl IndexInfo {
    /// An index as a caller describes it: a cluster combining what its shards report.
    pub fn new(fields: Vec<String>, unique: bool, counted: bool, state: IndexState) -> Self {
        IndexInfo {
            field: fields.join(","),
            fields,
            unique,
            counted,
            covering: Covering::Nothing,
            state,
            failure: None,
        }
    }

    /// The same, covering `covering`.
    pub fn with_covering(mut self, covering: Covering) -> Self {
        self.covering = covering;
        self
    }

    pub(crate) fn from_def(def: &IndexDef) -> Self {
        IndexInfo {
            field: def.name(),
            fields: def.fields.clone(),
            unique: def.unique,
            counted: def.counted,
            covering: def.covering.clone(),
            state: match &def.state {
                StoredState::Building { done, total, .. } => IndexState::Building {
                    done: *done,
                    total: *total,
                },
                StoredState::Ingesting { total } => IndexState::Building {
                    done: 0,
                    total: *total,
                },
                // Every record of the build's snapshot is indexed; the changes made meanwhile
                // are being merged.
                StoredState::Merging { total } => IndexState::Building {
                    done: *total,
                    total: *total,
                },
                StoredState::Ready => IndexState::Ready,
                StoredState::Dropping => IndexState::Dropping,
            },
            failure: None,
        }
    }

    /// The same, with the failure of its background task, if any.
    pub(crate) fn with_failure(mut self, failure: Option<&BuildFailure>) -> Self {
        self.failure = failure.map(BuildFailure::message);
        self
    }

    /// The same, counting as done the `walked` records of a build by ingestion (at most the
    /// estimated total).
    fn with_walked(mut self, walked: Option<u64>) -> Self {
        if let (IndexState::Building { done, total }, Some(walked)) = (&mut self.state, walked) {
            *done = walked.min(*total);
        }
        self
    }

    /// What `FieldDb::indexes` and `IndexBuild::info` report for `def`: its state, with the
    /// records walked so far when it is built by ingestion, and its task's failure, if any.
    /// Takes no catalog guard.
    pub(crate) fn current(inner: &DbInner, def: &IndexDef) -> Self {
        let walked = match def.state {
            StoredState::Ingesting { .. } => inner
                .walked
                .lock()
                .get(&def.id)
                .map(|w| w.load(Ordering::Relaxed)),
            _ => None,
        };
        IndexInfo::from_def(def)
            .with_walked(walked)
            .with_failure(inner.failures.lock().get(&def.id))
    }

    /// Build progress from 0.0 to 1.0 (1.0 when ready; a building index stays below 1.0).
    pub fn progress(&self) -> f64 {
        match self.state {
            IndexState::Ready => 1.0,
            IndexState::Dropping => 0.0,
            IndexState::Building { done, total } if total > 0 => {
                (done as f64 / total as f64).min(0.99)
            }
            IndexState::Building { .. } => 0.0,
        }
    }
}

/// The handle `create_index` returns. It keeps the database open while it lives.
pub struct IndexBuild {
    pub(crate) handle: Arc<DbHandle>,
    pub(crate) id: IndexId,
    /// The index's name.
    pub(crate) name: String,
}

impl IndexBuild {
    /// The index's name: its field, or its fields joined by `,`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The index's current state, or `None` once it no longer exists.
    pub fn info(&self) -> Option<IndexInfo> {
        let inner = self.handle.inner();
        let def = inner.catalog.read().get(self.id).cloned()?;
        Some(IndexInfo::current(inner, &def))
    }

    /// Build progress from 0.0 to 1.0.
    pub fn progress(&self) -> f64 {
        self.info().map_or(0.0, |i| i.progress())
    }

    /// Blocks until the index is ready. Fails if the build failed (for a unique index, when two
    /// records hold the same value) or the index was dropped first.
    pub fn wait(&self) -> Result<()> {
        let inner = self.handle.inner();
        // Settled: ready, dropped, or failed (a failed build is being dropped; one whose task
        // panicked stays `Building` on disk, to resume on the next open, but this wait is
        // over).
        let settled = || {
            inner.failures.lock().contains_key(&self.id)
                || match inner.catalog.read().get(self.id) {
                    Some(def) => !def.state.is_building(),
                    None => true,
                }
        };
        inner.wait_until(settled);
        if let Some(IndexInfo {
            state: IndexState::Ready,
            ..
        }) = self.info()
        {
            return Ok(());
        }
        // The failure is recorded before the index is removed, so it is visible here.
        match inner.failures.lock().get(&self.id).cloned() {
            Some(BuildFailure::Unique {
                field,
                value,
                existing_key,
            }) => Err(Error::UniqueViolation {
                field,
                value,
                existing_key,
            }),
            Some(BuildFailure::Other { field, reason }) => {
                Err(Error::BuildFailed { field, reason })
            }
            None => Err(Error::BuildFailed {
                field: self.name.clone(),
                reason: "the index was dropped before its build finished".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(state: StoredState) -> IndexDef {
        IndexDef {
            id: 4,
            fields: vec!["city".into()],
            unique: false,
            counted: false,
            covering: Covering::Nothing,
            state,
        }
    }

    #[test]
    fn a_build_by_ingestion_counts_the_records_it_has_walked_as_done() {
        let ingesting = IndexInfo::from_def(&def(StoredState::Ingesting { total: 1_000 }));
        assert_eq!(
            ingesting.state,
            IndexState::Building {
                done: 0,
                total: 1_000
            }
        );
        let walking = ingesting.clone().with_walked(Some(250));
        assert_eq!(
            walking.state,
            IndexState::Building {
                done: 250,
                total: 1_000
            }
        );
        assert_eq!(walking.progress(), 0.25);
        // The total is an estimate: more records than it never show as more than done.
        let past = ingesting.with_walked(Some(1_500));
        assert_eq!(
            past.state,
            IndexState::Building {
                done: 1_000,
                total: 1_000
            }
        );
        assert!(past.progress() < 1.0);
        let merging = IndexInfo::from_def(&def(StoredState::Merging { total: 1_000 }));
        assert_eq!(merging.progress(), 0.99);
        let ready = IndexInfo::from_def(&def(StoredState::Ready)).with_walked(Some(5));
        assert_eq!(ready.state, IndexState::Ready);
    }
}
