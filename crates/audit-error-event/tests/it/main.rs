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
//! - `acceptance`: acceptance 3 of issue 15, the events (`cases`) decoded by Python `avro` and
//!   `fastavro` against the vendored schema, every field and the original bytes checked;
//! - `fill`: the filling rules beyond those cases, the codec round trip, the subjects;
//! - `json`: the JSON rendering with the failed command;
//! - `malformed`: typed errors and the decoder's heap bound on malformed datums;
//! - `python`: running the Python judges.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod acceptance;
mod cases;
mod fill;
mod json;
mod malformed;
mod python;
mod schema;
mod snapshot;
