//! Storage backends: one trait, one implementation per database.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Pool;
use tokio::sync::Notify;

use crate::message::OutboxMessage;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

/// Wakes a relay: notified by the LISTEN task (PostgreSQL) or the commit hook (SQLite).
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Wake {
    notify: Notify,
}

impl Wake {
    pub(crate) fn notify_one(&self) {
        self.notify.notify_one();
    }

    pub(crate) async fn notified(&self) {
        self.notify.notified().await;
    }
}

/// One migration script shipped with the crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Version number (applied in ascending order).
    pub version: i64,
    /// File name below `migrations/<backend>/`.
    pub name: &'static str,
    /// The SQL text.
    pub sql: &'static str,
}

/// The PostgreSQL migrations (also readable as files in `migrations/postgres/`).
pub const POSTGRES_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "0001_audit_outbox.sql",
    sql: include_str!("../../migrations/postgres/0001_audit_outbox.sql"),
}];

/// The SQLite migrations (also readable as files in `migrations/sqlite/`).
pub const SQLITE_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "0001_audit_outbox.sql",
    sql: include_str!("../../migrations/sqlite/0001_audit_outbox.sql"),
}];

/// A row claimed by a relay (internal).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct ClaimedRow {
    pub id: i64,
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<u8>,
    pub attempts: i32,
    pub enqueued_at: DateTime<Utc>,
}

/// A row that failed permanently, as shown to operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedMessage {
    /// Outbox row id.
    pub id: i64,
    /// Kafka topic.
    pub topic: String,
    /// Message id.
    pub message_id: String,
    /// Idempotence id.
    pub idempotence_id: String,
    /// Message type name.
    pub type_name: String,
    /// Delivery attempts made before the failure (transient ones included).
    pub attempts: i32,
    /// When the row was marked failed.
    pub failed_at: DateTime<Utc>,
    /// Why (the broker's or the client's error).
    pub reason: String,
}

/// Counts of rows per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Not yet sent and not failed (includes rows in back-off and claimed rows).
    pub pending: u64,
    /// Pending rows whose next attempt is due (not in back-off): the backlog gauge.
    pub ready: u64,
    /// Sent (until housekeeping deletes them).
    pub sent: u64,
    /// Failed permanently.
    pub failed: u64,
}

mod sealed {
    pub trait Sealed {}
}

/// A database the outbox can live in: `sqlx::Postgres` (feature `postgres`) or `sqlx::Sqlite`
/// (feature `sqlite`). Sealed: the methods are the outbox's internal SQL.
pub trait Backend: sqlx::Database + sealed::Sealed {
    /// The migrations of this backend.
    const MIGRATIONS: &'static [Migration];

    #[doc(hidden)]
    fn apply_migrations(pool: &Pool<Self>) -> impl Future<Output = crate::Result<()>> + Send;

    #[doc(hidden)]
    fn insert(
        conn: &mut Self::Connection,
        message: &OutboxMessage,
        headers: &[u8],
        wake: &Arc<Wake>,
    ) -> impl Future<Output = Result<i64, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn insert_many(
        conn: &mut Self::Connection,
        messages: &[OutboxMessage],
        headers: &[Vec<u8>],
        wake: &Arc<Wake>,
    ) -> impl Future<Output = Result<Vec<i64>, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn claim(
        pool: &Pool<Self>,
        relay_id: &str,
        limit: i64,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<ClaimedRow>, sqlx::Error>> + Send;

    // Every status change after a claim is conditional on the claim token (`claimed_by`) and
    // returns the number of rows it changed: a relay whose claim was taken over changes nothing.

    #[doc(hidden)]
    fn mark_sent(
        pool: &Pool<Self>,
        token: &str,
        ids: &[i64],
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn mark_retry(
        pool: &Pool<Self>,
        token: &str,
        ids: &[i64],
        delay: Duration,
        error: &str,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn mark_failed(
        pool: &Pool<Self>,
        token: &str,
        id: i64,
        reason: &str,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    /// Releases the claim of these rows (still held with `token`), e.g. after the task settling
    /// them panicked.
    #[doc(hidden)]
    fn release_ids(
        pool: &Pool<Self>,
        token: &str,
        ids: &[i64],
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn release(
        pool: &Pool<Self>,
        relay_id: &str,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn counts(pool: &Pool<Self>) -> impl Future<Output = Result<OutboxCounts, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn list_failed(
        pool: &Pool<Self>,
        after_id: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<FailedMessage>, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn resend(
        pool: &Pool<Self>,
        id: Option<i64>,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn delete_sent_page(
        pool: &Pool<Self>,
        older_than: Duration,
        page: i64,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn delete_failed_page(
        pool: &Pool<Self>,
        older_than: Duration,
        page: i64,
    ) -> impl Future<Output = Result<Vec<(i64, String)>, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn spawn_listener(
        pool: &Pool<Self>,
        wake: Arc<Wake>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>>;
}

/// `d` in milliseconds as a float parameter of PostgreSQL interval arithmetic
/// (`interval '1 millisecond' * $n`).
#[cfg(feature = "postgres")]
pub(crate) fn millis_f64(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(feature = "postgres")]
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
