// Test, benchmark and example arithmetic on small known counts: the cast lints guard library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_lossless
)]
//! Integration tests of the audit consumer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod factory;
#[cfg(feature = "kafka")]
mod guards;
mod hostile;
mod old_writers;
mod roundtrip;
#[cfg(feature = "kafka")]
mod runtime;
mod serialize;
#[cfg(feature = "kafka")]
mod signatures;

use audit_consumer::{AuditRecord, LocalVersions, SchemaVersion, decode};
use audit_schema::CreateAuditRecordCommand;
use chrono::{DateTime, Utc};

/// Registry ids used by the tests for the three known versions.
pub const ID_1_0_0: u32 = 1;
/// See [`ID_1_0_0`].
pub const ID_1_0_1: u32 = 2;
/// See [`ID_1_0_0`].
pub const ID_1_0_2: u32 = 3;

/// The known versions under the test ids.
pub fn versions() -> LocalVersions {
    LocalVersions::new()
        .with_id(ID_1_0_0, SchemaVersion::V1_0_0)
        .with_id(ID_1_0_1, SchemaVersion::V1_0_1)
        .with_id(ID_1_0_2, SchemaVersion::V1_0_2)
}

/// A Kafka record value: the command encoded with the newest schema, Confluent-framed with id 1.0.2.
pub fn record_value(command: &CreateAuditRecordCommand) -> Vec<u8> {
    audit_schema::confluent::frame(ID_1_0_2, &command.to_avro_datum())
}

/// Encodes, frames and decodes a command like a consumer receiving it from Kafka.
pub fn receive(command: &CreateAuditRecordCommand) -> AuditRecord {
    decode(&record_value(command), &versions()).unwrap()
}

/// 2026-05-28T08:00:00Z.
pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_779_955_200, 0).unwrap()
}
