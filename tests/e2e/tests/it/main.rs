//! End-to-end tests across the crates (one test binary).
