//! The crate's one error type.

use crate::SchemaVersion;
use crate::rt::{DecodeError, DecodeErrorKind, EncodeError};

/// Everything that can go wrong in this crate. Decode errors name the value (`path`, Avro field
/// names, e.g. `payload.auditedData.objectData[2].value`) and the byte `offset` in the datum.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A datum that does not decode (truncated, malformed, or with values the reader cannot
    /// take): what, at which value (path of Avro field names) and at which byte offset.
    #[error("cannot decode the datum {0}")]
    Decode(DecodeError),
    /// The value cannot be written with an older writer schema (e.g. a `null` where the older
    /// schema has a plain string).
    #[error("value at {path} is not representable in schema version {version}: {reason}")]
    NotRepresentable {
        /// the target writer version
        version: SchemaVersion,
        /// the value
        path: String,
        /// why
        reason: &'static str,
    },
    /// A frame shorter than its header.
    #[error("{format} frame too short: {len} bytes, the header alone has {needed}")]
    FrameTooShort {
        /// `"Confluent"` or `"single-object"`
        format: &'static str,
        /// bytes needed for the header
        needed: usize,
        /// bytes present
        len: usize,
    },
    /// A frame with the wrong magic bytes.
    #[error("{format} frame has wrong magic bytes {found:02x?} (expected {expected:02x?})")]
    WrongMagic {
        /// `"Confluent"` or `"single-object"`
        format: &'static str,
        /// the expected magic
        expected: &'static [u8],
        /// what the frame starts with
        found: Vec<u8>,
    },
    /// A schema text that is not a valid Avro schema.
    #[error("invalid Avro schema: {0}")]
    Canonical(#[from] crate::canonical::CanonicalError),
    /// A writer schema apache-avro rejects.
    #[error("invalid writer schema: {message}")]
    InvalidSchema {
        /// what is wrong
        message: String,
        /// the underlying apache-avro error
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A writer schema whose data cannot be read into the current types.
    #[error("writer schema is incompatible with schema version {reader}: {message}")]
    IncompatibleSchema {
        /// the reader version (the newest)
        reader: SchemaVersion,
        /// why
        message: String,
        /// the underlying apache-avro error, if any
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Decoding with a (non-built-in) writer schema through apache-avro failed.
    #[error("decoding with the writer schema failed: {message}")]
    GenericDecode {
        /// what failed
        message: String,
        /// the underlying apache-avro error
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// JSON that does not describe a command.
    #[error("invalid command JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A failed decode is [`Error::Decode`], except for an input that needed validation against a
/// built-in schema that is unavailable (the reader cannot judge it: [`Error::IncompatibleSchema`]).
impl From<DecodeError> for Error {
    // the error path: kept out of the decoders the generated code inlines it into
    #[cold]
    #[inline(never)]
    fn from(e: DecodeError) -> Self {
        if matches!(e.kind(), DecodeErrorKind::Unvalidated) {
            return Self::IncompatibleSchema {
                reader: SchemaVersion::LATEST,
                message: format!(
                    "the input could not be validated at {} (byte {}): built-in schema unavailable",
                    e.path(),
                    e.offset()
                ),
                source: None,
            };
        }
        Self::Decode(e)
    }
}

impl Error {
    pub(crate) fn not_representable(version: SchemaVersion, e: EncodeError) -> Self {
        Self::NotRepresentable {
            version,
            path: e.path.to_string(),
            reason: e.reason,
        }
    }

    /// The path of the value a decode or encode error is about (e.g. `payload.trigger`), if any.
    #[must_use]
    pub fn path(&self) -> Option<String> {
        match self {
            Self::Decode(e) => Some(e.path().to_string()),
            Self::NotRepresentable { path, .. } => Some(path.clone()),
            _ => None,
        }
    }

    /// The byte offset in the datum a decode error is about, if any.
    #[must_use]
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::Decode(e) => Some(e.offset()),
            _ => None,
        }
    }
}
