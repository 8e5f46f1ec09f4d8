//! The crate's one error type.

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A database statement failed.
    #[error("audit store database operation `{operation}` failed")]
    Database {
        /// What the store was doing (e.g. `write batch`, `query`, `retention`).
        operation: &'static str,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// A migration script failed.
    #[error("audit store migration `{name}` failed")]
    Migration {
        /// The migration file name.
        name: &'static str,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// The URL given to [`AuditStore::connect`](crate::AuditStore::connect) names no backend
    /// this build supports.
    #[error(
        "unsupported audit store URL scheme in `{scheme}`: expected `postgres://`, \
         `postgresql://` (feature `postgres`) or `sqlite:` (feature `sqlite`)"
    )]
    UnsupportedUrl {
        /// The scheme part of the URL (everything before the first `:`), never the credentials.
        scheme: String,
    },
    /// The URL names a backend whose feature is not enabled in this build.
    #[error(
        "the audit store backend `{backend}` is not compiled in: enable the feature `{backend}`"
    )]
    BackendNotCompiled {
        /// `postgres` or `sqlite`.
        backend: &'static str,
    },
    /// The cursor is not one this store issued (bad encoding, unknown version).
    #[error("invalid cursor: {reason}")]
    InvalidCursor {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The cursor was issued for another filter, sort order or access: it cannot continue this
    /// query.
    #[error("the cursor belongs to another filter or access scope")]
    CursorMismatch,
    /// The page size is zero or above [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE).
    #[error("invalid page size {size}: must be between 1 and {max}")]
    InvalidPageSize {
        /// The requested size.
        size: u32,
        /// The largest allowed size.
        max: u32,
    },
    /// A timestamp cannot be represented by the store (outside the range of microseconds since
    /// 1970 in an `i64`).
    #[error("timestamp `{field}` is out of the store's range")]
    TimestampOutOfRange {
        /// Which timestamp (e.g. `filter.from`, `record.timestamp`).
        field: &'static str,
    },
    /// An audit record cannot be rendered as a JSON document.
    #[error("audit record `{message_id}` cannot be rendered as JSON")]
    Document {
        /// The record's message id.
        message_id: String,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// A stored row cannot be read back (written by something else than this crate).
    #[error("stored audit record {id} is corrupt: {reason}")]
    Corrupt {
        /// The row id.
        id: i64,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    pub(crate) fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { operation, source }
    }
}

/// `Result` with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
