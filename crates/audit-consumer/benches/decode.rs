//! Decode + map of the typical command (Confluent-framed, schema id resolved by `LocalVersions`):
//! user trigger, context, 3 event-data entries, an audited object with 4 object-data entries
//! (value, absent value, JSON, S3).
//!
//! Run: `cargo bench -p audit-consumer --bench decode`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use audit_builder::{
    AuditCommandBuilder, AuditEventType, AuditObjectDataRole, AuditedObject, ObjectData,
};
use audit_consumer::{LocalVersions, SchemaVersion, decode};
use chrono::DateTime;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn typical_value() -> Vec<u8> {
    let at = DateTime::from_timestamp(1_779_955_200, 120_000_000).unwrap();
    let command = AuditCommandBuilder::new("invoice-service", "BILLING", at)
        .event_type(AuditEventType::Modified)
        .context_with_process_id("pay-invoice", "process-4711")
        .event_data("channel", "web")
        .event_data("client", "10.0.0.7")
        .event_data("reason", "customer request")
        .user(
            "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
            "https://idp.example/realms/bit",
        )
        .audited_object(
            AuditedObject::new("Invoice", "INV-2026-000123")
                .version("7")
                .data(ObjectData::value("status", "PAID").role(AuditObjectDataRole::New))
                .data(ObjectData::null_value("dueDate").role(AuditObjectDataRole::Old))
                .json_bytes("amount", br#"{"value":1250.5,"currency":"CHF"}"#.to_vec())
                .s3("scan", "s3://invoices/2026/INV-2026-000123.pdf"),
        )
        .build()
        .unwrap();
    audit_schema::confluent::frame(7, &command.to_avro_datum())
}

fn bench(c: &mut Criterion) {
    let value = typical_value();
    let versions = LocalVersions::new().with_id(7, SchemaVersion::V1_0_2);
    let mut group = c.benchmark_group("typical command");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decode + map", |b| {
        b.iter(|| decode(black_box(&value), black_box(&versions)).unwrap());
    });
    // for comparison: the audit-schema datum decoder alone (no framing, lookup or mapping)
    let datum = audit_schema::confluent::unframe(&value).unwrap().1.to_vec();
    group.bench_function("datum decode only (audit-schema)", |b| {
        b.iter(|| {
            audit_schema::CreateAuditRecordCommand::from_avro_datum(black_box(&datum)).unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
