//! The crate's one error type.

use crate::rt::DecodeError;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The publisher identity of the error events is blank (jEAP refuses to build the event).
    #[error("the error event's publisher {field} is blank")]
    BlankPublisher {
        /// `"system"` or `"service"`
        field: &'static str,
    },
    /// An error event or key datum that does not decode: what, at which value (path of Avro
    /// field names) and at which byte offset.
    #[error("cannot decode the {what} datum {source}")]
    Decode {
        /// `"MessageProcessingFailedEvent"` or `"MessageProcessingFailedMessageKey"`
        what: &'static str,
        /// the decode error
        #[source]
        source: DecodeError,
    },
    /// A record value that is not a Confluent frame, or a command that does not decode with any
    /// known version (see [`crate::decode_command`]).
    #[error("{context}: {source}")]
    Schema {
        /// what was being read
        context: &'static str,
        /// audit-schema's error
        #[source]
        source: audit_schema::Error,
    },
}
