//! The crate's one error type.

use std::time::Duration;

/// Everything that can go wrong in the outbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A database statement failed.
    #[error("outbox database operation `{operation}` failed")]
    Database {
        /// What the outbox was doing (e.g. `enqueue`, `claim`, `mark sent`).
        operation: &'static str,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// A migration script failed.
    #[error("outbox migration `{name}` failed")]
    Migration {
        /// The migration file name.
        name: &'static str,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// The message to enqueue is invalid.
    #[error("invalid outbox message: {0}")]
    InvalidMessage(String),
    /// The configuration is invalid (detected at start-up).
    #[error("invalid outbox configuration: {0}")]
    Config(String),
    /// Signing is configured but the signer cannot be built (key and certificate do not match,
    /// the certificate's CN is not the service, unreadable key or certificate): the relay does
    /// not start.
    #[error("record signing is configured but the signer cannot be built")]
    Signing(#[source] audit_signing::Error),
    /// The Kafka producer could not be created.
    #[error("cannot create the Kafka producer")]
    Producer(#[source] rdkafka::error::KafkaError),
    /// The stored headers of a row cannot be read.
    #[error("stored headers of outbox row {id} are corrupt: {reason}")]
    CorruptHeaders {
        /// The row id.
        id: i64,
        /// What is wrong.
        reason: &'static str,
    },
    /// Building the audit command failed (a jEAP builder rule was violated).
    #[error("cannot build the audit command")]
    Build(#[from] audit_builder::Error),
    /// A schema id could not be obtained.
    #[error("cannot obtain the schema id for subject `{subject}`")]
    SchemaId {
        /// The subject asked for.
        subject: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The relay task ended abnormally.
    #[error("the relay task ended abnormally")]
    RelayTask(#[source] tokio::task::JoinError),
    /// Shutting down did not finish in time.
    #[error("shutdown did not finish within {0:?}")]
    ShutdownTimeout(Duration),
}

impl Error {
    pub(crate) fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
        move |source| Error::Database { operation, source }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
