//! jEAP's `MessageProcessingFailedEvent`: the official schema (vendored in `avro/` as
//! `MessageProcessingFailedEvent_v1.0.0.avsc` and `MessageProcessingFailedMessageKey_v1.0.0.avsc`),
//! the Rust types and Avro codec generated from it by `audit-codegen`, and the code that fills
//! the event from a failed record the way jEAP's error handler (`ErrorServiceSender` with
//! `MessageProcessingFailedEventBuilder`) does.
//!
//! jEAP consumers do not dead-letter raw records: they publish this event to the error topic,
//! where jEAP's Error Handling Service stores it, retries temporary errors and turns the rest into
//! manual tasks. [`ErrorEventConfig::build_event`] makes the event and its key from
//! - the failed record ([`FailedRecord`]: topic, partition, offset, key and value bytes, headers),
//! - the error ([`ErrorInfo`]: code, [`Temporality`], message, description, cause chain),
//! - the failing service's identity (system, service) and the new event's identity ([`EventIdentity`]).
//!
//! What goes where (as in jEAP):
//! - `payload.originalMessage` / `originalKey`: the record's value and key bytes exactly as
//!   consumed (Confluent framing included); a record without value gets `EMPTY_CONTENT`
//!   ([`EMPTY_CONTENT`]), one without key a `null` key;
//! - `payload.errorMessage`, `errorDescription`: from the [`ErrorInfo`];
//! - `payload.stackTrace`: the cause chain ([`stack_trace`]), truncated to
//!   [`ErrorEventConfig::stack_trace_max_length`] (jEAP's default 7000) with `...` appended;
//!   `stackTraceHash`: [`stack_trace_hash`] (jEAP's `StackHasher` formula over the chain);
//! - `payload.failedMessageMetadata`: when the value is a decodable `CreateAuditRecordCommand`
//!   (given as [`FailedRecord::with_message`], else decoded here with audit-schema's decoder), its
//!   identity id and idempotence id, created, publisher system and service, type name and version;
//!   `headers` holds the last value of each preserved header ([`PRESERVED_HEADERS`]: jEAP's
//!   encryption and signature headers) the record carries; `null` when the message cannot be read
//!   and none of those headers is present;
//! - `references.message`: type `message`, topic, partition and offset (decimal strings);
//!   `references.errorType`: type `exception`, temporality, code;
//! - `identity`: the given [`EventIdentity`] (jEAP: two random UUIDs and the current time);
//!   `type`: `MessageProcessingFailedEvent` / `1.0.0`; `publisher`: the configured system and
//!   service; `domainEventVersion` `1.2.0`; `processId`: the failed command's `processId`;
//! - the key ([`MessageProcessingFailedMessageKey`]): the failed command's `identity.id`, or the
//!   event's idempotence id when the message cannot be read.
//!
//! The records go to Kafka Confluent-framed ([`ErrorEvent::framed_value`],
//! [`ErrorEvent::framed_key`]) with the schema ids registered under TopicRecordNameStrategy
//! subjects ([`value_subject`], [`key_subject`]) for the schema texts [`EVENT_SCHEMA_JSON`] and
//! [`KEY_SCHEMA_JSON`].
//!
//! # Quick start
//!
//! ```
//! use audit_error_event::*;
//! use chrono::{TimeZone, Utc};
//!
//! let config = ErrorEventConfig::new("JME", "jme-audit-consumer")?;
//! let headers = [("jeap-cert", Some(&b"\x01\x02"[..])), ("traceparent", Some(&b"00-ab"[..]))];
//! let record = FailedRecord::new("audit-commands", 3, 42)
//!     .with_key(Some(b"k-1"))
//!     .with_value(Some(b"\x00\x00\x00\x00\x07not avro"))
//!     .with_headers(&headers);
//! let cause = std::io::Error::new(std::io::ErrorKind::InvalidData, "bad union index 9");
//! let error = ErrorInfo::deserialization_failed(RecordPart::Value, &cause);
//! let identity = EventIdentity {
//!     event_id: "e-1".into(),
//!     idempotence_id: "i-1".into(),
//!     created: Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap(),
//! };
//! let out = config.build_event(&record, &error, identity);
//!
//! let payload = &out.event.payload;
//! assert_eq!(payload.original_message, b"\x00\x00\x00\x00\x07not avro");
//! assert_eq!(payload.error_message, "Could not deserialize value");
//! assert_eq!(out.event.references.error_type.code, codes::DESERIALIZATION_FAILED);
//! assert_eq!(out.event.references.error_type.temporality, "PERMANENT");
//! // not a command: no metadata from the message, but the preserved signature header
//! let metadata = payload.failed_message_metadata.as_ref().unwrap();
//! assert_eq!(metadata.event_id, None);
//! assert_eq!(metadata.headers.get("jeap-cert").map(Vec::as_slice), Some(&b"\x01\x02"[..]));
//! assert_eq!(out.key.key, "i-1"); // the event's idempotence id: the message has no readable id
//!
//! // to Kafka: Confluent-framed with the ids registered under these subjects
//! assert_eq!(
//!     value_subject("errors"),
//!     "errors-ch.admin.bit.jeap.messaging.avro.errorevent.MessageProcessingFailedEvent"
//! );
//! let value = out.framed_value(12);
//! let key = out.framed_key(13);
//! assert_eq!(decode_framed_value(&value)?, (12, out.event.clone()));
//! assert_eq!(decode_framed_key(&key)?, (13, out.key.clone()));
//! # Ok::<(), audit_error_event::Error>(())
//! ```

// the generated code reaches the runtime crate as `crate::rt`
use audit_avro_runtime as rt;

#[allow(dead_code)]
mod event_generated {
    include!(concat!(env!("OUT_DIR"), "/event.rs"));
}

#[allow(dead_code)]
mod key_generated {
    include!(concat!(env!("OUT_DIR"), "/key.rs"));
}

mod codec;
mod error;
mod fill;
mod stack;

pub use codec::{
    DecodedCommand, decode_command, decode_framed_key, decode_framed_value, key_subject,
    value_subject,
};
pub use error::Error;
/// The known versions of the event schema (one: `1.0.0`), with schema text, canonical form and
/// fingerprint.
pub use event_generated::SchemaVersion as EventSchemaVersion;
pub use event_generated::{
    AvroDomainEventIdentity, AvroDomainEventPublisher, AvroDomainEventType, ErrorTypeReference,
    FailedMessageMetadata, MessageProcessingFailedEvent, MessageProcessingFailedPayload,
    MessageProcessingFailedReferences, MessageReference,
};
pub use fill::{
    ErrorEvent, ErrorEventConfig, ErrorInfo, EventIdentity, FailedRecord, RecordPart, Temporality,
    codes,
};
pub use key_generated::MessageProcessingFailedMessageKey;
/// The known versions of the key schema (one: `1.0.0`).
pub use key_generated::SchemaVersion as KeySchemaVersion;
pub use stack::{java_string_hash, stack_trace, stack_trace_hash};

/// Full name of the event record: the `{record}` part of its TopicRecordNameStrategy subject.
pub const EVENT_FULL_NAME: &str =
    "ch.admin.bit.jeap.messaging.avro.errorevent.MessageProcessingFailedEvent";
/// Full name of the key record.
pub const KEY_FULL_NAME: &str =
    "ch.admin.bit.jeap.messaging.avro.errorevent.MessageProcessingFailedMessageKey";
/// The event's `type.name` (jEAP: the schema's name).
pub const EVENT_TYPE_NAME: &str = "MessageProcessingFailedEvent";
/// The event's `type.version` (jEAP's `specifiedMessageTypeVersion`).
pub const EVENT_TYPE_VERSION: &str = "1.0.0";
/// The event's `domainEventVersion` (jEAP's `AvroDomainEventBuilder.DOMAIN_EVENT_VERSION`).
pub const DOMAIN_EVENT_VERSION: &str = "1.2.0";
/// `payload.originalMessage` of a record without value (jEAP's `EMPTY_BUFFER`).
pub const EMPTY_CONTENT: &[u8] = b"EMPTY_CONTENT";
/// jEAP's default of `jeap.messaging.kafka.errorEventStackTraceMaxLength`.
pub const DEFAULT_STACK_TRACE_MAX_LENGTH: usize = 7000;
/// The headers jEAP's error handler copies into `failedMessageMetadata.headers` (the last value
/// of each, when present): the encryption marker and the three signature headers.
pub const PRESERVED_HEADERS: [&str; 4] = [
    "jeap_encrypted_value",
    "jeap-cert",
    "jeap-sign",
    "jeap-sign-key",
];
/// `references.message.type` (jEAP: `"message"`).
pub const MESSAGE_REFERENCE_TYPE: &str = "message";
/// `references.errorType.type` (jEAP: `"exception"`).
pub const ERROR_TYPE_REFERENCE_TYPE: &str = "exception";
/// The raw `.avsc` text of the event schema: register this text (never a re-serialization).
pub const EVENT_SCHEMA_JSON: &str = EventSchemaVersion::LATEST.schema_json();
/// The raw `.avsc` text of the key schema.
pub const KEY_SCHEMA_JSON: &str = KeySchemaVersion::LATEST.schema_json();
