//! Integration tests of audit-sanitize.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_lossless
)]

mod behaviour;
mod config;
mod patterns;
mod props;
mod support;
