//! Relay throughput with record signing off and on (RSA 2048 / 3072): PostgreSQL outbox
//! (per-run database from audit_testkit), Tansu broker, batches of 500, rows of ~600 bytes with
//! a key (so two signatures per record). One measurement = the time from the relay's start until
//! all rows are marked sent. `cargo bench -p audit-outbox --bench relay --features postgres`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use std::process::Command;
use std::time::{Duration, Instant};

use audit_outbox::{Outbox, OutboxMessage, RelayConfig};
use audit_testkit::{PgDatabase, Tansu};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const ROWS: usize = 2_000;

/// PKCS#8 key PEM and certificate PEM.
type Pem = (Vec<u8>, Vec<u8>);

fn key_and_cert(dir: &std::path::Path, bits: u32) -> Pem {
    let key = dir.join(format!("k{bits}.pem"));
    let cert = dir.join(format!("c{bits}.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            &format!("rsa:{bits}"),
            "-nodes",
            "-days",
            "30",
        ])
        .args(["-subj", "/CN=bench-service", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl CLI");
    assert!(out.status.success());
    (std::fs::read(key).unwrap(), std::fs::read(cert).unwrap())
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let broker = Tansu::shared().unwrap();
    let db = rt.block_on(PgDatabase::create()).unwrap();
    let pool = rt
        .block_on(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(8)
                .connect(db.url()),
        )
        .unwrap();
    let outbox = Outbox::new(pool.clone());
    rt.block_on(outbox.migrate()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let value: Vec<u8> = (0u8..=255).cycle().take(600).collect();

    let mut g = c.benchmark_group("relay");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ROWS as u64));
    let signing: Vec<(String, Option<Pem>)> = vec![
        ("off".into(), None),
        ("rsa2048".into(), Some(key_and_cert(dir.path(), 2048))),
        ("rsa3072".into(), Some(key_and_cert(dir.path(), 3072))),
    ];
    for (name, pem) in signing {
        let topic = format!("bench-{name}-{}", uuid::Uuid::new_v4().simple());
        broker.create_topic(&topic, 1).unwrap();
        g.bench_function(BenchmarkId::new("signing", &name), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += rt.block_on(async {
                        let messages: Vec<OutboxMessage> = (0..ROWS)
                            .map(|i| {
                                OutboxMessage::new(&topic, value.clone())
                                    .with_key(format!("key-{i}").into_bytes())
                            })
                            .collect();
                        let mut tx = pool.begin().await.unwrap();
                        for chunk in messages.chunks(500) {
                            outbox.enqueue_all(&mut tx, chunk).await.unwrap();
                        }
                        tx.commit().await.unwrap();
                        let before = outbox.counts().await.unwrap().sent;
                        let mut config = RelayConfig::new(broker.bootstrap()).batch_size(500);
                        if let Some((key, cert)) = &pem {
                            config = config.signing_pem(key.clone(), cert.clone(), "bench-service");
                        }
                        let started = Instant::now();
                        let relay = outbox.start_relay(config).unwrap();
                        while outbox.counts().await.unwrap().sent < before + ROWS as u64 {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        let elapsed = started.elapsed();
                        relay.shutdown().await.unwrap();
                        elapsed
                    });
                }
                total
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
