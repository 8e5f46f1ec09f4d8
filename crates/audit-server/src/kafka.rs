//! Kafka ingestion (cargo feature `kafka`, on by default): the `audit_consumer::runtime`
//! consumer feeding the same batching writer as HTTP ingestion.
//!
//! * **Commit discipline.** The handler queues each delivered record (with its source: topic,
//!   partition, offset) on the ingestion queue and completes only when the
//!   writer answered that the record's batch is durably stored (stored now or a duplicate).
//!   The runtime commits an offset only past completed records, so a crash (SIGKILL included)
//!   redelivers at most what was not stored yet, never loses a record.
//! * **Batching.** Up to [`KafkaConfig::max_in_flight`](crate::KafkaConfig::max_in_flight) deliveries are in handling at once; the
//!   writer takes every queued record (up to `ingest.writer_batch`) into one multi-row insert.
//! * **Schema version.** Each record is stored with the published version of the writer schema
//!   the consumer resolved for its schema id (a pinned id's version, or the known version of
//!   the registry's schema), not the `type.version` the producer declared; the declared one
//!   only when the writer schema is no published version.
//! * **Deduplication** is the store's (idempotence id, `ON CONFLICT DO NOTHING`): a redelivered
//!   record is a *duplicate*, counted ([`KafkaStatus::duplicates`],
//!   `audit_server_kafka_duplicates_total`), not an error.
//! * **Store down.** A failed batch (or a full queue) is a transient handler error: the runtime
//!   retries the record with back-off (50 ms doubling to 5 s) and never commits past it.
//! * **Readiness.** `/readyz` also needs the consumer to be running and assigned at least one
//!   partition. `/v1/audit/status` shows [`KafkaStatus`] (ingested, duplicates, store
//!   failures, committed offsets, high watermarks and lag per partition).
//! * **Shutdown.** [`AuditServer::serve_with_shutdown`](crate::AuditServer::serve_with_shutdown)
//!   stops the consumer after the HTTP server: the records in flight are stored, then their
//!   offsets are committed synchronously.
//!
//! Metrics: `audit_server_kafka_ingested_total`, `audit_server_kafka_duplicates_total`,
//! `audit_server_kafka_store_failures_total` (counters), `audit_server_kafka_lag{topic,
//! partition}`, `audit_server_kafka_lag_total`, `audit_server_kafka_assigned_partitions`
//! (gauges).
//!
//! ```no_run
//! # async fn run() -> Result<(), audit_server::Error> {
//! use audit_server::{AuditServer, Config, KafkaConfig};
//! let mut config = Config::default();
//! config.store_url = "sqlite://audit.db".to_owned();
//! config.auth.hs256_secret = Some("a-long-shared-secret".to_owned());
//! config.kafka = Some(KafkaConfig::new("127.0.0.1:9092", ["audit-records"]).pin_schema(7, "1.0.2"));
//! let server = AuditServer::new(config).await?; // the consumer is running from here on
//! let kafka = server.kafka().expect("configured");
//! let store = server.store().clone();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! tokio::spawn(server.serve_with_shutdown(listener, async { /* until ... */ }));
//! while store.stats().await?.records < 1000 {
//!     tokio::time::sleep(std::time::Duration::from_millis(100)).await;
//! }
//! println!("{} duplicates", kafka.status().duplicates);
//! # Ok(()) }
//! ```

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;

#[cfg(feature = "kafka")]
pub(crate) use running::KafkaIngest;

/// What the Kafka ingestion did so far (a snapshot, see [`KafkaMonitor::status`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaStatus {
    /// The consumer runs (false once it stopped, e.g. on a permanent failure without an
    /// error topic).
    pub running: bool,
    /// Partitions assigned to the consumer right now.
    pub assigned_partitions: usize,
    /// Records stored from Kafka by this process.
    pub ingested: u64,
    /// Records from Kafka whose idempotence id was stored already (redeliveries).
    pub duplicates: u64,
    /// Store batches with Kafka records that failed (their records were retried).
    pub store_failures: u64,
    /// When this process last stored a Kafka record (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ingested: Option<String>,
    /// The group's lag summed over the partitions (records after the committed offsets), at
    /// the last measurement; absent before the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag: Option<i64>,
    /// Per partition: committed offset, high watermark, lag.
    pub partitions: Vec<PartitionLag>,
    /// Why the consumer stopped, or the last lag-measurement failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The position of the consumer group on one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartitionLag {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The group's committed offset (the next record to read), absent before the first commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committed: Option<i64>,
    /// The partition's high watermark (the offset of the next record produced).
    pub high_watermark: i64,
    /// `high_watermark - committed` (from the low watermark before the first commit).
    pub lag: i64,
}

/// Counters shared by the handler, the lag monitor and the status endpoint.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) running: AtomicBool,
    pub(crate) ingested: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) store_failures: AtomicU64,
    pub(crate) last_ingested: Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    pub(crate) lag: Mutex<(Option<Vec<PartitionLag>>, Option<String>)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A handle on the running Kafka ingestion of an [`AuditServer`](crate::AuditServer)
/// ([`AuditServer::kafka`](crate::AuditServer::kafka)); cheap to clone, usable after the server
/// moved into `serve`.
#[derive(Clone)]
pub struct KafkaMonitor {
    pub(crate) shared: std::sync::Arc<Shared>,
    pub(crate) assignment: std::sync::Arc<dyn Fn() -> Result<usize, String> + Send + Sync>,
}

impl std::fmt::Debug for KafkaMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaMonitor")
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl KafkaMonitor {
    /// The current status.
    #[must_use]
    pub fn status(&self) -> KafkaStatus {
        let s = &self.shared;
        let running = s.running.load(Ordering::Acquire);
        let (assigned, assignment_error) = match (self.assignment)() {
            Ok(n) => (n, None),
            Err(e) => (0, Some(e)),
        };
        let (partitions, error) = lock(&s.lag).clone();
        KafkaStatus {
            running,
            assigned_partitions: assigned,
            ingested: s.ingested.load(Ordering::Relaxed),
            duplicates: s.duplicates.load(Ordering::Relaxed),
            store_failures: s.store_failures.load(Ordering::Relaxed),
            last_ingested: lock(&s.last_ingested)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            lag: partitions
                .as_ref()
                .map(|p| p.iter().map(|p| p.lag.max(0)).sum()),
            partitions: partitions.unwrap_or_default(),
            error: error.or(assignment_error),
        }
    }

    /// Ready: the consumer runs and has at least one partition assigned.
    ///
    /// # Errors
    /// Why not (the `/readyz` reason).
    pub fn ready(&self) -> Result<(), &'static str> {
        if !self.shared.running.load(Ordering::Acquire) {
            return Err("kafka consumer stopped");
        }
        match (self.assignment)() {
            Ok(n) if n > 0 => Ok(()),
            _ => Err("kafka consumer has no partition assigned"),
        }
    }
}

#[cfg(feature = "kafka")]
mod running {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use audit_consumer::runtime::{
        AuditConsumer, ConsumerConfig, Delivery, HandlerError, RetryPolicy, RunSummary,
    };
    use audit_consumer::{AsyncWriterSchemaSource, LocalVersions};
    use audit_registry::{RegistryClient, RegistryConfig};
    use audit_schema::SchemaVersion;
    use audit_store::{IncomingRecord, Source, WriteOutcome};
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{ClientConfig, Offset, TopicPartitionList};
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    use super::{KafkaMonitor, PartitionLag, Shared, lock};
    use crate::config::KafkaConfig;
    use crate::error::Error;
    use crate::ingest::Ingestor;

    /// The running consumer, its lag monitor and how to stop them.
    pub(crate) struct KafkaIngest {
        pub(crate) monitor: KafkaMonitor,
        stop: Option<oneshot::Sender<()>>,
        task: JoinHandle<Result<RunSummary, audit_consumer::Error>>,
        lag_task: JoinHandle<()>,
    }

    impl std::fmt::Debug for KafkaIngest {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("KafkaIngest")
                .field("monitor", &self.monitor)
                .finish_non_exhaustive()
        }
    }

    fn setup(operation: &'static str) -> impl FnOnce(audit_consumer::Error) -> Error {
        move |e| Error::Kafka {
            operation,
            source: Box::new(e),
        }
    }

    impl KafkaIngest {
        /// Creates the consumer (subscribed) and starts it and the lag monitor.
        pub(crate) fn start(
            config: &KafkaConfig,
            service_name: &str,
            ingestor: Ingestor,
        ) -> Result<Self, Error> {
            let pins: Vec<(u32, SchemaVersion)> = config
                .pinned_schemas
                .iter()
                .map(|p| {
                    (
                        p.id,
                        SchemaVersion::parse(&p.version).unwrap_or(SchemaVersion::LATEST),
                    )
                })
                .collect();
            match &config.registry_url {
                Some(url) => {
                    let mut registry = RegistryConfig::new(url.clone()).auto_register(false);
                    for (id, version) in pins {
                        registry = registry.pin_schema_id(version, id);
                    }
                    let client = RegistryClient::new(registry).map_err(|e| Error::Kafka {
                        operation: "create the schema-registry client",
                        source: Box::new(e),
                    })?;
                    Self::start_with(config, service_name, ingestor, client)
                }
                None => {
                    let mut local = LocalVersions::new();
                    for (id, version) in pins {
                        local = local.with_id(id, version);
                    }
                    Self::start_with(config, service_name, ingestor, local)
                }
            }
        }

        fn start_with<S>(
            config: &KafkaConfig,
            service_name: &str,
            ingestor: Ingestor,
            schemas: S,
        ) -> Result<Self, Error>
        where
            S: AsyncWriterSchemaSource + Send + Sync + 'static,
        {
            let backoff =
                audit_support::Backoff::new(Duration::from_millis(50), Duration::from_secs(5))
                    .map_err(|e| Error::Kafka {
                        operation: "configure the retry back-off",
                        source: Box::new(e),
                    })?;
            let mut consumer_config = ConsumerConfig::new(
                config.bootstrap_servers.clone(),
                config.group_id.clone(),
                config.topics.clone(),
            )
            .service_name(service_name)
            .max_in_flight(config.max_in_flight)
            .max_uncommitted_per_partition(config.max_uncommitted_per_partition)
            .commit_interval(Duration::from_millis(config.commit_interval_ms))
            .shutdown_timeout(Duration::from_secs(config.shutdown_timeout_secs))
            .retry(RetryPolicy::new(backoff));
            if let Some(topic) = &config.error_topic {
                consumer_config = consumer_config.error_topic(topic.clone());
            }
            if !config.properties.contains_key("auto.offset.reset") {
                // a new group reads the topic from its start: no audit record is skipped
                consumer_config = consumer_config.set("auto.offset.reset", "earliest");
            }
            for (key, value) in &config.properties {
                consumer_config = consumer_config.set(key.clone(), value.clone());
            }
            let consumer = Arc::new(
                AuditConsumer::new(consumer_config, schemas)
                    .map_err(setup("create the Kafka consumer"))?,
            );
            let shared = Arc::new(Shared::default());
            shared.running.store(true, Ordering::Release);
            let assignment = {
                // weak: the consumer task holds the only strong reference, so that it can close
                // the clients and wait for it when the run ends (see `close`)
                let consumer = Arc::downgrade(&consumer);
                Arc::new(move || {
                    consumer
                        .upgrade()
                        .ok_or_else(|| "the Kafka consumer stopped".to_owned())?
                        .assignment()
                        .map(|a| a.len())
                        .map_err(|e| e.to_string())
                })
            };
            let monitor = KafkaMonitor {
                shared: Arc::clone(&shared),
                assignment,
            };
            let (stop, stopped) = oneshot::channel::<()>();
            let handler = {
                let shared = Arc::clone(&shared);
                move |delivery: Arc<Delivery>| {
                    let ingestor = ingestor.clone();
                    let shared = Arc::clone(&shared);
                    async move { handle(&ingestor, &shared, &delivery).await }
                }
            };
            let task = {
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    // a dropped sender (the server dropped without serve) stops it too
                    let result = consumer
                        .run(handler, async {
                            let _ = stopped.await;
                        })
                        .await;
                    shared.running.store(false, Ordering::Release);
                    close(consumer).await;
                    match &result {
                        Ok(summary) => tracing::info!(
                            received = summary.received,
                            handled = summary.handled,
                            retries = summary.retries,
                            abandoned = summary.abandoned,
                            "kafka consumer stopped"
                        ),
                        Err(e) => {
                            tracing::error!(error = %e, "kafka consumer failed");
                            lock(&shared.lag).1 = Some(format!("consumer stopped: {e}"));
                        }
                    }
                    result
                })
            };
            let lag_task = tokio::spawn(lag_loop(config.clone(), Arc::clone(&shared)));
            Ok(Self {
                monitor,
                stop: Some(stop),
                task,
                lag_task,
            })
        }

        /// Stops fetching, lets the records in flight be stored, commits synchronously.
        pub(crate) async fn shutdown(mut self) {
            if let Some(stop) = self.stop.take() {
                let _ = stop.send(());
            }
            self.lag_task.abort();
            // wait until the lag client is dropped, so no client outlives the shutdown
            let _ = (&mut self.lag_task).await;
            match (&mut self.task).await {
                Ok(Ok(summary)) => tracing::info!(
                    handled = summary.handled,
                    "kafka ingestion shut down, stored offsets committed"
                ),
                Ok(Err(e)) => tracing::warn!(error = %e, "kafka ingestion ended with an error"),
                Err(e) => tracing::warn!(error = %e, "kafka ingestion task failed"),
            }
        }
    }

    /// Leaves the group and stops the clients, and waits until they are gone (no client
    /// outlives the server's shutdown). A status request may hold the consumer for a moment
    /// (the monitor's weak reference upgraded): wait for it, up to a second, then let the drop
    /// close the clients on a thread of their own.
    async fn close<S: audit_consumer::AsyncWriterSchemaSource + Send + Sync>(
        mut consumer: Arc<AuditConsumer<S>>,
    ) {
        for _ in 0..100 {
            match Arc::try_unwrap(consumer) {
                Ok(consumer) => return consumer.close().await,
                Err(shared) => consumer = shared,
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tracing::warn!("the Kafka consumer is still in use; its clients close in the background");
    }

    /// Queues the record and waits until its batch is stored.
    async fn handle(
        ingestor: &Ingestor,
        shared: &Shared,
        delivery: &Delivery,
    ) -> Result<(), HandlerError> {
        let mut record = IncomingRecord::new(
            delivery.record().clone(),
            Source::Kafka {
                topic: delivery.topic().to_owned(),
                partition: delivery.partition(),
                offset: delivery.offset(),
            },
        );
        // the stored schema version is the writer schema the consumer resolved (what the bytes
        // were written with), the producer-declared `type.version` only when it is unknown
        if let Some(version) = delivery.writer_version() {
            record = record.schema_version(version.as_str());
        }
        let answer = ingestor
            .submit(vec![record])
            .map_err(|_| HandlerError::transient(Error::KafkaQueueFull))?;
        let outcomes = match answer.await {
            Err(_) => return Err(HandlerError::transient(Error::KafkaWriterStopped)),
            Ok(Err(e)) => {
                shared.store_failures.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("audit_server_kafka_store_failures_total").increment(1);
                return Err(HandlerError::transient(Error::KafkaStoreFailed(e)));
            }
            Ok(Ok(outcomes)) => outcomes,
        };
        match outcomes.first() {
            Some(WriteOutcome::Stored { .. }) => {
                shared.ingested.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("audit_server_kafka_ingested_total").increment(1);
                *lock(&shared.last_ingested) = Some(chrono::Utc::now());
            }
            Some(WriteOutcome::Duplicate) | None => {
                shared.duplicates.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("audit_server_kafka_duplicates_total").increment(1);
            }
        }
        Ok(())
    }

    /// Measures the group's committed offsets and the high watermarks every `lag_interval_ms`
    /// with a client of its own (same group id, never subscribed, so never a group member).
    #[allow(clippy::cast_precision_loss)] // gauges: a lag beyond 2^52 records is not a concern
    async fn lag_loop(config: KafkaConfig, shared: Arc<Shared>) {
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", &config.bootstrap_servers)
            .set("group.id", &config.group_id)
            .set("enable.auto.commit", "false");
        for (key, value) in &config.properties {
            client.set(key, value);
        }
        let consumer: BaseConsumer = match client.create() {
            Ok(c) => c,
            Err(e) => {
                lock(&shared.lag).1 = Some(format!("lag monitor: cannot create a client: {e}"));
                return;
            }
        };
        let consumer = Arc::new(consumer);
        let mut tick = tokio::time::interval(Duration::from_millis(config.lag_interval_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let c = Arc::clone(&consumer);
            let topics = config.topics.clone();
            let measured = tokio::task::spawn_blocking(move || measure(&c, &topics)).await;
            let mut lag = lock(&shared.lag);
            match measured {
                Ok(Ok(partitions)) => {
                    let mut total = 0;
                    for p in &partitions {
                        metrics::gauge!("audit_server_kafka_lag", "topic" => p.topic.clone(), "partition" => p.partition.to_string())
                            .set(p.lag as f64);
                        total += p.lag.max(0);
                    }
                    metrics::gauge!("audit_server_kafka_lag_total").set(total as f64);
                    *lag = (Some(partitions), None);
                }
                Ok(Err(e)) => lag.1 = Some(format!("lag measurement failed: {e}")),
                Err(e) => lag.1 = Some(format!("lag measurement failed: {e}")),
            }
        }
    }

    fn measure(
        consumer: &BaseConsumer,
        topics: &[String],
    ) -> Result<Vec<PartitionLag>, rdkafka::error::KafkaError> {
        let timeout = Duration::from_secs(5);
        let mut tpl = TopicPartitionList::new();
        for topic in topics {
            let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
            for t in metadata.topics() {
                for p in t.partitions() {
                    tpl.add_partition(t.name(), p.id());
                }
            }
        }
        let committed = consumer.committed_offsets(tpl, timeout)?;
        let mut out = Vec::with_capacity(committed.count());
        for e in committed.elements() {
            let (low, high) = consumer.fetch_watermarks(e.topic(), e.partition(), timeout)?;
            let committed = match e.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            };
            out.push(PartitionLag {
                topic: e.topic().to_owned(),
                partition: e.partition(),
                committed,
                high_watermark: high,
                lag: high - committed.unwrap_or(low),
            });
        }
        Ok(out)
    }
}
