//! The crate's one error type.

use audit_schema::CreateAuditRecordCommand;

/// Everything that can go wrong in the publisher. Kafka being slow or down is not an error of
/// the publisher: commands wait in the SQLite outbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The settings are invalid.
    #[error("invalid publisher configuration: {0}")]
    Config(String),
    /// The queue is full (policy [`WhenFull::Reject`](crate::WhenFull::Reject), or the wait of
    /// [`WhenFull::Wait`](crate::WhenFull::Wait) ran out): the command is given back.
    #[error("the publisher's queue is full; the command was not accepted")]
    QueueFull(Box<CreateAuditRecordCommand>),
    /// The publisher is shut down (or its writer has ended): the command is given back.
    #[error("the publisher is shut down; the command was not accepted")]
    Closed(Box<CreateAuditRecordCommand>),
    /// The command cannot be stored (empty message id or idempotence id).
    #[error("invalid audit command: {0}")]
    InvalidCommand(&'static str),
    /// The SQLite outbox (opening, migrating) or the relay failed.
    #[error("outbox")]
    Outbox(#[from] audit_outbox::Error),
    /// The SQLite database cannot be opened.
    #[error("cannot open the SQLite outbox")]
    Database(#[source] sqlx::Error),
    /// The writer did not write the queue to SQLite within the shutdown timeout; `unwritten`
    /// commands were still queued.
    #[error("shutdown: {unwritten} queued commands not written to SQLite within the timeout")]
    ShutdownTimeout {
        /// Commands that were still queued.
        unwritten: u64,
    },
    /// The writer task ended abnormally.
    #[error("the publisher's writer task ended abnormally")]
    WriterTask(#[source] tokio::task::JoinError),
}

impl Error {
    /// The command given back by [`Error::QueueFull`] and [`Error::Closed`].
    pub fn into_command(self) -> Option<CreateAuditRecordCommand> {
        match self {
            Error::QueueFull(c) | Error::Closed(c) => Some(*c),
            _ => None,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
