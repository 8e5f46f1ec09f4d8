//! [`AuditStore`]: one API over both backends.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt as _, TryStreamExt as _};

use crate::error::{Error, Result};
use crate::query::{self, Access, Cursor, Dialect, Page, Param, RecordFilter, Sql};
use crate::record::{Columns, IncomingRecord, StoredRecord, WriteOutcome, ceil_micros};

/// Rows per page of [`AuditStore::export`].
const EXPORT_PAGE: u32 = 1_000;

/// The audit trail's storage on PostgreSQL or SQLite. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct AuditStore {
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

/// What one [`AuditStore::delete_older_than`] run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionReport {
    /// The cut-off: records with an event time strictly before it were deleted.
    pub cutoff: DateTime<Utc>,
    /// Records deleted.
    pub deleted: u64,
    /// Delete statements that deleted at least one record.
    pub pages: u64,
}

/// Counts for a status page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStats {
    /// Stored records.
    pub records: u64,
    /// When the most recently received record arrived.
    pub last_received: Option<DateTime<Utc>>,
}

/// Runs `$body` with `$pool` bound to the backend's pool and `$m` to its module.
macro_rules! dispatch {
    ($self:expr, $pool:ident, $m:ident => $body:expr) => {
        match &$self.inner {
            #[cfg(feature = "postgres")]
            Inner::Postgres($pool) => {
                #[allow(unused_imports)]
                use crate::postgres as $m;
                $body
            }
            #[cfg(feature = "sqlite")]
            Inner::Sqlite($pool) => {
                #[allow(unused_imports)]
                use crate::sqlite as $m;
                $body
            }
        }
    };
}

impl AuditStore {
    /// A store in this PostgreSQL database.
    #[cfg(feature = "postgres")]
    #[must_use]
    pub fn postgres(pool: sqlx::PgPool) -> Self {
        Self {
            inner: Inner::Postgres(pool),
        }
    }

    /// A store in this SQLite database.
    #[cfg(feature = "sqlite")]
    #[must_use]
    pub fn sqlite(pool: sqlx::SqlitePool) -> Self {
        Self {
            inner: Inner::Sqlite(pool),
        }
    }

    /// Connects by URL: `postgres://...` / `postgresql://...` or `sqlite:...` (the file is
    /// created when missing; WAL journal, 5 s busy timeout, `synchronous = FULL`, 64 MiB page
    /// cache per connection).
    ///
    /// # Errors
    /// [`Error::UnsupportedUrl`], [`Error::BackendNotCompiled`], or [`Error::Database`] when
    /// the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "postgres" | "postgresql" => Self::connect_postgres(url).await,
            "sqlite" => Self::connect_sqlite(url).await,
            _ => Err(Error::UnsupportedUrl {
                scheme: scheme.chars().take(32).collect(),
            }),
        }
    }

    #[cfg(feature = "postgres")]
    async fn connect_postgres(url: &str) -> Result<Self> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .connect(url)
            .await
            .map_err(Error::db("connect"))?;
        Ok(Self::postgres(pool))
    }

    #[cfg(not(feature = "postgres"))]
    #[allow(clippy::unused_async)]
    async fn connect_postgres(_url: &str) -> Result<Self> {
        Err(Error::BackendNotCompiled {
            backend: "postgres",
        })
    }

    #[cfg(feature = "sqlite")]
    async fn connect_sqlite(url: &str) -> Result<Self> {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
        use std::str::FromStr as _;
        let options = SqliteConnectOptions::from_str(url)
            .map_err(Error::db("connect"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(5))
            // 64 MiB page cache per connection (the default is 2 MiB): the eight indexes of a
            // large table stay in memory, so inserts do not degrade into random reads
            .pragma("cache_size", "-65536");
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(Error::db("connect"))?;
        Ok(Self::sqlite(pool))
    }

    #[cfg(not(feature = "sqlite"))]
    #[allow(clippy::unused_async)]
    async fn connect_sqlite(_url: &str) -> Result<Self> {
        Err(Error::BackendNotCompiled { backend: "sqlite" })
    }

    fn dialect(&self) -> Dialect {
        match &self.inner {
            #[cfg(feature = "postgres")]
            Inner::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(_) => Dialect::Sqlite,
        }
    }

    fn columns(&self) -> &'static str {
        match self.dialect() {
            Dialect::Postgres => crate::record::SELECT_COLUMNS_PG,
            Dialect::Sqlite => crate::record::SELECT_COLUMNS_SQLITE,
        }
    }

    /// Applies the shipped migrations that are not applied yet (safe to call concurrently
    /// and on every start).
    ///
    /// # Errors
    /// [`Error::Migration`] or [`Error::Database`].
    pub async fn migrate(&self) -> Result<()> {
        dispatch!(self, pool, m => m::migrate(pool).await)
    }

    /// Refreshes the planner's statistics of the record table (`ANALYZE`), e.g. after a bulk
    /// load (PostgreSQL's autovacuum does it on its own later).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn analyze(&self) -> Result<()> {
        dispatch!(self, pool, _m => {
            sqlx::query("ANALYZE audit_record").execute(pool).await.map_err(Error::db("analyze"))?;
            Ok(())
        })
    }

    /// Checks that the database answers (for a readiness probe).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, pool, _m => {
            sqlx::query("SELECT 1").execute(pool).await.map_err(Error::db("ping"))?;
            Ok(())
        })
    }

    /// Stores a batch, idempotently by idempotence id, in one multi-row insert (one
    /// transaction). Returns one outcome per record, in batch order: [`WriteOutcome::Stored`]
    /// for a record stored now, [`WriteOutcome::Duplicate`] when its idempotence id is stored
    /// already or appears earlier in this batch (the first occurrence wins). When this returns
    /// `Ok`, every record of the batch is durably stored; on `Err` none of this call's rows
    /// is.
    ///
    /// # Errors
    /// [`Error::Document`] (a record cannot be rendered as JSON, nothing written),
    /// [`Error::Database`].
    pub async fn write_batch(&self, batch: &[IncomingRecord]) -> Result<Vec<WriteOutcome>> {
        let mut seen: HashSet<&str> = HashSet::with_capacity(batch.len());
        let mut first = Vec::with_capacity(batch.len());
        let mut rows = Vec::with_capacity(batch.len());
        for record in batch {
            let is_first = seen.insert(record.idempotence_id());
            first.push(is_first);
            if is_first {
                rows.push(Columns::of(record)?);
            }
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let stored = dispatch!(self, pool, m => m::insert(pool, &rows).await)?;
        let stored: HashMap<String, i64> = stored.into_iter().map(|(id, key)| (key, id)).collect();
        Ok(batch
            .iter()
            .zip(first)
            .map(
                |(record, is_first)| match stored.get(record.idempotence_id()) {
                    Some(&id) if is_first => WriteOutcome::Stored { id },
                    _ => WriteOutcome::Duplicate,
                },
            )
            .collect())
    }

    async fn fetch(&self, sql: Sql, operation: &'static str) -> Result<Vec<StoredRecord>> {
        dispatch!(self, pool, m => {
            let rows = m::prepare(sql)?.fetch_all(pool).await.map_err(Error::db(operation))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(m::raw_row(row)?.into_stored()?);
            }
            Ok(out)
        })
    }

    /// One page of the records that match `filter` and that `access` may see, in the filter's
    /// sort order (event time, then row id). `cursor`: the previous page's
    /// [`Page::next`], `None` for the first page.
    ///
    /// # Errors
    /// [`Error::InvalidPageSize`] (`limit` is 0 or above [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE)),
    /// [`Error::CursorMismatch`] (the cursor belongs to another filter or access),
    /// [`Error::TimestampOutOfRange`], [`Error::Database`], [`Error::Corrupt`].
    pub async fn query(
        &self,
        filter: &RecordFilter,
        access: &Access,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page> {
        let sql = query::page_sql(
            self.dialect(),
            self.columns(),
            filter,
            access,
            cursor,
            limit,
        )?;
        let records = self.fetch(sql, "query").await?;
        Ok(query::into_page(records, limit, filter, access))
    }

    /// The record with this message id, if `access` may see it (`None` otherwise: a reader
    /// cannot tell a record of another system from a missing one). Should several records
    /// carry the message id, the first stored one that `access` may see.
    ///
    /// # Errors
    /// [`Error::Database`], [`Error::Corrupt`].
    pub async fn get(&self, message_id: &str, access: &Access) -> Result<Option<StoredRecord>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT ");
        sql.push(self.columns());
        sql.push(" FROM audit_record WHERE message_id = ");
        sql.bind(Param::Text(message_id.to_owned()));
        sql.push(" AND ");
        query::push_access(&mut sql, access);
        sql.push(" ORDER BY id LIMIT 1");
        Ok(self.fetch(sql, "get").await?.into_iter().next())
    }

    /// Every record that matches `filter` and that `access` may see, in the filter's sort
    /// order, as a stream read in keyset pages of 1,000: memory stays bounded by a page
    /// whatever the result size, and no connection or transaction is held between pages.
    /// Records inserted during the export may or may not appear; none appears twice.
    pub fn export(
        &self,
        filter: &RecordFilter,
        access: &Access,
    ) -> impl Stream<Item = Result<StoredRecord>> + Send + 'static {
        let state = (
            self.clone(),
            filter.clone(),
            access.clone(),
            None::<Cursor>,
            false,
        );
        futures::stream::try_unfold(state, |(store, filter, access, cursor, done)| async move {
            if done {
                return Ok(None);
            }
            let page = store
                .query(&filter, &access, cursor.as_ref(), EXPORT_PAGE)
                .await?;
            let done = page.next.is_none();
            Ok(Some((
                page.records,
                (store, filter, access, page.next, done),
            )))
        })
        .map_ok(|records| futures::stream::iter(records.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }

    /// Deletes every record whose event time is strictly before `cutoff`, oldest first, in
    /// statements of at most `page_size` records (each its own transaction, so writers and
    /// readers are never blocked for long). Records at or after the cut-off are never deleted.
    ///
    /// # Errors
    /// [`Error::InvalidPageSize`] (`page_size` is 0), [`Error::TimestampOutOfRange`],
    /// [`Error::Database`] (records deleted by earlier pages stay deleted).
    pub async fn delete_older_than(
        &self,
        cutoff: DateTime<Utc>,
        page_size: u32,
    ) -> Result<RetentionReport> {
        if page_size == 0 {
            return Err(Error::InvalidPageSize {
                size: 0,
                max: u32::MAX,
            });
        }
        let bound = ceil_micros(cutoff, "cutoff")?;
        let mut report = RetentionReport {
            cutoff,
            deleted: 0,
            pages: 0,
        };
        loop {
            let mut sql = Sql::new(self.dialect());
            sql.push(
                "DELETE FROM audit_record WHERE id IN (SELECT id FROM audit_record \
                 WHERE event_ts < ",
            );
            sql.bind(Param::Micros(bound));
            sql.push(" ORDER BY event_ts, id LIMIT ");
            sql.bind(Param::Int(i64::from(page_size)));
            sql.push(")");
            let deleted = dispatch!(self, pool, m => {
                m::prepare(sql)?.execute(pool).await.map_err(Error::db("retention"))?.rows_affected()
            });
            if deleted == 0 {
                break;
            }
            report.deleted += deleted;
            report.pages += 1;
            if deleted < u64::from(page_size) {
                break;
            }
        }
        Ok(report)
    }

    /// Record count and the last receive time.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn stats(&self) -> Result<StoreStats> {
        dispatch!(self, pool, _m => {
            use sqlx::Row as _;
            let row = sqlx::query("SELECT count(*), max(received_ts) FROM audit_record")
                .fetch_one(pool)
                .await
                .map_err(Error::db("stats"))?;
            let count: i64 = row.try_get(0).map_err(Error::db("stats"))?;
            let last = stats_last(&row)?;
            Ok(StoreStats { records: u64::try_from(count).unwrap_or_default(), last_received: last })
        })
    }

    /// The database's plan for [`query`](Self::query) with these arguments (PostgreSQL:
    /// `EXPLAIN`, SQLite: `EXPLAIN QUERY PLAN`), one line per plan node: shows which index
    /// serves a filter.
    ///
    /// # Errors
    /// As [`query`](Self::query).
    pub async fn explain(
        &self,
        filter: &RecordFilter,
        access: &Access,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<String> {
        let dialect = self.dialect();
        let mut sql = Sql::new(dialect);
        sql.push(match dialect {
            Dialect::Postgres => "EXPLAIN ",
            Dialect::Sqlite => "EXPLAIN QUERY PLAN ",
        });
        sql.append(query::page_sql(
            dialect,
            self.columns(),
            filter,
            access,
            cursor,
            limit,
        )?);
        let column = match dialect {
            Dialect::Postgres => 0,
            Dialect::Sqlite => 3,
        };
        dispatch!(self, pool, m => {
            use sqlx::Row as _;
            let rows = m::prepare(sql)?.fetch_all(pool).await.map_err(Error::db("explain"))?;
            let mut lines = Vec::with_capacity(rows.len());
            for row in &rows {
                lines.push(row.try_get::<String, _>(column).map_err(Error::db("explain"))?);
            }
            Ok(lines.join("\n"))
        })
    }

    /// The SQL text [`query`](Self::query) runs for these arguments (values are bound
    /// parameters and never appear in it). For tests and diagnostics.
    ///
    /// # Errors
    /// As [`query`](Self::query) before it reaches the database.
    #[doc(hidden)]
    pub fn query_sql(
        &self,
        filter: &RecordFilter,
        access: &Access,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<String> {
        let sql = query::page_sql(
            self.dialect(),
            self.columns(),
            filter,
            access,
            cursor,
            limit,
        )?;
        Ok(sql.into_parts().0)
    }
}

/// `max(received_ts)`: a timestamp on PostgreSQL, integer microseconds on SQLite.
trait LastReceived {
    fn last_received(&self) -> Result<Option<DateTime<Utc>>>;
}

#[cfg(feature = "postgres")]
impl LastReceived for sqlx::postgres::PgRow {
    fn last_received(&self) -> Result<Option<DateTime<Utc>>> {
        use sqlx::Row as _;
        self.try_get(1).map_err(Error::db("stats"))
    }
}

#[cfg(feature = "sqlite")]
impl LastReceived for sqlx::sqlite::SqliteRow {
    fn last_received(&self) -> Result<Option<DateTime<Utc>>> {
        use sqlx::Row as _;
        let micros: Option<i64> = self.try_get(1).map_err(Error::db("stats"))?;
        micros.map(|m| crate::record::from_micros(0, m)).transpose()
    }
}

fn stats_last(row: &impl LastReceived) -> Result<Option<DateTime<Utc>>> {
    row.last_received()
}
