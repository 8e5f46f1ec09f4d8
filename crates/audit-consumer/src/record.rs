//! The immutable [`AuditRecord`] and its parts, and the mapping from the generated command.

use audit_schema::{
    AuditContext, AuditEventDataElement, AuditEventDetails, AuditEventType, AuditObject,
    AuditObjectData, AuditObjectDataRole, AuditTrigger, CompactString, CreateAuditRecordCommand,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// One audit record: who did what to which object, when, plus the message metadata.
///
/// Immutable: built by [`decode`](crate::decode) or `From<CreateAuditRecordCommand>`, read through
/// getters. Lists are always present (empty when the wire carries none).
///
/// Its JSON (serde, camelCase; what `audit decode` prints) reads back into the same record:
/// unknown fields are refused, absent optional fields are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    service_name: CompactString,
    system_name: CompactString,
    timestamp: DateTime<Utc>,
    event: AuditEvent,
    trigger: Trigger,
    audited_object: Option<RecordedObject>,
    metadata: MessageMetadata,
}

impl AuditRecord {
    /// The auditing service (`publisher.service`).
    #[must_use]
    pub fn service_name(&self) -> &str {
        &self.service_name
    }

    /// The auditing service's system (`publisher.system`).
    #[must_use]
    pub fn system_name(&self) -> &str {
        &self.system_name
    }

    /// When the audited action happened (millisecond precision).
    #[must_use]
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }

    /// What happened.
    #[must_use]
    pub fn event(&self) -> &AuditEvent {
        &self.event
    }

    /// Who triggered it.
    #[must_use]
    pub fn trigger(&self) -> &Trigger {
        &self.trigger
    }

    /// The object it happened to, if any.
    #[must_use]
    pub fn audited_object(&self) -> Option<&RecordedObject> {
        self.audited_object.as_ref()
    }

    /// Message metadata (ids, type, process id, command version) for deduplication and tracing.
    #[must_use]
    pub fn metadata(&self) -> &MessageMetadata {
        &self.metadata
    }
}

/// The message envelope values consumers need to deduplicate and trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct MessageMetadata {
    message_id: CompactString,
    idempotence_id: CompactString,
    created: DateTime<Utc>,
    type_name: CompactString,
    type_version: CompactString,
    type_variant: Option<CompactString>,
    process_id: Option<CompactString>,
    command_version: CompactString,
}

impl MessageMetadata {
    /// The message's unique id (`identity.id`).
    #[must_use]
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// The idempotence id (`identity.idempotenceId`): deduplicate on this.
    #[must_use]
    pub fn idempotence_id(&self) -> &str {
        &self.idempotence_id
    }

    /// When the message was created (`identity.created`).
    #[must_use]
    pub fn created(&self) -> DateTime<Utc> {
        self.created
    }

    /// The message type name (`type.name`, normally `CreateAuditRecordCommand`).
    #[must_use]
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// The schema version the producer declared (`type.version`).
    #[must_use]
    pub fn type_version(&self) -> &str {
        &self.type_version
    }

    /// The message type variant (`type.variant`), normally absent.
    #[must_use]
    pub fn type_variant(&self) -> Option<&str> {
        self.type_variant.as_deref()
    }

    /// The process id (`processId`).
    #[must_use]
    pub fn process_id(&self) -> Option<&str> {
        self.process_id.as_deref()
    }

    /// The producer's command version (`commandVersion`).
    #[must_use]
    pub fn command_version(&self) -> &str {
        &self.command_version
    }
}

/// What happened: event type, optional context and the event data (always a list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    event_type: AuditEventType,
    context: Option<Context>,
    event_data: Vec<EventData>,
}

impl AuditEvent {
    /// The event type.
    #[must_use]
    pub fn event_type(&self) -> AuditEventType {
        self.event_type
    }

    /// The context, if the producer set one.
    #[must_use]
    pub fn context(&self) -> Option<&Context> {
        self.context.as_ref()
    }

    /// The event data in wire order; empty when the producer sent none.
    #[must_use]
    pub fn event_data(&self) -> &[EventData] {
        &self.event_data
    }
}

/// The event context: use case and optional process id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    use_case: CompactString,
    process_id: Option<CompactString>,
}

impl Context {
    /// The use case.
    #[must_use]
    pub fn use_case(&self) -> &str {
        &self.use_case
    }

    /// The process id, if given.
    #[must_use]
    pub fn process_id(&self) -> Option<&str> {
        self.process_id.as_deref()
    }
}

/// One event-data key/value pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventData {
    key: CompactString,
    value: CompactString,
}

impl EventData {
    /// The key.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// Who triggered the audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub enum Trigger {
    /// A user.
    User(User),
    /// A system component.
    SystemComponent(SystemComponent),
}

/// A user trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct User {
    id: CompactString,
    identity_provider: CompactString,
}

impl User {
    /// The user id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The identity provider.
    #[must_use]
    pub fn identity_provider(&self) -> &str {
        &self.identity_provider
    }
}

/// A system-component trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemComponent {
    department: CompactString,
    system: CompactString,
    component: CompactString,
}

impl SystemComponent {
    /// The department.
    #[must_use]
    pub fn department(&self) -> &str {
        &self.department
    }

    /// The system.
    #[must_use]
    pub fn system(&self) -> &str {
        &self.system
    }

    /// The component.
    #[must_use]
    pub fn component(&self) -> &str {
        &self.component
    }
}

/// The audited object: type, id, optional version and object data (always a list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct RecordedObject {
    object_type: CompactString,
    id: CompactString,
    version: Option<CompactString>,
    object_data: Vec<RecordedObjectData>,
}

impl RecordedObject {
    /// The object type.
    #[must_use]
    pub fn object_type(&self) -> &str {
        &self.object_type
    }

    /// The object id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The object version, if given.
    #[must_use]
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The object data in wire order; empty when the producer sent none.
    #[must_use]
    pub fn object_data(&self) -> &[RecordedObjectData] {
        &self.object_data
    }
}

/// What an object-data entry carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub enum ObjectDataKind {
    /// A value, possibly absent.
    Value(Option<CompactString>),
    /// A JSON document as UTF-8 bytes (see [`RecordedObjectData::json_value`]).
    Json(
        #[serde(
            serialize_with = "audit_schema::json::bytes::serialize",
            deserialize_with = "audit_schema::json::bytes::deserialize"
        )]
        Vec<u8>,
    ),
    /// An S3 object reference.
    S3Reference(CompactString),
}

/// One object-data entry: name, optional role and its [`ObjectDataKind`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedObjectData {
    name: CompactString,
    role: Option<AuditObjectDataRole>,
    kind: ObjectDataKind,
}

impl RecordedObjectData {
    /// The entry's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The entry's role, if given.
    #[must_use]
    pub fn role(&self) -> Option<AuditObjectDataRole> {
        self.role
    }

    /// What the entry carries.
    #[must_use]
    pub fn kind(&self) -> &ObjectDataKind {
        &self.kind
    }

    /// Parses a JSON entry's bytes: `Ok(None)` for value and S3 entries.
    ///
    /// # Errors
    /// [`Error::InvalidJson`] when the bytes are not a JSON document.
    pub fn json_value(&self) -> Result<Option<serde_json::Value>, Error> {
        match &self.kind {
            ObjectDataKind::Json(bytes) => {
                serde_json::from_slice(bytes)
                    .map(Some)
                    .map_err(|source| Error::InvalidJson {
                        name: self.name.to_string(),
                        source,
                    })
            }
            ObjectDataKind::Value(_) | ObjectDataKind::S3Reference(_) => Ok(None),
        }
    }
}

impl RecordedObjectData {
    fn from_wire(value: AuditObjectData) -> Self {
        match value {
            AuditObjectData::AuditObjectDataValue(v) => Self {
                name: v.name,
                role: v.role,
                kind: ObjectDataKind::Value(v.value),
            },
            AuditObjectData::AuditObjectDataJSON(j) => Self {
                name: j.name,
                role: j.role,
                kind: ObjectDataKind::Json(j.json_as_utf8),
            },
            AuditObjectData::AuditObjectDataS3(s) => Self {
                name: s.name,
                role: s.role,
                kind: ObjectDataKind::S3Reference(s.object_reference),
            },
        }
    }
}

impl RecordedObject {
    fn from_wire(value: AuditObject) -> Self {
        Self {
            object_type: value.r#type,
            id: value.id,
            version: value.version,
            object_data: value
                .object_data
                .unwrap_or_default()
                .into_iter()
                .map(RecordedObjectData::from_wire)
                .collect(),
        }
    }
}

impl Trigger {
    fn from_wire(value: AuditTrigger) -> Self {
        match value {
            AuditTrigger::AuditUser(u) => Self::User(User {
                id: u.id,
                identity_provider: u.identity_provider,
            }),
            AuditTrigger::AuditSystemComponent(c) => Self::SystemComponent(SystemComponent {
                department: c.department,
                system: c.system,
                component: c.component,
            }),
        }
    }
}

impl Context {
    fn from_wire(value: AuditContext) -> Self {
        Self {
            use_case: value.use_case,
            process_id: value.process_id,
        }
    }
}

impl EventData {
    fn from_wire(value: AuditEventDataElement) -> Self {
        Self {
            key: value.key,
            value: value.value,
        }
    }
}

impl AuditEvent {
    fn from_wire(value: AuditEventDetails) -> Self {
        Self {
            event_type: value.r#type,
            context: value.context.map(Context::from_wire),
            event_data: value
                .event_data
                .unwrap_or_default()
                .into_iter()
                .map(EventData::from_wire)
                .collect(),
        }
    }
}

/// Flattens a decoded command (infallible: every command maps to a record).
impl From<CreateAuditRecordCommand> for AuditRecord {
    fn from(command: CreateAuditRecordCommand) -> Self {
        let CreateAuditRecordCommand {
            identity,
            r#type,
            publisher,
            references: _,
            payload,
            process_id,
            command_version,
        } = command;
        Self {
            service_name: publisher.service,
            system_name: publisher.system,
            timestamp: payload.timestamp,
            event: AuditEvent::from_wire(payload.event),
            trigger: Trigger::from_wire(payload.trigger),
            audited_object: payload.audited_data.map(RecordedObject::from_wire),
            metadata: MessageMetadata {
                message_id: identity.id,
                idempotence_id: identity.idempotence_id,
                created: identity.created,
                type_name: r#type.name,
                type_version: r#type.version,
                type_variant: r#type.variant,
                process_id,
                command_version,
            },
        }
    }
}
