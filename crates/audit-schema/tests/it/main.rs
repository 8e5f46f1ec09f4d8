// Test, benchmark and example arithmetic on small known counts: the cast lints guard library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_lossless
)]
//! Integration tests of audit-schema (one test binary).
//!
//! Module owners: `codec`, `snapshot`, `malformed` (generator/codec), `interop`, `idl`, `fingerprint`
//! (cross-implementation checks).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod codec;
mod fingerprint;
mod idl;
mod interop;
mod malformed;
mod snapshot;
