//! The "key changed" markers writers leave while an index is built by ingestion
//! (`index::ingest`): instead of the index's entries, a write puts one marker per key it
//! changes, and the build's last step re-indexes exactly those keys against their current
//! records.
//!
//! | meta key                                   | value |
//! |--------------------------------------------|-------|
//! | `build-marker/` ‖ index id (u32 BE) ‖ user key | empty |
//!
//! The markers of one index sort together, so the last step walks them as one range and
//! deletes them with one range tombstone in its batch.

use crate::encoding::index_entry::IndexId;
use crate::encoding::prefix_successor;

const PREFIX: &[u8] = b"build-marker/";

/// The marker of `key` for index `id`.
pub(crate) fn marker_key(id: IndexId, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREFIX.len() + 4 + key.len());
    out.extend_from_slice(PREFIX);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(key);
    out
}

/// The byte range `[start, end)` holding every marker of index `id`.
pub(crate) fn id_range(id: IndexId) -> (Vec<u8>, Vec<u8>) {
    let start = marker_key(id, b"");
    let end = prefix_successor(&start).unwrap_or_else(|| {
        let mut end = PREFIX.to_vec();
        end.push(0xFF);
        end
    });
    (start, end)
}

/// The user key of a marker of index `id`, or `None` when `marker` is not one.
pub(crate) fn user_key(id: IndexId, marker: &[u8]) -> Option<&[u8]> {
    marker
        .strip_prefix(PREFIX)?
        .strip_prefix(id.to_be_bytes().as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_of_one_index_sort_inside_its_range_and_give_back_their_key() {
        for id in [0, 7, u32::MAX] {
            let (start, end) = id_range(id);
            for key in [&b""[..], b"a", b"\xff\xff", b"key-1"] {
                let marker = marker_key(id, key);
                assert!(start <= marker && marker < end, "id {id} key {key:?}");
                assert_eq!(user_key(id, &marker), Some(key));
            }
            assert_eq!(user_key(id.wrapping_add(1), &marker_key(id, b"k")), None);
        }
        let (_, end_7) = id_range(7);
        assert!(end_7 <= id_range(8).0);
    }
}
