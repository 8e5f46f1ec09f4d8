//! Cost of an error event per failed record: `ErrorEventConfig::build_event` (including the
//! attempt to decode the failed value as a command) plus `framed_value` and `framed_key`, for
//! - `command`: a Confluent-framed `CreateAuditRecordCommand` (decoded for the metadata),
//! - `poison`: 4 KiB of bytes that are no command (the decode attempt fails early),
//!
//! Each with a two-level cause chain.
//!
//! Run: `cargo bench -p audit-error-event --bench build` (release). Results: `target/criterion/`.

// Benchmark set-up: a broken expectation should stop the run loudly.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use audit_error_event::{ErrorEventConfig, ErrorInfo, EventIdentity, FailedRecord, RecordPart};
use criterion::{Criterion, criterion_group, criterion_main};

#[derive(Debug, thiserror::Error)]
#[error("union index 9 out of range")]
struct Inner;

#[derive(Debug, thiserror::Error)]
#[error("cannot decode payload.trigger")]
struct Outer(#[source] Inner);

fn command_value() -> Vec<u8> {
    let json = r#"{"identity": {"id": "c0ffee00-1111-4222-8333-444455556666", "idempotenceId": "JME-audit-READ-u1", "created": "2026-05-28T08:00:00Z"},
      "type": {"name": "CreateAuditRecordCommand", "version": "1.0.2", "variant": null},
      "publisher": {"system": "JME", "service": "jme-letter-service"}, "references": {},
      "payload": {"timestamp": "2026-05-28T08:00:00Z", "event": {"type": "READ", "context": null, "eventData": null},
        "trigger": {"AuditUser": {"id": "u1", "identityProvider": "eIAM"}}, "auditedData": null},
      "processId": "p-1", "commandVersion": "1.3.0"}"#;
    let cmd = audit_schema::json::from_json(json).unwrap();
    audit_schema::confluent::frame(7, &cmd.to_avro_datum())
}

fn bench(c: &mut Criterion) {
    let config = ErrorEventConfig::new("JME", "jme-audit-consumer").unwrap();
    let cause = Outer(Inner);
    let error = ErrorInfo::deserialization_failed(RecordPart::Value, &cause);
    let headers: Vec<(&str, Option<&[u8]>)> = vec![
        ("jeap-sign", Some(&[7u8; 256])),
        ("jeap-cert", Some(&[1u8; 16])),
        (
            "traceparent",
            Some(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ),
    ];
    let command = command_value();
    let poison: Vec<u8> = (0..4096u32).map(|i| (i * 31 % 251) as u8).collect();
    let identity = EventIdentity::generate();
    let mut group = c.benchmark_group("error_event");
    for (name, value) in [("command", &command), ("poison", &poison)] {
        let record = FailedRecord::new("jme-audit-create-command", 3, 42)
            .with_key(Some(b"k-1"))
            .with_value(Some(value))
            .with_headers(&headers);
        group.bench_function(name, |b| {
            b.iter(|| {
                let out = config.build_event(black_box(&record), &error, identity.clone());
                black_box((out.framed_value(12), out.framed_key(13)))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
