//! Decode + map of the typical command (Confluent-framed, schema id resolved by `LocalVersions`):
//! user trigger, context, 3 event-data entries, an audited object with 4 object-data entries
//! (value, absent value, JSON, S3).
//!
//! Also decode + map + the strict signature check of the runtime (`audit-signing` `Verifier`,
//! RSA 2048, the documentation key of `audit-signing`).
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
    typical_value_of("invoice-service")
}

fn typical_value_of(service: &str) -> Vec<u8> {
    let at = DateTime::from_timestamp(1_779_955_200, 120_000_000).unwrap();
    let command = AuditCommandBuilder::new(service, "BILLING", at)
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
    // the runtime's per-record work with strict verification: decode, then verify_value
    let key = include_bytes!("../../audit-signing/tests/data/doc-key.pem");
    let cert = include_bytes!("../../audit-signing/tests/data/doc-cert.pem");
    let service = "audit-demo-service";
    let signed = typical_value_of(service);
    let signature = audit_signing::Signer::from_pem(key, cert, service)
        .unwrap()
        .sign_record(None, &signed)
        .unwrap();
    let mut config = audit_signing::VerifierConfig {
        require_signature: true,
        ..audit_signing::VerifierConfig::default()
    };
    config.certificate_chains.insert(
        service.into(),
        std::collections::BTreeMap::from([(
            "main".into(),
            vec![String::from_utf8(cert.to_vec()).unwrap()],
        )]),
    );
    let verifier = audit_signing::Verifier::new(config).unwrap();
    let headers = audit_signing::ReceivedHeaders::from_headers(
        signature.headers().map(|(n, v)| (n, Some(v))),
    );
    group.bench_function("decode + map + strict signature check", |b| {
        b.iter(|| {
            let record = decode(black_box(&signed), black_box(&versions)).unwrap();
            let info = audit_signing::MessageInfo {
                type_name: record.metadata().type_name(),
                service: record.service_name(),
            };
            verifier
                .verify_value(Some(info), &headers, black_box(&signed))
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
