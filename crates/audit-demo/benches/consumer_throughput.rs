// Test, benchmark and example arithmetic on small known counts: the cast lints guard library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_lossless
)]
//! Consumer runtime throughput against a real Kafka-protocol broker (Tansu 0.6.0, in-memory):
//! records/s for fetch + Confluent unframe + Avro decode + map to `AuditRecord` + no-op async
//! handler + offset commits (every 500 ms and a synchronous one at the end).
//!
//! `cargo bench -p audit-demo --bench consumer_throughput` (env `BENCH_RECORDS`, default 200,000;
//! `BENCH_ROUNDS`, default 3; `BENCH_PROPS`, consumer properties, see [`TANSU_PROPS`]). Records are produced once; each round consumes all of them with a
//! fresh consumer group. The clock runs from the first record handled to the last one handled
//! (the group join is excluded), the final commit included.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
use audit_consumer::runtime::{AuditConsumer, ConsumerConfig, Delivery, HandlerError};
use audit_consumer::{LocalVersions, SchemaVersion};
use audit_testkit::Tansu;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

const PARTITIONS: u32 = 4;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Consumer properties for Tansu: it answers a fetch only after `fetch.wait.max.ms` (librdkafka
/// default 500 ms) and 1 MiB per partition per fetch (the default) caps a fetch at ~3,700 of these
/// records; with librdkafka's defaults the bare consumer (and the runtime) reach ~75,000 records/s.
const TANSU_PROPS: &str =
    "fetch.wait.max.ms=10,max.partition.fetch.bytes=16777216,fetch.max.bytes=67108864";

/// librdkafka consumer properties: `BENCH_PROPS` (`key=value,...`; empty = librdkafka defaults),
/// default [`TANSU_PROPS`].
fn props() -> Vec<(String, String)> {
    std::env::var("BENCH_PROPS")
        .unwrap_or_else(|_| TANSU_PROPS.to_owned())
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn value(i: u64, base: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let mut builder = AuditCommandBuilder::new(
        "invoice-service",
        "BILLING",
        base + chrono::Duration::milliseconds(i as i64),
    )
    .event_type(AuditEventType::Modified)
    .user(
        format!("user-{}", i % 1000),
        "https://idp.example/realms/demo",
    )
    .context("pay-invoice")
    .event_data("channel", "web");
    if i.is_multiple_of(2) {
        builder = builder.audited_object(
            AuditedObject::new("Invoice", format!("INV-{i}")).value("amount", "42.00"),
        );
    }
    audit_schema::confluent::frame(1, &builder.build().unwrap().to_avro_datum())
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes the harness with --list
    }
    let records = env("BENCH_RECORDS", 200_000);
    let rounds = env("BENCH_ROUNDS", 3);
    let tansu = Tansu::start().expect("start tansu");
    let topic = "bench-audit";
    tansu.create_topic(topic, PARTITIONS).unwrap();

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", tansu.bootstrap())
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("acks", "all")
        .create()
        .unwrap();
    let base = chrono::Utc::now();
    let produce_start = Instant::now();
    let mut pending = futures::stream::FuturesUnordered::new();
    for i in 0..records {
        let v = value(i, base);
        let p = &producer;
        pending.push(async move {
            p.send(
                FutureRecord::<(), _>::to(topic).payload(&v),
                Duration::from_secs(60),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
        });
        if pending.len() >= 20_000 {
            futures::StreamExt::next(&mut pending).await;
        }
    }
    while futures::StreamExt::next(&mut pending).await.is_some() {}
    eprintln!(
        "produced {records} records in {:.2} s",
        produce_start.elapsed().as_secs_f64()
    );

    // Baseline: a bare rdkafka StreamConsumer (recv + detach, no decode, no commits), what the
    // broker and client deliver at most.
    {
        use rdkafka::Message;
        use rdkafka::consumer::{Consumer, StreamConsumer};
        let mut bare_config = ClientConfig::new();
        for (k, v) in props() {
            bare_config.set(k, v);
        }
        let bare: StreamConsumer = bare_config
            .set("bootstrap.servers", tansu.bootstrap())
            .set("group.id", "bench-bare")
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        bare.subscribe(&[topic]).unwrap();
        let first = bare.recv().await.unwrap().detach();
        let start = Instant::now();
        let mut bytes = first.payload().map_or(0, <[u8]>::len);
        for _ in 1..records {
            bytes += bare
                .recv()
                .await
                .unwrap()
                .detach()
                .payload()
                .map_or(0, <[u8]>::len);
        }
        let elapsed = start.elapsed();
        println!(
            "baseline bare StreamConsumer: {records} records ({bytes} bytes) in {:.3} s = {:.0} records/s",
            elapsed.as_secs_f64(),
            records as f64 / elapsed.as_secs_f64()
        );
    }

    println!("consumer properties: {:?}", props());
    let mut rates = Vec::new();
    for round in 0..rounds {
        let mut config = ConsumerConfig::new(tansu.bootstrap(), format!("bench-{round}"), [topic])
            .max_in_flight(1024)
            .commit_interval(Duration::from_millis(500));
        for (k, v) in props() {
            config = config.set(k, v);
        }
        let consumer = AuditConsumer::new(
            config,
            LocalVersions::new().with_id(1, SchemaVersion::V1_0_2),
        )
        .unwrap();
        let handled = Arc::new(AtomicU64::new(0));
        let first = Arc::new(OnceLock::<Instant>::new());
        let handler = {
            let (handled, first) = (handled.clone(), first.clone());
            move |_delivery: Arc<Delivery>| {
                first.get_or_init(Instant::now);
                handled.fetch_add(1, Ordering::Relaxed);
                std::future::ready(Ok::<(), HandlerError>(()))
            }
        };
        let last = Mutex::new(None);
        let done = async {
            while handled.load(Ordering::Relaxed) < records {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            *last.lock().unwrap() = Some(Instant::now());
        };
        let summary = consumer.run(handler, done).await.unwrap();
        let end = Instant::now(); // after the final synchronous commit
        let elapsed = end - *first.get().unwrap();
        let rate = records as f64 / elapsed.as_secs_f64();
        eprintln!(
            "round {round}: {} records in {:.3} s = {rate:.0} records/s (handled {}, duplicates {})",
            records,
            elapsed.as_secs_f64(),
            summary.handled,
            summary.duplicates
        );
        assert_eq!(summary.handled, records);
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!(
        "consumer_throughput: {records} records x {rounds} rounds, {PARTITIONS} partitions, Tansu 0.6.0 memory: median {median:.0} records/s, best {:.0} records/s",
        rates[rates.len() - 1]
    );
}
