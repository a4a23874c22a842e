//! `StripedLocks`: a fixed array of mutexes addressed by the hash of a byte string.
//!
//! Writers lock the stripes of the keys they change, so reading the old record and writing the
//! new one is atomic per key while writers on other keys run in parallel. Unique indexes lock the
//! stripes of the values they claim. Stripes are always taken in ascending order, so two writers
//! can never wait on each other in a cycle.

use std::hash::{BuildHasher, Hasher};

use parking_lot::{Mutex, MutexGuard};

pub(crate) struct StripedLocks {
    stripes: Vec<Mutex<()>>,
    hasher: std::hash::RandomState,
}

impl StripedLocks {
    pub(crate) fn new(count: usize) -> Self {
        StripedLocks {
            stripes: (0..count.max(1)).map(|_| Mutex::new(())).collect(),
            hasher: std::hash::RandomState::new(),
        }
    }

    fn stripe_of(&self, bytes: &[u8]) -> usize {
        let mut h = self.hasher.build_hasher();
        h.write(bytes);
        (h.finish() % self.stripes.len() as u64) as usize
    }

    /// Locks the stripes of all the given byte strings, in ascending stripe order.
    pub(crate) fn lock_all<'a, I>(&self, items: I) -> Vec<MutexGuard<'_, ()>>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut stripes: Vec<usize> = items.into_iter().map(|b| self.stripe_of(b)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        stripes
            .into_iter()
            .map(|s| self.stripes[s].lock())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_twice_takes_its_stripe_once() {
        let locks = StripedLocks::new(16);
        let guards = locks.lock_all([&b"a"[..], b"a", b"b"]);
        assert!(guards.len() <= 2);
    }
}
