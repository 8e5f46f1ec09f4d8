//! Integration tests of audit-signing: start checks, the verifier's outcome table case by case,
//! rotation, metrics, and interop with Java's `java.security.Signature` (JDK 17, compiled here).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    missing_docs
)]

mod java;
mod outcomes;
mod rotation;
mod start;
mod support;
