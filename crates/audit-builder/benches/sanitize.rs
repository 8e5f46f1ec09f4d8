//! Sanitizer cost per typical command (the command of `benches/build.rs`: user trigger, context,
//! 3 event-data entries, an audited object with 4 object-data entries incl. a JSON document)
//! next to the build + encode cost of the same command.
//!
//! Run: `cargo bench -p audit-builder --bench sanitize`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod fixture;

use std::hint::black_box;
use std::sync::Arc;

use audit_builder::{
    AuditCommandFactory, AuditEventType, AuditObjectDataRole, AuditedObject, ObjectData, Sanitizer,
};
use audit_sanitize::{Action, RuleConfig, SanitizerConfig, ValuePattern};
use chrono::{DateTime, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use fixture::typical;

/// The typical command with sensitive data in it: a token, an e-mail address in free text, a JSON
/// document with an IBAN member and a card number.
fn sensitive(
    factory: &AuditCommandFactory,
    at: DateTime<Utc>,
) -> audit_builder::AuditCommandBuilder {
    factory
        .builder(at)
        .event_type(AuditEventType::Modified)
        .context_with_process_id("pay-invoice", "process-4711")
        .event_data("channel", "web")
        .event_data("sessionToken", "eyJhbGciOiJIUzI1NiJ9.e30.x")
        .event_data("reason", "customer request by alice@example.org")
        .user(
            "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
            "https://idp.example/realms/bit",
        )
        .audited_object(
            AuditedObject::new("Invoice", "INV-2026-000123")
                .version("7")
                .data(ObjectData::value("status", "PAID").role(AuditObjectDataRole::New))
                .data(ObjectData::null_value("dueDate").role(AuditObjectDataRole::Old))
                .json_bytes(
                    "payment",
                    br#"{"value":1250.5,"currency":"CHF","debtor":{"iban":"CH9300762011623852957"},"card":"4111 1111 1111 1111"}"#.to_vec(),
                )
                .s3("scan", "s3://invoices/2026/INV-2026-000123.pdf"),
        )
}

fn bench(c: &mut Criterion) {
    let plain = AuditCommandFactory::new("invoice-service", "BILLING").unwrap();
    let defaults = Arc::new(Sanitizer::with_defaults());
    let pseudonymizing = Arc::new(
        Sanitizer::new(
            &SanitizerConfig::default()
                .pseudonym_key(*b"bench-key-bench-key-bench-key-be")
                .rule(RuleConfig::value(
                    "email",
                    ValuePattern::Email,
                    Action::Pseudonymize,
                ))
                .rule(RuleConfig::user_id("user")),
        )
        .unwrap(),
    );
    let sanitized = plain.clone().with_sanitizer(defaults.clone());
    let at = DateTime::from_timestamp(1_779_955_200, 120_000_000).unwrap();

    let mut group = c.benchmark_group("sanitize typical command");
    group.throughput(Throughput::Elements(1));
    let builder = typical(&plain, at);
    group.bench_function("build + encode (no sanitizer)", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            let command = black_box(&builder).build().unwrap();
            out.clear();
            command.encode_datum(&mut out);
            black_box(out.len())
        });
    });
    let builder = typical(&sanitized, at);
    group.bench_function("build + sanitize (default rules) + encode", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            let command = black_box(&builder).build().unwrap();
            out.clear();
            command.encode_datum(&mut out);
            black_box(out.len())
        });
    });
    let mut command = typical(&plain, at).build().unwrap();
    group.bench_function("sanitize only (default rules, nothing to change)", |b| {
        b.iter(|| black_box(defaults.sanitize(black_box(&mut command))));
    });
    let command = sensitive(&plain, at).build().unwrap();
    group.bench_function("sanitize only (default rules, 4 values to mask)", |b| {
        b.iter_batched_ref(
            || command.clone(),
            |command| black_box(defaults.sanitize(command)),
            BatchSize::SmallInput,
        );
    });
    group.bench_function(
        "sanitize only (e-mail + user id pseudonymized, defaults)",
        |b| {
            b.iter_batched_ref(
                || command.clone(),
                |command| black_box(pseudonymizing.sanitize(command)),
                BatchSize::SmallInput,
            );
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
