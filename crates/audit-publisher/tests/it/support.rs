//! Shared helpers: commands with known ids, a publisher on a SQLite file in a temporary
//! directory, a consumer that reads a mock-cluster topic up to its high watermarks, a metrics
//! recorder that keeps the order of the circuit's metric updates.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
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

/// What a topic holds: per message id (decoded from the Confluent-framed Avro value) the
/// idempotence id it carried and how often it was read (a redelivery counts once in the map).
pub type Consumed = HashMap<String, (String, usize)>;

/// Checks that `consumed` holds exactly the commands `{tag}-0 .. {tag}-{total-1}` of
/// [`command`], each with its own idempotence id; returns the number of duplicates (records read
/// more than once, the relay delivers at least once).
pub fn assert_exactly(consumed: &Consumed, tag: &str, total: u64) -> Result<usize, BoxError> {
    let mut missing = Vec::new();
    for i in 0..total {
        match consumed.get(&format!("{tag}-{i}")) {
            None => missing.push(i),
            Some((idem, _)) if *idem != format!("{tag}-idem-{i}") => {
                return Err(format!("{tag}-{i} arrived with idempotence id {idem}").into());
            }
            Some(_) => {}
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "{} of {total} commands missing downstream, first {:?}",
            missing.len(),
            missing.iter().take(10).collect::<Vec<_>>()
        )
        .into());
    }
    if consumed.len() as u64 != total {
        return Err(format!(
            "{} distinct message ids on the topic, {total} published",
            consumed.len()
        )
        .into());
    }
    Ok(consumed.values().map(|(_, n)| n - 1).sum())
}

/// Reads `topic` from the beginning up to its high watermarks (see [`Consumed`]).
///
/// librdkafka's mock cluster keeps at most 5 MiB of record batches per partition
/// (`rd_kafka_mock_partition_init`: `max_size = 5 MiB`, `max_cnt = 100000` batches, fixed, not a
/// setting) and deletes the oldest batches beyond that: a partition that no longer starts at
/// offset 0 fails here, naming it. Tests spread large runs over enough partitions.
pub async fn consume_ids(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Result<Consumed, BoxError> {
    let bootstrap = bootstrap.to_owned();
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || consume_blocking(&bootstrap, &topic, partitions)).await?
}

fn consume_blocking(bootstrap: &str, topic: &str, partitions: i32) -> Result<Consumed, BoxError> {
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
            // the mock cluster keeps 5 MiB per partition and drops the oldest record batches
            // beyond it: what it dropped cannot be read back
            return Err(format!(
                "partition {p} of {topic} starts at offset {low}: the mock cluster's 5 MiB per \
                 partition limit dropped its first records (use more partitions)"
            )
            .into());
        }
        end += high;
        highs.push(high);
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    let mut ids: Consumed = HashMap::new();
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
        let entry = ids
            .entry(command.identity.id.to_string())
            .or_insert_with(|| (command.identity.idempotence_id.to_string(), 0));
        if entry.0 != *command.identity.idempotence_id {
            return Err(format!(
                "message id {} read with idempotence ids {} and {}",
                command.identity.id, entry.0, command.identity.idempotence_id
            )
            .into());
        }
        entry.1 += 1;
    }
    Ok(ids)
}

/// A metrics recorder for one test (install it with `metrics::set_default_local_recorder`):
/// totals of every counter, and in order every update of a gauge or of a counter whose name
/// contains `circuit` (so a test can see the circuit's metrics go open, then closed).
#[derive(Debug, Default, Clone)]
pub struct MetricLog(Arc<LogInner>);

#[derive(Debug, Default)]
struct LogInner {
    totals: Mutex<HashMap<String, Arc<AtomicU64>>>,
    events: Mutex<Vec<(String, f64)>>,
}

#[derive(Debug)]
struct LogHandle {
    name: String,
    ordered: bool,
    total: Arc<AtomicU64>,
    log: Arc<LogInner>,
}

impl LogHandle {
    fn event(&self, value: f64) {
        self.log
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((self.name.clone(), value));
    }
}

impl metrics::CounterFn for LogHandle {
    fn increment(&self, value: u64) {
        self.total.fetch_add(value, Ordering::SeqCst);
        if self.ordered {
            self.event(value as f64);
        }
    }
    fn absolute(&self, value: u64) {
        self.total.store(value, Ordering::SeqCst);
    }
}

impl metrics::GaugeFn for LogHandle {
    fn increment(&self, value: f64) {
        self.event(value);
    }
    fn decrement(&self, value: f64) {
        self.event(-value);
    }
    fn set(&self, value: f64) {
        self.event(value);
    }
}

impl metrics::HistogramFn for LogHandle {
    fn record(&self, _value: f64) {}
}

impl MetricLog {
    fn handle(&self, key: &metrics::Key, ordered: bool) -> Arc<LogHandle> {
        let mut name = key.name().to_owned();
        for label in key.labels() {
            name.push_str(&format!("{{{}={}}}", label.key(), label.value()));
        }
        let total = self
            .0
            .totals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name.clone())
            .or_default()
            .clone();
        Arc::new(LogHandle {
            ordered: ordered || name.contains("circuit"),
            name,
            total,
            log: self.0.clone(),
        })
    }

    /// The total of a counter (`name{label=value}`), 0 if never incremented.
    pub fn counter(&self, name: &str) -> u64 {
        self.0
            .totals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .map_or(0, |t| t.load(Ordering::SeqCst))
    }

    /// The updates of metrics whose name starts with `prefix`, in order.
    pub fn events(&self, prefix: &str) -> Vec<(String, f64)> {
        self.0
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .cloned()
            .collect()
    }
}

impl metrics::Recorder for MetricLog {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::from_arc(self.handle(key, false))
    }
    fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::from_arc(self.handle(key, true))
    }
    fn register_histogram(
        &self,
        key: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::from_arc(self.handle(key, false))
    }
}
