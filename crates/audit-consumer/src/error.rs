//! The crate's single error type.

/// A boxed error from a [`WriterSchemaSource`](crate::WriterSchemaSource) implementation (the
/// workspace's one definition, [`audit_support::BoxError`]).
pub use audit_support::BoxError;

/// Everything that can go wrong while decoding a record value or reading a record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The record value is shorter than the 5-byte Confluent header (magic byte + schema id).
    #[error(
        "record value has {len} bytes, fewer than the 5-byte Confluent header (magic byte 0x00 + schema id)"
    )]
    TruncatedHeader {
        /// Length of the record value.
        len: usize,
        /// The framing error.
        #[source]
        source: audit_schema::Error,
    },
    /// The record value does not start with the Confluent magic byte `0x00`.
    #[error("wrong magic byte {found:#04x}: expected 0x00 (Confluent wire format)")]
    WrongMagicByte {
        /// The first byte found.
        found: u8,
        /// The framing error.
        #[source]
        source: audit_schema::Error,
    },
    /// The writer-schema source does not know the schema id.
    #[error("unknown writer schema id {schema_id}")]
    UnknownSchemaId {
        /// The schema id from the record header.
        schema_id: u32,
    },
    /// The writer-schema source failed to look the schema id up (e.g. the registry is unreachable).
    #[error("looking up writer schema id {schema_id} failed")]
    SchemaLookup {
        /// The schema id from the record header.
        schema_id: u32,
        /// The source's error.
        #[source]
        source: BoxError,
    },
    /// The writer schema cannot be resolved against this reader's schema (reported by the source
    /// while parsing the schema, or by the decoder).
    #[error("writer schema id {schema_id} is incompatible with the reader schema {reader}", reader = audit_schema::SCHEMA_VERSION)]
    IncompatibleWriterSchema {
        /// The schema id from the record header.
        schema_id: u32,
        /// Why resolution failed (an [`audit_schema::Error::IncompatibleSchema`] in its chain).
        #[source]
        source: BoxError,
    },
    /// The Avro datum does not decode with its writer schema (truncated, corrupt or hostile bytes).
    #[error("malformed Avro datum for writer schema {writer}")]
    MalformedDatum {
        /// The writer schema: `id N` or `version X.Y.Z`.
        writer: String,
        /// The decoder's error (names the field path).
        #[source]
        source: audit_schema::Error,
    },
    /// The single-object header is missing or malformed.
    #[error("malformed single-object header")]
    MalformedSingleObject {
        /// The framing error.
        #[source]
        source: audit_schema::Error,
    },
    /// No known schema version has this single-object fingerprint.
    #[error("unknown writer schema fingerprint {fingerprint:#018x}")]
    UnknownFingerprint {
        /// The CRC-64-AVRO fingerprint from the header.
        fingerprint: u64,
    },
    /// A JSON object-data entry does not hold a JSON document.
    #[error("object-data entry {name:?} does not hold valid JSON")]
    InvalidJson {
        /// The entry's name.
        name: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A Kafka client operation of the consumer runtime failed.
    #[cfg(feature = "kafka")]
    #[error("kafka: {operation} failed")]
    Kafka {
        /// What the runtime was doing, e.g. `"create consumer"`, `"subscribe"`, `"commit offsets"`.
        operation: &'static str,
        /// The client's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// A database operation of the runtime's deduplication store failed.
    #[cfg(feature = "kafka")]
    #[error("deduplication store: {operation} failed")]
    Dedup {
        /// What the store was doing, e.g. `"migrate"`, `"record idempotence id"`.
        operation: &'static str,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// The runtime configuration is invalid.
    #[cfg(feature = "kafka")]
    #[error("invalid consumer runtime configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// The signature verification configuration ([`ConsumerConfig::signature_verification`](crate::runtime::ConsumerConfig::signature_verification))
    /// is invalid: a certificate that does not parse, an empty chain, ...
    #[cfg(feature = "kafka")]
    #[error("invalid signature verification configuration")]
    SignatureConfig {
        /// The verifier's error.
        #[source]
        source: audit_signing::Error,
    },
    /// A record failed permanently (or its signature was rejected, also with a temporary
    /// rejection) and no error topic is configured to take it: the runtime stops (after
    /// committing what was processed before it) rather than skip it silently.
    #[cfg(feature = "kafka")]
    #[error(
        "record {topic}/{partition}@{offset} failed permanently and no error topic is configured"
    )]
    PermanentFailure {
        /// Topic of the record.
        topic: String,
        /// Partition of the record.
        partition: i32,
        /// Offset of the record.
        offset: i64,
        /// Why it failed.
        #[source]
        source: BoxError,
    },
}
