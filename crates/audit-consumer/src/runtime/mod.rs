//! The Kafka consumer runtime (feature `kafka`): subscribe, decode, map to [`AuditRecord`], call
//! an async handler, commit only what is finished.
//!
//! Guarantees:
//! - **At-least-once.** Offsets are committed only for records whose handling finished (handled,
//!   skipped as a duplicate, or sent to the error topic). Per partition the runtime tracks the
//!   contiguous finished prefix: the committed offset is always the next record to read and never
//!   passes a record still being handled, also when handlers (up to
//!   [`ConsumerConfig::max_in_flight`] at a time) complete out of order.
//! - **Failure policy.** A *permanent* failure (bytes that do not decode, an incompatible or unknown
//!   writer schema, a handler error marked permanent, or a transient one past
//!   [`RetryPolicy::max_attempts`]) sends the original record (value, key, headers) to the
//!   configured error topic with headers naming the source topic, partition, offset and the error,
//!   then moves on. Without an error topic the runtime stops with [`Error::PermanentFailure`]
//!   instead of skipping the record. A *transient* failure ([`HandlerError::transient`], an
//!   unreachable schema registry or deduplication database) is retried with capped exponential
//!   back-off; the record is never dropped.
//! - **Bounded uncommitted window.** A partition with
//!   [`ConsumerConfig::max_uncommitted_per_partition`] records from its oldest unfinished one on is
//!   paused until the window drains (gauge [`metrics::UNCOMMITTED`]).
//! - **Deduplication** (optional, [`Dedup`]): the idempotence id is recorded in the database
//!   transaction that commits when the handler succeeds, like jEAP's idempotent handler; with
//!   [`AuditConsumer::run_in_transaction`] the handler writes its effects in that transaction
//!   ([`DedupTx`]): exactly once in that database. See [`Dedup`] for what is exactly-once.
//! - **Graceful shutdown.** When the shutdown future completes: stop fetching, wait for the
//!   records in flight (up to [`ConsumerConfig::shutdown_timeout`]), commit synchronously on a
//!   blocking thread.
//! - **Rebalance.** Before partitions are revoked, their finished prefix is committed
//!   (asynchronously; librdkafka completes the revocation after the commit); records still in
//!   flight on them may be handled again by the new owner.
//! - **No blocking on async threads.** Commits that wait and the clients' close (on drop) run on
//!   other threads; `current_thread` runtimes keep running.
//! - **Tracing.** Each record is handled inside an `audit.consume` span carrying the W3C
//!   `traceparent` of the record (`trace_id`, `parent_span_id`) and its topic/partition/offset.
//!
//! ```no_run
//! use std::sync::Arc;
//! use audit_consumer::runtime::{AuditConsumer, ConsumerConfig, Delivery, HandlerError};
//! use audit_consumer::{LocalVersions, SchemaVersion};
//!
//! # async fn example() -> Result<(), audit_consumer::Error> {
//! let config = ConsumerConfig::new("127.0.0.1:9092", "audit-archive", ["audit-records"])
//!     .error_topic("audit-records-errors");
//! let schemas = LocalVersions::new().with_id(1, SchemaVersion::V1_0_2);
//! let consumer = AuditConsumer::new(config, schemas)?;
//! let handler = |delivery: Arc<Delivery>| async move {
//!     println!("{} by {:?}", delivery.record().event().event_type(), delivery.record().trigger());
//!     Ok::<(), HandlerError>(())
//! };
//! let summary = consumer.run(handler, async { tokio::signal::ctrl_c().await.ok(); }).await?;
//! println!("handled {}", summary.handled);
//! # Ok(()) }
//! ```

mod dedup;
mod offsets;
mod trace;

/// Metric names (recorded through the `metrics` facade; install any recorder/exporter you like).
///
/// | name | kind | labels | meaning |
/// |---|---|---|---|
/// | `audit_consumer_uncommitted_records` | gauge | `topic`, `partition` | records consumed from the partition's oldest unfinished record on (not committable yet), refreshed at every commit tick |
/// | `audit_consumer_paused_partitions_total` | counter | | partitions paused because their uncommitted window reached [`ConsumerConfig::max_uncommitted_per_partition`] |
pub mod metrics {
    /// Gauge with labels `topic`, `partition`: the uncommitted window of a partition.
    pub const UNCOMMITTED: &str = "audit_consumer_uncommitted_records";
    /// Counter: partitions paused at the uncommitted bound.
    pub const PAUSED: &str = "audit_consumer_paused_partitions_total";
}

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tracing::{Instrument, field};

pub use dedup::{Dedup, DedupTx, Migration, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
pub use trace::TraceParent;

use crate::decode::{AsyncWriterSchemaSource, decode_async};
use crate::error::{BoxError, Error};
use crate::record::AuditRecord;
use dedup::DedupOutcome;
use offsets::{OffsetTracker, Ticket};

/// Header on error-topic records: the error, with its chain of causes (`a: b: c`).
pub const ERROR_MESSAGE_HEADER: &str = "audit-error-message";
/// Header on error-topic records: the failure class, `decode` or `handler`.
pub const ERROR_STAGE_HEADER: &str = "audit-error-stage";
/// Header on error-topic records: the topic the record was consumed from.
pub const ERROR_TOPIC_HEADER: &str = "audit-error-topic";
/// Header on error-topic records: the partition it was consumed from (decimal).
pub const ERROR_PARTITION_HEADER: &str = "audit-error-partition";
/// Header on error-topic records: its offset (decimal).
pub const ERROR_OFFSET_HEADER: &str = "audit-error-offset";
/// The W3C trace-context header.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// Capped exponential back-off for transient failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay before the first retry (default 100 ms).
    pub initial: Duration,
    /// Upper bound of a delay (default 30 s).
    pub max: Duration,
    /// Handler attempts before a transient handler failure is treated as permanent (sent to the
    /// error topic); `None` (default) retries forever.
    pub max_attempts: Option<u32>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
            max_attempts: None,
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1-based): `initial * 2^(retry-1)`, capped at `max`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use audit_consumer::runtime::RetryPolicy;
    /// let p = RetryPolicy { initial: Duration::from_millis(10), max: Duration::from_millis(50), max_attempts: None };
    /// assert_eq!(p.delay(1), Duration::from_millis(10));
    /// assert_eq!(p.delay(3), Duration::from_millis(40));
    /// assert_eq!(p.delay(30), Duration::from_millis(50));
    /// ```
    #[must_use]
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(31));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// Configuration of an [`AuditConsumer`].
///
/// Its `Debug` output redacts the values of secret librdkafka properties (see [`is_secret`]).
#[derive(Clone)]
pub struct ConsumerConfig {
    bootstrap_servers: String,
    group_id: String,
    topics: Vec<String>,
    error_topic: Option<String>,
    max_in_flight: usize,
    commit_interval: Duration,
    shutdown_timeout: Duration,
    retry: RetryPolicy,
    dedup: Option<Dedup>,
    max_uncommitted: usize,
    client: Vec<(String, String)>,
}

/// Printed instead of a secret property's value.
pub const REDACTED: &str = "<redacted>";

/// Whether a librdkafka property holds a secret whose value must never be printed:
/// passwords (`sasl.password`, `ssl.key.password`, `ssl.keystore.password`, ...), client secrets
/// (`sasl.oauthbearer.client.secret`), JAAS and OAUTHBEARER configurations, private keys in PEM
/// and tokens.
#[must_use]
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "jaas",
        "token",
        "sasl.oauthbearer.config",
        "ssl.key.pem",
        "private",
    ]
    .iter()
    .any(|marker| key.contains(marker))
}

/// `(key, value)` pairs with secret values replaced by [`REDACTED`].
fn redacted(client: &[(String, String)]) -> Vec<(&str, &str)> {
    client
        .iter()
        .map(|(k, v)| {
            let v = if is_secret(k) { REDACTED } else { v.as_str() };
            (k.as_str(), v)
        })
        .collect()
}

impl std::fmt::Debug for ConsumerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("group_id", &self.group_id)
            .field("topics", &self.topics)
            .field("error_topic", &self.error_topic)
            .field("max_in_flight", &self.max_in_flight)
            .field("max_uncommitted_per_partition", &self.max_uncommitted)
            .field("commit_interval", &self.commit_interval)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("retry", &self.retry)
            .field("dedup", &self.dedup)
            .field("client", &redacted(&self.client))
            .finish()
    }
}

/// Default of [`ConsumerConfig::max_uncommitted_per_partition`].
pub const DEFAULT_MAX_UNCOMMITTED_PER_PARTITION: usize = 10_000;

impl ConsumerConfig {
    /// Consume `topics` as member of the consumer group `group_id`.
    ///
    /// Defaults: no error topic, 64 records in flight, 10,000 uncommitted records per partition,
    /// commit every 500 ms, 30 s shutdown timeout, [`RetryPolicy::default`], no deduplication,
    /// `auto.offset.reset=earliest`.
    #[must_use]
    pub fn new(
        bootstrap_servers: impl Into<String>,
        group_id: impl Into<String>,
        topics: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            group_id: group_id.into(),
            topics: topics.into_iter().map(Into::into).collect(),
            error_topic: None,
            max_in_flight: 64,
            commit_interval: Duration::from_millis(500),
            shutdown_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            dedup: None,
            max_uncommitted: DEFAULT_MAX_UNCOMMITTED_PER_PARTITION,
            client: vec![("auto.offset.reset".to_owned(), "earliest".to_owned())],
        }
    }

    /// Where permanently failing records go (original value, key and headers plus the
    /// `audit-error-*` headers).
    #[must_use]
    pub fn error_topic(mut self, topic: impl Into<String>) -> Self {
        self.error_topic = Some(topic.into());
        self
    }

    /// How many records may be in handling at once (at least 1; 1 handles records strictly in order).
    #[must_use]
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self
    }

    /// The bound of a partition's uncommitted window: records consumed from the oldest one not
    /// finished yet (its offset is the committable position) to the newest one (default
    /// [`DEFAULT_MAX_UNCOMMITTED_PER_PARTITION`], at least 1). When a record is retried for a long
    /// time, later records of its partition keep being handled but cannot be committed; once the
    /// window holds this many records the partition is paused (no more fetching), and it is
    /// resumed when the window drains below the bound. This bounds what a crash redelivers per
    /// partition. The window is exported as the gauge
    /// `audit_consumer_uncommitted_records{topic, partition}` (see [`metrics`]).
    #[must_use]
    pub fn max_uncommitted_per_partition(mut self, n: usize) -> Self {
        self.max_uncommitted = n;
        self
    }

    /// How often finished positions are committed (asynchronously).
    #[must_use]
    pub fn commit_interval(mut self, interval: Duration) -> Self {
        self.commit_interval = interval;
        self
    }

    /// How long shutdown waits for records in flight before committing what finished.
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The back-off for transient failures.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Skip records whose idempotence id was handled before (see [`Dedup`]).
    #[must_use]
    pub fn dedup(mut self, dedup: Dedup) -> Self {
        self.dedup = Some(dedup);
        self
    }

    /// Sets a librdkafka property of the consumer and of the error-topic producer (e.g.
    /// `security.protocol`). `enable.auto.commit`, `enable.auto.offset.store`, `group.id` and
    /// `bootstrap.servers` are managed by the runtime.
    #[must_use]
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.client.push((key.into(), value.into()));
        self
    }

    fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: &str| {
            Err(Error::InvalidConfig {
                reason: reason.to_owned(),
            })
        };
        if self.bootstrap_servers.trim().is_empty() {
            return invalid("bootstrap servers are blank");
        }
        if self.group_id.trim().is_empty() {
            return invalid("group id is blank");
        }
        if self.topics.is_empty() || self.topics.iter().any(|t| t.trim().is_empty()) {
            return invalid("at least one topic is required and topics must not be blank");
        }
        if let Some(error_topic) = &self.error_topic
            && (error_topic.trim().is_empty() || self.topics.contains(error_topic))
        {
            return invalid("the error topic must not be blank nor one of the consumed topics");
        }
        if self.max_in_flight == 0 {
            return invalid("max_in_flight must be at least 1");
        }
        if self.max_uncommitted == 0 {
            return invalid("max_uncommitted_per_partition must be at least 1");
        }
        const MANAGED: &[&str] = &[
            "enable.auto.commit",
            "enable.auto.offset.store",
            "group.id",
            "bootstrap.servers",
        ];
        if let Some((key, _)) = self
            .client
            .iter()
            .find(|(k, _)| MANAGED.contains(&k.as_str()))
        {
            return Err(Error::InvalidConfig {
                reason: format!("`{key}` is managed by the runtime"),
            });
        }
        Ok(())
    }

    fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        for (key, value) in &self.client {
            config.set(key, value);
        }
        config
    }
}

/// A handler's failure: transient ones are retried, permanent ones go to the error topic.
#[derive(Debug, thiserror::Error)]
#[error("{} handler failure", if *.retryable { "transient" } else { "permanent" })]
pub struct HandlerError {
    retryable: bool,
    #[source]
    source: BoxError,
}

impl HandlerError {
    /// A failure worth retrying (a database or downstream service briefly unavailable).
    pub fn transient(source: impl Into<BoxError>) -> Self {
        Self {
            retryable: true,
            source: source.into(),
        }
    }

    /// A failure that retrying cannot fix: the record goes to the error topic.
    pub fn permanent(source: impl Into<BoxError>) -> Self {
        Self {
            retryable: false,
            source: source.into(),
        }
    }

    /// Whether the runtime retries it.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

/// One consumed record as the handler sees it: the decoded [`AuditRecord`] and where it came from.
#[derive(Debug, Clone)]
pub struct Delivery {
    record: AuditRecord,
    topic: String,
    partition: i32,
    offset: i64,
    timestamp_millis: Option<i64>,
    traceparent: Option<TraceParent>,
}

impl Delivery {
    /// The decoded record.
    #[must_use]
    pub fn record(&self) -> &AuditRecord {
        &self.record
    }

    /// The topic it was consumed from.
    #[must_use]
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Its partition.
    #[must_use]
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// Its offset.
    #[must_use]
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// The Kafka record timestamp (milliseconds since the Unix epoch), if any.
    #[must_use]
    pub fn timestamp_millis(&self) -> Option<i64> {
        self.timestamp_millis
    }

    /// The record's W3C trace context, if it carried a valid `traceparent` header.
    #[must_use]
    pub fn traceparent(&self) -> Option<&TraceParent> {
        self.traceparent.as_ref()
    }
}

/// The user's record handler. Implemented for every `Fn(Arc<Delivery>) -> impl Future<Output =
/// Result<(), HandlerError>>` closure. A transient error is retried with the same delivery.
pub trait Handler: Send + Sync {
    /// Handles one record.
    fn handle(
        &self,
        delivery: Arc<Delivery>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

impl<F, Fut> Handler for F
where
    F: Fn(Arc<Delivery>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), HandlerError>> + Send,
{
    fn handle(
        &self,
        delivery: Arc<Delivery>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        self(delivery)
    }
}

/// A handler that works inside the deduplication transaction ([`AuditConsumer::run_in_transaction`]).
///
/// It receives the open [`DedupTx`] in which the record's idempotence id is already inserted,
/// writes its own effects through it, and hands it back on success: the runtime then commits
/// effects and marker in one database transaction. Returning an error drops the transaction
/// (rolled back: neither effects nor marker). Implemented for every
/// `Fn(Arc<Delivery>, DedupTx) -> impl Future<Output = Result<DedupTx, HandlerError>>` closure.
pub trait TxHandler: Send + Sync {
    /// Handles one record inside `tx`.
    fn handle(
        &self,
        delivery: Arc<Delivery>,
        tx: DedupTx,
    ) -> impl Future<Output = Result<DedupTx, HandlerError>> + Send;
}

impl<F, Fut> TxHandler for F
where
    F: Fn(Arc<Delivery>, DedupTx) -> Fut + Send + Sync,
    Fut: Future<Output = Result<DedupTx, HandlerError>> + Send,
{
    fn handle(
        &self,
        delivery: Arc<Delivery>,
        tx: DedupTx,
    ) -> impl Future<Output = Result<DedupTx, HandlerError>> + Send {
        self(delivery, tx)
    }
}

/// One handling attempt, with or without the deduplication transaction (internal).
trait Attempt: Send + Sync {
    fn attempt(
        &self,
        dedup: Option<&Dedup>,
        delivery: &Arc<Delivery>,
    ) -> impl Future<Output = Result<DedupOutcome<HandlerError>, Error>> + Send;
}

struct Plain<H>(H);

impl<H: Handler> Attempt for Plain<H> {
    async fn attempt(
        &self,
        dedup: Option<&Dedup>,
        delivery: &Arc<Delivery>,
    ) -> Result<DedupOutcome<HandlerError>, Error> {
        match dedup {
            Some(dedup) => {
                dedup
                    .process(delivery.record.metadata().idempotence_id(), || {
                        self.0.handle(Arc::clone(delivery))
                    })
                    .await
            }
            None => Ok(match self.0.handle(Arc::clone(delivery)).await {
                Ok(()) => DedupOutcome::Handled,
                Err(e) => DedupOutcome::Failed(e),
            }),
        }
    }
}

struct Transactional<T>(T);

impl<T: TxHandler> Attempt for Transactional<T> {
    async fn attempt(
        &self,
        dedup: Option<&Dedup>,
        delivery: &Arc<Delivery>,
    ) -> Result<DedupOutcome<HandlerError>, Error> {
        let Some(dedup) = dedup else {
            return Err(Error::InvalidConfig {
                reason: "run_in_transaction needs ConsumerConfig::dedup".to_owned(),
            });
        };
        let Some(tx) = dedup
            .begin(delivery.record.metadata().idempotence_id())
            .await?
        else {
            return Ok(DedupOutcome::Duplicate);
        };
        match self.0.handle(Arc::clone(delivery), tx).await {
            Ok(tx) => {
                tx.commit().await?;
                Ok(DedupOutcome::Handled)
            }
            // dropping the transaction rolls it back: no effects, no marker
            Err(e) => Ok(DedupOutcome::Failed(e)),
        }
    }
}

/// What a [`AuditConsumer::run`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunSummary {
    /// Records received from Kafka.
    pub received: u64,
    /// Records the handler handled successfully.
    pub handled: u64,
    /// Records skipped because their idempotence id was handled before.
    pub duplicates: u64,
    /// Retries after transient failures.
    pub retries: u64,
    /// Records sent to the error topic.
    pub dead_lettered: u64,
    /// Records still in flight when shutdown gave up waiting (not committed: they will be redelivered).
    pub abandoned: u64,
    /// Partition revocations seen (rebalances).
    pub revocations: u64,
    /// Times a partition was paused because its uncommitted window reached
    /// [`ConsumerConfig::max_uncommitted_per_partition`].
    pub pauses: u64,
    /// Times such a partition was resumed.
    pub resumes: u64,
}

/// How one record finished.
enum Outcome {
    Handled { retries: u64 },
    Duplicate { retries: u64 },
    DeadLettered { retries: u64 },
}

/// The consumer context: commits the finished prefix of revoked partitions.
struct RuntimeContext {
    tracker: Arc<Mutex<OffsetTracker>>,
    revocations: AtomicU64,
}

fn lock(tracker: &Mutex<OffsetTracker>) -> MutexGuard<'_, OffsetTracker> {
    tracker
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn to_tpl(positions: &[(String, i32, i64)]) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::with_capacity(positions.len());
    for (topic, partition, offset) in positions {
        // Only fails for an invalid offset value, which Offset::Offset never is.
        if let Err(e) = tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset)) {
            tracing::warn!(%topic, partition, offset, error = %e, "cannot add offset to commit list");
        }
    }
    tpl
}

impl ClientContext for RuntimeContext {}

impl ConsumerContext for RuntimeContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            self.revocations.fetch_add(1, Ordering::Relaxed);
            let revoked: Vec<(String, i32)> = tpl
                .elements()
                .iter()
                .map(|e| (e.topic().to_owned(), e.partition()))
                .collect();
            let positions = lock(&self.tracker).revoke(&revoked);
            for (topic, partition) in &revoked {
                ::metrics::gauge!(metrics::UNCOMMITTED, "topic" => topic.clone(), "partition" => partition.to_string()).set(0.0);
            }
            if !positions.is_empty() {
                // Asynchronous: this callback runs on the thread polling the consumer (an async
                // executor thread). librdkafka completes the revocation only after outstanding
                // commits finished, so the positions are committed before the new owner reads.
                match consumer.commit(&to_tpl(&positions), CommitMode::Async) {
                    Ok(()) => tracing::debug!(?positions, "committing revoked partitions"),
                    Err(e) => {
                        tracing::warn!(error = %e, ?positions, "commit of revoked partitions failed")
                    }
                }
            }
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance
            && tpl.count() > 0
        {
            // A partition paused at the uncommitted bound and revoked before it drained starts
            // afresh when it is assigned again.
            let mut plain = TopicPartitionList::with_capacity(tpl.count());
            for e in tpl.elements() {
                plain.add_partition(e.topic(), e.partition());
            }
            if let Err(e) = consumer.resume(&plain) {
                tracing::warn!(error = %e, "cannot resume assigned partitions");
            }
        }
    }

    fn commit_callback(
        &self,
        result: rdkafka::error::KafkaResult<()>,
        offsets: &TopicPartitionList,
    ) {
        if let Err(e) = result {
            tracing::warn!(error = %e, "offset commit failed; retried with the next commit");
            let mut tracker = lock(&self.tracker);
            for element in offsets.elements() {
                if let Offset::Offset(offset) = element.offset() {
                    tracker.forget_commit(element.topic(), element.partition(), offset);
                }
            }
        }
    }
}

/// A Kafka consumer of audit commands. See the [module docs](self) for the guarantees.
///
/// Dropping it closes the Kafka clients (leave the group, stop the producer) on a separate
/// thread, so a drop never blocks an async executor thread; [`close`](Self::close) does the same
/// and waits for it.
pub struct AuditConsumer<S> {
    consumer: Arc<StreamConsumer<RuntimeContext>>,
    producer: Option<(FutureProducer, String)>,
    tracker: Arc<Mutex<OffsetTracker>>,
    config: ConsumerConfig,
    schemas: S,
    /// Declared last: dropped after the fields above, it holds the last references.
    closer: Closer,
}

/// The last references to the Kafka clients, released off the async threads.
struct Closer(Option<(Arc<StreamConsumer<RuntimeContext>>, Option<FutureProducer>)>);

impl Drop for Closer {
    fn drop(&mut self) {
        if let Some(clients) = self.0.take() {
            // rd_kafka_consumer_close (leave group, final revocation) and the producer's
            // shutdown block; if no thread can be started they close here.
            let _detached = std::thread::Builder::new()
                .name("audit-consumer-close".to_owned())
                .spawn(move || drop(clients));
        }
    }
}

impl<S> std::fmt::Debug for AuditConsumer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditConsumer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncWriterSchemaSource + Send + Sync> AuditConsumer<S> {
    /// Creates the consumer (and the error-topic producer) and subscribes to the topics.
    /// `schemas` resolves writer-schema ids: [`LocalVersions`](crate::LocalVersions), any
    /// [`WriterSchemaSource`](crate::WriterSchemaSource), or an async registry client
    /// ([`AsyncWriterSchemaSource`]); a failed lookup is retried, an unknown id is a permanent failure.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], or [`Error::Kafka`] if a client cannot be created or subscribe fails.
    pub fn new(config: ConsumerConfig, schemas: S) -> Result<Self, Error> {
        config.validate()?;
        let tracker = Arc::new(Mutex::new(OffsetTracker::new(config.max_uncommitted)));
        let context = RuntimeContext {
            tracker: Arc::clone(&tracker),
            revocations: AtomicU64::new(0),
        };
        let consumer: StreamConsumer<RuntimeContext> = config
            .client_config()
            .set("group.id", &config.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .create_with_context(context)
            .map_err(|source| Error::Kafka {
                operation: "create consumer",
                source,
            })?;
        let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics).map_err(|source| Error::Kafka {
            operation: "subscribe",
            source,
        })?;
        let producer = match &config.error_topic {
            Some(topic) => {
                let mut producer_config = config.client_config();
                // Consumer-only properties would make the producer warn; drop the offset reset.
                producer_config.remove("auto.offset.reset");
                let producer: FutureProducer = producer_config
                    .set("acks", "all")
                    .create()
                    .map_err(|source| Error::Kafka {
                        operation: "create error-topic producer",
                        source,
                    })?;
                Some((producer, topic.clone()))
            }
            None => None,
        };
        let consumer = Arc::new(consumer);
        let closer = Closer(Some((
            Arc::clone(&consumer),
            producer.as_ref().map(|(p, _)| p.clone()),
        )));
        Ok(Self {
            consumer,
            producer,
            tracker,
            config,
            schemas,
            closer,
        })
    }

    /// Closes the Kafka clients (leave the group, stop the error-topic producer) on a blocking
    /// thread and waits until that finished. Dropping the consumer does the same without waiting.
    pub async fn close(mut self) {
        let clients = self.closer.0.take();
        drop(self);
        if let Err(e) = tokio::task::spawn_blocking(move || drop(clients)).await {
            tracing::warn!(error = %e, "closing the Kafka clients failed");
        }
    }

    /// Consumes until `shutdown` completes, then finishes the records in flight (up to the
    /// shutdown timeout) and commits synchronously.
    ///
    /// Dropping the returned future instead (a crash) commits nothing more: records after the
    /// last commit are delivered again to the next consumer of the group.
    ///
    /// # Errors
    /// [`Error::PermanentFailure`] when a record fails permanently and no error topic is
    /// configured (after committing everything finished before it), or [`Error::Kafka`] if the
    /// final commit fails.
    pub async fn run<H: Handler>(
        &self,
        handler: H,
        shutdown: impl Future<Output = ()>,
    ) -> Result<RunSummary, Error> {
        self.run_inner(Plain(handler), shutdown).await
    }

    /// Like [`run`](Self::run), but the handler works inside the deduplication transaction
    /// ([`TxHandler`]): its database effects and the record's idempotence id commit together, so
    /// each record's effects in the deduplication database happen exactly once, also across a
    /// crash at any point (see [`Dedup`] for what exactly-once covers).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if no [`ConsumerConfig::dedup`] is configured; otherwise as [`run`](Self::run).
    pub async fn run_in_transaction<T: TxHandler>(
        &self,
        handler: T,
        shutdown: impl Future<Output = ()>,
    ) -> Result<RunSummary, Error> {
        if self.config.dedup.is_none() {
            return Err(Error::InvalidConfig {
                reason: "run_in_transaction needs ConsumerConfig::dedup".to_owned(),
            });
        }
        self.run_inner(Transactional(handler), shutdown).await
    }

    async fn run_inner<A: Attempt>(
        &self,
        handler: A,
        shutdown: impl Future<Output = ()>,
    ) -> Result<RunSummary, Error> {
        let mut summary = RunSummary::default();
        let mut in_flight = FuturesUnordered::new();
        let mut commit_tick = tokio::time::interval(self.config.commit_interval);
        commit_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let housekeeping = self
            .config
            .dedup
            .clone()
            .map(|dedup| tokio::spawn(housekeeping_loop(dedup)));
        let _housekeeping = AbortOnDrop(housekeeping);
        let mut shutdown = std::pin::pin!(shutdown);
        let mut failure = None;
        let mut recv_errors = 0u32;
        loop {
            tokio::select! {
                biased;
                Some((ticket, result)) = in_flight.next(), if !in_flight.is_empty() => {
                    match result {
                        Ok(outcome) => {
                            self.complete(&ticket, &mut summary);
                            count(&mut summary, outcome);
                        }
                        Err(error) => {
                            failure = Some(error);
                            break;
                        }
                    }
                }
                () = &mut shutdown => break,
                _ = commit_tick.tick() => self.commit(CommitMode::Async),
                message = self.consumer.recv(), if in_flight.len() < self.config.max_in_flight => {
                    match message {
                        Ok(message) => {
                            recv_errors = 0;
                            let message = message.detach();
                            let (ticket, pause) = lock(&self.tracker).dispatch(message.topic(), message.partition(), message.offset());
                            if pause {
                                self.pause_resume(&ticket, true, &mut summary);
                            }
                            summary.received += 1;
                            in_flight.push(self.process(&handler, message, ticket));
                        }
                        Err(e) => {
                            recv_errors = recv_errors.saturating_add(1);
                            tracing::warn!(error = %e, "kafka consumer error");
                            // short: completions, commits and shutdown wait while this branch sleeps
                            tokio::time::sleep(self.config.retry.delay(recv_errors).min(Duration::from_secs(1))).await;
                        }
                    }
                }
            }
        }
        if failure.is_none() {
            // Graceful: let the records in flight finish.
            let drain = async {
                while let Some((ticket, result)) = in_flight.next().await {
                    match result {
                        Ok(outcome) => {
                            lock(&self.tracker).complete(&ticket);
                            count(&mut summary, outcome);
                        }
                        Err(error) => return Some(error),
                    }
                }
                None
            };
            match tokio::time::timeout(self.config.shutdown_timeout, drain).await {
                Ok(error) => failure = error,
                Err(_elapsed) => {
                    tracing::warn!("shutdown timeout: records still in flight are not committed")
                }
            }
        }
        summary.abandoned = in_flight.len() as u64;
        drop(in_flight);
        summary.revocations = self.consumer.context().revocations.load(Ordering::Relaxed);
        let positions = lock(&self.tracker).positions();
        if !positions.is_empty() {
            // The synchronous commit waits for the broker: on a blocking thread, not this one.
            let consumer = Arc::clone(&self.consumer);
            let commit = tokio::task::spawn_blocking(move || {
                consumer.commit(&to_tpl(&positions), CommitMode::Sync)
            })
            .await;
            match commit {
                Ok(result) => result.map_err(|source| Error::Kafka {
                    operation: "commit offsets",
                    source,
                })?,
                Err(join) => {
                    tracing::error!(error = %join, "the final commit task failed");
                    return Err(Error::Kafka {
                        operation: "commit offsets",
                        source: rdkafka::error::KafkaError::Canceled,
                    });
                }
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(summary),
        }
    }

    /// The partitions currently assigned to this consumer (empty until the group join completed,
    /// which happens while [`run`](Self::run) polls).
    ///
    /// # Errors
    /// [`Error::Kafka`] if the client cannot report its assignment.
    pub fn assignment(&self) -> Result<Vec<(String, i32)>, Error> {
        let tpl = self.consumer.assignment().map_err(|source| Error::Kafka {
            operation: "read assignment",
            source,
        })?;
        Ok(tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect())
    }

    /// Marks a record finished; resumes its partition if it was paused and drained.
    fn complete(&self, ticket: &Ticket, summary: &mut RunSummary) {
        let resume = lock(&self.tracker).complete(ticket);
        if resume {
            self.pause_resume(ticket, false, summary);
        }
    }

    fn pause_resume(&self, ticket: &Ticket, pause: bool, summary: &mut RunSummary) {
        let mut tpl = TopicPartitionList::with_capacity(1);
        tpl.add_partition(&ticket.topic, ticket.partition);
        let result = if pause {
            summary.pauses += 1;
            ::metrics::counter!(metrics::PAUSED).increment(1);
            tracing::info!(topic = %ticket.topic, partition = ticket.partition,
                bound = self.config.max_uncommitted, "uncommitted window full; pausing the partition");
            self.consumer.pause(&tpl)
        } else {
            summary.resumes += 1;
            tracing::info!(topic = %ticket.topic, partition = ticket.partition, "uncommitted window drained; resuming the partition");
            self.consumer.resume(&tpl)
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, topic = %ticket.topic, partition = ticket.partition, pause, "cannot pause/resume partition");
        }
    }

    fn commit(&self, mode: CommitMode) {
        let (positions, uncommitted) = {
            let mut tracker = lock(&self.tracker);
            (tracker.take_commits(), tracker.uncommitted())
        };
        for (topic, partition, n) in uncommitted {
            ::metrics::gauge!(metrics::UNCOMMITTED, "topic" => topic, "partition" => partition.to_string())
                .set(n as f64);
        }
        if positions.is_empty() {
            return;
        }
        if let Err(e) = self.consumer.commit(&to_tpl(&positions), mode) {
            tracing::warn!(error = %e, "offset commit failed; retried with the next commit");
            let mut tracker = lock(&self.tracker);
            for (topic, partition, offset) in &positions {
                tracker.forget_commit(topic, *partition, *offset);
            }
        }
    }

    /// Decodes, handles (with retries and deduplication) or dead-letters one record.
    async fn process<A: Attempt>(
        &self,
        handler: &A,
        message: OwnedMessage,
        ticket: Ticket,
    ) -> (Ticket, Result<Outcome, Error>) {
        let result = self.process_inner(handler, &message).await;
        (ticket, result)
    }

    async fn process_inner<A: Attempt>(
        &self,
        handler: &A,
        message: &OwnedMessage,
    ) -> Result<Outcome, Error> {
        let payload = message.payload().unwrap_or_default();
        let mut retries = 0u64;
        let record = loop {
            match decode_async(payload, &self.schemas).await {
                Ok(record) => break record,
                Err(error @ Error::SchemaLookup { .. }) => {
                    retries += 1;
                    tracing::warn!(error = %chain(&error), topic = message.topic(), partition = message.partition(),
                        offset = message.offset(), "writer schema lookup failed; retrying");
                    tokio::time::sleep(
                        self.config
                            .retry
                            .delay(u32::try_from(retries).unwrap_or(u32::MAX)),
                    )
                    .await;
                }
                Err(error) => {
                    return self
                        .dead_letter(message, "decode", Box::new(error), retries)
                        .await;
                }
            }
        };
        let traceparent = message
            .headers()
            .and_then(|headers| headers.iter().find(|h| h.key == TRACEPARENT_HEADER))
            .and_then(|h| h.value)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(TraceParent::parse);
        let span = tracing::info_span!(
            "audit.consume",
            messaging.destination = message.topic(),
            messaging.partition = message.partition(),
            messaging.offset = message.offset(),
            idempotence_id = record.metadata().idempotence_id(),
            trace_id = field::Empty,
            parent_span_id = field::Empty,
        );
        if let Some(tp) = &traceparent {
            span.record("trace_id", tp.trace_id.as_str());
            span.record("parent_span_id", tp.parent_id.as_str());
        }
        let delivery = Arc::new(Delivery {
            record,
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            timestamp_millis: message.timestamp().to_millis(),
            traceparent,
        });
        let mut attempts = 0u32;
        loop {
            attempts = attempts.saturating_add(1);
            let attempt = handler.attempt(self.config.dedup.as_ref(), &delivery);
            match attempt.instrument(span.clone()).await {
                Ok(DedupOutcome::Handled) => return Ok(Outcome::Handled { retries }),
                Ok(DedupOutcome::Duplicate) => return Ok(Outcome::Duplicate { retries }),
                Ok(DedupOutcome::Failed(error)) => {
                    let exhausted = self
                        .config
                        .retry
                        .max_attempts
                        .is_some_and(|max| attempts >= max);
                    if !error.is_retryable() || exhausted {
                        return self
                            .dead_letter(message, "handler", Box::new(error), retries)
                            .await;
                    }
                    tracing::debug!(parent: &span, error = %chain(&error), attempts, "transient handler failure; retrying");
                }
                Err(error) => {
                    tracing::warn!(parent: &span, error = %chain(&error), "deduplication store failed; retrying");
                }
            }
            retries += 1;
            tokio::time::sleep(self.config.retry.delay(attempts)).await;
        }
    }

    /// Sends the original record with the `audit-error-*` headers to the error topic, retrying
    /// the produce until it is acknowledged.
    async fn dead_letter(
        &self,
        message: &OwnedMessage,
        stage: &'static str,
        error: BoxError,
        retries: u64,
    ) -> Result<Outcome, Error> {
        let text = chain(error.as_ref());
        let Some((producer, error_topic)) = &self.producer else {
            tracing::error!(topic = message.topic(), partition = message.partition(), offset = message.offset(),
                error = %text, "permanent failure and no error topic configured");
            return Err(Error::PermanentFailure {
                topic: message.topic().to_owned(),
                partition: message.partition(),
                offset: message.offset(),
                source: error,
            });
        };
        let mut headers = OwnedHeaders::new();
        if let Some(original) = message.headers() {
            for header in original.iter() {
                headers = headers.insert(header);
            }
        }
        let partition = message.partition().to_string();
        let offset = message.offset().to_string();
        for (key, value) in [
            (ERROR_MESSAGE_HEADER, text.as_str()),
            (ERROR_STAGE_HEADER, stage),
            (ERROR_TOPIC_HEADER, message.topic()),
            (ERROR_PARTITION_HEADER, partition.as_str()),
            (ERROR_OFFSET_HEADER, offset.as_str()),
        ] {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
        tracing::warn!(topic = message.topic(), partition = message.partition(), offset = message.offset(),
            error = %text, error_topic = %error_topic, "permanent failure; sending the record to the error topic");
        let mut attempts = 0u32;
        loop {
            let mut record: FutureRecord<'_, [u8], [u8]> =
                FutureRecord::to(error_topic).headers(headers.clone());
            if let Some(payload) = message.payload() {
                record = record.payload(payload);
            }
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            match producer.send(record, Duration::from_secs(30)).await {
                Ok(_) => return Ok(Outcome::DeadLettered { retries }),
                Err((e, _)) => {
                    attempts = attempts.saturating_add(1);
                    tracing::warn!(error = %e, error_topic = %error_topic, "producing to the error topic failed; retrying");
                    tokio::time::sleep(self.config.retry.delay(attempts)).await;
                }
            }
        }
    }
}

fn count(summary: &mut RunSummary, outcome: Outcome) {
    match outcome {
        Outcome::Handled { retries } => {
            summary.handled += 1;
            summary.retries += retries;
        }
        Outcome::Duplicate { retries } => {
            summary.duplicates += 1;
            summary.retries += retries;
        }
        Outcome::DeadLettered { retries } => {
            summary.dead_lettered += 1;
            summary.retries += retries;
        }
    }
}

/// `error: cause: cause ...`
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn housekeeping_loop(dedup: Dedup) {
    let mut tick = tokio::time::interval(dedup.housekeeping_every());
    loop {
        tick.tick().await;
        match dedup.delete_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                deleted = n,
                context = dedup.context(),
                "deleted expired idempotence ids"
            ),
            Err(e) => tracing::warn!(error = %chain(&e), "idempotence housekeeping failed"),
        }
    }
}

struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(config: &ConsumerConfig) -> String {
        match config.validate() {
            Err(Error::InvalidConfig { reason }) => reason,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn invalid_configurations_are_typed_errors_naming_the_problem() {
        let ok = ConsumerConfig::new("127.0.0.1:9092", "g", ["t"]);
        assert!(ok.validate().is_ok());
        assert!(reason(&ConsumerConfig::new(" ", "g", ["t"])).contains("bootstrap"));
        assert!(reason(&ConsumerConfig::new("b:1", "", ["t"])).contains("group id"));
        assert!(reason(&ConsumerConfig::new("b:1", "g", Vec::<String>::new())).contains("topic"));
        assert!(reason(&ok.clone().error_topic("t")).contains("error topic"));
        assert!(reason(&ok.clone().max_in_flight(0)).contains("max_in_flight"));
        assert!(
            reason(&ok.clone().set("enable.auto.commit", "true")).contains("enable.auto.commit")
        );
    }

    #[test]
    fn handler_errors_say_whether_they_are_retried() {
        let transient = HandlerError::transient("db down");
        assert!(transient.is_retryable());
        assert_eq!(chain(&transient), "transient handler failure: db down");
        assert!(!HandlerError::permanent("bad data").is_retryable());
    }
}
