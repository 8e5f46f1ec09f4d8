//! Kafka ingestion throughput: N records pre-produced to a Tansu topic, ingested by the audit
//! server (in this process) into a fresh PostgreSQL database with deduplication on.
//!
//! ```text
//! cargo run --release -p audit-server --example kafka-load
//! KAFKA_LOAD_RECORDS=200000 KAFKA_LOAD_PARTITIONS=4 KAFKA_LOAD_DUPLICATES=5 \
//!     cargo run --release -p audit-server --example kafka-load
//! ```
//!
//! Three runs over the same topic, each with its own consumer group, to show where the time
//! goes:
//! 1. consumer only: the `audit_consumer::runtime` consumer decoding every record, no-op
//!    handler;
//! 2. store only: `AuditStore::write_batch` of the same records in `ingest.writer_batch`
//!    batches, `ingest.writers` concurrently (the writer's work, without Kafka);
//! 3. the server: Kafka -> handler -> batching writer -> PostgreSQL, offsets committed after
//!    storing (what the service does), with `KAFKA_LOAD_DUPLICATES` percent of the records
//!    produced twice (counted as duplicates).
//!
//! Prints records/s of each and the process's peak RSS (`VmHWM`) before and after the server
//! run. Needs PostgreSQL at `AUDIT_TEST_PG_URL`/127.0.0.1:5432 and the Tansu binary (testkit).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::field_reassign_with_default
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
use audit_consumer::runtime::{AuditConsumer, ConsumerConfig, Delivery, HandlerError};
use audit_consumer::{AuditRecord, LocalVersions, SchemaVersion};
use audit_outbox::sender::{AuditSender, SchemaId};
use audit_server::{AuditServer, Config, KafkaConfig};
use audit_store::{AuditStore, IncomingRecord, Source};
use chrono::{TimeZone, Utc};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

const SCHEMA_ID: u32 = 7;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn vm(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l[field.len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "?".to_owned())
}

fn command(i: usize) -> audit_schema::CreateAuditRecordCommand {
    AuditCommandBuilder::new(
        "load-service",
        format!("SYS{}", i % 5),
        Utc.timestamp_opt(1_780_000_000 + i as i64, 0).unwrap(),
    )
    .event_type(AuditEventType::Modified)
    .user(format!("user-{}", i % 1000), "https://idp.test")
    .context("load")
    .event_data("i", i.to_string())
    .audited_object(AuditedObject::new("Invoice", format!("inv-{i}")).value("amount", "12.50"))
    .build()
    .unwrap()
}

#[tokio::main]
async fn main() {
    let n = env("KAFKA_LOAD_RECORDS", 100_000);
    let partitions = env("KAFKA_LOAD_PARTITIONS", 4);
    let dup_percent = env("KAFKA_LOAD_DUPLICATES", 5);
    let in_flight = env("KAFKA_LOAD_IN_FLIGHT", 4_000);
    let writer_batch = env("KAFKA_LOAD_WRITER_BATCH", 2_000);
    let writers = env("KAFKA_LOAD_WRITERS", 2);
    let broker = audit_testkit::Tansu::start().unwrap();
    let topic = format!("load-{}", uuid::Uuid::new_v4().simple());
    broker.create_topic(&topic, partitions as u32).unwrap();

    // produce N (+ duplicates) framed commands
    let produced = {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", broker.bootstrap())
            .set("linger.ms", "20")
            .set("batch.num.messages", "10000")
            .set("queue.buffering.max.messages", "1000000")
            .create()
            .unwrap();
        let sender = AuditSender::pinned(&topic, SchemaId::Pinned(SCHEMA_ID)).unwrap();
        let dups = n * dup_percent / 100;
        let started = Instant::now();
        let mut pending = Vec::with_capacity(10_000);
        for i in (0..n).chain(0..dups) {
            let m = sender.message(&command(i));
            let key = format!("k{i}");
            let p = producer.clone();
            let topic = topic.clone();
            pending.push(tokio::spawn(async move {
                p.send(
                    FutureRecord::to(&topic).key(&key).payload(&m.value),
                    Duration::from_secs(60),
                )
                .await
                .map(|_| ())
                .map_err(|(e, _)| e)
            }));
            if pending.len() == 10_000 {
                for f in pending.drain(..) {
                    f.await.unwrap().unwrap();
                }
            }
        }
        for f in pending {
            f.await.unwrap().unwrap();
        }
        println!(
            "produced {} records ({n} distinct, {dups} duplicates) to {partitions} partitions in {:.1} s",
            n + dups,
            started.elapsed().as_secs_f64()
        );
        n + dups
    };

    // 1. consumer only
    {
        let config = ConsumerConfig::new(broker.bootstrap(), "load-consumer-only", [topic.clone()])
            .max_in_flight(in_flight)
            .set("auto.offset.reset", "earliest");
        let consumer = AuditConsumer::new(
            config,
            LocalVersions::new().with_id(SCHEMA_ID, SchemaVersion::LATEST),
        )
        .unwrap();
        let count = Arc::new(AtomicU64::new(0));
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let done_tx = Arc::new(std::sync::Mutex::new(Some(done_tx)));
        let started = Arc::new(std::sync::Mutex::new(None::<Instant>));
        let handler = {
            let count = Arc::clone(&count);
            let started = Arc::clone(&started);
            move |_d: Arc<Delivery>| {
                let count = Arc::clone(&count);
                let done_tx = Arc::clone(&done_tx);
                let started = Arc::clone(&started);
                async move {
                    started.lock().unwrap().get_or_insert_with(Instant::now);
                    if count.fetch_add(1, Ordering::Relaxed) + 1 == produced as u64
                        && let Some(tx) = done_tx.lock().unwrap().take()
                    {
                        let _ = tx.send(());
                    }
                    Ok::<(), HandlerError>(())
                }
            }
        };
        consumer
            .run(handler, async {
                let _ = done_rx.await;
            })
            .await
            .unwrap();
        let secs = started.lock().unwrap().unwrap().elapsed().as_secs_f64();
        println!(
            "1. consumer only (decode, no-op handler, {in_flight} in flight): {produced} in {secs:.2} s = {:.0} records/s",
            produced as f64 / secs
        );
        consumer.close().await;
    }

    // 2. store only
    let db = audit_testkit::PgDatabase::create().await.unwrap();
    {
        let scratch = audit_testkit::PgDatabase::create().await.unwrap();
        let store = AuditStore::connect(scratch.url()).await.unwrap();
        store.migrate().await.unwrap();
        let records: Vec<IncomingRecord> = (0..n)
            .map(|i| {
                IncomingRecord::new(
                    AuditRecord::from(command(i)),
                    Source::Kafka {
                        topic: topic.clone(),
                        partition: 0,
                        offset: i as i64,
                    },
                )
            })
            .collect();
        let chunks: Vec<Vec<IncomingRecord>> =
            records.chunks(writer_batch).map(<[_]>::to_vec).collect();
        let chunks = Arc::new(tokio::sync::Mutex::new(chunks.into_iter()));
        let started = Instant::now();
        let tasks: Vec<_> = (0..writers)
            .map(|_| {
                let store = store.clone();
                let chunks = Arc::clone(&chunks);
                tokio::spawn(async move {
                    loop {
                        let Some(chunk) = chunks.lock().await.next() else {
                            break;
                        };
                        store.write_batch(&chunk).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "2. store only (write_batch of {writer_batch}, {writers} writers): {n} in {secs:.2} s = {:.0} records/s",
            n as f64 / secs
        );
    }

    // 3. the server
    println!(
        "RSS before the server: VmRSS {}, VmHWM {}",
        vm("VmRSS:"),
        vm("VmHWM:")
    );
    let mut config = Config::default();
    config.store_url = db.url().to_owned();
    config.auth.hs256_secret = Some("load-secret-load-secret-load-secret".to_owned());
    config.ingest.writer_batch = writer_batch;
    config.ingest.writers = writers;
    config.ingest.queue_capacity = config.ingest.queue_capacity.max(in_flight * 2);
    let mut kafka =
        KafkaConfig::new(broker.bootstrap(), [topic.clone()]).pin_schema(SCHEMA_ID, "1.0.2");
    kafka.group_id = "load-server".to_owned();
    kafka.max_in_flight = in_flight;
    kafka.lag_interval_ms = 1_000;
    config.kafka = Some(kafka);
    let server = AuditServer::new(config).await.unwrap();
    let monitor = server.kafka().unwrap();
    let store = server.store().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(server.serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));
    let mut started = None;
    let mut samples = Vec::new();
    let mut last = (Instant::now(), 0u64);
    loop {
        let s = monitor.status();
        let seen = s.ingested + s.duplicates;
        if seen > 0 && started.is_none() {
            started = Some(Instant::now());
            last = (Instant::now(), seen);
        }
        if last.0.elapsed() >= Duration::from_secs(1) && started.is_some() {
            samples.push((seen - last.1) as f64 / last.0.elapsed().as_secs_f64());
            last = (Instant::now(), seen);
        }
        if seen >= produced as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.unwrap().elapsed().as_secs_f64();
    let s = monitor.status();
    let stored = store.stats().await.unwrap().records;
    println!(
        "3. server (Kafka -> batching writer -> PostgreSQL, commit after store, {in_flight} in flight, batch {writer_batch}, {writers} writers): \
         {produced} in {secs:.2} s = {:.0} records/s; per-second samples {:?}",
        produced as f64 / secs,
        samples.iter().map(|r| r.round() as u64).collect::<Vec<_>>()
    );
    println!(
        "   stored {stored}, ingested {}, duplicates {}, store failures {}",
        s.ingested, s.duplicates, s.store_failures
    );
    println!(
        "RSS after the server run: VmRSS {}, VmHWM {}",
        vm("VmRSS:"),
        vm("VmHWM:")
    );
    let _ = stop.send(());
    served.await.unwrap().unwrap();
    assert_eq!(stored, n as u64, "every distinct record stored once");
}
