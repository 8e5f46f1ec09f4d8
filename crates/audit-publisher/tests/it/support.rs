//! Shared helpers: commands with known ids, a publisher on a SQLite file in a temporary
//! directory, a consumer that reads a mock-cluster topic up to its high watermarks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use audit_builder::AuditCommandBuilder;
use audit_outbox::RelayConfig;
use audit_outbox::sender::{AuditSender, SchemaId};
use audit_publisher::{AuditPublisher, PublisherConfig, open_sqlite};
use audit_schema::CreateAuditRecordCommand;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type TestResult = Result<(), BoxError>;

pub const LIMIT: Duration = Duration::from_secs(180);

/// A number from the environment (for the full-size runs), or the default.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Command `i` with message id `{tag}-{i}`.
pub fn command(tag: &str, i: u64) -> CreateAuditRecordCommand {
    let built = AuditCommandBuilder::new("test-service", "TEST", chrono::Utc::now())
        .user(format!("user-{}", i % 50), "https://idp.example.org")
        .event_data("seq", i.to_string())
        .build();
    let mut command = match built {
        Ok(c) => c,
        Err(e) => unreachable!("the test command is valid: {e}"),
    };
    command.identity.id = format!("{tag}-{i}").into();
    command.identity.idempotence_id = format!("{tag}-idem-{i}").into();
    command
}

/// Relay settings for tests: short timeouts so an outage shows quickly.
pub fn relay_config(bootstrap: &str) -> RelayConfig {
    RelayConfig::new(bootstrap)
        .poll_interval(Duration::from_millis(100))
        .delivery_timeout(Duration::from_millis(1500))
        .lease(Duration::from_secs(15))
        .backoff(backoff(200, 1000))
}

pub fn backoff(initial_ms: u64, max_ms: u64) -> audit_support::Backoff {
    audit_support::Backoff::new(
        Duration::from_millis(initial_ms),
        Duration::from_millis(max_ms),
    )
    .unwrap_or_else(|e| unreachable!("test back-off: {e}"))
}

/// A publisher for `topic` on a fresh SQLite file in `dir`.
pub async fn start_publisher(
    dir: &tempfile::TempDir,
    relay: RelayConfig,
    topic: &str,
    config: PublisherConfig,
) -> Result<(AuditPublisher, audit_outbox::Outbox<sqlx::Sqlite>), BoxError> {
    let outbox = open_sqlite(dir.path().join("spill.db")).await?;
    let sender = AuditSender::pinned(topic, SchemaId::Pinned(1))?;
    let publisher = AuditPublisher::start(outbox.clone(), sender, relay, config)?;
    Ok((publisher, outbox))
}

/// Polls `check` until it returns `Some`, or fails after `limit` (a bound against hanging, not a
/// timing assertion).
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> Result<T, BoxError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, BoxError>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if start.elapsed() > limit {
            return Err(format!("gave up waiting for: {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads `topic` from the beginning up to its high watermarks and returns how often each
/// message id (decoded from the Confluent-framed Avro value) was seen.
pub async fn consume_ids(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Result<HashMap<String, usize>, BoxError> {
    let bootstrap = bootstrap.to_owned();
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || consume_blocking(&bootstrap, &topic, partitions)).await?
}

fn consume_blocking(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Result<HashMap<String, usize>, BoxError> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("test-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        // the mock cluster answers fetches with little data; do not wait between them
        .set("fetch.wait.max.ms", "10")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    let mut end = 0i64;
    let mut highs = Vec::new();
    for p in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10))?;
        if low > 0 {
            // librdkafka's mock cluster keeps a bounded log per partition and drops the oldest
            // record batches beyond it: what it dropped cannot be read back
            return Err(format!(
                "partition {p} of {topic} starts at offset {low}: the mock cluster's log \
                 retention dropped its first records (use fewer records per partition)"
            )
            .into());
        }
        end += high;
        highs.push(high);
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut read = 0i64;
    let mut last_offsets: HashMap<i32, i64> = HashMap::new();
    let started = Instant::now();
    // a bound against hanging that grows with the records (slow debug builds on a busy machine)
    let limit = LIMIT + Duration::from_millis(5) * u32::try_from(end).unwrap_or(u32::MAX);
    // done when every partition's position reached its high watermark (offsets need not be
    // contiguous: the count of records can be below the sum of the watermarks)
    let done = |last: &HashMap<i32, i64>| {
        highs.iter().enumerate().all(|(p, high)| {
            *high == 0
                || last
                    .get(&(p as i32))
                    .is_some_and(|offset| offset + 1 >= *high)
        })
    };
    while !done(&last_offsets) {
        if started.elapsed() > limit {
            return Err(format!(
                "read {read} of {end} records of {topic} (last offset per partition \
                 {last_offsets:?}, high watermarks {highs:?})"
            )
            .into());
        }
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message?;
        read += 1;
        last_offsets.insert(message.partition(), message.offset());
        let value = message.payload().unwrap_or_default();
        let (_schema_id, datum) = audit_schema::confluent::unframe(value)?;
        let command = CreateAuditRecordCommand::from_avro_datum(datum)?;
        *ids.entry(command.identity.id.to_string()).or_default() += 1;
    }
    Ok(ids)
}
