//! Cache hints: asking the processor to bring bytes that are about to be read into its cache,
//! so that a pass over scattered data (a query's records, a build's sorted entries) does not
//! wait for memory at each step.

/// Asks the processor to bring the cache line holding the start of `bytes` into its cache. A
/// hint only: nothing the program sees is read, and nothing happens off x86_64.
#[inline(always)]
pub(crate) fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is a hint: it reads nothing the program sees and never faults
        // (not even for an empty slice's dangling pointer), and `sse` is part of every x86_64
        // target.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}
