//! Deduplication by idempotence id in a PostgreSQL or SQLite table, like jEAP's idempotent
//! message handler: the id is inserted in a database transaction that commits only when the
//! handler succeeded, so a record is either handled and remembered, or neither.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use sqlx::{PgPool, SqlitePool};

use crate::error::Error;

/// Rows deleted per housekeeping statement (one transaction per page).
const HOUSEKEEPING_PAGE: i64 = 1_000;

/// The PostgreSQL table (the columns of jEAP's `idempotent_processing` table).
pub const POSTGRES_DDL: &str = "CREATE TABLE IF NOT EXISTS idempotent_processing (
    id VARCHAR(255) NOT NULL,
    context VARCHAR(255) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (id, context))";

/// The SQLite table (`created_at` in milliseconds since the Unix epoch).
pub const SQLITE_DDL: &str = "CREATE TABLE IF NOT EXISTS idempotent_processing (
    id TEXT NOT NULL,
    context TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (id, context))";

#[derive(Debug, Clone)]
enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// The deduplication store: which idempotence ids a consumer (its `context`) has handled.
///
/// Semantics (jEAP's idempotent handler): for each record the runtime opens a transaction,
/// inserts `(idempotence id, context)` unless present, runs the handler, and commits the
/// transaction only if the handler succeeded. A present id means the record was handled before:
/// the handler is not called. A concurrent handling of the same id waits on the row lock
/// (PostgreSQL) or the write lock (SQLite; which also serializes handlers). A crash between the
/// handler's success and the commit leaves the id unrecorded, so that record is handled again:
/// side effects outside this database stay at-least-once within that window.
///
/// Rows older than the retention (default 7 days) are deleted by the runtime's housekeeping
/// (every hour by default) or by [`Dedup::delete_expired`].
#[derive(Debug, Clone)]
pub struct Dedup {
    db: Db,
    context: String,
    retention: Duration,
    housekeeping_interval: Duration,
}

/// What deduplicated processing did.
#[derive(Debug)]
pub(crate) enum DedupOutcome<E> {
    /// The handler ran and succeeded; the id is recorded.
    Handled,
    /// The id was recorded already; the handler did not run.
    Duplicate,
    /// The handler failed; the id stays unrecorded.
    Failed(E),
}

impl Dedup {
    /// A store in PostgreSQL; `context` separates consumers sharing the table (e.g. the group id).
    #[must_use]
    pub fn postgres(pool: PgPool, context: impl Into<String>) -> Self {
        Self::new(Db::Postgres(pool), context.into())
    }

    /// A store in SQLite; `context` separates consumers sharing the table (e.g. the group id).
    #[must_use]
    pub fn sqlite(pool: SqlitePool, context: impl Into<String>) -> Self {
        Self::new(Db::Sqlite(pool), context.into())
    }

    fn new(db: Db, context: String) -> Self {
        Self {
            db,
            context,
            retention: Duration::from_secs(7 * 24 * 3600),
            housekeeping_interval: Duration::from_secs(3600),
        }
    }

    /// How long recorded ids are kept (default 7 days). Redeliveries older than this are handled again.
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How often the runtime deletes expired ids (default 1 hour).
    #[must_use]
    pub fn housekeeping_interval(mut self, interval: Duration) -> Self {
        self.housekeeping_interval = interval;
        self
    }

    /// The configured housekeeping interval.
    #[must_use]
    pub fn housekeeping_every(&self) -> Duration {
        self.housekeeping_interval
    }

    /// The context this store records ids under.
    #[must_use]
    pub fn context(&self) -> &str {
        &self.context
    }

    /// Creates the `idempotent_processing` table if it does not exist ([`POSTGRES_DDL`], [`SQLITE_DDL`]).
    ///
    /// # Errors
    /// [`Error::Dedup`] if the statement fails.
    pub async fn migrate(&self) -> Result<(), Error> {
        let result = match &self.db {
            Db::Postgres(pool) => sqlx::query(POSTGRES_DDL).execute(pool).await.map(drop),
            Db::Sqlite(pool) => sqlx::query(SQLITE_DDL).execute(pool).await.map(drop),
        };
        result.map_err(|source| Error::Dedup {
            operation: "create table idempotent_processing",
            source,
        })
    }

    /// Whether `idempotence_id` is recorded for this context.
    ///
    /// # Errors
    /// [`Error::Dedup`] if the query fails.
    pub async fn contains(&self, idempotence_id: &str) -> Result<bool, Error> {
        let result = match &self.db {
            Db::Postgres(pool) => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM idempotent_processing WHERE id = $1 AND context = $2",
                )
                .bind(idempotence_id)
                .bind(&self.context)
                .fetch_one(pool)
                .await
            }
            Db::Sqlite(pool) => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM idempotent_processing WHERE id = ? AND context = ?",
                )
                .bind(idempotence_id)
                .bind(&self.context)
                .fetch_one(pool)
                .await
            }
        };
        result.map(|n| n > 0).map_err(|source| Error::Dedup {
            operation: "look up idempotence id",
            source,
        })
    }

    /// Deletes ids recorded before now minus the retention, page by page (one transaction per
    /// page). Returns the number of rows deleted.
    ///
    /// # Errors
    /// [`Error::Dedup`] if a statement fails (pages deleted before stay deleted).
    pub async fn delete_expired(&self) -> Result<u64, Error> {
        let retention = chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::MAX);
        let cutoff = Utc::now()
            .checked_sub_signed(retention)
            .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
        let mut total = 0;
        loop {
            let result = match &self.db {
                Db::Postgres(pool) => {
                    sqlx::query(
                        "DELETE FROM idempotent_processing WHERE ctid IN \
                         (SELECT ctid FROM idempotent_processing WHERE context = $1 AND created_at < $2 LIMIT $3)",
                    )
                    .bind(&self.context)
                    .bind(cutoff)
                    .bind(HOUSEKEEPING_PAGE)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
                }
                Db::Sqlite(pool) => sqlx::query(
                    "DELETE FROM idempotent_processing WHERE rowid IN \
                     (SELECT rowid FROM idempotent_processing WHERE context = ? AND created_at < ? LIMIT ?)",
                )
                .bind(&self.context)
                .bind(cutoff.timestamp_millis())
                .bind(HOUSEKEEPING_PAGE)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
            };
            let deleted = result.map_err(|source| Error::Dedup {
                operation: "delete expired idempotence ids",
                source,
            })?;
            total += deleted;
            if deleted < HOUSEKEEPING_PAGE.unsigned_abs() {
                return Ok(total);
            }
        }
    }

    /// Runs `handle` unless `idempotence_id` was handled before, recording the id in the same
    /// transaction that commits after `handle` succeeded.
    pub(crate) async fn process<F, Fut, E>(
        &self,
        idempotence_id: &str,
        handle: F,
    ) -> Result<DedupOutcome<E>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let db_err = |operation| move |source| Error::Dedup { operation, source };
        match &self.db {
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(db_err("begin transaction"))?;
                let inserted = sqlx::query(
                    "INSERT INTO idempotent_processing (id, context, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(idempotence_id)
                .bind(&self.context)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await
                .map_err(db_err("record idempotence id"))?
                .rows_affected();
                if inserted == 0 {
                    tx.rollback().await.map_err(db_err("rollback"))?;
                    return Ok(DedupOutcome::Duplicate);
                }
                match handle().await {
                    Ok(()) => {
                        tx.commit().await.map_err(db_err("commit idempotence id"))?;
                        Ok(DedupOutcome::Handled)
                    }
                    Err(e) => {
                        tx.rollback().await.map_err(db_err("rollback"))?;
                        Ok(DedupOutcome::Failed(e))
                    }
                }
            }
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await.map_err(db_err("begin transaction"))?;
                let inserted =
                    sqlx::query("INSERT OR IGNORE INTO idempotent_processing (id, context, created_at) VALUES (?, ?, ?)")
                        .bind(idempotence_id)
                        .bind(&self.context)
                        .bind(Utc::now().timestamp_millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err("record idempotence id"))?
                        .rows_affected();
                if inserted == 0 {
                    tx.rollback().await.map_err(db_err("rollback"))?;
                    return Ok(DedupOutcome::Duplicate);
                }
                match handle().await {
                    Ok(()) => {
                        tx.commit().await.map_err(db_err("commit idempotence id"))?;
                        Ok(DedupOutcome::Handled)
                    }
                    Err(e) => {
                        tx.rollback().await.map_err(db_err("rollback"))?;
                        Ok(DedupOutcome::Failed(e))
                    }
                }
            }
        }
    }
}
