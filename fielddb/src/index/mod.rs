//! Secondary indexes: the entry layout, the background build and drop, queries and verify.
//! Maintenance on write lives in the write path (`write.rs`), in the record's own batch.

pub(crate) mod builder;
pub(crate) mod counts;
pub(crate) mod dropper;
pub(crate) mod entry;
pub(crate) mod query;
pub(crate) mod verify;
