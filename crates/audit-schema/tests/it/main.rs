//! Integration tests of audit-schema (one test binary).
//!
//! Module owners: `codec`, `snapshot`, `malformed` (generator/codec), `interop`, `idl`, `fingerprint`
//! (cross-implementation checks).
