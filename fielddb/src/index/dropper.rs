//! Dropping an index in the background: one batch deletes the id's whole key range (a RocksDB
//! range tombstone), the range of its counts, its build markers and the definition; compaction
//! then reclaims the space.
//!
//! Writers stopped maintaining the index when it entered `Dropping`, so nothing is written into
//! the range meanwhile, and a new index on the same field (with a new id) can be built at once.

use crate::catalog::Catalog;
use crate::encoding::index_entry::{self, IndexId};
use crate::encoding::{build_marker, count};
use crate::error::Result;
use crate::inner::DbInner;
use crate::storage::{Cf, WriteSet};

/// Runs a drop task; errors poison nothing but the task, which the next open resumes.
pub(crate) fn run(inner: &DbInner, id: IndexId) {
    let _ = remove_index(inner, id);
}

/// Deletes every entry and the definition of index `id` in one batch.
pub(crate) fn remove_index(inner: &DbInner, id: IndexId) -> Result<()> {
    let removed = remove_locked(inner, &mut inner.catalog.write(), id, |_| {})?;
    inner.notify_changed();
    if removed {
        compact(inner, id)?;
    }
    Ok(())
}

/// Deletes every entry, count and the definition of index `id` in one batch, to which `extra`
/// may add keys of its own; the caller holds the catalog's write guard. Returns false (writing
/// nothing) when there is no such index.
pub(crate) fn remove_locked(
    inner: &DbInner,
    catalog: &mut Catalog,
    id: IndexId,
    extra: impl FnOnce(&mut WriteSet<'_>),
) -> Result<bool> {
    if catalog.get(id).is_none() {
        return Ok(false);
    }
    let storage = &inner.storage;
    let (start, end) = index_entry::id_range(id);
    let (counts_start, counts_end) = count::id_range(id);
    let mut batch = storage.batch()?;
    batch.delete_range(Cf::Index, &start, &end);
    batch.delete_range(Cf::Index, &counts_start, &counts_end);
    // The "key changed" markers of a build by ingestion, if it was one.
    let (markers_start, markers_end) = build_marker::id_range(id);
    batch.delete_range(Cf::Meta, &markers_start, &markers_end);
    Catalog::stage_remove(id, &mut batch);
    extra(&mut batch);
    storage.write(batch)?;
    catalog.forget(id);
    Ok(true)
}

/// Reclaims the space of a removed index's ranges now.
pub(crate) fn compact(inner: &DbInner, id: IndexId) -> Result<()> {
    let (start, end) = index_entry::id_range(id);
    let (counts_start, counts_end) = count::id_range(id);
    inner.storage.compact_range(Cf::Index, &start, &end)?;
    inner
        .storage
        .compact_range(Cf::Index, &counts_start, &counts_end)
}
