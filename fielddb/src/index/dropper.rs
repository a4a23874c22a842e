//! Dropping an index in the background: one batch deletes the id's whole key range (a RocksDB
//! range tombstone), the range of its counts and the definition; compaction then reclaims the
//! space.
//!
//! Writers stopped maintaining the index when it entered `Dropping`, so nothing is written into
//! the range meanwhile, and a new index on the same field (with a new id) can be built at once.

use rocksdb::WriteBatch;

use crate::catalog::{Catalog, IndexId};
use crate::engine::Engine;
use crate::error::Result;
use crate::index::counts;
use crate::index::entry::{id_prefix, prefix_successor};

/// Runs a drop task; errors poison nothing but the task, which the next open resumes.
pub(crate) fn run(engine: &Engine, id: IndexId) {
    let _ = remove_index(engine, id);
}

/// Deletes every entry and the definition of index `id` in one batch.
pub(crate) fn remove_index(engine: &Engine, id: IndexId) -> Result<()> {
    let storage = &engine.storage;
    let start = id_prefix(id).to_vec();
    let end = prefix_successor(&start).unwrap_or_else(|| vec![0xFF; 5]);
    let (counts_start, counts_end) = counts::id_range(id);
    {
        let mut catalog = engine.catalog.write();
        if catalog.get(id).is_none() {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(storage.index()?, &start, &end);
        batch.delete_range_cf(storage.index()?, &counts_start, &counts_end);
        Catalog::stage_remove(storage, id, &mut batch)?;
        storage.write(batch)?;
        catalog.forget(id);
    }
    engine.notify_changed();
    let index_cf = storage.index()?;
    storage
        .db
        .compact_range_cf(index_cf, Some(&start), Some(&end));
    storage
        .db
        .compact_range_cf(index_cf, Some(&counts_start), Some(&counts_end));
    Ok(())
}
