//! The Kafka consumer runtime (feature `kafka`): subscribe, decode, map to [`AuditRecord`](crate::AuditRecord), call
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
//!   [`RetryPolicy::max_attempts`]) or a rejected signature sends the record to the configured
//!   error topic, then moves on: by default the original record (value, key, headers) with
//!   headers naming the source topic, partition, offset, the error, jEAP's temporality
//!   ([`ERROR_TEMPORALITY_HEADER`]) and an error code ([`ERROR_CODE_HEADER`]); with
//!   [`ConsumerConfig::error_events`] a jEAP `MessageProcessingFailedEvent` instead
//!   ([`ErrorEvents`]), what jEAP's Error Handling Service reads. Without an error topic the
//!   runtime stops with [`Error::PermanentFailure`](crate::Error::PermanentFailure) instead of
//!   skipping the record. A *transient* failure ([`HandlerError::transient`], an unreachable
//!   schema registry or deduplication database) is retried with capped exponential back-off; the
//!   record is never dropped.
//! - **Signature verification** (optional, [`ConsumerConfig::signature_verification`]): every
//!   record is checked like a jEAP subscriber checks it ([`audit_signing::Verifier`]): a key
//!   signature (`jeap-sign-key`) when present, before decoding; the value signature
//!   (`jeap-sign`, `jeap-cert`) right after decoding (the check needs the message type and the
//!   declared publisher) and before the handler. A rejected record goes to the error topic with
//!   the temporality and error code of jEAP's table ([`Rejection`]), a temporary one included
//!   (jEAP's Error Handling Service retries those); it is never handled.
//! - **Resubmitted records**: a record carrying [`EH_TARGET_SERVICE_HEADER`] that names another
//!   service than [`ConsumerConfig::service_name`] is skipped, its offset committed, counted in
//!   [`RunSummary::skipped_other_service`] (jEAP `ErrorHandlingTargetFilter`). The filter runs
//!   first, so such a record is neither verified nor decoded.
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
//!   `traceparent` of the record (`trace_id`, `parent_span_id`) and its topic/partition/offset,
//!   at level `DEBUG` (enable it with e.g. `RUST_LOG=info,audit_consumer=debug`; at `INFO` a
//!   span per record costs a logging subscriber several µs per record).
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

mod config;
mod dead_letter;
mod dedup;
mod delivery_loop;
mod error_events;
mod handler;
mod offsets;
mod trace;

/// Metric names (recorded through the `metrics` facade; install any recorder/exporter you like).
///
/// | name | kind | labels | meaning |
/// |---|---|---|---|
/// | `audit_consumer_uncommitted_records` | gauge | `topic`, `partition` | records consumed from the partition's oldest unfinished record on (not committable yet), refreshed at every commit tick |
/// | `audit_consumer_paused_partitions_total` | counter | | partitions paused because their uncommitted window reached [`ConsumerConfig::max_uncommitted_per_partition`] |
/// | `audit_consumer_signature_rejections_total` | counter | `outcome`, `code`, `temporality` | records (value or key) whose signature check failed, sent to the error path |
/// | `audit_consumer_skipped_records_total` | counter | `reason` (`eh_target_service`) | records skipped without handling: resubmitted by jEAP's Error Handling Service for another service |
///
/// With [`ConsumerConfig::signature_verification`] the verifier also records jEAP's metrics
/// ([`audit_signing::metrics`]): `jeap_messaging_signature_validation_outcome` per value check
/// (`messageType`, `status` OK/NOK, `outcome`) and `jeap_messaging_signature_required_state`.
pub mod metrics {
    /// Gauge with labels `topic`, `partition`: the uncommitted window of a partition.
    pub const UNCOMMITTED: &str = "audit_consumer_uncommitted_records";
    /// Counter: partitions paused at the uncommitted bound.
    pub const PAUSED: &str = "audit_consumer_paused_partitions_total";
    /// Counter with labels `outcome` ([`audit_signing::Rejection::name`]), `code` and
    /// `temporality`: records rejected by the signature check.
    pub const SIGNATURE_REJECTIONS: &str = "audit_consumer_signature_rejections_total";
    /// Counter with label `reason`: records skipped without handling (offset committed).
    pub const SKIPPED: &str = "audit_consumer_skipped_records_total";
}

/// jEAP's Error Handling Service sets this header on a record it resubmits to the original
/// topic: the service the retry is meant for. A consumer whose
/// [service name](ConsumerConfig::service_name) differs skips the record (jEAP
/// `ErrorHandlingTargetFilter`; the last header of the name counts, its value is UTF-8).
pub const EH_TARGET_SERVICE_HEADER: &str = "jeap_eh_target_service";
/// Set by jEAP's Error Handling Service next to [`EH_TARGET_SERVICE_HEADER`]: its own name
/// (logged when a record is skipped).
pub const EH_ERROR_HANDLING_SERVICE_HEADER: &str = "jeap_eh_error_handling_service";

pub use audit_error_event::ErrorEventConfig;
pub use audit_signing::{Rejection, Temporality, VerifierConfig};
pub use audit_support::{REDACTED, TRACEPARENT_HEADER, is_secret};
pub use config::{ConsumerConfig, DEFAULT_MAX_UNCOMMITTED_PER_PARTITION, RetryPolicy};
pub use dead_letter::{
    DESERIALIZATION_FAILED, ERROR_CODE_HEADER, ERROR_MESSAGE_HEADER, ERROR_OFFSET_HEADER,
    ERROR_PARTITION_HEADER, ERROR_STAGE_HEADER, ERROR_TEMPORALITY_HEADER, ERROR_TOPIC_HEADER,
    UNKNOWN_EXCEPTION,
};
pub use dedup::{Dedup, DedupTx, Migration, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
pub use delivery_loop::AuditConsumer;
pub use error_events::ErrorEvents;
pub use handler::{Delivery, Handler, HandlerError, TxHandler};
pub use trace::TraceParent;

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
    /// Records sent to the error topic (including those rejected by the signature check).
    pub dead_lettered: u64,
    /// Records sent to the error topic because their signature check failed (part of
    /// `dead_lettered`).
    pub signature_rejected: u64,
    /// Records skipped without handling because jEAP's Error Handling Service resubmitted them
    /// for another service ([`EH_TARGET_SERVICE_HEADER`]); their offsets are committed.
    pub skipped_other_service: u64,
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
    SignatureRejected { retries: u64 },
    SkippedOtherService,
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
        Outcome::SignatureRejected { retries } => {
            summary.dead_lettered += 1;
            summary.signature_rejected += 1;
            summary.retries += retries;
        }
        Outcome::SkippedOtherService => summary.skipped_other_service += 1,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_errors_say_whether_they_are_retried() {
        let transient = HandlerError::transient("db down");
        assert!(transient.is_retryable());
        assert_eq!(chain(&transient), "transient handler failure: db down");
        assert!(!HandlerError::permanent("bad data").is_retryable());
    }
}
