//! Kafka ingestion throughput: N records pre-produced to a Tansu topic, ingested by the
//! `audit-server` release binary into a fresh PostgreSQL database with deduplication on.
//!
//! ```text
//! cargo build --release -p audit-server --bin audit-server --example kafka-load
//! KAFKA_LOAD_RECORDS=200000 target/release/examples/kafka-load
//! ```
//!
//! Three runs over the same topic, each with its own consumer group, to show where the time
//! goes:
//! 1. consumer only: the `audit_consumer::runtime` consumer (in this process) decoding every
//!    record, no-op handler;
//! 2. store only: `AuditStore::write_batch` of the same records in `KAFKA_LOAD_WRITER_BATCH`
//!    batches, `KAFKA_LOAD_WRITERS` concurrently (the writer's work, without Kafka);
//! 3. the server: the `audit-server` binary next to this example (or `KAFKA_LOAD_SERVER_BIN`)
//!    as its own process, configured through `AUDIT_SERVER_*` variables: Kafka -> handler ->
//!    batching writer -> PostgreSQL, offsets committed after storing, with
//!    `KAFKA_LOAD_DUPLICATES` percent of the records produced twice (counted as duplicates).
//!    Progress is read from its Prometheus counters; its peak RSS (`VmHWM`) is printed.
//!
//! Each stage prints records/s and the CPU time each process spent per record (PostgreSQL,
//! the broker, the server, this process) read from `/proc`, so the figure can be set against
//! what the machine's cores can carry. Needs PostgreSQL at `AUDIT_TEST_PG_URL`/127.0.0.1:5432
//! and the Tansu binary (testkit).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::field_reassign_with_default,
    clippy::panic
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
use audit_consumer::runtime::{AuditConsumer, ConsumerConfig, Delivery, HandlerError};
use audit_consumer::{AuditRecord, LocalVersions, SchemaVersion};
use audit_outbox::sender::{AuditSender, SchemaId};
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
        let cpu_start = Cpu::sample(None);
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
        Cpu::sample(None).since(&cpu_start).print(produced, secs);
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
        let cpu_start = Cpu::sample(None);
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
        Cpu::sample(None).since(&cpu_start).print(n, secs);
    }

    // 3. the server: the release binary, a process of its own
    let stage = Cpu::sample(None);
    let mut server = spawn_server(
        &broker.bootstrap(),
        &topic,
        db.url(),
        in_flight,
        writer_batch,
        writers,
    );
    println!("   audit-server pid {}", server.child.id());
    let base = format!("http://{}", server.listen);
    let token = admin_token();
    let http = reqwest::Client::new();
    let mut started = None;
    let mut samples = Vec::new();
    let mut last = (Instant::now(), 0u64);
    let mut cpu_start = stage;
    let (ingested, duplicates) = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("audit-server exited during the run: {status}");
        }
        let (ingested, duplicates) = kafka_counters(&http, &base, &token).await.unwrap_or((0, 0));
        let seen = ingested + duplicates;
        if seen > 0 && started.is_none() {
            started = Some(Instant::now());
            last = (Instant::now(), seen);
            cpu_start = Cpu::sample(Some(server.child.id()));
        }
        if started.is_some() && last.0.elapsed() >= Duration::from_secs(1) {
            samples.push((seen - last.1) as f64 / last.0.elapsed().as_secs_f64());
            last = (Instant::now(), seen);
        }
        if seen >= produced as u64 {
            break (ingested, duplicates);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let secs = started.unwrap().elapsed().as_secs_f64();
    let cpu = Cpu::sample(Some(server.child.id())).since(&cpu_start);
    let rss = proc_status(server.child.id(), "VmHWM:");
    let store = AuditStore::connect(db.url()).await.unwrap();
    let stored = store.stats().await.unwrap().records;
    println!(
        "3. audit-server binary (Kafka -> batching writer -> PostgreSQL, commit after store, {in_flight} in flight, batch {writer_batch}, {writers} writers): \
         {produced} in {secs:.2} s = {:.0} records/s; per-second samples {:?}",
        produced as f64 / secs,
        samples.iter().map(|r| r.round() as u64).collect::<Vec<_>>()
    );
    println!(
        "   stored {stored}, ingested {ingested}, duplicates {duplicates}; server peak RSS (VmHWM) {rss}"
    );
    cpu.print(produced, secs);
    server.stop();
    assert_eq!(stored, n as u64, "every distinct record stored once");
}

/// The server binary with its configuration in `AUDIT_SERVER_*` variables.
struct ServerProcess {
    child: std::process::Child,
    listen: std::net::SocketAddr,
}

impl ServerProcess {
    /// SIGTERM (graceful: stores what is in flight, commits), then wait.
    fn stop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SECRET: &str = "load-secret-load-secret-load-secret";

fn spawn_server(
    bootstrap: &str,
    topic: &str,
    store_url: &str,
    in_flight: usize,
    writer_batch: usize,
    writers: usize,
) -> ServerProcess {
    let bin = std::env::var_os("KAFKA_LOAD_SERVER_BIN").map_or_else(
        || {
            // target/release/examples/kafka-load -> target/release/audit-server
            let exe = std::env::current_exe().unwrap();
            exe.parent().unwrap().parent().unwrap().join("audit-server")
        },
        std::path::PathBuf::from,
    );
    assert!(
        bin.exists(),
        "{} not found: build it first with `cargo build --release -p audit-server --bin audit-server` \
         (or set KAFKA_LOAD_SERVER_BIN)",
        bin.display()
    );
    let listen: std::net::SocketAddr = format!("127.0.0.1:{}", audit_testkit::free_port().unwrap())
        .parse()
        .unwrap();
    let child = std::process::Command::new(&bin)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "RUST_LOG",
            std::env::var("KAFKA_LOAD_SERVER_LOG").unwrap_or_else(|_| "warn".to_owned()),
        )
        .env("AUDIT_SERVER_LISTEN", listen.to_string())
        .env("AUDIT_SERVER_STORE_URL", store_url)
        .env("AUDIT_SERVER_JWT_HS256_SECRET", SECRET)
        .env("AUDIT_SERVER_WRITER_BATCH", writer_batch.to_string())
        .env("AUDIT_SERVER_WRITERS", writers.to_string())
        .env(
            "AUDIT_SERVER_QUEUE_CAPACITY",
            (in_flight * 2).max(10_000).to_string(),
        )
        .env("AUDIT_SERVER_KAFKA_BOOTSTRAP_SERVERS", bootstrap)
        .env("AUDIT_SERVER_KAFKA_TOPICS", topic)
        .env("AUDIT_SERVER_KAFKA_GROUP_ID", "load-server")
        .env(
            "AUDIT_SERVER_KAFKA_PINNED_SCHEMAS",
            format!("{SCHEMA_ID}=1.0.2"),
        )
        .env("AUDIT_SERVER_KAFKA_MAX_IN_FLIGHT", in_flight.to_string())
        .env("AUDIT_SERVER_KAFKA_LAG_INTERVAL_MS", "1000")
        .spawn()
        .unwrap();
    ServerProcess { child, listen }
}

fn admin_token() -> String {
    let exp = Utc::now().timestamp() + 3600;
    let claims = serde_json::json!({"sub": "kafka-load", "aud": "audit", "exp": exp, "scope": "audit:admin"});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// `(ingested, duplicates)` of the server's Kafka ingestion, from its Prometheus counters
/// (in memory: polling costs the database nothing).
async fn kafka_counters(http: &reqwest::Client, base: &str, token: &str) -> Option<(u64, u64)> {
    let text = http
        .get(format!("{base}/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let counter = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    };
    Some((
        counter("audit_server_kafka_ingested_total"),
        counter("audit_server_kafka_duplicates_total"),
    ))
}

fn proc_status(pid: u32, field: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l[field.len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "?".to_owned())
}

/// CPU time (user + system, clock ticks of 1/100 s) of the processes on the machine that take
/// part: PostgreSQL (every `postgres` process, so other databases' work counts too), the
/// broker (`tansu`), the server and this load process.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    postgres: u64,
    broker: u64,
    server: u64,
    load: u64,
    total: u64,
}

impl Cpu {
    fn sample(server: Option<u32>) -> Self {
        let own = std::process::id();
        let mut cpu = Self::default();
        // the machine's total busy time (all processes), from /proc/stat
        if let Ok(stat) = std::fs::read_to_string("/proc/stat")
            && let Some(line) = stat.lines().next()
        {
            let v: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal
            cpu.total = v
                .iter()
                .take(8)
                .enumerate()
                .filter(|(i, _)| *i != 3 && *i != 4)
                .map(|(_, x)| x)
                .sum();
        }
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return cpu;
        };
        for entry in dir.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let comm = &stat[open + 1..close];
            let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
            // fields after the command: state(0) ... utime(11) stime(12)
            let ticks = fields
                .get(11)
                .and_then(|u| u.parse::<u64>().ok())
                .unwrap_or(0)
                + fields
                    .get(12)
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(0);
            if Some(pid) == server {
                cpu.server += ticks;
            } else if pid == own {
                cpu.load += ticks;
            } else if comm == "postgres" {
                cpu.postgres += ticks;
            } else if comm.starts_with("tansu") {
                cpu.broker += ticks;
            }
        }
        cpu
    }

    /// What was used between `earlier` and this sample (a process that ended in between is
    /// not counted).
    fn since(&self, earlier: &Self) -> Self {
        Self {
            postgres: self.postgres.saturating_sub(earlier.postgres),
            broker: self.broker.saturating_sub(earlier.broker),
            server: self.server.saturating_sub(earlier.server),
            load: self.load.saturating_sub(earlier.load),
            total: self.total.saturating_sub(earlier.total),
        }
    }

    /// Per record (µs of CPU) and as cores kept busy over `secs`.
    fn print(&self, records: usize, secs: f64) {
        let per = |ticks: u64| ticks as f64 * 10_000.0 / records as f64;
        let cores = |ticks: u64| ticks as f64 / 100.0 / secs;
        let parts = self.postgres + self.broker + self.server + self.load;
        let machine = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        println!(
            "   CPU per record: PostgreSQL {:.1} µs, broker {:.1} µs, server {:.1} µs, load process {:.1} µs = {:.1} µs \
             (cores busy: {:.2} + {:.2} + {:.2} + {:.2} = {:.2}; the whole machine {:.2} of {})",
            per(self.postgres),
            per(self.broker),
            per(self.server),
            per(self.load),
            per(parts),
            cores(self.postgres),
            cores(self.broker),
            cores(self.server),
            cores(self.load),
            cores(parts),
            cores(self.total),
            machine,
        );
        println!(
            "   at {:.1} µs of CPU per record, {machine} cores carry at most {:.0} records/s",
            per(parts),
            machine as f64 * 1e6 / per(parts).max(0.001)
        );
    }
}
