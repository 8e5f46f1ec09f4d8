//! Build + encode of the typical command: user trigger, context, 3 event-data entries and an
//! audited object with 4 object-data entries (value, absent value, JSON, S3).
//!
//! Run: `cargo bench -p audit-builder --bench build`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use audit_builder::{
    AuditCommandFactory, AuditEventType, AuditObjectDataRole, AuditedObject, ObjectData,
};
use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn typical(factory: &AuditCommandFactory, at: DateTime<Utc>) -> audit_builder::AuditCommandBuilder {
    factory
        .builder(at)
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
}

fn bench(c: &mut Criterion) {
    let factory = AuditCommandFactory::new("invoice-service", "BILLING").unwrap();
    let at = DateTime::from_timestamp(1_779_955_200, 120_000_000).unwrap();
    let builder = typical(&factory, at);
    let mut group = c.benchmark_group("typical command");
    group.throughput(Throughput::Elements(1));
    group.bench_function("build + encode", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            let command = black_box(&builder).build().unwrap();
            out.clear();
            command.encode_datum(&mut out);
            black_box(out.len())
        });
    });
    group.bench_function("configure + build + encode", |b| {
        b.iter(|| {
            let command = typical(black_box(&factory), black_box(at)).build().unwrap();
            black_box(command.to_avro_datum())
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
