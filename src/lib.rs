//! Test-suite package: owns tests/ and benches/.
