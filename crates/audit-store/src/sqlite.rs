//! SQLite: multi-row `INSERT ... VALUES (...), (...)` in chunks inside one transaction,
//! timestamps as integer microseconds, the document as JSON text.

use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{AssertSqlSafe, Row, Sqlite, SqlitePool};

use crate::error::{Error, Result};
use crate::migrate::{Migration, SQLITE_MIGRATIONS};
use crate::query::{Param, Sql};
use crate::record::{Columns, INSERT_COLUMN_COUNT, INSERT_COLUMNS, RawRow, from_micros, micros};

/// Rows per statement: 26 parameters each, far below SQLite's 32,766.
const CHUNK: usize = 500;

/// `INSERT ... VALUES` with `rows` tuples of placeholders (the text holds no value).
fn insert_sql(rows: usize) -> String {
    let tuple = {
        let mut t = String::from("(");
        for i in 0..INSERT_COLUMN_COUNT {
            t.push_str(if i == 0 { "?" } else { ", ?" });
        }
        t.push(')');
        t
    };
    let mut sql = String::with_capacity(200 + rows * (tuple.len() + 2));
    sql.push_str("INSERT INTO audit_record (");
    sql.push_str(INSERT_COLUMNS);
    sql.push_str(") VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&tuple);
    }
    sql.push_str(" ON CONFLICT (idempotence_id) DO NOTHING RETURNING id, idempotence_id");
    sql
}

/// Inserts the (already in-batch deduplicated) rows in one transaction; returns
/// `(id, idempotence_id)` of the rows stored now.
pub(crate) async fn insert(pool: &SqlitePool, rows: &[Columns<'_>]) -> Result<Vec<(i64, String)>> {
    let mut tx = pool.begin().await.map_err(Error::db("write batch"))?;
    let mut stored = Vec::with_capacity(rows.len());
    let full_chunk_sql = insert_sql(CHUNK.min(rows.len()));
    for chunk in rows.chunks(CHUNK) {
        let text = if chunk.len() == CHUNK || chunk.len() == rows.len() {
            full_chunk_sql.clone()
        } else {
            insert_sql(chunk.len())
        };
        let mut query = sqlx::query(AssertSqlSafe(text));
        for r in chunk {
            query = query
                .bind(r.message_id)
                .bind(r.idempotence_id)
                .bind(micros(r.event_ts))
                .bind(micros(r.created_ts))
                .bind(micros(r.received_ts))
                .bind(r.service)
                .bind(r.system)
                .bind(r.event_type)
                .bind(r.use_case)
                .bind(r.process_id)
                .bind(r.trigger_kind)
                .bind(r.user_id)
                .bind(r.identity_provider)
                .bind(r.trigger_department)
                .bind(r.trigger_system)
                .bind(r.trigger_component)
                .bind(r.object_type)
                .bind(r.object_id)
                .bind(r.object_version)
                .bind(r.schema_version)
                .bind(r.source_kind)
                .bind(r.source_topic)
                .bind(r.source_partition)
                .bind(r.source_offset)
                .bind(r.http_client)
                .bind(r.document.as_str());
        }
        let returned = query
            .fetch_all(&mut *tx)
            .await
            .map_err(Error::db("write batch"))?;
        for row in &returned {
            stored.push((
                row.try_get(0).map_err(Error::db("write batch"))?,
                row.try_get(1).map_err(Error::db("write batch"))?,
            ));
        }
    }
    tx.commit().await.map_err(Error::db("write batch"))?;
    Ok(stored)
}

/// Binds the statement's parameters (text lists were expanded by [`Sql::bind_in`]).
pub(crate) fn prepare(sql: Sql) -> Result<sqlx::query::Query<'static, Sqlite, SqliteArguments>> {
    let (text, params) = sql.into_parts();
    let mut query = sqlx::query(AssertSqlSafe(text));
    for p in params {
        query = match p {
            Param::Text(v) => query.bind(v),
            Param::Micros(m) | Param::Int(m) => query.bind(m),
            Param::TextList(v) => {
                // never produced for SQLite; bound as JSON text so it still matches nothing wrong
                query.bind(serde_json::Value::from(v).to_string())
            }
        };
    }
    Ok(query)
}

pub(crate) fn raw_row(row: &SqliteRow) -> Result<RawRow> {
    let get = |e: sqlx::Error| Error::Database {
        operation: "read row",
        source: e,
    };
    let id: i64 = row.try_get(0).map_err(get)?;
    let ts = |i: usize| -> Result<_> { from_micros(id, row.try_get(i).map_err(get)?) };
    Ok(RawRow {
        id,
        message_id: row.try_get(1).map_err(get)?,
        idempotence_id: row.try_get(2).map_err(get)?,
        event_ts: ts(3)?,
        created_ts: ts(4)?,
        received_ts: ts(5)?,
        service: row.try_get(6).map_err(get)?,
        system: row.try_get(7).map_err(get)?,
        event_type: row.try_get(8).map_err(get)?,
        use_case: row.try_get(9).map_err(get)?,
        process_id: row.try_get(10).map_err(get)?,
        trigger_kind: row.try_get(11).map_err(get)?,
        user_id: row.try_get(12).map_err(get)?,
        identity_provider: row.try_get(13).map_err(get)?,
        trigger_department: row.try_get(14).map_err(get)?,
        trigger_system: row.try_get(15).map_err(get)?,
        trigger_component: row.try_get(16).map_err(get)?,
        object_type: row.try_get(17).map_err(get)?,
        object_id: row.try_get(18).map_err(get)?,
        object_version: row.try_get(19).map_err(get)?,
        schema_version: row.try_get(20).map_err(get)?,
        source_kind: row.try_get(21).map_err(get)?,
        source_topic: row.try_get(22).map_err(get)?,
        source_partition: row.try_get(23).map_err(get)?,
        source_offset: row.try_get(24).map_err(get)?,
        http_client: row.try_get(25).map_err(get)?,
        document: row.try_get(26).map_err(get)?,
    })
}

/// Applies the shipped migrations once, in one `BEGIN IMMEDIATE` transaction (concurrent
/// callers wait for the write lock).
pub(crate) async fn migrate(pool: &SqlitePool) -> Result<()> {
    let mut conn = pool.acquire().await.map_err(Error::db("migrate"))?;
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .map_err(Error::db("migrate"))?;
    let result = async {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS audit_store_migration (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        )
        .execute(&mut *conn)
        .await
        .map_err(Error::db("migrate"))?;
        for m in SQLITE_MIGRATIONS {
            let Migration { version, name, sql } = *m;
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM audit_store_migration WHERE version = ?")
                    .bind(version)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(Error::db("migrate"))?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(sql)
                .execute(&mut *conn)
                .await
                .map_err(|source| Error::Migration { name, source })?;
            sqlx::query(
                "INSERT INTO audit_store_migration (version, name, applied_at) VALUES (?, ?, ?)",
            )
            .bind(version)
            .bind(name)
            .bind(micros(chrono::Utc::now()))
            .execute(&mut *conn)
            .await
            .map_err(Error::db("migrate"))?;
        }
        Ok::<_, Error>(())
    }
    .await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = sqlx::raw_sql(end)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("migrate"));
    result.and(ended.map(|_| ()))
}
