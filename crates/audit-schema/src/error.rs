//! The crate's one error type.

use crate::SchemaVersion;
use crate::rt::{DecodeError, DecodeErrorKind, EncodeError};

/// Everything that can go wrong in this crate. Decode errors name the value (`path`, Avro field
/// names, e.g. `payload.auditedData.objectData[2].value`) and the byte `offset` in the datum.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The datum ended before the value at `path` was complete.
    #[error("truncated datum at {path} (byte {offset})")]
    Truncated {
        /// the value being decoded
        path: String,
        /// byte offset where the incomplete item starts
        offset: usize,
    },
    /// A variable-length integer with more than 10 bytes or overflowing 64 bits.
    #[error("invalid variable-length integer at {path} (byte {offset})")]
    InvalidVarint {
        /// the value being decoded
        path: String,
        /// byte offset of the integer
        offset: usize,
    },
    /// An `int` outside the 32-bit range.
    #[error("int value {value} out of range at {path} (byte {offset})")]
    IntOutOfRange {
        /// the value being decoded
        path: String,
        /// byte offset
        offset: usize,
        /// the value read
        value: i64,
    },
    /// A negative string/bytes length.
    #[error("negative length {length} at {path} (byte {offset})")]
    NegativeLength {
        /// the value being decoded
        path: String,
        /// byte offset of the length
        offset: usize,
        /// the length read
        length: i64,
    },
    /// A string/bytes length (or block byte size) greater than the remaining datum.
    #[error("length {length} exceeds the remaining {remaining} bytes at {path} (byte {offset})")]
    LengthExceedsInput {
        /// the value being decoded
        path: String,
        /// byte offset of the length
        offset: usize,
        /// the length read
        length: u64,
        /// bytes left in the datum
        remaining: usize,
    },
    /// A string that is not UTF-8.
    #[error("invalid UTF-8 in string at {path} (byte {offset})")]
    InvalidUtf8 {
        /// the value being decoded
        path: String,
        /// byte offset of the string
        offset: usize,
    },
    /// A union branch index outside the union.
    #[error("union branch index {index} outside 0..{branches} at {path} (byte {offset})")]
    InvalidUnionIndex {
        /// the value being decoded
        path: String,
        /// byte offset of the index
        offset: usize,
        /// the index read
        index: i64,
        /// number of branches
        branches: usize,
    },
    /// An enum symbol index outside the enum.
    #[error("enum symbol index {index} outside 0..{symbols} at {path} (byte {offset})")]
    InvalidEnumIndex {
        /// the value being decoded
        path: String,
        /// byte offset of the index
        offset: usize,
        /// the index read
        index: i64,
        /// number of symbols
        symbols: usize,
    },
    /// An array/map block count that cannot fit into the remaining datum, or too many
    /// zero-size items.
    #[error("invalid array/map block count {count} at {path} (byte {offset})")]
    InvalidBlockCount {
        /// the value being decoded
        path: String,
        /// byte offset of the count
        offset: usize,
        /// the count read (0 when the limit of zero-size items was hit)
        count: i64,
    },
    /// A timestamp outside the range of `chrono::DateTime<Utc>`.
    #[error("timestamp {value} out of range at {path} (byte {offset})")]
    TimestampOutOfRange {
        /// the value being decoded
        path: String,
        /// byte offset
        offset: usize,
        /// the value read
        value: i64,
    },
    /// A writer enum symbol unknown to the reader enum, which has no default.
    #[error("enum symbol {symbol} unknown to the reader at {path} (byte {offset})")]
    UnknownSymbol {
        /// the value being decoded
        path: String,
        /// byte offset
        offset: usize,
        /// the writer's symbol
        symbol: String,
    },
    /// A writer union branch without a counterpart in the reader type.
    #[error("writer union branch {branch} has no reader counterpart at {path} (byte {offset})")]
    NoMatchingBranch {
        /// the value being decoded
        path: String,
        /// byte offset
        offset: usize,
        /// the writer branch type
        branch: String,
    },
    /// Bytes left after the top-level value.
    #[error("{remaining} trailing bytes after the datum (byte {offset})")]
    TrailingBytes {
        /// byte offset where the trailing bytes start
        offset: usize,
        /// number of trailing bytes
        remaining: usize,
    },
    /// Values nested deeper than the generic writer-schema path supports.
    #[error("values nested deeper than {depth} levels at {path} (byte {offset})")]
    NestingTooDeep {
        /// the value being decoded
        path: String,
        /// byte offset
        offset: usize,
        /// the limit
        depth: usize,
    },
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

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        let path = e.path().to_string();
        let offset = e.offset();
        match e.kind().clone() {
            DecodeErrorKind::UnexpectedEof => Self::Truncated { path, offset },
            DecodeErrorKind::VarintOverflow => Self::InvalidVarint { path, offset },
            DecodeErrorKind::IntOutOfRange(value) => Self::IntOutOfRange {
                path,
                offset,
                value,
            },
            DecodeErrorKind::NegativeLength(length) => Self::NegativeLength {
                path,
                offset,
                length,
            },
            DecodeErrorKind::LengthExceedsInput { length, remaining } => Self::LengthExceedsInput {
                path,
                offset,
                length,
                remaining,
            },
            DecodeErrorKind::InvalidUtf8 => Self::InvalidUtf8 { path, offset },
            DecodeErrorKind::UnionIndex { index, branches } => Self::InvalidUnionIndex {
                path,
                offset,
                index,
                branches,
            },
            DecodeErrorKind::EnumIndex { index, symbols } => Self::InvalidEnumIndex {
                path,
                offset,
                index,
                symbols,
            },
            DecodeErrorKind::BlockCountExceedsInput { count, .. } => Self::InvalidBlockCount {
                path,
                offset,
                count,
            },
            DecodeErrorKind::TooManyItems => Self::InvalidBlockCount {
                path,
                offset,
                count: 0,
            },
            DecodeErrorKind::TimestampOutOfRange(value) => Self::TimestampOutOfRange {
                path,
                offset,
                value,
            },
            DecodeErrorKind::UnknownSymbol(symbol) => Self::UnknownSymbol {
                path,
                offset,
                symbol: symbol.to_owned(),
            },
            DecodeErrorKind::NoMatchingBranch(branch) => Self::NoMatchingBranch {
                path,
                offset,
                branch: branch.to_owned(),
            },
            DecodeErrorKind::TrailingBytes(remaining) => Self::TrailingBytes { offset, remaining },
            DecodeErrorKind::NestingTooDeep(depth) => Self::NestingTooDeep {
                path,
                offset,
                depth,
            },
            DecodeErrorKind::Unvalidated => Self::IncompatibleSchema {
                reader: SchemaVersion::LATEST,
                message: format!(
                    "the input could not be validated at {path} (byte {offset}): built-in schema unavailable"
                ),
                source: None,
            },
        }
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

    /// The path of the value a decode error is about (e.g. `payload.trigger`), if any.
    #[must_use]
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Truncated { path, .. }
            | Self::InvalidVarint { path, .. }
            | Self::IntOutOfRange { path, .. }
            | Self::NegativeLength { path, .. }
            | Self::LengthExceedsInput { path, .. }
            | Self::InvalidUtf8 { path, .. }
            | Self::InvalidUnionIndex { path, .. }
            | Self::InvalidEnumIndex { path, .. }
            | Self::InvalidBlockCount { path, .. }
            | Self::TimestampOutOfRange { path, .. }
            | Self::UnknownSymbol { path, .. }
            | Self::NoMatchingBranch { path, .. }
            | Self::NestingTooDeep { path, .. }
            | Self::NotRepresentable { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The byte offset in the datum a decode error is about, if any.
    #[must_use]
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::Truncated { offset, .. }
            | Self::InvalidVarint { offset, .. }
            | Self::IntOutOfRange { offset, .. }
            | Self::NegativeLength { offset, .. }
            | Self::LengthExceedsInput { offset, .. }
            | Self::InvalidUtf8 { offset, .. }
            | Self::InvalidUnionIndex { offset, .. }
            | Self::InvalidEnumIndex { offset, .. }
            | Self::InvalidBlockCount { offset, .. }
            | Self::TimestampOutOfRange { offset, .. }
            | Self::UnknownSymbol { offset, .. }
            | Self::NoMatchingBranch { offset, .. }
            | Self::NestingTooDeep { offset, .. }
            | Self::TrailingBytes { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}
