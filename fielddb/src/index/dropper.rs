//! Dropping an index in the background: one batch deletes the id's whole key range (a RocksDB
//! range tombstone), the range of its counts and the definition; compaction then reclaims the
//! space.
//!
//! Writers stopped maintaining the index when it entered `Dropping`, so nothing is written into
//! the range meanwhile, and a new index on the same field (with a new id) can be built at once.

use crate::catalog::Catalog;
use crate::encoding::count;
use crate::encoding::index_entry::{self, IndexId};
use crate::error::Result;
use crate::inner::DbInner;
use crate::storage::Cf;

/// Runs a drop task; errors poison nothing but the task, which the next open resumes.
pub(crate) fn run(inner: &DbInner, id: IndexId) {
    let _ = remove_index(inner, id);
}

/// Deletes every entry and the definition of index `id` in one batch.
pub(crate) fn remove_index(inner: &DbInner, id: IndexId) -> Result<()> {
    let storage = &inner.storage;
    let (start, end) = index_entry::id_range(id);
    let (counts_start, counts_end) = count::id_range(id);
    {
        let mut catalog = inner.catalog.write();
        if catalog.get(id).is_none() {
            return Ok(());
        }
        let mut batch = storage.batch()?;
        batch.delete_range(Cf::Index, &start, &end);
        batch.delete_range(Cf::Index, &counts_start, &counts_end);
        Catalog::stage_remove(id, &mut batch);
        storage.write(batch)?;
        catalog.forget(id);
    }
    inner.notify_changed();
    storage.compact_range(Cf::Index, &start, &end)?;
    storage.compact_range(Cf::Index, &counts_start, &counts_end)?;
    Ok(())
}
