//! Build + encode of the typical command: user trigger, context, 3 event-data entries and an
//! audited object with 4 object-data entries (value, absent value, JSON, S3).
//!
//! Run: `cargo bench -p audit-builder --bench build`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod fixture;

use std::hint::black_box;

use audit_builder::AuditCommandFactory;
use chrono::DateTime;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fixture::typical;

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
