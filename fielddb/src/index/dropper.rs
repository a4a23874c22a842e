//! Dropping an index in the background: one batch deletes the id's whole key range (a RocksDB
//! range tombstone) and the definition; compaction then reclaims the space.
//!
//! Writers stopped maintaining the index when it entered `Dropping`, so nothing is written into
//! the range meanwhile, and a new index on the same field (with a new id) can be built at once.

use rocksdb::WriteBatch;

use crate::catalog::{Catalog, IndexId};
use crate::engine::Engine;
use crate::error::Result;
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
    {
        let mut catalog = engine.catalog.write();
        if catalog.get(id).is_none() {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(storage.index()?, &start, &end);
        Catalog::stage_remove(storage, id, &mut batch)?;
        storage.write(batch)?;
        catalog.forget(id);
    }
    engine.notify_changed();
    storage
        .db
        .compact_range_cf(storage.index()?, Some(&start), Some(&end));
    Ok(())
}
