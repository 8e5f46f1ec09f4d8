//! Filling the event like jEAP's `ErrorServiceSender` and `MessageProcessingFailedEventBuilder`.

use std::collections::BTreeMap;
use std::error::Error as StdError;

use audit_schema::{CreateAuditRecordCommand, confluent};
use chrono::{DateTime, Utc};

use crate::stack::{stack_trace, stack_trace_hash, truncate};
use crate::{
    AvroDomainEventIdentity, AvroDomainEventPublisher, AvroDomainEventType,
    DEFAULT_STACK_TRACE_MAX_LENGTH, DOMAIN_EVENT_VERSION, EMPTY_CONTENT, ERROR_TYPE_REFERENCE_TYPE,
    EVENT_TYPE_NAME, EVENT_TYPE_VERSION, Error, ErrorTypeReference, FailedMessageMetadata,
    MESSAGE_REFERENCE_TYPE, MessageProcessingFailedEvent, MessageProcessingFailedMessageKey,
    MessageProcessingFailedPayload, MessageProcessingFailedReferences, MessageReference,
    PRESERVED_HEADERS,
};

/// jEAP's error codes (`MessageHandlerExceptionInformation.StandardErrorCodes` and the codes of
/// jEAP's own exceptions). Any other code is allowed: the meaning is the application's.
pub mod codes {
    /// An error that is no `MessageHandlerExceptionInformation` (temporality `UNKNOWN`).
    pub const UNKNOWN_EXCEPTION: &str = "UNKNOWN_EXCEPTION";
    /// An exception information without code.
    pub const INVALID_EXCEPTION: &str = "INVALID_EXCEPTION";
    /// The key or value does not deserialize (temporality `PERMANENT`).
    pub const DESERIALIZATION_FAILED: &str = "DESERIALIZATION_FAILED";
    /// The value is not of the type the listener takes (temporality `PERMANENT`).
    pub const WRONG_EVENT_TYPE: &str = "WRONG_EVENT_TYPE";
    /// jEAP's `MessageSignatureValidationException` (temporality per case).
    pub const MESSAGE_SIGNATURE_VALIDATION_ERROR: &str = "MESSAGE_SIGNATURE_VALIDATION_ERROR";
}

/// Whether retrying the failed record may succeed (jEAP's
/// `MessageHandlerExceptionInformation.Temporality`); written as its symbol into
/// `references.errorType.temporality`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Temporality {
    /// Not known (errors that carry no temporality).
    Unknown,
    /// Retrying cannot help.
    Permanent,
    /// Retrying may help: the Error Handling Service resends it.
    Temporary,
}

impl Temporality {
    /// The symbol jEAP writes: `UNKNOWN`, `PERMANENT` or `TEMPORARY`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "UNKNOWN",
            Self::Permanent => "PERMANENT",
            Self::Temporary => "TEMPORARY",
        }
    }

    /// The temporality of a symbol, `None` for anything else.
    #[must_use]
    pub fn from_symbol(symbol: &str) -> Option<Self> {
        match symbol {
            "UNKNOWN" => Some(Self::Unknown),
            "PERMANENT" => Some(Self::Permanent),
            "TEMPORARY" => Some(Self::Temporary),
            _ => None,
        }
    }
}

impl std::fmt::Display for Temporality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which part of a record failed to deserialize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordPart {
    /// The key.
    Key,
    /// The value.
    Value,
}

/// The error to report (jEAP's `MessageHandlerExceptionInformation`): code, temporality,
/// message, optional description and the chain of causes (rendered into `stackTrace` and
/// hashed into `stackTraceHash`).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ErrorInfo<'e> {
    /// `references.errorType.code`, e.g. [`codes::DESERIALIZATION_FAILED`].
    pub code: &'e str,
    /// `references.errorType.temporality`.
    pub temporality: Temporality,
    /// `payload.errorMessage`.
    pub message: &'e str,
    /// `payload.errorDescription` (e.g. a text or a link).
    pub description: Option<&'e str>,
    /// The outermost cause; its `source()` chain follows.
    pub cause: Option<&'e (dyn StdError + 'static)>,
}

impl<'e> ErrorInfo<'e> {
    /// An error with code, temporality and message, without description and cause.
    #[must_use]
    pub const fn new(code: &'e str, temporality: Temporality, message: &'e str) -> Self {
        Self {
            code,
            temporality,
            message,
            description: None,
            cause: None,
        }
    }

    /// With `payload.errorDescription`.
    #[must_use]
    pub const fn with_description(mut self, description: &'e str) -> Self {
        self.description = Some(description);
        self
    }

    /// With the cause chain starting at `cause`.
    #[must_use]
    pub const fn with_cause(mut self, cause: &'e (dyn StdError + 'static)) -> Self {
        self.cause = Some(cause);
        self
    }

    /// What jEAP reports when the key or value does not deserialize: code
    /// `DESERIALIZATION_FAILED`, `PERMANENT`, message `Could not deserialize value` (or `key`),
    /// the deserializer's error as cause. (jEAP's message is `java.lang.Exception: Could not
    /// deserialize value`, the `toString` of the exception it wraps the cause in.)
    #[must_use]
    pub const fn deserialization_failed(
        part: RecordPart,
        cause: &'e (dyn StdError + 'static),
    ) -> Self {
        let message = match part {
            RecordPart::Key => "Could not deserialize key",
            RecordPart::Value => "Could not deserialize value",
        };
        Self::new(
            codes::DESERIALIZATION_FAILED,
            Temporality::Permanent,
            message,
        )
        .with_cause(cause)
    }
}

/// The failed Kafka record, borrowed from the consumer. Build it with [`FailedRecord::new`] and
/// the `with_*` methods.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct FailedRecord<'a> {
    /// The topic it was consumed from.
    pub topic: &'a str,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// The key bytes as consumed (`None`: no key).
    pub key: Option<&'a [u8]>,
    /// The value bytes as consumed, Confluent framing included (`None`: a tombstone).
    pub value: Option<&'a [u8]>,
    /// The record's headers in order (`None`: a header without value).
    pub headers: &'a [(&'a str, Option<&'a [u8]>)],
    /// The command the value holds, when the caller has decoded it already; otherwise
    /// [`ErrorEventConfig::build_event`] tries [`crate::decode_command`] on the value.
    pub message: Option<&'a CreateAuditRecordCommand>,
}

impl<'a> FailedRecord<'a> {
    /// A record of `topic`, `partition`, `offset` without key, value and headers.
    #[must_use]
    pub const fn new(topic: &'a str, partition: i32, offset: i64) -> Self {
        Self {
            topic,
            partition,
            offset,
            key: None,
            value: None,
            headers: &[],
            message: None,
        }
    }

    /// With the key bytes.
    #[must_use]
    pub const fn with_key(mut self, key: Option<&'a [u8]>) -> Self {
        self.key = key;
        self
    }

    /// With the value bytes.
    #[must_use]
    pub const fn with_value(mut self, value: Option<&'a [u8]>) -> Self {
        self.value = value;
        self
    }

    /// With the headers.
    #[must_use]
    pub const fn with_headers(mut self, headers: &'a [(&'a str, Option<&'a [u8]>)]) -> Self {
        self.headers = headers;
        self
    }

    /// With the command decoded from the value (skips decoding it again).
    #[must_use]
    pub const fn with_message(mut self, message: &'a CreateAuditRecordCommand) -> Self {
        self.message = Some(message);
        self
    }
}

/// The new event's identity: `identity.eventId`, `identity.idempotenceId`, `identity.created`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventIdentity {
    /// `identity.eventId` (jEAP: a random UUID).
    pub event_id: String,
    /// `identity.idempotenceId` (jEAP: another random UUID: every failure is a new occurrence).
    pub idempotence_id: String,
    /// `identity.created` (jEAP: now; the schema keeps milliseconds).
    pub created: DateTime<Utc>,
}

impl EventIdentity {
    /// Two random (v4) UUIDs and the current time, truncated to milliseconds, as jEAP does.
    #[must_use]
    pub fn generate() -> Self {
        let now = Utc::now();
        Self {
            event_id: uuid::Uuid::new_v4().to_string(),
            idempotence_id: uuid::Uuid::new_v4().to_string(),
            created: DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now),
        }
    }
}

/// An error event and its key, ready to encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEvent {
    /// The record value.
    pub event: MessageProcessingFailedEvent,
    /// The record key.
    pub key: MessageProcessingFailedMessageKey,
}

impl ErrorEvent {
    /// The value's Avro datum (no framing).
    #[must_use]
    pub fn value_datum(&self) -> Vec<u8> {
        self.event.to_avro_datum()
    }

    /// The key's Avro datum (no framing).
    #[must_use]
    pub fn key_datum(&self) -> Vec<u8> {
        self.key.to_avro_datum()
    }

    /// The record value: Confluent header with `schema_id` (registered under
    /// [`crate::value_subject`]) and the datum.
    #[must_use]
    pub fn framed_value(&self, schema_id: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(confluent::HEADER_LEN + 512);
        confluent::write_header(schema_id, &mut out);
        self.event.encode_datum(&mut out);
        out
    }

    /// The record key: Confluent header with `schema_id` (registered under
    /// [`crate::key_subject`]) and the datum.
    #[must_use]
    pub fn framed_key(&self, schema_id: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(confluent::HEADER_LEN + 8 + self.key.key.len());
        confluent::write_header(schema_id, &mut out);
        self.key.encode_datum(&mut out);
        out
    }
}

/// The failing service's side of the error events: its identity (the events' publisher) and
/// jEAP's error-handler settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ErrorEventConfig {
    /// `publisher.system` (jEAP: `jeap.messaging.kafka.systemName`).
    pub system: String,
    /// `publisher.service` (jEAP: `jeap.messaging.kafka.serviceName`).
    pub service: String,
    /// `stackTrace` is cut to this many UTF-16 code units plus `...` (jEAP's
    /// `errorEventStackTraceMaxLength`, default 7000).
    pub stack_trace_max_length: usize,
    /// Whether `stackTraceHash` is set (jEAP's `errorStackTraceHashEnabled`, default on).
    pub stack_trace_hash: bool,
    /// The headers copied into `failedMessageMetadata.headers` (default [`PRESERVED_HEADERS`]).
    pub preserved_headers: Vec<String>,
}

impl ErrorEventConfig {
    /// The configuration of service `service` in system `system`, with jEAP's defaults.
    ///
    /// # Errors
    /// [`Error::BlankPublisher`] when either is blank (jEAP's builder refuses those).
    pub fn new(system: impl Into<String>, service: impl Into<String>) -> Result<Self, Error> {
        let (system, service) = (system.into(), service.into());
        for (field, value) in [("system", &system), ("service", &service)] {
            if value.trim().is_empty() {
                return Err(Error::BlankPublisher { field });
            }
        }
        Ok(Self {
            system,
            service,
            stack_trace_max_length: DEFAULT_STACK_TRACE_MAX_LENGTH,
            stack_trace_hash: true,
            preserved_headers: PRESERVED_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
        })
    }

    /// With another stack-trace length limit.
    #[must_use]
    pub fn with_stack_trace_max_length(mut self, max: usize) -> Self {
        self.stack_trace_max_length = max;
        self
    }

    /// With the stack-trace hash on or off.
    #[must_use]
    pub fn with_stack_trace_hash(mut self, on: bool) -> Self {
        self.stack_trace_hash = on;
        self
    }

    /// With other preserved headers.
    #[must_use]
    pub fn with_preserved_headers<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        self.preserved_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// The error event and key for `record` failing with `error`, filled as jEAP's error
    /// handler fills them (see the crate docs for every field).
    #[must_use]
    pub fn build_event(
        &self,
        record: &FailedRecord<'_>,
        error: &ErrorInfo<'_>,
        identity: EventIdentity,
    ) -> ErrorEvent {
        let decoded;
        let message = match record.message {
            Some(m) => Some(m),
            None => {
                decoded = record
                    .value
                    .and_then(|v| crate::decode_command(v).ok())
                    .map(|d| d.command);
                decoded.as_ref()
            }
        };
        let headers = self.preserved(record.headers);
        let failed_message_metadata = match message {
            Some(m) => Some(FailedMessageMetadata {
                event_id: Some(m.identity.id.to_string()),
                idempotence_id: Some(m.identity.idempotence_id.to_string()),
                created: Some(m.identity.created),
                system: Some(m.publisher.system.to_string()),
                service: Some(m.publisher.service.to_string()),
                message_type_name: Some(m.r#type.name.to_string()),
                message_type_version: Some(m.r#type.version.to_string()),
                headers,
            }),
            // jEAP: no metadata when nothing of the message can be read and no preserved
            // header is present
            None if headers.is_empty() => None,
            None => Some(FailedMessageMetadata {
                event_id: None,
                idempotence_id: None,
                created: None,
                system: None,
                service: None,
                message_type_name: None,
                message_type_version: None,
                headers,
            }),
        };
        let stack = truncate(stack_trace(error), self.stack_trace_max_length);
        let key = match message {
            Some(m) => m.identity.id.to_string(),
            None => identity.idempotence_id.clone(),
        };
        let event = MessageProcessingFailedEvent {
            identity: AvroDomainEventIdentity {
                event_id: identity.event_id,
                idempotence_id: identity.idempotence_id,
                created: identity.created,
            },
            r#type: AvroDomainEventType {
                name: EVENT_TYPE_NAME.to_owned(),
                version: EVENT_TYPE_VERSION.to_owned(),
            },
            publisher: AvroDomainEventPublisher {
                system: self.system.clone(),
                service: self.service.clone(),
            },
            references: MessageProcessingFailedReferences {
                message: MessageReference {
                    r#type: MESSAGE_REFERENCE_TYPE.to_owned(),
                    topic_name: record.topic.to_owned(),
                    partition: record.partition.to_string(),
                    offset: record.offset.to_string(),
                },
                error_type: ErrorTypeReference {
                    r#type: ERROR_TYPE_REFERENCE_TYPE.to_owned(),
                    temporality: error.temporality.as_str().to_owned(),
                    code: error.code.to_owned(),
                },
            },
            payload: MessageProcessingFailedPayload {
                original_message: record.value.unwrap_or(EMPTY_CONTENT).to_vec(),
                original_key: record.key.map(<[u8]>::to_vec),
                error_message: error.message.to_owned(),
                error_description: error.description.map(str::to_owned),
                stack_trace: Some(stack),
                stack_trace_hash: self.stack_trace_hash.then(|| stack_trace_hash(error)),
                failed_message_metadata,
            },
            process_id: message.and_then(|m| m.process_id.as_deref().map(str::to_owned)),
            domain_event_version: DOMAIN_EVENT_VERSION.to_owned(),
        };
        ErrorEvent {
            event,
            key: MessageProcessingFailedMessageKey { key },
        }
    }

    /// The last value of each preserved header present (jEAP's `headers.lastHeader(name)`);
    /// headers without value are skipped (jEAP would fail on them).
    fn preserved(&self, headers: &[(&str, Option<&[u8]>)]) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for name in &self.preserved_headers {
            if let Some(value) = headers
                .iter()
                .rev()
                .find(|(k, _)| *k == name.as_str())
                .and_then(|(_, v)| *v)
            {
                out.insert(name.clone(), value.to_vec());
            }
        }
        out
    }
}
