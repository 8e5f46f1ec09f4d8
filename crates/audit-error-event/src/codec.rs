//! Avro binary codec of the event and the key, Confluent framing, subject names, and the
//! best-effort decoding of a failed record's value as a `CreateAuditRecordCommand`.

use audit_schema::{CreateAuditRecordCommand, SchemaVersion, confluent};

use crate::rt::Reader;
use crate::{EVENT_FULL_NAME, Error, KEY_FULL_NAME};
use crate::{MessageProcessingFailedEvent, MessageProcessingFailedMessageKey};

const EVENT: &str = "MessageProcessingFailedEvent";
const KEY: &str = "MessageProcessingFailedMessageKey";

impl MessageProcessingFailedEvent {
    /// Encodes the event (Avro binary datum, no framing), byte-identical to Java's encoding.
    #[must_use]
    pub fn to_avro_datum(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            512 + self.payload.original_message.len()
                + self.payload.original_key.as_ref().map_or(0, Vec::len)
                + self.payload.stack_trace.as_ref().map_or(0, String::len),
        );
        self.avro_encode(&mut out);
        out
    }

    /// Appends the datum to `out`, e.g. after a framing header.
    pub fn encode_datum(&self, out: &mut Vec<u8>) {
        self.avro_encode(out);
    }

    /// Decodes a datum written with the event schema. Trailing bytes are an error. Every
    /// length is checked against the remaining input before anything is allocated.
    ///
    /// # Errors
    /// [`Error::Decode`] naming the value (path) and byte offset.
    pub fn from_avro_datum(bytes: &[u8]) -> Result<Self, Error> {
        let decode = |source| Error::Decode {
            what: EVENT,
            source,
        };
        let mut r = Reader::new(bytes);
        let mut v = Self::AVRO_EMPTY;
        v.avro_decode_into(&mut r).map_err(decode)?;
        r.finish().map_err(decode)?;
        Ok(v)
    }
}

impl MessageProcessingFailedMessageKey {
    /// Encodes the key (Avro binary datum, no framing).
    #[must_use]
    pub fn to_avro_datum(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.key.len());
        self.avro_encode(&mut out);
        out
    }

    /// Appends the datum to `out`.
    pub fn encode_datum(&self, out: &mut Vec<u8>) {
        self.avro_encode(out);
    }

    /// Decodes a datum written with the key schema. Trailing bytes are an error.
    ///
    /// # Errors
    /// [`Error::Decode`] naming the value (path) and byte offset.
    pub fn from_avro_datum(bytes: &[u8]) -> Result<Self, Error> {
        let decode = |source| Error::Decode { what: KEY, source };
        let mut r = Reader::new(bytes);
        let mut v = Self::AVRO_EMPTY;
        v.avro_decode_into(&mut r).map_err(decode)?;
        r.finish().map_err(decode)?;
        Ok(v)
    }
}

/// The subject of the event's value schema on `topic` under TopicRecordNameStrategy (jEAP's
/// strategy for keys and values): `{topic}-ch.admin.bit.jeap.messaging.avro.errorevent.MessageProcessingFailedEvent`.
#[must_use]
pub fn value_subject(topic: &str) -> String {
    format!("{topic}-{EVENT_FULL_NAME}")
}

/// The subject of the key schema on `topic` under TopicRecordNameStrategy:
/// `{topic}-ch.admin.bit.jeap.messaging.avro.errorevent.MessageProcessingFailedMessageKey`.
#[must_use]
pub fn key_subject(topic: &str) -> String {
    format!("{topic}-{KEY_FULL_NAME}")
}

fn unframe<'a>(bytes: &'a [u8], context: &'static str) -> Result<(u32, &'a [u8]), Error> {
    confluent::unframe(bytes).map_err(|source| Error::Schema { context, source })
}

/// Splits a Confluent-framed error-topic value into its schema id and the decoded event.
///
/// # Errors
/// [`Error::Schema`] for a value that is not a Confluent frame, [`Error::Decode`] for a datum
/// that does not decode with the event schema.
pub fn decode_framed_value(bytes: &[u8]) -> Result<(u32, MessageProcessingFailedEvent), Error> {
    let (id, datum) = unframe(bytes, "error event value")?;
    Ok((id, MessageProcessingFailedEvent::from_avro_datum(datum)?))
}

/// Splits a Confluent-framed error-topic key into its schema id and the decoded key.
///
/// # Errors
/// As [`decode_framed_value`].
pub fn decode_framed_key(bytes: &[u8]) -> Result<(u32, MessageProcessingFailedMessageKey), Error> {
    let (id, datum) = unframe(bytes, "error event key")?;
    Ok((
        id,
        MessageProcessingFailedMessageKey::from_avro_datum(datum)?,
    ))
}

/// A record value read as a `CreateAuditRecordCommand` by [`decode_command`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedCommand {
    /// The schema id of the Confluent frame.
    pub schema_id: u32,
    /// The first known writer version (newest first) the datum decodes with completely.
    pub version: SchemaVersion,
    /// The command.
    pub command: CreateAuditRecordCommand,
}

/// Reads a Confluent-framed record value (e.g. an error event's `payload.originalMessage`) as a
/// `CreateAuditRecordCommand`, without a registry: the datum is decoded with each known writer
/// version, newest first, and the first that reads it completely (no trailing bytes) wins. The
/// versions share the layout of `identity`, `type` and `publisher`, which is what the error
/// event takes from the command.
///
/// # Errors
/// [`Error::Schema`]: the value is not a Confluent frame, or no known version decodes it (the
/// error of the newest version).
pub fn decode_command(value: &[u8]) -> Result<DecodedCommand, Error> {
    let (schema_id, datum) = unframe(value, "failed record value")?;
    let mut first_error = None;
    for &version in SchemaVersion::ALL.iter().rev() {
        match CreateAuditRecordCommand::from_avro_datum_as(datum, version) {
            Ok(command) => {
                return Ok(DecodedCommand {
                    schema_id,
                    version,
                    command,
                });
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(Error::Schema {
        context: "the failed record value is not a CreateAuditRecordCommand of a known version",
        source: first_error.unwrap_or(audit_schema::Error::FrameTooShort {
            format: "Confluent",
            needed: confluent::HEADER_LEN,
            len: value.len(),
        }),
    })
}
