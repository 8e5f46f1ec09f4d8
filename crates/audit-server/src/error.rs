//! The crate's error type, [`Error`]: a bad configuration, a failed start, a stopped server, a
//! Kafka record not stored.

use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can go wrong in the audit server: a bad configuration (naming the file,
/// variable or setting and the bad value; secrets are shown as `<redacted>`), a failed start
/// or serve, and why the Kafka handler did not store a record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file cannot be read.
    #[error("cannot read the configuration file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML/JSON or has an unknown or mistyped setting.
    #[error("invalid configuration file {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (names the setting).
        message: String,
    },
    /// An environment variable has a value the setting cannot take.
    #[error("environment variable {var}=`{value}` is invalid: expected {expected}")]
    Env {
        /// The variable.
        var: String,
        /// Its value (`<redacted>` for secrets), at most 200 characters.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// An `AUDIT_SERVER_*` variable that names no setting (a typo would otherwise be ignored).
    #[error("unknown environment variable {var}: no such AUDIT_SERVER_ setting")]
    UnknownEnv {
        /// The variable.
        var: String,
    },
    /// A setting is out of range or contradicts another.
    #[error("invalid setting {setting} = `{value}`: {reason}")]
    Invalid {
        /// The setting.
        setting: &'static str,
        /// Its value.
        value: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A JWT public-key file cannot be read or is not a PEM key of its algorithm.
    #[error("JWT key file {} ({algorithm}) is unusable: {reason}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// `RS256` or `ES256`.
        algorithm: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The store cannot be opened or migrated.
    #[error("audit store unavailable")]
    Store(#[from] audit_store::Error),
    /// Listening or serving failed.
    #[error("HTTP server I/O failed")]
    Io(#[from] std::io::Error),
    /// The Prometheus recorder cannot be installed.
    #[error("cannot install the Prometheus metrics recorder: {0}")]
    Metrics(String),
    /// The Kafka consumer (or its schema-registry client) cannot be created.
    #[error("cannot start Kafka ingestion: {operation}")]
    Kafka {
        /// What failed (`create the consumer`, `create the registry client`, ...).
        operation: &'static str,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A Kafka record was not stored because the ingestion queue is full (the handler's
    /// transient failure: the consumer retries the record, its offset is not committed).
    #[error("a Kafka record was not stored: the ingestion queue is full")]
    KafkaQueueFull,
    /// A Kafka record was not stored because the writer task stopped (shutdown); retried as
    /// [`KafkaQueueFull`](Self::KafkaQueueFull).
    #[error("a Kafka record was not stored: the writer task stopped")]
    KafkaWriterStopped,
    /// A Kafka record was not stored because the store refused or failed its batch; retried
    /// as [`KafkaQueueFull`](Self::KafkaQueueFull). The store's error is shared by every
    /// record of the batch.
    #[error("a Kafka record was not stored: the store failed the batch")]
    KafkaStoreFailed(#[source] Arc<audit_store::Error>),
}
