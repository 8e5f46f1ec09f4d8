//! The generic writer-schema path: the only module that uses apache-avro.
//!
//! Writer schemas whose Parsing Canonical Form matches a known version take the generated fast
//! path; any other writer schema is parsed by apache-avro, checked for compatibility with the
//! newest schema, and its data resolved by apache-avro into the newest schema, re-encoded and
//! decoded by the generated decoder (so the result is always the typed value).

use std::sync::OnceLock;

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::writer::datum::GenericDatumWriter;

use crate::{CreateAuditRecordCommand, Error, SchemaVersion, canonical};

/// A writer schema, e.g. fetched from a schema registry for a message's schema id.
///
/// ```
/// use audit_schema::{SchemaVersion, WriterSchema};
///
/// let writer = WriterSchema::parse(SchemaVersion::V1_0_0.schema_json())?;
/// // 1.0.0 and 1.0.1 differ only in an enum default, which the canonical form strips
/// assert_eq!(writer.known_version(), Some(SchemaVersion::V1_0_1));
/// assert_eq!(writer.fingerprint(), SchemaVersion::V1_0_0.fingerprint());
/// # Ok::<(), audit_schema::Error>(())
/// ```
#[derive(Debug)]
pub struct WriterSchema {
    fingerprint: u64,
    known: Option<SchemaVersion>,
    generic: Option<Schema>,
}

fn boxed(e: apache_avro::Error) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(e)
}

/// The newest schema, parsed once by apache-avro.
fn reader_schema() -> Result<&'static Schema, Error> {
    static READER: OnceLock<Result<Schema, String>> = OnceLock::new();
    READER
        .get_or_init(|| {
            Schema::parse_str(SchemaVersion::LATEST.schema_json()).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|message| Error::IncompatibleSchema {
            reader: SchemaVersion::LATEST,
            message: format!("the built-in schema does not parse: {message}"),
            source: None,
        })
}

impl WriterSchema {
    /// Parses a writer schema (the raw `.avsc` / registry text).
    ///
    /// # Errors
    /// [`Error::Canonical`] / [`Error::InvalidSchema`] for an invalid schema,
    /// [`Error::IncompatibleSchema`] when data written with it cannot be read into the types.
    pub fn parse(json: &str) -> Result<Self, Error> {
        let pcf = canonical::parsing_canonical_form(json)?;
        let fingerprint = canonical::fingerprint(&pcf);
        if let Some(v) = SchemaVersion::from_fingerprint(fingerprint) {
            return Ok(Self {
                fingerprint,
                known: Some(v),
                generic: None,
            });
        }
        let writer = Schema::parse_str(json).map_err(|e| Error::InvalidSchema {
            message: e.to_string(),
            source: boxed(e),
        })?;
        let reader = reader_schema()?;
        SchemaCompatibility::can_read(&writer, reader).map_err(|e| Error::IncompatibleSchema {
            reader: SchemaVersion::LATEST,
            message: e.to_string(),
            source: Some(Box::new(e)),
        })?;
        Ok(Self {
            fingerprint,
            known: None,
            generic: Some(writer),
        })
    }

    /// The known version with the same Parsing Canonical Form, if any (the newest of the
    /// wire-identical versions).
    #[must_use]
    pub fn known_version(&self) -> Option<SchemaVersion> {
        self.known
    }

    /// The CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form.
    #[must_use]
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Decodes a datum written with this schema into the newest types.
    ///
    /// # Errors
    /// A typed decode error (known versions), or [`Error::GenericDecode`] /
    /// [`Error::TrailingBytes`] on the generic path.
    pub fn decode(&self, datum: &[u8]) -> Result<CreateAuditRecordCommand, Error> {
        match (&self.known, &self.generic) {
            (Some(v), _) => CreateAuditRecordCommand::from_avro_datum_as(datum, *v),
            (None, Some(writer)) => decode_generic(writer, datum),
            (None, None) => Err(Error::IncompatibleSchema {
                reader: SchemaVersion::LATEST,
                message: "no writer schema".into(),
                source: None,
            }),
        }
    }
}

fn decode_generic(writer: &Schema, datum: &[u8]) -> Result<CreateAuditRecordCommand, Error> {
    let reader = reader_schema()?;
    let generic = |e: apache_avro::Error| Error::GenericDecode {
        message: e.to_string(),
        source: boxed(e),
    };
    let mut input = datum;
    let value = GenericDatumReader::builder(writer)
        .reader_schema(reader)
        .build()
        .map_err(generic)?
        .read_value(&mut input)
        .map_err(generic)?;
    if !input.is_empty() {
        return Err(Error::TrailingBytes {
            offset: datum.len() - input.len(),
            remaining: input.len(),
        });
    }
    let bytes = GenericDatumWriter::builder(reader)
        .build()
        .map_err(generic)?
        .write_value_to_vec(value)
        .map_err(generic)?;
    CreateAuditRecordCommand::from_avro_datum(&bytes)
}
