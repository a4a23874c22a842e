//! `StripedLocks`: a fixed array of mutexes addressed by the hash of a byte string.
//!
//! Writers lock the stripes of the keys they change, so reading the old record and writing the
//! new one is atomic per key while writers on other keys run in parallel. Unique indexes lock the
//! stripes of the values they claim. Stripes are always taken in ascending order, so two writers
//! can never wait on each other in a cycle.
//!
//! A write plan that stages several groups of operations (`write::WritePlan`) keeps its stripes
//! in one [`HeldStripes`] and takes only the ones it does not hold yet. Its later groups may
//! then take a stripe below one it holds, so only a database's sole writer (a replica applying
//! its log) may stage more than one group.

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

    /// Nothing held yet.
    pub(crate) fn none(&self) -> HeldStripes<'_> {
        HeldStripes {
            locks: self,
            held: Vec::new(),
        }
    }
}

/// Stripes locked by one writer, released when dropped.
pub(crate) struct HeldStripes<'l> {
    locks: &'l StripedLocks,
    held: Vec<(usize, MutexGuard<'l, ()>)>,
}

impl HeldStripes<'_> {
    /// Locks the stripes of the given byte strings not held yet, in ascending stripe order.
    pub(crate) fn lock_more<'a, I>(&mut self, items: I)
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut stripes: Vec<usize> = items.into_iter().map(|b| self.locks.stripe_of(b)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        if self.held.is_empty() {
            self.held = stripes
                .into_iter()
                .map(|s| (s, self.locks.stripes[s].lock()))
                .collect();
            return;
        }
        for stripe in stripes {
            // `held` stays sorted by stripe.
            if let Err(at) = self.held.binary_search_by_key(&stripe, |(s, _)| *s) {
                self.held
                    .insert(at, (stripe, self.locks.stripes[stripe].lock()));
            }
        }
    }

    /// How many stripes are held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_twice_takes_its_stripe_once() {
        let locks = StripedLocks::new(16);
        let mut guards = locks.none();
        guards.lock_more([&b"a"[..], b"a", b"b"]);
        assert!(guards.len() <= 2);
    }

    #[test]
    fn locking_more_skips_the_stripes_already_held() {
        let locks = StripedLocks::new(16);
        let mut held = locks.none();
        held.lock_more([&b"a"[..]]);
        // Locking "a" again would deadlock were its stripe taken twice.
        held.lock_more([&b"a"[..], b"b"]);
        assert!(held.len() <= 2 && held.len() >= 1);
    }
}
