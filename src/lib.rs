//! Test-suite package: owns `tests/` and `benches/`, and the deterministic workloads that the
//! crash tests run in a child process and replay in the parent.

pub mod crash_workload;
pub mod rng;
