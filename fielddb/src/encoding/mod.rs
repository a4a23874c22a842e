//! Every byte format FieldDB writes, in one place: the bottom layer of the crate. Nothing here
//! touches RocksDB or holds state; each file opens with the layout table of its format.
//!
//! | file             | format                                                          |
//! |------------------|-----------------------------------------------------------------|
//! | `keycode.rs`     | order-preserving encoding of a value inside an index key        |
//! | `record.rs`      | a record, the value of a `kv` key                               |
//! | `names.rs`       | the field-name dictionary in `meta` that records refer to       |
//! | `index_entry.rs` | an index entry key in `index`: id ‖ keycode(value) ‖ user key   |
//! | `count.rs`       | a per-value count key and its i64 value, and their merge        |
//! | `index_def.rs`   | the catalog in `meta`: index definitions and the next index id  |
//! | `build_marker.rs`| a "key changed" marker in `meta` while an index is ingested     |
//! | `command.rs`     | a replicated command, the payload of a log entry                |
//! | this file        | the format version kept in `meta`                               |
//!
//! | column family | key                              | value                             |
//! |---------------|----------------------------------|-----------------------------------|
//! | `kv`          | user key                         | `record` encoding                 |
//! | `index`       | `index_entry` key                | empty, or the covered fields      |
//! | `index`       | `count` key (after every entry)  | i64 LE, changed by merge operands |
//! | `meta`        | `format_version`                 | u32 BE, [`FORMAT_VERSION`]        |
//! | `meta`        | `index/` ‖ id (u32 BE)           | `index_def` encoding              |
//! | `meta`        | `next_index_id`                  | u32 BE                            |
//! | `meta`        | `names/` ‖ id (u32 BE)           | a field name (`names`)            |
//! | `meta`        | `build-marker/` ‖ id ‖ user key  | empty (`build_marker`)            |
//! | `meta`        | `replica/applied`                | the log position a replica has    |
//! |               |                                  | applied (opaque bytes)            |
//! | `meta`        | `replica/data/` ‖ name           | a replica's own state (opaque)    |

pub(crate) mod build_marker;
pub(crate) mod command;
pub(crate) mod count;
pub(crate) mod index_def;
pub(crate) mod index_entry;
pub(crate) mod keycode;
pub(crate) mod names;
pub(crate) mod record;

/// The on-disk format this build writes. It reads formats 1 and 2 too, and marks such a
/// database format 3 when it opens it: format 3 writes records in version 3 of their encoding
/// (`record.rs`), which name their fields by ids in a dictionary (`names.rs`) that builds
/// reading older formats only cannot decode, so they refuse the directory instead.
pub const FORMAT_VERSION: u32 = 3;

/// The oldest format this build reads.
pub(crate) const OLDEST_FORMAT_VERSION: u32 = 1;

/// The `meta` key holding the format version (u32 big-endian).
pub(crate) const FORMAT_VERSION_KEY: &[u8] = b"format_version";

/// The `meta` key holding the log position a replica has applied, written in the batch of the
/// commands that brought it there.
pub(crate) const APPLIED_KEY: &[u8] = b"replica/applied";

/// The `meta` prefix of the keys a replica keeps of its own (its table of client sessions),
/// written in the batches of the commands that change them.
pub(crate) const REPLICA_DATA_PREFIX: &[u8] = b"replica/data/";

/// The `meta` key of the replica's own entry `name`.
pub(crate) fn replica_data_key(name: &[u8]) -> Vec<u8> {
    [REPLICA_DATA_PREFIX, name].concat()
}

/// Encodes the format version for `meta`.
pub(crate) fn encode_format_version(version: u32) -> [u8; 4] {
    version.to_be_bytes()
}

/// Decodes a stored format version; `None` when it is not 4 bytes.
pub(crate) fn decode_format_version(bytes: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(bytes).ok().map(u32::from_be_bytes)
}

/// The smallest byte string greater than every string that starts with `prefix`, or `None`
/// when there is none (all bytes 0xFF).
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last != 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_carries_over_0xff() {
        assert_eq!(prefix_successor(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_successor(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xFF, 0xFF]), None);
    }

    #[test]
    fn format_versions_round_trip_and_refuse_other_lengths() {
        assert_eq!(decode_format_version(&encode_format_version(7)), Some(7));
        assert_eq!(decode_format_version(&[0, 1]), None);
    }
}
