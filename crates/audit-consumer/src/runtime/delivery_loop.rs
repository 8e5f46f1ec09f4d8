//! [`AuditConsumer`]: the delivery loop (receive, dispatch up to `max_in_flight`, complete,
//! commit the finished prefix, pause/resume at the uncommitted bound, shut down), the consumer
//! context (rebalance commits) and the closing of the clients.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::producer::FutureProducer;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tracing::{Instrument, field};

use audit_signing::{MessageInfo, ReceivedHeaders, Rejection, Temporality, Verifier};

use super::config::ConsumerConfig;
use super::dead_letter::{DESERIALIZATION_FAILED, Failure, UNKNOWN_EXCEPTION, dead_letter};
use super::dedup::{Dedup, DedupOutcome};
use super::handler::{Attempt, Delivery, Handler, Plain, Transactional, TxHandler};
use super::offsets::{OffsetTracker, Ticket};
use super::{
    EH_ERROR_HANDLING_SERVICE_HEADER, EH_TARGET_SERVICE_HEADER, Outcome, RunSummary,
    TRACEPARENT_HEADER, TraceParent, chain, count, metrics,
};
use crate::decode::{AsyncWriterSchemaSource, decode_async_with_writer};
use crate::error::Error;

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

/// A Kafka consumer of audit commands. See the [module docs](super) for the guarantees.
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
    verifier: Option<Verifier>,
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
    /// [`Error::InvalidConfig`], [`Error::SignatureConfig`] if the verifier cannot be built from
    /// [`ConsumerConfig::signature_verification`], or [`Error::Kafka`] if a client cannot be
    /// created or subscribe fails.
    pub fn new(config: ConsumerConfig, schemas: S) -> Result<Self, Error> {
        config.validate()?;
        let verifier = match &config.verification {
            Some(verification) => {
                let mut verification = verification.clone();
                if verification.application.is_empty() {
                    config
                        .effective_service_name()
                        .clone_into(&mut verification.application);
                }
                Some(
                    Verifier::new(verification)
                        .map_err(|source| Error::SignatureConfig { source })?,
                )
            }
            None => None,
        };
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
            verifier,
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
                .set(audit_support::count_to_f64(
                    u64::try_from(n).unwrap_or(u64::MAX),
                ));
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
        if let Some(target) = eh_target_service(message)
            && target != self.config.effective_service_name()
        {
            let resent_by = last_header(message, EH_ERROR_HANDLING_SERVICE_HEADER)
                .map_or_else(|| "unknown".into(), String::from_utf8_lossy);
            tracing::info!(
                topic = message.topic(),
                partition = message.partition(),
                offset = message.offset(),
                "Filtering out message because '{EH_TARGET_SERVICE_HEADER}={target}'. Message has been resent by '{resent_by}'"
            );
            ::metrics::counter!(metrics::SKIPPED, "reason" => "eh_target_service").increment(1);
            return Ok(Outcome::SkippedOtherService);
        }
        let payload = message.payload().unwrap_or_default();
        let mut retries = 0u64;
        if let (Some(verifier), Some(key)) = (&self.verifier, message.key()) {
            // Keys are opaque bytes here (like a jEAP consumer without an Avro key
            // deserializer): a key signature, when present, must verify.
            let signatures = received_headers(message);
            if signatures.key_signature.is_some()
                && let Err(rejection) = verifier.verify_key(&signatures, key)
            {
                return self.reject(message, rejection, retries).await;
            }
        }
        let decoded = loop {
            match decode_async_with_writer(payload, &self.schemas).await {
                Ok(decoded) => break decoded,
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
                    let failure = Failure {
                        stage: "decode",
                        temporality: Temporality::Permanent,
                        code: DESERIALIZATION_FAILED,
                        error: Box::new(error),
                    };
                    return dead_letter(
                        self.producer.as_ref(),
                        self.config.error_events.as_ref(),
                        &self.config.retry,
                        message,
                        failure,
                        retries,
                    )
                    .await;
                }
            }
        };
        let record = decoded.record;
        if let Some(verifier) = &self.verifier {
            let info = MessageInfo {
                type_name: record.metadata().type_name(),
                service: record.service_name(),
            };
            if let Err(rejection) =
                verifier.verify_value(Some(info), &received_headers(message), payload)
            {
                return self.reject(message, rejection, retries).await;
            }
        }
        let traceparent = message
            .headers()
            .and_then(|headers| headers.iter().find(|h| h.key == TRACEPARENT_HEADER))
            .and_then(|h| h.value)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(TraceParent::parse);
        // DEBUG, not INFO: a span per record formatted by a logging subscriber at INFO cost
        // the audit server about 7 µs per record, a third of its CPU (README, Kafka ingestion)
        let span = tracing::debug_span!(
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
            schema_id: decoded.schema_id,
            writer_version: decoded.writer_version,
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
                        let failure = Failure {
                            stage: "handler",
                            // jEAP: a temporary error stays temporary when it is given up on
                            temporality: if error.is_retryable() {
                                Temporality::Temporary
                            } else {
                                Temporality::Permanent
                            },
                            code: UNKNOWN_EXCEPTION,
                            error: Box::new(error),
                        };
                        return dead_letter(
                            self.producer.as_ref(),
                            self.config.error_events.as_ref(),
                            &self.config.retry,
                            message,
                            failure,
                            retries,
                        )
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
}

impl<S: AsyncWriterSchemaSource + Send + Sync> AuditConsumer<S> {
    /// A record rejected by the signature check: to the error path with jEAP's temporality and
    /// error code for the case.
    async fn reject(
        &self,
        message: &OwnedMessage,
        rejection: Rejection,
        retries: u64,
    ) -> Result<Outcome, Error> {
        let temporality = rejection.temporality();
        ::metrics::counter!(metrics::SIGNATURE_REJECTIONS,
            "outcome" => rejection.name(),
            "code" => rejection.error_code(),
            "temporality" => temporality.as_str())
        .increment(1);
        let failure = Failure {
            stage: "signature",
            temporality,
            code: rejection.error_code(),
            error: Box::new(rejection),
        };
        match dead_letter(
            self.producer.as_ref(),
            self.config.error_events.as_ref(),
            &self.config.retry,
            message,
            failure,
            retries,
        )
        .await?
        {
            Outcome::DeadLettered { retries } => Ok(Outcome::SignatureRejected { retries }),
            other => Ok(other),
        }
    }
}

/// The value of the last header named `name` (jEAP reads `lastHeader`); `None` when absent or
/// without a value.
fn last_header<'m>(message: &'m OwnedMessage, name: &str) -> Option<&'m [u8]> {
    let headers = message.headers()?;
    headers
        .iter()
        .filter(|h| h.key == name)
        .last()
        .and_then(|h| h.value)
}

/// `jeap_eh_target_service` (UTF-8, lossy as Java's `new String(bytes, UTF_8)`). A header
/// without a value names no service: the record is kept (jEAP would fail on it).
fn eh_target_service(message: &OwnedMessage) -> Option<std::borrow::Cow<'_, str>> {
    last_header(message, EH_TARGET_SERVICE_HEADER).map(String::from_utf8_lossy)
}

fn received_headers(message: &OwnedMessage) -> ReceivedHeaders<'_> {
    match message.headers() {
        Some(headers) => ReceivedHeaders::from_headers(headers.iter().map(|h| (h.key, h.value))),
        None => ReceivedHeaders::default(),
    }
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
