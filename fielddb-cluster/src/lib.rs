//! FieldDB replicated: a Raft group of FieldDB replicas on openraft.
//!
//! | module          | owns                                                              |
//! |-----------------|-------------------------------------------------------------------|
//! | `types`         | the entry (`Request`), the answer (`Response`), openraft's config  |
//! | `log_store`     | the Raft log and vote, in a RocksDB of their own                  |
//! | `state_machine` | the FieldDB replica, client sessions, snapshots as checkpoints    |

pub mod log_store;
pub mod state_machine;
pub mod types;
