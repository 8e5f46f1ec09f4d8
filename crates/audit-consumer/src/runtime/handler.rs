//! The user's handlers ([`Handler`], [`TxHandler`]), what they see ([`Delivery`]) and how they
//! fail ([`HandlerError`]).

use std::future::Future;
use std::sync::Arc;

use super::TraceParent;
use super::dedup::{Dedup, DedupOutcome, DedupTx};
use crate::error::{BoxError, Error};
use crate::record::AuditRecord;
use audit_schema::SchemaVersion;

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

/// One consumed record as the handler sees it: the decoded [`AuditRecord`], where it came from
/// and the writer schema it was decoded with.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub(super) record: AuditRecord,
    pub(super) schema_id: u32,
    pub(super) writer_version: Option<SchemaVersion>,
    pub(super) topic: String,
    pub(super) partition: i32,
    pub(super) offset: i64,
    pub(super) timestamp_millis: Option<i64>,
    pub(super) traceparent: Option<TraceParent>,
}

impl Delivery {
    /// The decoded record.
    #[must_use]
    pub fn record(&self) -> &AuditRecord {
        &self.record
    }

    /// The Confluent schema id in the record value's header (the registry id of the writer
    /// schema the producer framed it with).
    #[must_use]
    pub fn schema_id(&self) -> u32 {
        self.schema_id
    }

    /// The published schema version the record was written with, as the consumer resolved
    /// [`schema_id`](Self::schema_id): the version the writer-schema source answered
    /// ([`Writer::Version`](crate::Writer::Version), e.g. a pinned id), or the known version
    /// with the same Parsing Canonical Form as a fetched schema
    /// ([`WriterSchema::known_version`](crate::WriterSchema::known_version); of versions that
    /// differ only in what the canonical form strips, the newest). `None` for a writer schema
    /// that is no published version (decoded by generic schema resolution).
    ///
    /// This is what the bytes were written with; the producer's own claim is the record's
    /// `type.version` ([`MessageMetadata::type_version`](crate::MessageMetadata::type_version)),
    /// which may differ.
    #[must_use]
    pub fn writer_version(&self) -> Option<SchemaVersion> {
        self.writer_version
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

/// A handler that works inside the deduplication transaction ([`AuditConsumer::run_in_transaction`](super::AuditConsumer::run_in_transaction)).
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
pub(super) trait Attempt: Send + Sync {
    fn attempt(
        &self,
        dedup: Option<&Dedup>,
        delivery: &Arc<Delivery>,
    ) -> impl Future<Output = Result<DedupOutcome<HandlerError>, Error>> + Send;
}

pub(super) struct Plain<H>(pub(super) H);

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

pub(super) struct Transactional<T>(pub(super) T);

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
