//! HTTP ingestion: the per-record validation and the bounded queue in front of one writer task
//! that batches into the store.

use std::sync::Arc;

use audit_builder::Field;
use audit_consumer::{AuditRecord, Trigger};
use audit_store::{AuditStore, IncomingRecord, WriteOutcome};
use serde::{Deserialize as _, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

/// A record the validation refused: where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Rejection {
    /// The field path in the command JSON (Avro field names), empty for the whole item.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// The two JSON forms a batch item may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// A `CreateAuditRecordCommand` in the JSON of `audit_schema::json` (Avro field names).
    Command,
    /// An `AuditRecord` as serde writes it (camelCase; what `audit decode` prints).
    Record,
}

/// Decodes and validates one batch item: a `CreateAuditRecordCommand` in the JSON of
/// `audit_schema::json`, or an `AuditRecord` in the JSON the workspace prints (recognised by
/// its `metadata` object).
///
/// # Errors
/// The [`Rejection`] naming the field (in the item's own form).
pub fn parse_item(item: &serde_json::Value) -> Result<AuditRecord, Rejection> {
    let Some(object) = item.as_object() else {
        return Err(Rejection {
            path: String::new(),
            reason:
                "a batch item must be a JSON object (a CreateAuditRecordCommand or an AuditRecord)"
                    .into(),
        });
    };
    let form = if object.contains_key("metadata") && !object.contains_key("identity") {
        Form::Record
    } else {
        Form::Command
    };
    let record = match form {
        Form::Command => {
            let command = audit_schema::json::from_json_value(item).map_err(|e| Rejection {
                path: String::new(),
                reason: format!("not a CreateAuditRecordCommand: {e}"),
            })?;
            AuditRecord::from(command)
        }
        Form::Record => {
            let record = AuditRecord::deserialize(item).map_err(|e| Rejection {
                path: String::new(),
                reason: format!("not an AuditRecord: {e}"),
            })?;
            millis_only(record.timestamp(), "timestamp")?;
            millis_only(record.metadata().created(), "metadata.created")?;
            record
        }
    };
    validate(&record, form)?;
    Ok(record)
}

/// Avro carries milliseconds: a finer time would not survive the trail's own round trip.
fn millis_only(time: chrono::DateTime<chrono::Utc>, path: &str) -> Result<(), Rejection> {
    if time.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        Ok(())
    } else {
        Err(Rejection {
            path: path.into(),
            reason: "a time must have millisecond precision (timestamp-millis)".into(),
        })
    }
}

/// Where a field sits in an item of the given form.
fn path(field: Option<Field>, form: Form) -> String {
    let Some(field) = field else {
        // the message id, which the builder sets itself and so has no `Field`
        return match form {
            Form::Command => "identity.id".into(),
            Form::Record => "metadata.messageId".into(),
        };
    };
    if form == Form::Command {
        return field.path();
    }
    match field {
        Field::IdempotenceId | Field::ConsumedIdempotenceId => "metadata.idempotenceId".into(),
        Field::ServiceName => "serviceName".into(),
        Field::SystemName => "systemName".into(),
        Field::UserId => "trigger.user.id".into(),
        Field::IdentityProvider => "trigger.user.identityProvider".into(),
        Field::Department => "trigger.systemComponent.department".into(),
        Field::ComponentSystem => "trigger.systemComponent.system".into(),
        Field::Component => "trigger.systemComponent.component".into(),
        Field::UseCase => "event.context.useCase".into(),
        Field::EventDataKey { index } => format!("event.eventData[{index}].key"),
        Field::ObjectType => "auditedObject.objectType".into(),
        Field::ObjectId => "auditedObject.id".into(),
        Field::ObjectDataName { index } => format!("auditedObject.objectData[{index}].name"),
        other => other.path(),
    }
}

/// The builder's rules for what must not be blank, checked on a received record.
fn validate(record: &AuditRecord, form: Form) -> Result<(), Rejection> {
    let need = |value: &str, field: Option<Field>, what: &str| {
        if value.trim().is_empty() {
            Err(Rejection {
                path: path(field, form),
                reason: format!("{what} must not be blank"),
            })
        } else {
            Ok(())
        }
    };
    let meta = record.metadata();
    need(meta.message_id(), None, "message id")?;
    need(
        meta.idempotence_id(),
        Some(Field::IdempotenceId),
        "idempotence id",
    )?;
    need(
        record.service_name(),
        Some(Field::ServiceName),
        "service name",
    )?;
    need(record.system_name(), Some(Field::SystemName), "system name")?;
    match record.trigger() {
        Trigger::User(u) => {
            need(u.id(), Some(Field::UserId), "user id")?;
            need(
                u.identity_provider(),
                Some(Field::IdentityProvider),
                "identity provider",
            )?;
        }
        Trigger::SystemComponent(c) => {
            need(c.department(), Some(Field::Department), "department")?;
            need(c.system(), Some(Field::ComponentSystem), "system")?;
            need(c.component(), Some(Field::Component), "component")?;
        }
    }
    if let Some(context) = record.event().context() {
        need(context.use_case(), Some(Field::UseCase), "use case")?;
    }
    for (index, data) in record.event().event_data().iter().enumerate() {
        need(
            data.key(),
            Some(Field::EventDataKey { index }),
            "event-data key",
        )?;
    }
    if let Some(object) = record.audited_object() {
        need(object.object_type(), Some(Field::ObjectType), "object type")?;
        need(object.id(), Some(Field::ObjectId), "object id")?;
        for (index, data) in object.object_data().iter().enumerate() {
            need(
                data.name(),
                Some(Field::ObjectDataName { index }),
                "object-data name",
            )?;
        }
    }
    Ok(())
}

/// The store's answer for a submitted batch.
pub type WriteResult = Result<Vec<WriteOutcome>, Arc<audit_store::Error>>;

struct Job {
    records: Vec<IncomingRecord>,
    _permit: OwnedSemaphorePermit,
    reply: oneshot::Sender<WriteResult>,
}

/// The queue is full: retry later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

/// The bounded queue (in records) in front of the writer task.
#[derive(Debug, Clone)]
pub struct Ingestor {
    tx: mpsc::UnboundedSender<Job>,
    permits: Arc<Semaphore>,
    capacity: usize,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl Ingestor {
    /// Starts `writers` writer tasks (each writes one store batch at a time). They end when
    /// every [`Ingestor`] clone is dropped and the queue is drained; the returned task ends
    /// with the last of them.
    pub fn start(
        store: AuditStore,
        capacity: usize,
        writer_batch: usize,
        writers: usize,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let tasks: Vec<_> = (0..writers.max(1))
            .map(|_| tokio::spawn(writer(store.clone(), Arc::clone(&rx), writer_batch)))
            .collect();
        let task = tokio::spawn(async move {
            for t in tasks {
                let _ = t.await;
            }
        });
        (
            Self {
                tx,
                permits: Arc::new(Semaphore::new(capacity)),
                capacity,
            },
            task,
        )
    }

    /// Queues `records` (all or nothing) and returns where the store's answer arrives. The
    /// records hold their queue places until they are written.
    ///
    /// # Errors
    /// [`QueueFull`] when the records do not fit right now.
    pub fn submit(
        &self,
        records: Vec<IncomingRecord>,
    ) -> Result<oneshot::Receiver<WriteResult>, QueueFull> {
        let n = u32::try_from(records.len()).map_err(|_| QueueFull)?;
        let permit = Arc::clone(&self.permits)
            .try_acquire_many_owned(n)
            .map_err(|_| QueueFull)?;
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                records,
                _permit: permit,
                reply,
            })
            .map_err(|_| QueueFull)?;
        Ok(rx)
    }

    /// Records queued or being written.
    #[must_use]
    pub fn in_use(&self) -> usize {
        self.capacity
            .saturating_sub(self.permits.available_permits())
    }

    /// The queue's capacity in records.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

async fn writer(
    store: AuditStore,
    rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>>,
    writer_batch: usize,
) {
    loop {
        // take one store batch's worth of jobs, then let the next writer take its own
        let jobs = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { break };
            let mut total = first.records.len();
            let mut jobs = vec![first];
            while total < writer_batch {
                match rx.try_recv() {
                    Ok(job) => {
                        total += job.records.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            jobs
        };
        let total = jobs.iter().map(|j| j.records.len()).sum();
        let mut batch = Vec::with_capacity(total);
        let mut sizes = Vec::with_capacity(jobs.len());
        let mut replies = Vec::with_capacity(jobs.len());
        let mut permits = Vec::with_capacity(jobs.len());
        for job in jobs {
            sizes.push(job.records.len());
            batch.extend(job.records);
            replies.push(job.reply);
            permits.push(job._permit);
        }
        let started = std::time::Instant::now();
        let result = store.write_batch(&batch).await;
        metrics::histogram!("audit_server_store_write_seconds").record(started.elapsed());
        match result {
            Ok(outcomes) => {
                let stored = outcomes
                    .iter()
                    .filter(|o| matches!(o, WriteOutcome::Stored { .. }))
                    .count();
                metrics::counter!("audit_server_ingested_total").increment(stored as u64);
                metrics::counter!("audit_server_duplicates_total")
                    .increment((outcomes.len() - stored) as u64);
                let mut outcomes = outcomes.into_iter();
                for (size, reply) in sizes.into_iter().zip(replies) {
                    let part: Vec<WriteOutcome> = outcomes.by_ref().take(size).collect();
                    let _ = reply.send(Ok(part));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, records = batch.len(), "storing an ingested batch failed");
                metrics::counter!("audit_server_store_errors_total").increment(1);
                let e = Arc::new(e);
                for reply in replies {
                    let _ = reply.send(Err(Arc::clone(&e)));
                }
            }
        }
        // the queue places are free only once the records are written
        drop(permits);
    }
}
