//! Generated Rust types and a byte-exact, fast Avro codec for jEAP's `CreateAuditRecordCommand`.
//!
//! The types are generated at build time from the newest schema in `avro/` (see
//! [`SchemaVersion`]); every known older version can be read ([`CreateAuditRecordCommand::from_avro_datum_as`])
//! and written ([`CreateAuditRecordCommand::to_avro_datum_as`]); any other writer schema, e.g.
//! one from a registry, goes through [`WriterSchema`].
//!
//! # Quick start
//!
//! ```
//! use audit_schema::*;
//! use chrono::{TimeZone, Utc};
//!
//! let at = Utc.with_ymd_and_hms(2026, 5, 28, 8, 0, 0).unwrap();
//! let cmd = CreateAuditRecordCommand {
//!     identity: AvroMessageIdentity { id: "7d1c".into(), idempotence_id: "JME-audit-READ-u1-2026-05-28T08:00:00Z".into(), created: at },
//!     r#type: AvroMessageType { name: "CreateAuditRecordCommand".into(), version: SCHEMA_VERSION.into(), variant: None },
//!     publisher: AvroMessagePublisher { system: "JME".into(), service: "audit".into() },
//!     references: CreateAuditRecordCommandReferences {},
//!     payload: CreateAuditRecordCommandPayload {
//!         timestamp: at,
//!         event: AuditEventDetails { r#type: AuditEventType::Read, context: None, event_data: None },
//!         trigger: AuditTrigger::AuditUser(AuditUser { id: "u1".into(), identity_provider: "idp".into() }),
//!         audited_data: None,
//!     },
//!     process_id: None,
//!     command_version: "1.3.0".into(),
//! };
//!
//! // Avro binary datum, framed for Kafka with a registry schema id
//! let datum = cmd.to_avro_datum();
//! let record_value = confluent::frame(17, &datum);
//!
//! let (schema_id, datum) = confluent::unframe(&record_value)?;
//! assert_eq!(schema_id, 17);
//! assert_eq!(CreateAuditRecordCommand::from_avro_datum(datum)?, cmd);
//!
//! // data from an older producer
//! let old = cmd.to_avro_datum_as(SchemaVersion::V1_0_0)?;
//! assert_eq!(CreateAuditRecordCommand::from_avro_datum_as(&old, SchemaVersion::V1_0_0)?, cmd);
//! println!("{}", json::to_json_string_pretty(&cmd));
//! # Ok::<(), audit_schema::Error>(())
//! ```

// the generated code reaches the runtime crate as `crate::rt`
use audit_avro_runtime as rt;

/// The decode error of [`Error::Decode`]: what ([`DecodeError::kind`]), which value
/// ([`DecodeError::path`], Avro field names) and where ([`DecodeError::offset`], the byte offset
/// in the datum).
pub use rt::{DecodeError, DecodeErrorKind, Path as DecodePath, PathSeg};

#[allow(dead_code)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}

/// Heap bytes a decoder allocates at most beyond the input's size before it has validated the
/// whole input: a decoder that reaches this bound first validates the input without allocating,
/// so malformed input fails within `input size + DECODE_ALLOC_SLACK` bytes of heap (plus its
/// error), while valid input decodes whatever its size.
pub const DECODE_ALLOC_SLACK: usize = rt::ALLOC_SLACK;

/// Parses the built-in schemas that decoders validate whole inputs with (see
/// [`DECODE_ALLOC_SLACK`]) and the reader schema of the generic writer-schema path
/// ([`WriterSchema::decode`]). Otherwise the first decode that needs them parses them, once per
/// process (a few hundred KB of heap, kept); call this at start-up to keep that out of any decode.
pub fn prepare_decoders() {
    avro::prepare();
}

mod avro;
pub use audit_avro_model::canonical;
mod codec;
mod error;
mod framing;
pub mod json;
pub mod registry;

pub use avro::WriterSchema;
/// The string type of the generated types' string fields (re-exported, so users need no
/// dependency of their own): a `String`-like owned string that keeps up to 24 bytes inline.
/// Build one with `.into()` from `&str` or `String`, or with [`format_compact!`]; it derefs to `&str`.
pub use compact_str::{self, CompactString, ToCompactString, format_compact};
pub use error::Error;
pub use framing::{confluent, single_object};
pub use generated::*;

/// Full name (namespace + name) of the command record: the `{record}` part of Confluent's
/// record-name subjects, e.g. TopicRecordNameStrategy `{topic}-{COMMAND_FULL_NAME}` (jEAP's default).
pub const COMMAND_FULL_NAME: &str =
    "ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand";

#[cfg(test)]
mod tests {
    #[test]
    fn command_full_name_is_the_schemas() -> Result<(), serde_json::Error> {
        for version in crate::SchemaVersion::ALL {
            let schema: serde_json::Value = serde_json::from_str(version.schema_json())?;
            let full = format!(
                "{}.{}",
                schema
                    .get("namespace")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default(),
                schema
                    .get("name")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
            );
            assert_eq!(full, super::COMMAND_FULL_NAME, "{version}");
        }
        Ok(())
    }
}
