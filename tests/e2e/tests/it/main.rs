//! End-to-end tests across the crates (one test binary).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod outbox_to_consumer;
mod sender_registry;
