//! Which shard a key belongs to, and which nodes hold each shard: the two pure functions a
//! sharded cluster is laid out by. Neither depends on anything but its arguments, so every node
//! computes the same answer.
//!
//! **Key to shard.** `shard_of(key, S) = xxh3_64(key) mod S`: XXH3, 64 bits, seed 0, over the
//! key's bytes (the `xxhash-rust` crate; the algorithm is specified and stable across versions
//! and platforms, unlike Rust's `DefaultHasher`). S is fixed when the cluster is created.
//!
//! **Shard to nodes.** With the members' ids sorted, N of them, and R replicas, shard i lives
//! on the members at positions `(i + k) mod N` for k in 0..R; the first is the shard's preferred
//! leader. Each member then holds `S·R/N` replicas and leads `S/N` shards, give or take one.

use std::collections::BTreeSet;

use xxhash_rust::xxh3::xxh3_64;

use crate::types::NodeId;

/// A shard's number: 0 to S - 1.
pub type ShardId = u32;

/// The most shards a cluster may have.
pub const MAX_SHARDS: u32 = 4096;

/// The shard `key` belongs to, of `shards` (at least 1).
pub fn shard_of(key: &[u8], shards: u32) -> ShardId {
    (xxh3_64(key) % u64::from(shards.max(1))) as ShardId
}

/// The replicas of every shard: for shard i, `replicas` distinct members, the preferred leader
/// first. Refuses a layout that cannot be made.
pub fn place(
    shards: u32,
    replicas: usize,
    members: &BTreeSet<NodeId>,
) -> Result<Vec<Vec<NodeId>>, String> {
    if shards == 0 || shards > MAX_SHARDS {
        return Err(format!("shards must be 1 to {MAX_SHARDS}, got {shards}"));
    }
    if replicas == 0 || replicas > members.len() {
        return Err(format!(
            "replicas must be 1 to the number of members ({}), got {replicas}",
            members.len()
        ));
    }
    let members: Vec<NodeId> = members.iter().copied().collect();
    Ok((0..shards as usize)
        .map(|shard| {
            (0..replicas)
                .map(|k| members[(shard + k) % members.len()])
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_hash_is_the_specified_xxh3() {
        // XXH3-64 of the empty input with seed 0, from the XXH3 specification's test vectors.
        assert_eq!(xxh3_64(b""), 0x2D06_8005_38D3_94C2);
        // Pinned: a change of hash would move every key of every existing cluster.
        assert_eq!(shard_of(b"ada", 8), (xxh3_64(b"ada") % 8) as u32);
        assert_eq!(shard_of(b"anything", 1), 0);
        assert_eq!(shard_of(b"anything", 0), 0);
    }

    #[test]
    fn keys_spread_evenly_over_the_shards() {
        let mut counts = [0u32; 8];
        for i in 0..80_000 {
            counts[shard_of(format!("k{i:06}").as_bytes(), 8) as usize] += 1;
        }
        for count in counts {
            assert!((9_500..=10_500).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn impossible_layouts_are_refused() {
        let three: BTreeSet<NodeId> = [1, 2, 3].into();
        assert!(place(0, 1, &three).is_err());
        assert!(place(MAX_SHARDS + 1, 1, &three).is_err());
        assert!(place(8, 0, &three).is_err());
        assert!(place(8, 4, &three).is_err());
        assert!(place(8, 3, &BTreeSet::new()).is_err());
    }

    proptest! {
        #[test]
        fn every_shard_gets_distinct_replicas_and_leaders_spread_evenly(
            shards in 1u32..64,
            members in proptest::collection::btree_set(1u64..50, 1..8),
            replicas_seed in 0usize..8,
        ) {
            let replicas = replicas_seed % members.len() + 1;
            let layout = place(shards, replicas, &members).unwrap();
            prop_assert_eq!(layout.len(), shards as usize);
            let mut leads: BTreeMap<NodeId, usize> = BTreeMap::new();
            let mut holds: BTreeMap<NodeId, usize> = BTreeMap::new();
            for nodes in &layout {
                let distinct: BTreeSet<_> = nodes.iter().collect();
                prop_assert_eq!(distinct.len(), replicas);
                prop_assert!(nodes.iter().all(|n| members.contains(n)));
                *leads.entry(nodes[0]).or_default() += 1;
                for n in nodes {
                    *holds.entry(*n).or_default() += 1;
                }
            }
            let spread = |counts: &BTreeMap<NodeId, usize>| {
                let per: Vec<usize> = members.iter().map(|m| counts.get(m).copied().unwrap_or(0)).collect();
                per.iter().max().unwrap() - per.iter().min().unwrap()
            };
            prop_assert!(spread(&leads) <= 1, "leaders {:?}", leads);
            prop_assert!(spread(&holds) <= replicas, "replicas {:?}", holds);
        }
    }
}
