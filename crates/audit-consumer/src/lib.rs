//! Decode jEAP `CreateAuditRecordCommand`s written with any published schema version
//! (1.0.0, 1.0.1, 1.0.2, or any compatible writer schema) into an immutable [`AuditRecord`].
//!
//! [`AuditRecord`] has no Avro types in its API: service, system and timestamp; the event (type,
//! optional context, event data as a list that is never absent); the trigger (user or system
//! component); the optional audited object with its object data (always a list); and the message
//! metadata the Java model drops (message id, idempotence id, created, type name and version,
//! process id, command version). Event-type symbols the reader does not know become
//! [`AuditEventType::Unknown`].
//!
//! [`decode`] takes a Kafka record value in the Confluent wire format and a [`WriterSchemaSource`]
//! that resolves the schema id: [`LocalVersions`] for the versions known at compile time under
//! configured ids, or a registry client with a cache. Every failure is a typed [`Error`].
//!
//! # Quick start
//!
//! ```
//! use audit_consumer::{decode, AuditEventType, LocalVersions, SchemaVersion, Trigger};
//! # use audit_builder::AuditCommandBuilder;
//! # let command = AuditCommandBuilder::new("invoice-service", "BILLING", chrono::Utc::now())
//! #     .event_type(AuditEventType::Read).user("u1", "idp").build()?;
//! # let record_value = audit_schema::confluent::frame(42, &command.to_avro_datum());
//! // record_value: the bytes of a Kafka record written with schema id 42 (= version 1.0.2 here)
//! let versions = LocalVersions::new().with_id(42, SchemaVersion::V1_0_2);
//! let record = decode(&record_value, &versions)?;
//!
//! assert_eq!(record.service_name(), "invoice-service");
//! assert_eq!(record.event().event_type(), AuditEventType::Read);
//! assert!(record.event().event_data().is_empty());
//! match record.trigger() {
//!     Trigger::User(user) => assert_eq!(user.id(), "u1"),
//!     Trigger::SystemComponent(component) => println!("by {}", component.component()),
//! }
//! println!("{}", serde_json::to_string_pretty(&record)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod decode;
mod error;
mod record;
#[cfg(feature = "kafka")]
pub mod runtime;

#[cfg(all(feature = "kafka", not(any(feature = "postgres", feature = "sqlite"))))]
compile_error!(
    "audit-consumer: the `kafka` runtime needs a deduplication backend: enable the feature \
     `postgres`, `sqlite` or both (e.g. `features = [\"postgres\"]`; each implies `kafka`)"
);

pub use audit_schema::{AuditEventType, AuditObjectDataRole, SchemaVersion, WriterSchema};
pub use decode::{
    AsyncWriterSchemaSource, LocalVersions, Writer, WriterSchemaSource, decode, decode_async,
    decode_single_object,
};
pub use error::{BoxError, Error};
pub use record::{
    AuditEvent, AuditRecord, Context, EventData, MessageMetadata, ObjectDataKind, RecordedObject,
    RecordedObjectData, SystemComponent, Trigger, User,
};
