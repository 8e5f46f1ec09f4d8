//! Confluent-framed encoding and decoding of the command through the registry.

use std::sync::OnceLock;

use audit_schema::{CreateAuditRecordCommand, SchemaVersion, confluent};

use crate::client::RegistryClient;
use crate::error::Error;

/// Encodes commands for one topic: Confluent framing (magic byte 0, 4-byte big-endian schema id)
/// followed by the Avro datum.
///
/// The id comes from the pinned configuration, the client's cache or the registry
/// (register-or-get under the subject of the configured strategy); once known it is kept in the
/// encoder, so warm encoding never calls the registry.
#[derive(Debug, Clone)]
pub struct CommandEncoder {
    client: RegistryClient,
    subject: String,
    writer: SchemaVersion,
    id: OnceLock<u32>,
}

impl CommandEncoder {
    /// An encoder for `topic`, writing with the newest schema version.
    pub fn new(client: RegistryClient, topic: &str) -> Self {
        let subject = client.command_subject(topic);
        Self {
            client,
            subject,
            writer: SchemaVersion::LATEST,
            id: OnceLock::new(),
        }
    }

    /// Writes with an older schema version instead (its layout and its registered id).
    pub fn with_writer_version(mut self, writer: SchemaVersion) -> Self {
        self.writer = writer;
        self.id = OnceLock::new();
        self
    }

    /// The subject the schema is registered under.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The writer schema version.
    pub fn writer_version(&self) -> SchemaVersion {
        self.writer
    }

    /// The schema id written into the frame (resolved once, then kept).
    pub async fn schema_id(&self) -> Result<u32, Error> {
        if let Some(id) = self.id.get() {
            return Ok(*id);
        }
        let id = self
            .client
            .schema_id(&self.subject, self.writer.schema_json())
            .await?;
        Ok(*self.id.get_or_init(|| id))
    }

    /// Encodes `command` into a Confluent-framed message value.
    pub async fn encode(&self, command: &CreateAuditRecordCommand) -> Result<Vec<u8>, Error> {
        let id = self.schema_id().await?;
        let mut out = Vec::with_capacity(256);
        confluent::write_header(id, &mut out);
        if self.writer == SchemaVersion::LATEST {
            command.encode_datum(&mut out);
        } else {
            out.extend_from_slice(&command.to_avro_datum_as(self.writer)?);
        }
        Ok(out)
    }
}

/// Decodes Confluent-framed message values written with any registered writer schema.
///
/// The writer schema is fetched by id once and cached; writer schemas that are one of the known
/// versions (matched by Parsing Canonical Form fingerprint) decode on the generated fast path,
/// others through generic Avro schema resolution.
#[derive(Debug, Clone)]
pub struct CommandDecoder {
    client: RegistryClient,
}

/// A decoded command with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The command.
    pub command: CreateAuditRecordCommand,
    /// The schema id from the frame.
    pub schema_id: u32,
    /// The known schema version the writer schema matched, if any.
    pub writer_version: Option<SchemaVersion>,
}

impl CommandDecoder {
    /// A decoder using `client` for writer schemas.
    pub fn new(client: RegistryClient) -> Self {
        Self { client }
    }

    /// Decodes a Confluent-framed value.
    pub async fn decode(&self, bytes: &[u8]) -> Result<CreateAuditRecordCommand, Error> {
        self.decode_with_info(bytes).await.map(|d| d.command)
    }

    /// Decodes a Confluent-framed value and reports the schema id and writer version.
    pub async fn decode_with_info(&self, bytes: &[u8]) -> Result<Decoded, Error> {
        let (schema_id, datum) = confluent::unframe(bytes)?;
        let writer = self.client.writer_schema(schema_id).await?;
        let command = writer.decode(datum)?;
        Ok(Decoded {
            command,
            schema_id,
            writer_version: writer.known_version(),
        })
    }
}
