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
