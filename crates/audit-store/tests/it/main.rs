// Test arithmetic on small known counts: the cast lints guard library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_lossless,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::result_large_err,
    missing_docs
)]
//! Integration tests of audit-store against real PostgreSQL (a fresh database per test) and
//! real SQLite files.

mod support;

mod explain;
mod pagination;
mod properties;
mod retention;
mod security;
mod writes;
