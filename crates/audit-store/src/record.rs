//! What goes in ([`IncomingRecord`]), what comes out ([`StoredRecord`]), and the columns between.

use audit_consumer::{AuditEventType, AuditRecord, Trigger};
use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// A Kafka record.
    Kafka {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The record's offset.
        offset: i64,
    },
    /// An HTTP ingestion request.
    Http {
        /// The client (e.g. the token's subject or the peer address), as the server names it.
        client: String,
    },
}

/// Who triggered a record, as a filter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerKind {
    /// A user ([`Trigger::User`]).
    User,
    /// A system component ([`Trigger::SystemComponent`]).
    SystemComponent,
}

impl TriggerKind {
    /// The stored symbol: `USER` or `SYSTEM_COMPONENT`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::SystemComponent => "SYSTEM_COMPONENT",
        }
    }

    /// Parses the stored symbol.
    #[must_use]
    pub fn from_symbol(symbol: &str) -> Option<Self> {
        match symbol {
            "USER" => Some(Self::User),
            "SYSTEM_COMPONENT" => Some(Self::SystemComponent),
            _ => None,
        }
    }
}

/// A record to store: the decoded [`AuditRecord`], where it came from and when it arrived.
#[derive(Debug, Clone)]
pub struct IncomingRecord {
    record: AuditRecord,
    source: Source,
    received: DateTime<Utc>,
    schema_version: Option<String>,
}

impl IncomingRecord {
    /// A record received now from `source`.
    #[must_use]
    pub fn new(record: AuditRecord, source: Source) -> Self {
        Self {
            record,
            source,
            received: Utc::now(),
            schema_version: None,
        }
    }

    /// Sets when the record was received (default: when [`new`](Self::new) was called).
    #[must_use]
    pub fn received_at(mut self, received: DateTime<Utc>) -> Self {
        self.received = received;
        self
    }

    /// Sets the schema version stored with the record, e.g. the writer schema the consumer
    /// resolved (default: the version the producer declared, `type.version`).
    #[must_use]
    pub fn schema_version(mut self, version: impl Into<String>) -> Self {
        self.schema_version = Some(version.into());
        self
    }

    /// The record.
    #[must_use]
    pub fn record(&self) -> &AuditRecord {
        &self.record
    }

    /// Where it came from.
    #[must_use]
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// When it was received.
    #[must_use]
    pub fn received(&self) -> DateTime<Utc> {
        self.received
    }

    /// The idempotence id (the deduplication key).
    #[must_use]
    pub fn idempotence_id(&self) -> &str {
        self.record.metadata().idempotence_id()
    }
}

/// What [`write_batch`](crate::AuditStore::write_batch) did with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteOutcome {
    /// Stored now, under this row id.
    Stored {
        /// The row id (also the pagination tiebreak).
        id: i64,
    },
    /// A record with the same idempotence id is already stored (or comes earlier in the same
    /// batch): nothing was written.
    Duplicate,
}

/// The trigger columns of a stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredTrigger {
    /// A user.
    User {
        /// The user id.
        id: String,
        /// The identity provider.
        identity_provider: String,
    },
    /// A system component.
    SystemComponent {
        /// The department.
        department: String,
        /// The system.
        system: String,
        /// The component.
        component: String,
    },
}

/// The audited-object columns of a stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The object type.
    pub object_type: String,
    /// The object id.
    pub id: String,
    /// The object version.
    pub version: Option<String>,
}

/// One stored record: its columns and the whole [`AuditRecord`] as the JSON document
/// (`serde_json::to_value(&record)` at write time).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoredRecord {
    /// The row id (unique, increasing in insertion order).
    pub id: i64,
    /// The message id.
    pub message_id: String,
    /// The idempotence id.
    pub idempotence_id: String,
    /// When the audited action happened (the sort key).
    pub event_timestamp: DateTime<Utc>,
    /// When the message was created.
    pub created: DateTime<Utc>,
    /// When the store received it.
    pub received: DateTime<Utc>,
    /// The auditing service.
    pub service: String,
    /// The auditing service's system (the access-control key).
    pub system: String,
    /// The event type.
    pub event_type: AuditEventType,
    /// The context's use case.
    pub use_case: Option<String>,
    /// The process id (the command's, else the context's).
    pub process_id: Option<String>,
    /// Who triggered it.
    pub trigger: StoredTrigger,
    /// The audited object.
    pub object: Option<StoredObject>,
    /// The schema version stored with the record.
    pub schema_version: String,
    /// Where it came from.
    pub source: Source,
    /// The whole record as JSON.
    pub document: serde_json::Value,
}

impl StoredRecord {
    /// The trigger kind.
    #[must_use]
    pub fn trigger_kind(&self) -> TriggerKind {
        match self.trigger {
            StoredTrigger::User { .. } => TriggerKind::User,
            StoredTrigger::SystemComponent { .. } => TriggerKind::SystemComponent,
        }
    }
}

/// Microseconds since the epoch, rounded up: for a stored value `v` (whole microseconds),
/// `v < t` exactly when `v < ceil_micros(t)` and `v >= t` exactly when `v >= ceil_micros(t)`.
pub(crate) fn ceil_micros(t: DateTime<Utc>, field: &'static str) -> Result<i64> {
    let micros = t
        .timestamp_micros()
        .checked_add(i64::from(!t.timestamp_subsec_nanos().is_multiple_of(1000)));
    match micros {
        Some(m) if DateTime::from_timestamp_micros(m).is_some() => Ok(m),
        _ => Err(Error::TimestampOutOfRange { field }),
    }
}

/// Microseconds since the epoch, truncated (stored values).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn from_micros(id: i64, m: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(m).ok_or_else(|| Error::Corrupt {
        id,
        reason: format!("timestamp {m} out of range"),
    })
}

/// The column values of one record, in [`INSERT_COLUMNS`] order.
#[derive(Debug)]
pub(crate) struct Columns<'a> {
    pub message_id: &'a str,
    pub idempotence_id: &'a str,
    pub event_ts: DateTime<Utc>,
    pub created_ts: DateTime<Utc>,
    pub received_ts: DateTime<Utc>,
    pub service: &'a str,
    pub system: &'a str,
    pub event_type: &'static str,
    pub use_case: Option<&'a str>,
    pub process_id: Option<&'a str>,
    pub trigger_kind: &'static str,
    pub user_id: Option<&'a str>,
    pub identity_provider: Option<&'a str>,
    pub trigger_department: Option<&'a str>,
    pub trigger_system: Option<&'a str>,
    pub trigger_component: Option<&'a str>,
    pub object_type: Option<&'a str>,
    pub object_id: Option<&'a str>,
    pub object_version: Option<&'a str>,
    pub schema_version: &'a str,
    pub source_kind: &'static str,
    pub source_topic: Option<&'a str>,
    pub source_partition: Option<i32>,
    pub source_offset: Option<i64>,
    pub http_client: Option<&'a str>,
    pub document: String,
}

/// The inserted columns (all but `id`), in [`Columns`] order.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) const INSERT_COLUMNS: &str = "message_id, idempotence_id, event_ts, created_ts, \
    received_ts, service, system, event_type, use_case, process_id, trigger_kind, user_id, \
    identity_provider, trigger_department, trigger_system, trigger_component, object_type, \
    object_id, object_version, schema_version, source_kind, source_topic, source_partition, \
    source_offset, http_client, document";

/// Number of [`INSERT_COLUMNS`].
pub(crate) const INSERT_COLUMN_COUNT: usize = 26;

impl<'a> Columns<'a> {
    pub(crate) fn of(incoming: &'a IncomingRecord) -> Result<Self> {
        let r = &incoming.record;
        let meta = r.metadata();
        let document = serde_json::to_string(r).map_err(|source| Error::Document {
            message_id: meta.message_id().to_owned(),
            source,
        })?;
        let (user_id, identity_provider, department, system, component, trigger_kind) =
            match r.trigger() {
                Trigger::User(u) => (
                    Some(u.id()),
                    Some(u.identity_provider()),
                    None,
                    None,
                    None,
                    TriggerKind::User,
                ),
                Trigger::SystemComponent(c) => (
                    None,
                    None,
                    Some(c.department()),
                    Some(c.system()),
                    Some(c.component()),
                    TriggerKind::SystemComponent,
                ),
            };
        let (source_kind, topic, partition, offset, client) = match &incoming.source {
            Source::Kafka {
                topic,
                partition,
                offset,
            } => (
                "KAFKA",
                Some(topic.as_str()),
                Some(*partition),
                Some(*offset),
                None,
            ),
            Source::Http { client } => ("HTTP", None, None, None, Some(client.as_str())),
        };
        let object = r.audited_object();
        Ok(Self {
            message_id: meta.message_id(),
            idempotence_id: meta.idempotence_id(),
            event_ts: r.timestamp(),
            created_ts: meta.created(),
            received_ts: incoming.received,
            service: r.service_name(),
            system: r.system_name(),
            event_type: r.event().event_type().as_str(),
            use_case: r.event().context().map(|c| c.use_case()),
            process_id: meta
                .process_id()
                .or_else(|| r.event().context().and_then(|c| c.process_id())),
            trigger_kind: trigger_kind.as_str(),
            user_id,
            identity_provider,
            trigger_department: department,
            trigger_system: system,
            trigger_component: component,
            object_type: object.map(|o| o.object_type()),
            object_id: object.map(|o| o.id()),
            object_version: object.and_then(|o| o.version()),
            schema_version: incoming
                .schema_version
                .as_deref()
                .unwrap_or_else(|| meta.type_version()),
            source_kind,
            source_topic: topic,
            source_partition: partition,
            source_offset: offset,
            http_client: client,
            document,
        })
    }
}

/// The selected columns, in [`RawRow`] order (`{doc}` is the document expression).
pub(crate) const SELECT_COLUMNS_PG: &str = "id, message_id, idempotence_id, event_ts, created_ts, \
    received_ts, service, system, event_type, use_case, process_id, trigger_kind, user_id, \
    identity_provider, trigger_department, trigger_system, trigger_component, object_type, \
    object_id, object_version, schema_version, source_kind, source_topic, source_partition, \
    source_offset, http_client, document::text";

/// SQLite: the same columns, the document is stored as text.
pub(crate) const SELECT_COLUMNS_SQLITE: &str = "id, message_id, idempotence_id, event_ts, \
    created_ts, received_ts, service, system, event_type, use_case, process_id, trigger_kind, \
    user_id, identity_provider, trigger_department, trigger_system, trigger_component, \
    object_type, object_id, object_version, schema_version, source_kind, source_topic, \
    source_partition, source_offset, http_client, document";

/// A row as read, before validation.
#[derive(Debug)]
pub(crate) struct RawRow {
    pub id: i64,
    pub message_id: String,
    pub idempotence_id: String,
    pub event_ts: DateTime<Utc>,
    pub created_ts: DateTime<Utc>,
    pub received_ts: DateTime<Utc>,
    pub service: String,
    pub system: String,
    pub event_type: String,
    pub use_case: Option<String>,
    pub process_id: Option<String>,
    pub trigger_kind: String,
    pub user_id: Option<String>,
    pub identity_provider: Option<String>,
    pub trigger_department: Option<String>,
    pub trigger_system: Option<String>,
    pub trigger_component: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub object_version: Option<String>,
    pub schema_version: String,
    pub source_kind: String,
    pub source_topic: Option<String>,
    pub source_partition: Option<i32>,
    pub source_offset: Option<i64>,
    pub http_client: Option<String>,
    pub document: String,
}

impl RawRow {
    pub(crate) fn into_stored(self) -> Result<StoredRecord> {
        let id = self.id;
        let corrupt = |reason: &str| Error::Corrupt {
            id,
            reason: reason.to_owned(),
        };
        let event_type = AuditEventType::from_symbol(&self.event_type)
            .ok_or_else(|| corrupt("unknown event type"))?;
        let trigger = match TriggerKind::from_symbol(&self.trigger_kind) {
            Some(TriggerKind::User) => StoredTrigger::User {
                id: self
                    .user_id
                    .ok_or_else(|| corrupt("user trigger without user id"))?,
                identity_provider: self.identity_provider.unwrap_or_default(),
            },
            Some(TriggerKind::SystemComponent) => StoredTrigger::SystemComponent {
                department: self.trigger_department.unwrap_or_default(),
                system: self.trigger_system.unwrap_or_default(),
                component: self.trigger_component.unwrap_or_default(),
            },
            None => return Err(corrupt("unknown trigger kind")),
        };
        let object = match (self.object_type, self.object_id) {
            (Some(object_type), Some(oid)) => Some(StoredObject {
                object_type,
                id: oid,
                version: self.object_version,
            }),
            _ => None,
        };
        let source = match (
            self.source_kind.as_str(),
            self.source_topic,
            self.source_partition,
            self.source_offset,
        ) {
            ("KAFKA", Some(topic), Some(partition), Some(offset)) => Source::Kafka {
                topic,
                partition,
                offset,
            },
            ("HTTP", _, _, _) => Source::Http {
                client: self.http_client.unwrap_or_default(),
            },
            _ => return Err(corrupt("unknown or incomplete source")),
        };
        let document =
            serde_json::from_str(&self.document).map_err(|e| corrupt(&format!("document: {e}")))?;
        Ok(StoredRecord {
            id,
            message_id: self.message_id,
            idempotence_id: self.idempotence_id,
            event_timestamp: self.event_ts,
            created: self.created_ts,
            received: self.received_ts,
            service: self.service,
            system: self.system,
            event_type,
            use_case: self.use_case,
            process_id: self.process_id,
            trigger,
            object,
            schema_version: self.schema_version,
            source,
            document,
        })
    }
}
