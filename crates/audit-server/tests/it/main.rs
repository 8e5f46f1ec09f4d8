// Tests unwrap, index and panic on purpose: a failure is a red test. The cast lints guard
// library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_lossless,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]
//! Integration tests of the audit server: real HTTP requests to a server on a random loopback
//! port, real SQLite and PostgreSQL stores.

mod auth;
mod config;
mod ingest;
#[cfg(feature = "kafka")]
mod kafka;
mod operations;
mod query;
mod support;
