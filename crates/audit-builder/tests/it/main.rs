//! Integration tests of the audit builder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod behaviour;
mod blank;
mod call_orders;
mod conveniences;
mod idempotence;
mod props;
mod sanitize;

use audit_builder::CreateAuditRecordCommand;
use chrono::{DateTime, NaiveDate, Utc};

/// A UTC instant from its parts (`nanos` = sub-second nanoseconds).
pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> DateTime<Utc> {
    let date =
        NaiveDate::from_ymd_opt(y, mo, d).and_then(|date| date.and_hms_nano_opt(h, mi, s, nanos));
    match date {
        Some(naive) => naive.and_utc(),
        None => panic!("invalid test date {y}-{mo}-{d} {h}:{mi}:{s}.{nanos}"),
    }
}

/// 2026-05-28T08:00:00Z, the action timestamp most tests use.
pub fn t0() -> DateTime<Utc> {
    at(2026, 5, 28, 8, 0, 0, 0)
}

/// Encodes with the newest schema, decodes, asserts the result equals the input and returns the bytes.
pub fn assert_round_trip(command: &CreateAuditRecordCommand) -> Vec<u8> {
    let bytes = command.to_avro_datum();
    let decoded = CreateAuditRecordCommand::from_avro_datum(&bytes);
    assert_eq!(
        decoded.as_ref().ok(),
        Some(command),
        "decode result: {decoded:?}"
    );
    bytes
}
