//! Shared helpers: per-test PostgreSQL databases, topics on the shared Tansu broker, a consumer
//! that reads a topic up to its high watermarks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use audit_outbox::{Outbox, OutboxMessage, RelayConfig};
use audit_testkit::{PgDatabase, Tansu};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;
pub use audit_support::BoxError;

/// A fresh database with the outbox migrated. Keep `PgDatabase` alive for the test.
pub async fn pg_outbox() -> Result<(PgDatabase, PgPool, Outbox<Postgres>), BoxError> {
    let db = PgDatabase::create().await?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect(db.url())
        .await?;
    let outbox = Outbox::new(pool.clone());
    outbox.migrate().await?;
    Ok((db, pool, outbox))
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A new topic on the shared broker.
pub fn tansu_topic(partitions: u32) -> Result<(&'static Tansu, String), BoxError> {
    let broker = Tansu::shared()?;
    let topic = unique("outbox");
    broker.create_topic(&topic, partitions)?;
    Ok((broker, topic))
}

/// A relay config for tests: short timeouts so failures show quickly.
pub fn relay_config(bootstrap: &str) -> RelayConfig {
    let mut c = RelayConfig::new(bootstrap);
    c = c.poll_interval(Duration::from_millis(500));
    // Generous: a timed-out delivery is retried and may then be a duplicate, which the tests that
    // count duplicates must not see on a busy machine.
    c = c.delivery_timeout(Duration::from_secs(30));
    c = c.lease(Duration::from_secs(60));
    c.backoff(backoff(100, 1000))
}

/// A back-off from `initial_ms` up to `max_ms`.
pub fn backoff(initial_ms: u64, max_ms: u64) -> audit_support::Backoff {
    audit_support::Backoff::new(
        Duration::from_millis(initial_ms),
        Duration::from_millis(max_ms),
    )
    .unwrap_or_else(|e| unreachable!("test back-off: {e}"))
}

/// Test message `i`: value = message id (so a record maps back to its row), key given.
pub fn msg(topic: &str, key: Option<&str>) -> OutboxMessage {
    let m = OutboxMessage::new(topic, Vec::new()).with_type("TestMessage", Some("1.0.0".into()));
    let value = m.message_id.clone().into_bytes();
    let mut m = OutboxMessage { value, ..m };
    if let Some(k) = key {
        m = m.with_key(k.as_bytes().to_vec());
    }
    m
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `sent` rows are sent and nothing is pending.
pub async fn wait_sent<DB: audit_outbox::Backend>(
    outbox: &Outbox<DB>,
    sent: u64,
    limit: Duration,
) -> TestResult {
    eventually(&format!("{sent} rows sent"), limit, || async {
        let c = outbox.counts().await?;
        Ok((c.sent == sent && c.pending == 0).then_some(()))
    })
    .await
}

/// One consumed record.
#[derive(Debug, Clone)]
pub struct Rec {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Rec {
    pub fn value_str(&self) -> String {
        String::from_utf8_lossy(&self.value).into_owned()
    }
}

/// Reads every record of `topic` (all partitions from the beginning) in offset order per
/// partition: until at least `min_records` arrived and then no further record for 2 s (so
/// duplicates beyond `min_records` are seen too). Tansu 0.6.0 reports wrong high watermarks, so
/// they cannot be the stop criterion.
pub async fn consume_all(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    min_records: usize,
) -> Result<Vec<Rec>, BoxError> {
    let bootstrap = bootstrap.to_owned();
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        consume_blocking(&bootstrap, &topic, partitions, min_records)
    })
    .await?
}

fn consume_blocking(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    min_records: usize,
) -> Result<Vec<Rec>, BoxError> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique("outbox-test"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    let mut out = Vec::new();
    let start = Instant::now();
    let mut last = Instant::now();
    loop {
        if out.len() >= min_records && last.elapsed() > Duration::from_secs(2) {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            return Err(format!(
                "consumer got {} records of at least {min_records}",
                out.len()
            )
            .into());
        }
        let Some(m) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = m?;
        last = Instant::now();
        let headers = m
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| {
                        (
                            h.key.to_owned(),
                            h.value.map(<[u8]>::to_vec).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Rec {
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            headers,
        });
    }
    out.sort_by_key(|r| (r.partition, r.offset));
    Ok(out)
}

/// Counts per value (message id).
pub fn counts_by_value(records: &[Rec]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in records {
        *m.entry(r.value_str()).or_insert(0) += 1;
    }
    m
}
