//! The documented limits of the HTTP API: the largest request body, the page sizes and the
//! largest batch. One place, read by the router (body limit), the extractor, the handlers and
//! the OpenAPI schemas.

/// The largest request body accepted (a record or a batch): 4 MiB. Larger is 413.
pub const MAX_BODY_BYTES: usize = 4 << 20;
/// The page size when `limit` is not given.
pub const DEFAULT_PAGE: usize = 100;
/// The largest page size; a larger `limit` is capped to it.
pub const MAX_PAGE: usize = 1000;
/// The most operations one batch may hold.
pub const MAX_BATCH_OPS: usize = 10_000;

/// The largest body of a peer's append-entries RPC: 256 MiB.
pub const MAX_RAFT_BYTES: usize = 256 << 20;
/// The largest snapshot a peer may send (streamed to disk, never held in memory): 64 GiB.
pub const MAX_SNAPSHOT_BYTES: usize = 64 << 30;
