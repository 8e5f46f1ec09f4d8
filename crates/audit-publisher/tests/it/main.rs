// Test arithmetic on small known counts: the cast lints guard library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_lossless
)]
//! Integration tests of audit-publisher: real SQLite files, librdkafka's mock cluster for the
//! broker (and its outage), a child process killed with SIGKILL.

mod support;

mod crash;
mod faults;
mod policy;
mod rate;
