//! SQLite: single-writer claims in one statement, in-process wake-up from a commit hook, times
//! as INTEGER microseconds since the epoch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::store::Wake;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Pool, Row, Sqlite, SqliteConnection};

use super::{Backend, ClaimedRow, FailedMessage, Migration, OutboxCounts, sealed};
use crate::error::Error;
use crate::message::OutboxMessage;

impl sealed::Sealed for Sqlite {}

fn now() -> i64 {
    Utc::now().timestamp_micros()
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn time(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

fn ids_json(ids: &[i64]) -> String {
    let mut s = String::with_capacity(ids.len() * 8 + 2);
    s.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&id.to_string());
    }
    s.push(']');
    s
}

const CLAIM: &str = "UPDATE audit_outbox SET claimed_by = ?1, claim_expires_at = ?2
    WHERE id IN (
        SELECT c.id FROM audit_outbox c
        WHERE c.sent_at IS NULL AND c.failed_at IS NULL AND c.next_attempt_at <= ?3
          AND (c.claim_expires_at IS NULL OR c.claim_expires_at < ?3)
          AND (c.msg_key IS NULL OR NOT EXISTS (
              SELECT 1 FROM audit_outbox e
              WHERE e.topic = c.topic AND e.msg_key = c.msg_key AND e.id < c.id
                AND e.sent_at IS NULL AND e.failed_at IS NULL
                AND NOT (e.next_attempt_at <= ?3
                         AND (e.claim_expires_at IS NULL OR e.claim_expires_at < ?3))
                AND NOT (e.claimed_by IS ?1 AND e.claim_expires_at >= ?3)))
        ORDER BY c.id LIMIT ?4)
    RETURNING id, topic, msg_key, value, headers, attempts, enqueued_at";

fn claimed(row: &SqliteRow) -> Result<ClaimedRow, sqlx::Error> {
    Ok(ClaimedRow {
        id: row.try_get(0)?,
        topic: row.try_get(1)?,
        key: row.try_get(2)?,
        value: row.try_get(3)?,
        headers: row.try_get(4)?,
        attempts: row.try_get(5)?,
        enqueued_at: time(row.try_get(6)?),
    })
}

impl Backend for Sqlite {
    const MIGRATIONS: &'static [Migration] = super::SQLITE_MIGRATIONS;

    async fn apply_migrations(pool: &Pool<Self>) -> crate::Result<()> {
        let mut conn = pool.acquire().await.map_err(Error::db("migrate"))?;
        sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut *conn)
            .await
            .map_err(Error::db("migrate"))?;
        let result = async {
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS audit_outbox_migration (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
            )
            .execute(&mut *conn)
            .await
            .map_err(Error::db("migrate"))?;
            for m in Self::MIGRATIONS {
                let done: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM audit_outbox_migration WHERE version = ?")
                        .bind(m.version)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(Error::db("migrate"))?;
                if done.is_some() {
                    continue;
                }
                sqlx::raw_sql(m.sql)
                    .execute(&mut *conn)
                    .await
                    .map_err(|source| Error::Migration { name: m.name, source })?;
                sqlx::query("INSERT INTO audit_outbox_migration (version, name, applied_at) VALUES (?, ?, ?)")
                    .bind(m.version)
                    .bind(m.name)
                    .bind(now())
                    .execute(&mut *conn)
                    .await
                    .map_err(Error::db("migrate"))?;
            }
            Ok(())
        }
        .await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = sqlx::raw_sql(end)
            .execute(&mut *conn)
            .await
            .map_err(Error::db("migrate"));
        result.and(ended.map(|_| ()))
    }

    async fn insert(
        conn: &mut SqliteConnection,
        m: &OutboxMessage,
        headers: &[u8],
        wake: &Arc<Wake>,
    ) -> Result<i64, sqlx::Error> {
        let id = sqlx::query_scalar(
            "INSERT INTO audit_outbox (topic, msg_key, value, headers, message_id, idempotence_id,
                type_name, type_version, created_at, enqueued_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&m.topic)
        .bind(m.key.as_deref())
        .bind(&m.value)
        .bind(headers)
        .bind(&m.message_id)
        .bind(&m.idempotence_id)
        .bind(&m.type_name)
        .bind(m.type_version.as_deref())
        .bind(m.created.timestamp_micros())
        .bind(now())
        .fetch_one(&mut *conn)
        .await?;
        // The relay is woken by the commit of the transaction that enqueued (best effort: polling
        // delivers regardless). The flag belongs to this connection's open transaction: its
        // commit consumes it, its rollback clears it, and another connection's commit (with hooks
        // and a flag of its own) cannot take it away.
        let armed = Arc::new(AtomicBool::new(true));
        let on_rollback = Arc::clone(&armed);
        let wake = Arc::clone(wake);
        let mut handle = conn.lock_handle().await?;
        handle.set_commit_hook(move || {
            if armed.swap(false, Ordering::AcqRel) {
                wake.notify_one();
            }
            true
        });
        handle.set_rollback_hook(move || on_rollback.store(false, Ordering::Release));
        Ok(id)
    }

    async fn insert_many(
        conn: &mut SqliteConnection,
        messages: &[OutboxMessage],
        headers: &[Vec<u8>],
        wake: &Arc<Wake>,
    ) -> Result<Vec<i64>, sqlx::Error> {
        let mut out = Vec::with_capacity(messages.len());
        for (m, h) in messages.iter().zip(headers) {
            out.push(Self::insert(&mut *conn, m, h, wake).await?);
        }
        Ok(out)
    }

    async fn claim(
        pool: &Pool<Self>,
        relay_id: &str,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<ClaimedRow>, sqlx::Error> {
        let now = now();
        let rows = sqlx::query(CLAIM)
            .bind(relay_id)
            .bind(now.saturating_add(micros(lease)))
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?;
        let mut out = rows.iter().map(claimed).collect::<Result<Vec<_>, _>>()?;
        out.sort_unstable_by_key(|r| r.id);
        Ok(out)
    }

    async fn mark_sent(pool: &Pool<Self>, token: &str, ids: &[i64]) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE audit_outbox SET sent_at = ?2, claimed_by = NULL, claim_expires_at = NULL
             WHERE id IN (SELECT value FROM json_each(?1)) AND claimed_by = ?3",
        )
        .bind(ids_json(ids))
        .bind(now())
        .bind(token)
        .execute(pool)
        .await?
        .rows_affected())
    }

    async fn mark_retry(
        pool: &Pool<Self>,
        token: &str,
        ids: &[i64],
        delay: Duration,
        error: &str,
    ) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE audit_outbox SET attempts = attempts + 1, next_attempt_at = ?2,
                claimed_by = NULL, claim_expires_at = NULL, last_error = ?3
             WHERE id IN (SELECT value FROM json_each(?1)) AND sent_at IS NULL AND claimed_by = ?4",
        )
        .bind(ids_json(ids))
        .bind(now().saturating_add(micros(delay)))
        .bind(error)
        .bind(token)
        .execute(pool)
        .await?
        .rows_affected())
    }

    async fn mark_failed(
        pool: &Pool<Self>,
        token: &str,
        id: i64,
        reason: &str,
    ) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE audit_outbox SET attempts = attempts + 1, failed_at = ?3, failure_reason = ?2,
                last_error = ?2, claimed_by = NULL, claim_expires_at = NULL
             WHERE id = ?1 AND sent_at IS NULL AND claimed_by = ?4",
        )
        .bind(id)
        .bind(reason)
        .bind(now())
        .bind(token)
        .execute(pool)
        .await?
        .rows_affected())
    }

    async fn release(pool: &Pool<Self>, relay_id: &str) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE audit_outbox SET claimed_by = NULL, claim_expires_at = NULL
             WHERE claimed_by = ? AND sent_at IS NULL",
        )
        .bind(relay_id)
        .execute(pool)
        .await?
        .rows_affected())
    }

    async fn release_ids(pool: &Pool<Self>, token: &str, ids: &[i64]) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE audit_outbox SET claimed_by = NULL, claim_expires_at = NULL
             WHERE id IN (SELECT value FROM json_each(?1)) AND claimed_by = ?2 AND sent_at IS NULL",
        )
        .bind(ids_json(ids))
        .bind(token)
        .execute(pool)
        .await?
        .rows_affected())
    }

    async fn counts(pool: &Pool<Self>) -> Result<OutboxCounts, sqlx::Error> {
        let row = sqlx::query(
            "SELECT
                coalesce(sum(sent_at IS NULL AND failed_at IS NULL), 0),
                coalesce(sum(sent_at IS NOT NULL), 0),
                coalesce(sum(failed_at IS NOT NULL), 0),
                coalesce(sum(sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?1), 0)
             FROM audit_outbox",
        )
        .bind(now())
        .fetch_one(pool)
        .await?;
        let get = |i: usize| -> Result<u64, sqlx::Error> {
            Ok(u64::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0))
        };
        Ok(OutboxCounts {
            pending: get(0)?,
            sent: get(1)?,
            failed: get(2)?,
            ready: get(3)?,
        })
    }

    async fn list_failed(
        pool: &Pool<Self>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<FailedMessage>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, topic, message_id, idempotence_id, type_name, attempts, failed_at,
                coalesce(failure_reason, '')
             FROM audit_outbox WHERE failed_at IS NOT NULL AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(after_id)
        .bind(limit)
        .fetch_all(pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FailedMessage {
                    id: r.try_get(0)?,
                    topic: r.try_get(1)?,
                    message_id: r.try_get(2)?,
                    idempotence_id: r.try_get(3)?,
                    type_name: r.try_get(4)?,
                    attempts: r.try_get(5)?,
                    failed_at: time(r.try_get(6)?),
                    reason: r.try_get(7)?,
                })
            })
            .collect()
    }

    async fn resend(pool: &Pool<Self>, id: Option<i64>) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE audit_outbox SET failed_at = NULL, failure_reason = NULL, attempts = 0,
                next_attempt_at = 0, resend_requested_at = ?2,
                claimed_by = NULL, claim_expires_at = NULL
             WHERE failed_at IS NOT NULL AND (?1 IS NULL OR id = ?1)",
        )
        .bind(id)
        .bind(now())
        .execute(pool)
        .await?
        .rows_affected())
    }

    async fn delete_sent_page(
        pool: &Pool<Self>,
        older_than: Duration,
        page: i64,
    ) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "DELETE FROM audit_outbox WHERE id IN (
                SELECT id FROM audit_outbox WHERE sent_at IS NOT NULL AND sent_at < ? LIMIT ?)",
        )
        .bind(now().saturating_sub(micros(older_than)))
        .bind(page)
        .execute(pool)
        .await?
        .rows_affected())
    }

    async fn delete_failed_page(
        pool: &Pool<Self>,
        older_than: Duration,
        page: i64,
    ) -> Result<Vec<(i64, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "DELETE FROM audit_outbox WHERE id IN (
                SELECT id FROM audit_outbox WHERE failed_at IS NOT NULL AND failed_at < ? LIMIT ?)
             RETURNING id, message_id",
        )
        .bind(now().saturating_sub(micros(older_than)))
        .bind(page)
        .fetch_all(pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    fn spawn_listener(
        _pool: &Pool<Self>,
        _wake: Arc<Wake>,
        _stop: tokio::sync::watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        None
    }
}
