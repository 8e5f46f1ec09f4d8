//! PostgreSQL: multi-row insert through `UNNEST` of one array per column (one static
//! statement for any batch size), jsonb documents, database-side keyset pagination.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Arguments as _, AssertSqlSafe, PgPool, Postgres, Row};

use crate::error::{Error, Result};
use crate::migrate::{Migration, POSTGRES_MIGRATIONS};
use crate::query::{Param, Sql};
use crate::record::{Columns, INSERT_COLUMN_COUNT, RawRow};

const INSERT: &str = "INSERT INTO audit_record (message_id, idempotence_id, event_ts, created_ts, \
    received_ts, service, system, event_type, use_case, process_id, trigger_kind, user_id, \
    identity_provider, trigger_department, trigger_system, trigger_component, object_type, \
    object_id, object_version, schema_version, source_kind, source_topic, source_partition, \
    source_offset, http_client, document)
SELECT u.message_id, u.idempotence_id, u.event_ts, u.created_ts, u.received_ts, u.service,
    u.system, u.event_type, u.use_case, u.process_id, u.trigger_kind, u.user_id,
    u.identity_provider, u.trigger_department, u.trigger_system, u.trigger_component,
    u.object_type, u.object_id, u.object_version, u.schema_version, u.source_kind,
    u.source_topic, u.source_partition, u.source_offset, u.http_client, u.document::jsonb
FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[],
    $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
    $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[],
    $20::text[], $21::text[], $22::text[], $23::int4[], $24::int8[], $25::text[], $26::text[])
    AS u(message_id, idempotence_id, event_ts, created_ts, received_ts, service, system,
    event_type, use_case, process_id, trigger_kind, user_id, identity_provider,
    trigger_department, trigger_system, trigger_component, object_type, object_id,
    object_version, schema_version, source_kind, source_topic, source_partition, source_offset,
    http_client, document)
ON CONFLICT (idempotence_id) DO NOTHING
RETURNING id, idempotence_id";

/// Inserts the (already in-batch deduplicated) rows in one statement; returns
/// `(id, idempotence_id)` of the rows stored now.
pub(crate) async fn insert(pool: &PgPool, rows: &[Columns<'_>]) -> Result<Vec<(i64, String)>> {
    let encode = |source| Error::Database {
        operation: "write batch",
        source: sqlx::Error::Encode(source),
    };
    // One buffer of the whole batch's size: grown step by step it would be copied each time
    // (a batch of 2,000 records is about 2.5 MB).
    let mut args = PgArguments::default();
    args.reserve(INSERT_COLUMN_COUNT, encoded_size(rows));
    macro_rules! col {
        ($f:ident) => {
            args.add(rows.iter().map(|r| r.$f).collect::<Vec<_>>())
                .map_err(encode)?
        };
    }
    col!(message_id);
    col!(idempotence_id);
    col!(event_ts);
    col!(created_ts);
    col!(received_ts);
    col!(service);
    col!(system);
    col!(event_type);
    col!(use_case);
    col!(process_id);
    col!(trigger_kind);
    col!(user_id);
    col!(identity_provider);
    col!(trigger_department);
    col!(trigger_system);
    col!(trigger_component);
    col!(object_type);
    col!(object_id);
    col!(object_version);
    col!(schema_version);
    col!(source_kind);
    col!(source_topic);
    col!(source_partition);
    col!(source_offset);
    col!(http_client);
    args.add(rows.iter().map(|r| r.document.as_str()).collect::<Vec<_>>())
        .map_err(encode)?;
    let stored = sqlx::query_with(INSERT, args)
        .fetch_all(pool)
        .await
        .map_err(Error::db("write batch"))?;
    stored
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Error::db("write batch"))
}

/// About the bytes the batch's parameters take in the binary protocol: the document dominates;
/// the other 25 columns (a 4-byte length each, ids, names, timestamps) stay within a few
/// hundred bytes per record, and an odd larger batch grows the buffer once.
fn encoded_size(rows: &[Columns<'_>]) -> usize {
    const PER_ROW_BESIDE_DOCUMENT: usize = 384;
    rows.iter()
        .map(|r| r.document.len() + PER_ROW_BESIDE_DOCUMENT)
        .sum::<usize>()
        + INSERT_COLUMN_COUNT * 32
}

fn timestamp(micros: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros).ok_or(Error::TimestampOutOfRange { field: "cursor" })
}

/// Binds the statement's parameters.
pub(crate) fn prepare(sql: Sql) -> Result<sqlx::query::Query<'static, Postgres, PgArguments>> {
    let (text, params) = sql.into_parts();
    let mut query = sqlx::query(AssertSqlSafe(text));
    for p in params {
        query = match p {
            Param::Text(v) => query.bind(v),
            Param::Micros(m) => query.bind(timestamp(m)?),
            Param::Int(v) => query.bind(v),
            Param::TextList(v) => query.bind(v),
        };
    }
    Ok(query)
}

pub(crate) fn raw_row(row: &PgRow) -> Result<RawRow> {
    raw_row_inner(row).map_err(Error::db("read row"))
}

fn raw_row_inner(row: &PgRow) -> Result<RawRow, sqlx::Error> {
    Ok(RawRow {
        id: row.try_get(0)?,
        message_id: row.try_get(1)?,
        idempotence_id: row.try_get(2)?,
        event_ts: row.try_get(3)?,
        created_ts: row.try_get(4)?,
        received_ts: row.try_get(5)?,
        service: row.try_get(6)?,
        system: row.try_get(7)?,
        event_type: row.try_get(8)?,
        use_case: row.try_get(9)?,
        process_id: row.try_get(10)?,
        trigger_kind: row.try_get(11)?,
        user_id: row.try_get(12)?,
        identity_provider: row.try_get(13)?,
        trigger_department: row.try_get(14)?,
        trigger_system: row.try_get(15)?,
        trigger_component: row.try_get(16)?,
        object_type: row.try_get(17)?,
        object_id: row.try_get(18)?,
        object_version: row.try_get(19)?,
        schema_version: row.try_get(20)?,
        source_kind: row.try_get(21)?,
        source_topic: row.try_get(22)?,
        source_partition: row.try_get(23)?,
        source_offset: row.try_get(24)?,
        http_client: row.try_get(25)?,
        document: row.try_get(26)?,
    })
}

/// Applies the shipped migrations once, under an advisory lock (concurrent callers wait).
pub(crate) async fn migrate(pool: &PgPool) -> Result<()> {
    let mut tx = pool.begin().await.map_err(Error::db("migrate"))?;
    sqlx::query("SELECT pg_advisory_xact_lock(7284512094)")
        .execute(&mut *tx)
        .await
        .map_err(Error::db("migrate"))?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS audit_store_migration (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(&mut *tx)
    .await
    .map_err(Error::db("migrate"))?;
    for m in POSTGRES_MIGRATIONS {
        let Migration { version, name, sql } = *m;
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM audit_store_migration WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(Error::db("migrate"))?;
        if done.is_some() {
            continue;
        }
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(|source| Error::Migration { name, source })?;
        sqlx::query("INSERT INTO audit_store_migration (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("migrate"))?;
    }
    tx.commit().await.map_err(Error::db("migrate"))
}
