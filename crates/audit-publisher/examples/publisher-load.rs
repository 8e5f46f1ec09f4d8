// Benchmark arithmetic on known counts: the cast lints guard library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
//! Whole-process load runs of the publisher (librdkafka mock cluster, SQLite file in a temporary
//! directory); figures in `README-section.md`.
//!
//! ```text
//! cargo run --release -p audit-publisher --example publisher-load -- outage      # acceptance 3
//! cargo run --release -p audit-publisher --example publisher-load -- throughput  # acceptance 5
//! cargo run --release -p audit-publisher --example publisher-load -- rate        # acceptance 4
//! ```
//!
//! * `outage`: the broker is down for `OUTAGE_SECS` (default 30) while `COMMANDS` (default
//!   100,000) commands are published from 8 tasks, paced evenly over the outage; prints the
//!   `try_publish` latency distribution, the circuit transitions and the time to deliver
//!   everything after the broker is back; then reads the topic back and fails unless every
//!   command is there (by message id, with its idempotence id; redeliveries counted apart).
//! * `throughput`: `COMMANDS` (default 200,000) from 8 tasks as fast as they go (policy `wait`,
//!   queue 10,000, broker up): commands/s accepted and written to SQLite, latency distribution.
//! * `rate`: a burst of `COMMANDS` (default 10,000) with a limit of 1,000/s (bucket 1,000):
//!   time to spill, delivery rate measured at the relay.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use audit_builder::AuditCommandBuilder;
use audit_outbox::RelayConfig;
use audit_outbox::sender::{AuditSender, SchemaId};
use audit_publisher::{
    AuditPublisher, CircuitState, Published, PublisherConfig, RateLimit, WhenFull, open_sqlite,
};
use audit_schema::CreateAuditRecordCommand;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const TASKS: u64 = 8;
/// librdkafka's mock cluster keeps at most 5 MiB of record batches per partition (fixed in
/// `rd_kafka_mock_partition_init`) and deletes the oldest beyond that: 100,000 commands of about
/// 400 bytes need 8 partitions at least; 16 leave room.
const PARTITIONS: i32 = 16;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A typical command: user trigger, context, two event-data entries, an audited object.
fn command(i: u64) -> Result<CreateAuditRecordCommand, BoxError> {
    Ok(
        AuditCommandBuilder::new("invoice-service", "BILLING", chrono::Utc::now())
            .user(format!("user-{}", i % 1000), "https://idp.example.org")
            .context("invoice-approval")
            .event_data("invoice", format!("INV-{i}"))
            .event_data("amount", format!("{}.50", i % 997))
            .audited_object(
                audit_builder::AuditedObject::new("Invoice", format!("INV-{i}"))
                    .value("status", "APPROVED"),
            )
            .build()?,
    )
}

fn relay(bootstrap: &str) -> RelayConfig {
    RelayConfig::new(bootstrap)
        .poll_interval(Duration::from_millis(100))
        .delivery_timeout(Duration::from_secs(5))
        .lease(Duration::from_secs(30))
}

fn percentile(sorted: &[u64], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).ceil() as usize;
    Duration::from_nanos(sorted.get(index).copied().unwrap_or_default())
}

fn print_latencies(mut nanos: Vec<u64>) {
    nanos.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "try_publish latency over {} calls: p50 {:.1} us, p99 {:.1} us, p99.9 {:.1} us, max {:.1} us",
        nanos.len(),
        us(percentile(&nanos, 0.50)),
        us(percentile(&nanos, 0.99)),
        us(percentile(&nanos, 0.999)),
        us(percentile(&nanos, 1.0)),
    );
}

/// Message id -> idempotence id of the published commands.
type Ids = HashMap<String, String>;

/// Publishes `total` commands from 8 tasks, each call at most every `pace` (zero: as fast as
/// possible); returns the latency of every call in nanoseconds and the commands' ids.
async fn publish(
    publisher: &AuditPublisher,
    total: u64,
    pace: Duration,
) -> Result<(Vec<u64>, Ids), BoxError> {
    let mut tasks = Vec::new();
    let mut ids = Ids::new();
    for t in 0..TASKS {
        let publisher = publisher.clone();
        // commands are built before the clock starts: the figures are the publisher's
        let commands = (t..total)
            .step_by(TASKS as usize)
            .map(command)
            .collect::<Result<Vec<_>, _>>()?;
        ids.extend(commands.iter().map(|c| {
            (
                c.identity.id.to_string(),
                c.identity.idempotence_id.to_string(),
            )
        }));
        tasks.push(tokio::spawn(async move {
            let mut nanos = Vec::with_capacity(commands.len());
            let mut tick = tokio::time::interval(pace.max(Duration::from_nanos(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for command in commands {
                if !pace.is_zero() {
                    tick.tick().await;
                }
                let started = Instant::now();
                let result = publisher.try_publish(command).await;
                nanos.push(started.elapsed().as_nanos() as u64);
                if result? != Published::Queued {
                    return Err::<Vec<u64>, BoxError>("a command was dropped".into());
                }
            }
            Ok(nanos)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all, ids))
}

/// Reads every partition of `topic` from offset 0 to its high watermark and checks that it holds
/// exactly the commands of `expected` (each with its idempotence id). Returns the duplicates.
fn read_back(bootstrap: &str, topic: &str, expected: &Ids) -> Result<u64, BoxError> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "publisher-load")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    let mut highs = HashMap::new();
    for p in 0..PARTITIONS {
        let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10))?;
        if low > 0 {
            return Err(format!(
                "partition {p} starts at offset {low}: the mock cluster's 5 MiB per partition \
                 limit dropped records"
            )
            .into());
        }
        if high > 0 {
            highs.insert(p, high);
        }
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let started = Instant::now();
    while !highs.is_empty() {
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!("read {} distinct ids, gave up", seen.len()).into());
        }
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message?;
        if highs
            .get(&message.partition())
            .is_some_and(|high| message.offset() + 1 >= *high)
        {
            highs.remove(&message.partition());
        }
        let (_schema_id, datum) =
            audit_schema::confluent::unframe(message.payload().unwrap_or_default())?;
        let command = CreateAuditRecordCommand::from_avro_datum(datum)?;
        let id = command.identity.id.to_string();
        match expected.get(&id) {
            Some(idem) if **idem == *command.identity.idempotence_id => {}
            _ => return Err(format!("unexpected record {id} on the topic").into()),
        }
        *seen.entry(id).or_default() += 1;
    }
    let missing = expected.keys().filter(|id| !seen.contains_key(*id)).count();
    if missing > 0 {
        return Err(format!(
            "{missing} of {} commands missing on the topic",
            expected.len()
        )
        .into());
    }
    Ok(seen.values().map(|n| n - 1).sum())
}

async fn wait_until(what: &str, limit: Duration, check: impl Fn() -> bool) -> Result<(), BoxError> {
    let started = Instant::now();
    while !check() {
        if started.elapsed() > limit {
            return Err(format!("gave up waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

async fn outage() -> Result<(), BoxError> {
    let total = env_u64("COMMANDS", 100_000).div_ceil(TASKS) * TASKS;
    let outage = Duration::from_secs(env_u64("OUTAGE_SECS", 30));
    let mock = MockCluster::new(1)?;
    mock.create_topic("audit", PARTITIONS, 1)?;
    let dir = tempfile::tempdir()?;
    let outbox = open_sqlite(dir.path().join("spill.db")).await?;
    let publisher = AuditPublisher::start(
        outbox.clone(),
        AuditSender::pinned("audit", SchemaId::Pinned(1))?,
        relay(&mock.bootstrap_servers()),
        PublisherConfig::new()
            .queue_capacity(10_000)
            .when_full(WhenFull::Wait(Duration::from_millis(100))),
    )?;
    mock.broker_down(1)?;
    let down = Instant::now();
    // paced: the commands are spread over 90 % of the outage
    let pace = outage.mul_f64(0.9).div_f64((total / TASKS) as f64);
    let (nanos, ids) = publish(&publisher, total, pace).await?;
    let published = down.elapsed();
    tokio::time::sleep(outage.saturating_sub(down.elapsed())).await;
    let during = publisher.status();
    println!(
        "outage {outage:?}: {total} commands from {TASKS} tasks published in {published:?}; during the \
         outage: delivered {}, written to SQLite {}, circuit {:?}",
        during.relay.delivered, during.written, during.circuit
    );
    print_latencies(nanos);
    mock.broker_up(1)?;
    let up = Instant::now();
    wait_until("delivery after recovery", Duration::from_secs(600), || {
        let s = publisher.status();
        s.relay.delivered >= total && s.circuit == CircuitState::Closed
    })
    .await?;
    let recovered = up.elapsed();
    let status = publisher.shutdown().await?;
    let counts = outbox.counts().await?;
    println!(
        "after recovery: all {} delivered {:.1} s after the broker came back; circuit opened {}, \
         closed {}; SQLite sent {} pending {} failed {}; dropped {} rejected {}",
        status.relay.delivered,
        recovered.as_secs_f64(),
        status.relay.circuit_opened,
        status.relay.circuit_closed,
        counts.sent,
        counts.pending,
        counts.failed,
        status.dropped_queue_full,
        status.rejected
    );
    if counts.sent != total || status.rejected + status.dropped_queue_full > 0 {
        return Err("not everything was delivered".into());
    }
    let bootstrap = mock.bootstrap_servers();
    let read = Instant::now();
    let duplicates =
        tokio::task::spawn_blocking(move || read_back(&bootstrap, "audit", &ids)).await??;
    println!(
        "read back from the topic ({PARTITIONS} partitions) in {:.1} s: all {total} commands by \
         message id and idempotence id, {duplicates} redelivered duplicates",
        read.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn throughput() -> Result<(), BoxError> {
    let total = env_u64("COMMANDS", 200_000).div_ceil(TASKS) * TASKS;
    let mock = MockCluster::new(1)?;
    mock.create_topic("audit", 4, 1)?;
    let dir = tempfile::tempdir()?;
    let outbox = open_sqlite(dir.path().join("spill.db")).await?;
    let publisher = AuditPublisher::start(
        outbox,
        AuditSender::pinned("audit", SchemaId::Pinned(1))?,
        relay(&mock.bootstrap_servers()),
        PublisherConfig::new()
            .queue_capacity(10_000)
            .batch_size(1_000)
            .when_full(WhenFull::Wait(Duration::from_secs(1))),
    )?;
    let started = Instant::now();
    let (nanos, _ids) = publish(&publisher, total, Duration::ZERO).await?;
    let accepted = started.elapsed();
    wait_until("written", Duration::from_secs(600), || {
        publisher.status().written >= total
    })
    .await?;
    let written = started.elapsed();
    let status = publisher.status();
    println!(
        "{total} commands from {TASKS} tasks, unpaced: accepted in {:.2} s ({:.0}/s), written to SQLite \
         in {:.2} s ({:.0} commands/s, {} transactions); {} calls waited for room",
        accepted.as_secs_f64(),
        total as f64 / accepted.as_secs_f64(),
        written.as_secs_f64(),
        total as f64 / written.as_secs_f64(),
        status.batches,
        status.waited
    );
    print_latencies(nanos);
    wait_until("delivered", Duration::from_secs(600), || {
        publisher.status().relay.delivered >= total
    })
    .await?;
    println!(
        "delivered (relay, concurrently) after {:.2} s",
        started.elapsed().as_secs_f64()
    );
    publisher.shutdown().await?;
    Ok(())
}

async fn rate() -> Result<(), BoxError> {
    let total = env_u64("COMMANDS", 10_000);
    let (per_second, burst) = (1_000, 1_000);
    let mock = MockCluster::new(1)?;
    mock.create_topic("audit", 4, 1)?;
    let dir = tempfile::tempdir()?;
    let outbox = open_sqlite(dir.path().join("spill.db")).await?;
    let publisher = AuditPublisher::start(
        outbox,
        AuditSender::pinned("audit", SchemaId::Pinned(1))?,
        relay(&mock.bootstrap_servers()),
        PublisherConfig::new()
            .queue_capacity(usize::try_from(total)?)
            .rate_limit(RateLimit::new(per_second, burst)),
    )?;
    let commands = (0..total).map(command).collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    for command in commands {
        if publisher.try_publish(command).await? != Published::Queued {
            return Err("a command was not queued".into());
        }
    }
    let published = started.elapsed();
    wait_until("spilled", Duration::from_secs(600), || {
        publisher.status().written >= total
    })
    .await?;
    let spilled = started.elapsed();
    // the delivery rate after the bucket's burst: from the moment the burst is delivered
    wait_until("burst delivered", Duration::from_secs(600), || {
        publisher.status().relay.delivered >= u64::from(burst)
    })
    .await?;
    let after_burst = started.elapsed();
    wait_until("delivered", Duration::from_secs(600), || {
        publisher.status().relay.delivered >= total
    })
    .await?;
    let delivered = started.elapsed();
    let status = publisher.shutdown().await?;
    let steady = (total - u64::from(burst)) as f64 / (delivered - after_burst).as_secs_f64();
    println!(
        "burst of {total} with a limit of {per_second}/s (bucket {burst}): published in {published:?}, \
         all in SQLite after {spilled:?}, all {} delivered after {:.2} s: {:.0} records/s overall, \
         {steady:.0} records/s after the bucket's burst; {} waits for tokens; dropped {}",
        status.relay.delivered,
        delivered.as_secs_f64(),
        total as f64 / delivered.as_secs_f64(),
        status.relay.rate_limit_waits,
        status.dropped_queue_full + status.dropped_rate_limited
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    match std::env::args().nth(1).as_deref() {
        Some("outage") => outage().await,
        Some("throughput") => throughput().await,
        Some("rate") => rate().await,
        _ => Err("usage: publisher-load outage|throughput|rate".into()),
    }
}
