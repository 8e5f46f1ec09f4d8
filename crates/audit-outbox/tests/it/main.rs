// Test, benchmark and example arithmetic on small known counts: the cast lints guard library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_lossless
)]
//! Integration tests of audit-outbox against real PostgreSQL, a real Kafka-protocol broker
//! (Tansu) and librdkafka's mock cluster for fault injection.

mod support;

mod delivery;
mod faults;
mod lifecycle;
mod observe;
mod races;
mod signing;
