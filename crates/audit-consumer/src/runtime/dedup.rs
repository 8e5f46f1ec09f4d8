//! Deduplication by idempotence id in a PostgreSQL or SQLite table, like jEAP's idempotent
//! message handler: the id is inserted in a database transaction that commits only when the
//! handler succeeded, so a record is either handled and remembered, or neither.
//!
//! The table is created by versioned migrations ([`POSTGRES_MIGRATIONS`], [`SQLITE_MIGRATIONS`],
//! files in `migrations/<backend>/`) applied by [`Dedup::migrate`] and recorded in
//! `audit_consumer_migration`.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
#[cfg(feature = "postgres")]
use sqlx::PgPool;
#[cfg(feature = "sqlite")]
use sqlx::SqlitePool;

use crate::error::Error;

/// Rows deleted per housekeeping statement (one transaction per page).
const HOUSEKEEPING_PAGE: i64 = 1_000;

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

/// The PostgreSQL migrations (the columns of jEAP's `idempotent_processing` table).
pub const POSTGRES_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "0001_idempotent_processing.sql",
    sql: include_str!("../../migrations/postgres/0001_idempotent_processing.sql"),
}];

/// The SQLite migrations (`created_at` in milliseconds since the Unix epoch).
pub const SQLITE_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "0001_idempotent_processing.sql",
    sql: include_str!("../../migrations/sqlite/0001_idempotent_processing.sql"),
}];

#[derive(Clone)]
enum Db {
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
}

/// The open deduplication transaction handed to a [`TxHandler`](super::TxHandler): the record's
/// idempotence id is inserted in it, not committed yet. Write the handler's effects through it
/// (`&mut **tx` is the connection); the runtime commits it after the handler returned it.
pub enum DedupTx {
    /// A PostgreSQL transaction.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    /// A SQLite transaction: it holds the database's write lock from the marker insert on, so
    /// write to the same database through it, never through another connection (that one would
    /// wait for this lock until its busy timeout).
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

impl std::fmt::Debug for DedupTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => "DedupTx::Postgres",
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => "DedupTx::Sqlite",
        })
    }
}

impl DedupTx {
    /// The PostgreSQL connection of the transaction, if this is PostgreSQL.
    #[cfg(feature = "postgres")]
    pub fn postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(tx) => Some(&mut **tx),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => None,
        }
    }

    /// The SQLite connection of the transaction, if this is SQLite.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(tx) => Some(&mut **tx),
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => None,
        }
    }

    pub(crate) async fn commit(self) -> Result<(), Error> {
        let result = match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(tx) => tx.commit().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(tx) => tx.commit().await,
        };
        result.map_err(|source| Error::Dedup {
            operation: "commit idempotence id",
            source,
        })
    }
}

/// The deduplication store: which idempotence ids a consumer (its `context`) has handled.
///
/// Semantics (jEAP's idempotent handler): for each record the runtime opens a transaction,
/// inserts `(idempotence id, context)` unless present, runs the handler, and commits the
/// transaction only if the handler succeeded. A present id means the record was handled before:
/// the handler is not called. A concurrent handling of the same id waits on the row lock
/// (PostgreSQL) or the write lock (SQLite; which also serializes handlers).
///
/// What is exactly-once:
/// - With [`AuditConsumer::run_in_transaction`](super::AuditConsumer::run_in_transaction) the
///   handler writes its effects through the same transaction ([`DedupTx`]): effects in the
///   deduplication database and the id commit or roll back together, so they happen **exactly
///   once per idempotence id** (within the retention), whatever crashes, redeliveries or
///   rebalances happen. A failed commit rolls both back and the record is handled again
///   (a transient failure, retried): still once in the database.
/// - With [`AuditConsumer::run`](super::AuditConsumer::run) the handler does not see the
///   transaction: its effects are **at-least-once**. A crash (or a failed commit) after the
///   handler succeeded and before the id committed leaves the id unrecorded, and the handler runs
///   again for that record. On SQLite a handler of `run` that writes to the deduplication
///   database itself through another connection waits on the transaction's write lock until
///   its busy timeout (and is retried): use `run_in_transaction` for that.
/// - Effects outside the deduplication database (HTTP calls, other databases, Kafka) are
///   at-least-once in both modes.
///
/// Rows older than the retention (default 7 days) are deleted by the runtime's housekeeping
/// (every hour by default) or by [`Dedup::delete_expired`].
#[derive(Clone)]
pub struct Dedup {
    db: Db,
    context: String,
    retention: Duration,
    housekeeping_interval: Duration,
}

impl std::fmt::Debug for Dedup {
    /// Names the backend only: a pool's connect options would print the database password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedup")
            .field(
                "db",
                &match self.db {
                    #[cfg(feature = "postgres")]
                    Db::Postgres(_) => "postgres",
                    #[cfg(feature = "sqlite")]
                    Db::Sqlite(_) => "sqlite",
                },
            )
            .field("context", &self.context)
            .field("retention", &self.retention)
            .field("housekeeping_interval", &self.housekeeping_interval)
            .finish()
    }
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
    #[cfg(feature = "postgres")]
    pub fn postgres(pool: PgPool, context: impl Into<String>) -> Self {
        Self::new(Db::Postgres(pool), context.into())
    }

    /// A store in SQLite; `context` separates consumers sharing the table (e.g. the group id).
    #[must_use]
    #[cfg(feature = "sqlite")]
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

    /// Applies the shipped migrations that are not applied yet ([`POSTGRES_MIGRATIONS`],
    /// [`SQLITE_MIGRATIONS`]), recorded in `audit_consumer_migration`, in one transaction (on
    /// PostgreSQL under an advisory lock: safe to call from several processes at once).
    ///
    /// # Errors
    /// [`Error::Dedup`] if a statement fails (nothing is applied then).
    pub async fn migrate(&self) -> Result<(), Error> {
        let err = |operation| move |source| Error::Dedup { operation, source };
        match &self.db {
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(err("migrate"))?;
                sqlx::query("SELECT pg_advisory_xact_lock(7284512094)")
                    .execute(&mut *tx)
                    .await
                    .map_err(err("migrate"))?;
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS audit_consumer_migration (
                        version BIGINT PRIMARY KEY, name TEXT NOT NULL,
                        applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                )
                .execute(&mut *tx)
                .await
                .map_err(err("migrate"))?;
                for m in POSTGRES_MIGRATIONS {
                    let done: Option<i64> = sqlx::query_scalar(
                        "SELECT version FROM audit_consumer_migration WHERE version = $1",
                    )
                    .bind(m.version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err("migrate"))?;
                    if done.is_some() {
                        continue;
                    }
                    sqlx::raw_sql(m.sql)
                        .execute(&mut *tx)
                        .await
                        .map_err(err(m.name))?;
                    sqlx::query(
                        "INSERT INTO audit_consumer_migration (version, name) VALUES ($1, $2)",
                    )
                    .bind(m.version)
                    .bind(m.name)
                    .execute(&mut *tx)
                    .await
                    .map_err(err("migrate"))?;
                }
                tx.commit().await.map_err(err("migrate"))
            }
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await.map_err(err("migrate"))?;
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS audit_consumer_migration (
                        version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                        applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
                )
                .execute(&mut *tx)
                .await
                .map_err(err("migrate"))?;
                for m in SQLITE_MIGRATIONS {
                    let done: Option<i64> = sqlx::query_scalar(
                        "SELECT version FROM audit_consumer_migration WHERE version = ?",
                    )
                    .bind(m.version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err("migrate"))?;
                    if done.is_some() {
                        continue;
                    }
                    sqlx::raw_sql(m.sql)
                        .execute(&mut *tx)
                        .await
                        .map_err(err(m.name))?;
                    sqlx::query(
                        "INSERT INTO audit_consumer_migration (version, name) VALUES (?, ?)",
                    )
                    .bind(m.version)
                    .bind(m.name)
                    .execute(&mut *tx)
                    .await
                    .map_err(err("migrate"))?;
                }
                tx.commit().await.map_err(err("migrate"))
            }
        }
    }

    /// Opens the transaction for one record and inserts its id: `None` if the id is recorded
    /// already (a duplicate; nothing is held open then).
    pub(crate) async fn begin(&self, idempotence_id: &str) -> Result<Option<DedupTx>, Error> {
        let db_err = |operation| move |source| Error::Dedup { operation, source };
        match &self.db {
            #[cfg(feature = "postgres")]
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
                    return Ok(None);
                }
                Ok(Some(DedupTx::Postgres(tx)))
            }
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await.map_err(db_err("begin transaction"))?;
                let inserted = sqlx::query(
                    "INSERT OR IGNORE INTO idempotent_processing (id, context, created_at) VALUES (?, ?, ?)",
                )
                .bind(idempotence_id)
                .bind(&self.context)
                .bind(Utc::now().timestamp_millis())
                .execute(&mut *tx)
                .await
                .map_err(db_err("record idempotence id"))?
                .rows_affected();
                if inserted == 0 {
                    tx.rollback().await.map_err(db_err("rollback"))?;
                    return Ok(None);
                }
                Ok(Some(DedupTx::Sqlite(tx)))
            }
        }
    }

    /// Whether `idempotence_id` is recorded for this context.
    ///
    /// # Errors
    /// [`Error::Dedup`] if the query fails.
    pub async fn contains(&self, idempotence_id: &str) -> Result<bool, Error> {
        let result = match &self.db {
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM idempotent_processing WHERE id = $1 AND context = $2",
                )
                .bind(idempotence_id)
                .bind(&self.context)
                .fetch_one(pool)
                .await
            }
            #[cfg(feature = "sqlite")]
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
                #[cfg(feature = "postgres")]
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
                #[cfg(feature = "sqlite")]
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
    /// transaction that commits after `handle` succeeded (`handle` does not see the transaction).
    pub(crate) async fn process<F, Fut, E>(
        &self,
        idempotence_id: &str,
        handle: F,
    ) -> Result<DedupOutcome<E>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let Some(tx) = self.begin(idempotence_id).await? else {
            return Ok(DedupOutcome::Duplicate);
        };
        match handle().await {
            Ok(()) => {
                tx.commit().await?;
                Ok(DedupOutcome::Handled)
            }
            Err(e) => {
                let rollback = match tx {
                    #[cfg(feature = "postgres")]
                    DedupTx::Postgres(tx) => tx.rollback().await,
                    #[cfg(feature = "sqlite")]
                    DedupTx::Sqlite(tx) => tx.rollback().await,
                };
                rollback.map_err(|source| Error::Dedup {
                    operation: "rollback",
                    source,
                })?;
                Ok(DedupOutcome::Failed(e))
            }
        }
    }
}
