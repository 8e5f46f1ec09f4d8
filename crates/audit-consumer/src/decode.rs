//! Decoding Kafka record values (Confluent wire format) and single-object encoded bytes.

use audit_schema::{CreateAuditRecordCommand, SchemaVersion, confluent, single_object};

use crate::error::{BoxError, Error};
use crate::record::AuditRecord;

/// The writer-schema seam, defined in `audit_schema::registry` so that a registry client
/// (`audit_registry::RegistryClient`) implements it without depending on this crate.
pub use audit_schema::registry::{AsyncWriterSchemaSource, Writer, WriterSchemaSource};

/// The locally known schema versions, under the registry ids a deployment uses for them.
///
/// ```
/// use audit_consumer::{LocalVersions, SchemaVersion};
/// let versions = LocalVersions::new().with_id(11, SchemaVersion::V1_0_0).with_id(42, SchemaVersion::V1_0_2);
/// assert_eq!(versions.version_for_id(42), Some(SchemaVersion::V1_0_2));
/// assert_eq!(versions.version_for_id(7), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalVersions {
    // a handful of ids: a linear scan beats hashing
    by_id: Vec<(u32, SchemaVersion)>,
}

impl LocalVersions {
    /// No ids configured.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps the registry id `schema_id` to `version` (replacing an earlier mapping of that id).
    #[must_use]
    pub fn with_id(mut self, schema_id: u32, version: SchemaVersion) -> Self {
        match self.by_id.iter_mut().find(|(id, _)| *id == schema_id) {
            Some(entry) => entry.1 = version,
            None => self.by_id.push((schema_id, version)),
        }
        self
    }

    /// The version configured for `schema_id`.
    #[must_use]
    pub fn version_for_id(&self, schema_id: u32) -> Option<SchemaVersion> {
        self.by_id
            .iter()
            .find(|(id, _)| *id == schema_id)
            .map(|&(_, version)| version)
    }

    /// The known version whose Parsing Canonical Form has the CRC-64-AVRO `fingerprint`
    /// (what single-object encoding carries).
    #[must_use]
    pub fn version_for_fingerprint(&self, fingerprint: u64) -> Option<SchemaVersion> {
        SchemaVersion::from_fingerprint(fingerprint)
    }
}

impl WriterSchemaSource for LocalVersions {
    fn writer_schema(&self, schema_id: u32) -> Result<Option<Writer>, BoxError> {
        Ok(self.version_for_id(schema_id).map(Writer::Version))
    }
}

/// Decodes a Kafka record value (Confluent wire format: `0x00`, 4-byte big-endian schema id, Avro
/// datum) written with any schema `source` knows, and flattens it into an [`AuditRecord`].
///
/// # Errors
/// [`Error::TruncatedHeader`], [`Error::WrongMagicByte`], [`Error::UnknownSchemaId`],
/// [`Error::SchemaLookup`], [`Error::IncompatibleWriterSchema`], [`Error::MalformedDatum`].
///
/// ```
/// use audit_consumer::{decode, Error, LocalVersions, SchemaVersion};
/// let versions = LocalVersions::new().with_id(1, SchemaVersion::V1_0_2);
/// assert!(matches!(decode(&[1, 0, 0, 0, 1], &versions), Err(Error::WrongMagicByte { found: 1, .. })));
/// assert!(matches!(decode(&[0, 0, 0, 0, 9, 0], &versions), Err(Error::UnknownSchemaId { schema_id: 9 })));
/// ```
pub fn decode(
    record_value: &[u8],
    source: &(impl WriterSchemaSource + ?Sized),
) -> Result<AuditRecord, Error> {
    let (schema_id, datum) = unframe(record_value)?;
    let writer = resolved(schema_id, source.writer_schema(schema_id))?;
    decode_datum(schema_id, datum, writer)
}

/// [`decode`] with an [`AsyncWriterSchemaSource`]: same bytes, same errors.
///
/// # Errors
/// As [`decode`].
///
/// ```
/// use audit_consumer::{decode_async, Error, LocalVersions};
/// # let run = async {
/// let result = decode_async(&[0, 0, 0, 0, 9, 0], &LocalVersions::new()).await;
/// assert!(matches!(result, Err(Error::UnknownSchemaId { schema_id: 9 })));
/// # };
/// # let mut run = std::pin::pin!(run);
/// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// # while run.as_mut().poll(&mut cx).is_pending() {}
/// ```
pub async fn decode_async(
    record_value: &[u8],
    source: &(impl AsyncWriterSchemaSource + ?Sized),
) -> Result<AuditRecord, Error> {
    decode_async_with_writer(record_value, source)
        .await
        .map(|decoded| decoded.record)
}

/// A record decoded by [`decode_async_with_writer`], with the writer it was decoded with.
// (only the Kafka runtime reads the writer)
#[cfg_attr(not(feature = "kafka"), allow(dead_code))]
pub(crate) struct Decoded {
    pub(crate) record: AuditRecord,
    /// The Confluent schema id of the record value's header.
    pub(crate) schema_id: u32,
    /// The published version of the writer schema, when the source answered with one
    /// ([`Writer::Version`]) or the parsed schema has the canonical form of one
    /// ([`WriterSchema::known_version`](audit_schema::WriterSchema::known_version)).
    pub(crate) writer_version: Option<SchemaVersion>,
}

/// [`decode_async`], also telling the schema id and the writer's published version (the same
/// single lookup, nothing allocated beyond the decode's own).
pub(crate) async fn decode_async_with_writer(
    record_value: &[u8],
    source: &(impl AsyncWriterSchemaSource + ?Sized),
) -> Result<Decoded, Error> {
    let (schema_id, datum) = unframe(record_value)?;
    let writer = resolved(schema_id, source.fetch_writer_schema(schema_id).await)?;
    let writer_version = match &writer {
        Writer::Version(version) => Some(*version),
        Writer::Schema(schema) => schema.known_version(),
    };
    let record = decode_datum(schema_id, datum, writer)?;
    Ok(Decoded {
        record,
        schema_id,
        writer_version,
    })
}

/// Splits the Confluent header off.
fn unframe(record_value: &[u8]) -> Result<(u32, &[u8]), Error> {
    confluent::unframe(record_value).map_err(|source| match record_value.first() {
        Some(&found) if found != 0 => Error::WrongMagicByte { found, source },
        _ => Error::TruncatedHeader {
            len: record_value.len(),
            source,
        },
    })
}

/// Turns a source's answer into the writer or the matching error.
fn resolved(schema_id: u32, lookup: Result<Option<Writer>, BoxError>) -> Result<Writer, Error> {
    match lookup {
        Ok(Some(writer)) => Ok(writer),
        Ok(None) => Err(Error::UnknownSchemaId { schema_id }),
        Err(source) if is_incompatible(&*source) => {
            Err(Error::IncompatibleWriterSchema { schema_id, source })
        }
        Err(source) => Err(Error::SchemaLookup { schema_id, source }),
    }
}

/// Decodes the datum with its writer and flattens it.
fn decode_datum(schema_id: u32, datum: &[u8], writer: Writer) -> Result<AuditRecord, Error> {
    let command = match writer {
        Writer::Version(version) => CreateAuditRecordCommand::from_avro_datum_as(datum, version)
            .map_err(|source| Error::MalformedDatum {
                writer: format!("id {schema_id} (version {})", version.as_str()),
                source,
            })?,
        Writer::Schema(schema) => schema
            .decode(datum)
            .map_err(|source| classify(schema_id, source))?,
    };
    Ok(AuditRecord::from(command))
}

/// Decodes single-object encoded bytes (`0xC3 0x01`, 8-byte little-endian fingerprint, Avro
/// datum) written with one of the known versions.
///
/// # Errors
/// [`Error::MalformedSingleObject`], [`Error::UnknownFingerprint`], [`Error::MalformedDatum`].
///
/// ```
/// use audit_consumer::{decode_single_object, Error};
/// assert!(matches!(decode_single_object(&[0xC3]), Err(Error::MalformedSingleObject { .. })));
/// ```
pub fn decode_single_object(bytes: &[u8]) -> Result<AuditRecord, Error> {
    let (fingerprint, datum) =
        single_object::unframe(bytes).map_err(|source| Error::MalformedSingleObject { source })?;
    let version = SchemaVersion::from_fingerprint(fingerprint)
        .ok_or(Error::UnknownFingerprint { fingerprint })?;
    let command =
        CreateAuditRecordCommand::from_avro_datum_as(datum, version).map_err(|source| {
            Error::MalformedDatum {
                writer: format!("version {}", version.as_str()),
                source,
            }
        })?;
    Ok(AuditRecord::from(command))
}

/// Splits a decode failure with a parsed writer schema into "cannot be resolved" and "bad bytes".
fn classify(schema_id: u32, source: audit_schema::Error) -> Error {
    if matches!(source, audit_schema::Error::IncompatibleSchema { .. }) {
        Error::IncompatibleWriterSchema {
            schema_id,
            source: Box::new(source),
        }
    } else {
        Error::MalformedDatum {
            writer: format!("id {schema_id}"),
            source,
        }
    }
}

/// True when `error` or one of its sources is [`audit_schema::Error::IncompatibleSchema`]
/// (what [`audit_schema::WriterSchema::parse`] reports for a schema whose data cannot be read).
fn is_incompatible(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if matches!(
            e.downcast_ref::<audit_schema::Error>(),
            Some(audit_schema::Error::IncompatibleSchema { .. })
        ) {
            return true;
        }
        current = e.source();
    }
    false
}
