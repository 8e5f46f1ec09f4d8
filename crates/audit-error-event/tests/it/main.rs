// Test arithmetic on small known counts: the cast lints guard library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_lossless
)]
//! Integration tests of audit-error-event (one test binary).
//!
//! - `snapshot`: the generated code equals the committed snapshots;
//! - `schema`: the vendored `.avsc` against a second derivation (the Avro IDL compiled by the
//!   `avdl` crate, and Python `avro`'s parse);
//! - `fill`: every field of the event as jEAP's error handler fills it;
//! - `python`: acceptance 3 of issue 15, the events decoded by Python `avro` against the
//!   vendored schema.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod acceptance;
mod cases;
mod fill;
mod python;
mod schema;
mod snapshot;
