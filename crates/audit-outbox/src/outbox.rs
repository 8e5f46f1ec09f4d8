//! The outbox handle: migrations, enqueue, operator API.

use std::sync::Arc;

use crate::store::Wake;
use sqlx::{Pool, Transaction};
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::message::{OutboxMessage, TRACEPARENT_HEADER, encode_headers};
use crate::store::{Backend, FailedMessage, OutboxCounts};

/// The outbox in one database. Cheap to clone.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use audit_outbox::{Outbox, OutboxMessage};
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let outbox = Outbox::new(pool.clone());
/// outbox.migrate().await?;
///
/// let mut tx = pool.begin().await?;
/// // ... the business writes in `tx` ...
/// outbox.enqueue(&mut tx, &OutboxMessage::new("audit", b"framed avro".to_vec())).await?;
/// tx.commit().await?;
/// assert_eq!(outbox.counts().await?.pending, 1);
/// # Ok(()) }
/// ```
pub struct Outbox<DB: Backend> {
    pub(crate) pool: Pool<DB>,
    pub(crate) wake: Arc<Wake>,
}

impl<DB: Backend> Clone for Outbox<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            wake: Arc::clone(&self.wake),
        }
    }
}

impl<DB: Backend> std::fmt::Debug for Outbox<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

/// The headers as stored: the message's own, plus the current `traceparent` when it has none.
fn stored_headers(message: &OutboxMessage) -> Vec<u8> {
    if message.headers.iter().any(|(n, _)| n == TRACEPARENT_HEADER) {
        encode_headers(&message.headers)
    } else if let Some(tp) = crate::trace::current_traceparent() {
        let mut h = message.headers.clone();
        h.push((TRACEPARENT_HEADER.to_owned(), tp.into_bytes()));
        encode_headers(&h)
    } else {
        encode_headers(&message.headers)
    }
}

impl<DB: Backend> Outbox<DB> {
    /// An outbox on this pool (the same pool the application writes its business rows with, or
    /// any pool on the same database).
    pub fn new(pool: Pool<DB>) -> Self {
        Self {
            pool,
            wake: Arc::new(Wake::default()),
        }
    }

    /// The pool.
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Applies the shipped migrations that are not applied yet (recorded in
    /// `audit_outbox_migration`; safe to call from several processes at once).
    pub async fn migrate(&self) -> Result<()> {
        DB::apply_migrations(&self.pool).await
    }

    /// Writes `message` into the caller's open transaction and returns the row id.
    ///
    /// Never opens or commits a transaction: the row becomes visible to the relay when the caller
    /// commits, and disappears with a rollback. When the message has no `traceparent` header, the
    /// current trace context (see [`crate::trace`]) is stored.
    pub async fn enqueue(
        &self,
        tx: &mut Transaction<'_, DB>,
        message: &OutboxMessage,
    ) -> Result<i64> {
        let span = tracing::debug_span!("outbox enqueue", topic = %message.topic, message_id = %message.message_id);
        message.validate()?;
        let headers = stored_headers(message);
        let conn: &mut DB::Connection = tx;
        let id = DB::insert(conn, message, &headers, &self.wake)
            .instrument(span)
            .await
            .map_err(Error::db("enqueue"))?;
        metrics::counter!(crate::metrics::ENQUEUED).increment(1);
        Ok(id)
    }

    /// Writes several messages into the caller's open transaction at once (PostgreSQL: one
    /// statement) and returns their row ids in input order. Same rules as [`Outbox::enqueue`];
    /// an invalid message fails the whole call before anything is written.
    pub async fn enqueue_all(
        &self,
        tx: &mut Transaction<'_, DB>,
        messages: &[OutboxMessage],
    ) -> Result<Vec<i64>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let span = tracing::debug_span!("outbox enqueue", rows = messages.len());
        for m in messages {
            m.validate()?;
        }
        let headers: Vec<Vec<u8>> = messages.iter().map(stored_headers).collect();
        let conn: &mut DB::Connection = tx;
        let ids = DB::insert_many(conn, messages, &headers, &self.wake)
            .instrument(span)
            .await
            .map_err(Error::db("enqueue"))?;
        metrics::counter!(crate::metrics::ENQUEUED).increment(ids.len() as u64);
        Ok(ids)
    }

    /// Rows per state.
    pub async fn counts(&self) -> Result<OutboxCounts> {
        DB::counts(&self.pool).await.map_err(Error::db("count"))
    }

    /// Number of rows that failed permanently.
    pub async fn count_failed(&self) -> Result<u64> {
        Ok(self.counts().await?.failed)
    }

    /// Failed rows with an id greater than `after_id`, in id order, at most `limit` (page through
    /// with the last id seen).
    pub async fn list_failed(&self, after_id: i64, limit: u32) -> Result<Vec<FailedMessage>> {
        DB::list_failed(&self.pool, after_id, i64::from(limit))
            .await
            .map_err(Error::db("list failed"))
    }

    /// Makes one failed row pending again (attempts reset, `resend_requested_at` set). Returns
    /// whether a failed row with this id existed.
    pub async fn resend(&self, id: i64) -> Result<bool> {
        let n = DB::resend(&self.pool, Some(id))
            .await
            .map_err(Error::db("resend"))?;
        self.wake.notify_one();
        Ok(n > 0)
    }

    /// Makes every failed row pending again; returns how many.
    pub async fn resend_all_failed(&self) -> Result<u64> {
        let n = DB::resend(&self.pool, None)
            .await
            .map_err(Error::db("resend"))?;
        self.wake.notify_one();
        Ok(n)
    }

    /// Reads the row counts and sets the backlog and failed gauges.
    pub async fn refresh_gauges(&self) -> Result<OutboxCounts> {
        let c = self.counts().await?;
        metrics::gauge!(crate::metrics::BACKLOG).set(audit_support::count_to_f64(c.ready));
        metrics::gauge!(crate::metrics::FAILED).set(audit_support::count_to_f64(c.failed));
        Ok(c)
    }
}
