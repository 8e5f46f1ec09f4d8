//! PostgreSQL: `FOR UPDATE SKIP LOCKED` claims with a lease, LISTEN/NOTIFY wake-up, database clock.

use std::sync::Arc;
use std::time::Duration;

use crate::store::Wake;
use sqlx::postgres::{PgListener, PgRow};
use sqlx::{PgConnection, Pool, Postgres, Row};

use super::{
    Backend, ClaimedRow, FailedMessage, Migration, OutboxCounts, millis, millis_f64, sealed,
};
use crate::error::Error;
use crate::message::OutboxMessage;

/// The channel the insert trigger notifies.
pub(crate) const CHANNEL: &str = "audit_outbox";

impl sealed::Sealed for Postgres {}

// Candidates: the first `limit` ready rows in id order that no concurrent claim holds.
// Blocked keys: keys with an earlier pending row outside the candidates (in back-off, claimed by
// another relay, or locked by a concurrent claim); candidates behind such a row wait. Rows in
// flight in this relay (claimed with this relay's token) do not block: the same producer already
// has them, in order, ahead of the new ones.
// Both CTEs are materialized so the work is O(batch) whatever the statistics say.
const CLAIM: &str = r"
WITH cand AS MATERIALIZED (
    SELECT id, topic, msg_key FROM audit_outbox
    WHERE sent_at IS NULL AND failed_at IS NULL
      AND next_attempt_at <= now()
      AND (claim_expires_at IS NULL OR claim_expires_at < now())
    ORDER BY id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), blocked AS MATERIALIZED (
    SELECT e.topic, e.msg_key, min(e.id) AS first_id
    FROM audit_outbox e
    WHERE e.sent_at IS NULL AND e.failed_at IS NULL AND e.msg_key IS NOT NULL
      AND e.id < (SELECT max(id) FROM cand)
      AND e.id NOT IN (SELECT id FROM cand)
      AND (e.claimed_by IS DISTINCT FROM $1 OR e.claim_expires_at < now())
    GROUP BY e.topic, e.msg_key
), ok AS (
    SELECT c.id FROM cand c
    WHERE c.msg_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM blocked b
        WHERE b.topic = c.topic AND b.msg_key = c.msg_key AND b.first_id < c.id)
)
UPDATE audit_outbox o
SET claimed_by = $1, claim_expires_at = now() + $2 * interval '1 millisecond'
FROM ok WHERE o.id = ok.id
RETURNING o.id, o.topic, o.msg_key, o.value, o.headers, o.attempts, o.enqueued_at";

/// Keeps the claim on index scans and hashed look-ups even before the table has statistics
/// (a fresh table that filled up before autovacuum's first ANALYZE).
const CLAIM_PLAN: &str = "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off";

fn claimed(row: &PgRow) -> Result<ClaimedRow, sqlx::Error> {
    Ok(ClaimedRow {
        id: row.try_get(0)?,
        topic: row.try_get(1)?,
        key: row.try_get(2)?,
        value: row.try_get(3)?,
        headers: row.try_get(4)?,
        attempts: row.try_get(5)?,
        enqueued_at: row.try_get(6)?,
    })
}

impl Backend for Postgres {
    const MIGRATIONS: &'static [Migration] = super::POSTGRES_MIGRATIONS;

    async fn apply_migrations(pool: &Pool<Self>) -> crate::Result<()> {
        let mut tx = pool.begin().await.map_err(Error::db("migrate"))?;
        sqlx::query("SELECT pg_advisory_xact_lock(7284512093)")
            .execute(&mut *tx)
            .await
            .map_err(Error::db("migrate"))?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS audit_outbox_migration (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .execute(&mut *tx)
        .await
        .map_err(Error::db("migrate"))?;
        for m in Self::MIGRATIONS {
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM audit_outbox_migration WHERE version = $1")
                    .bind(m.version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Error::db("migrate"))?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(m.sql)
                .execute(&mut *tx)
                .await
                .map_err(|source| Error::Migration {
                    name: m.name,
                    source,
                })?;
            sqlx::query("INSERT INTO audit_outbox_migration (version, name) VALUES ($1, $2)")
                .bind(m.version)
                .bind(m.name)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("migrate"))?;
        }
        tx.commit().await.map_err(Error::db("migrate"))
    }

    async fn insert(
        conn: &mut PgConnection,
        m: &OutboxMessage,
        headers: &[u8],
        _wake: &Arc<Wake>,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO audit_outbox (topic, msg_key, value, headers, message_id, idempotence_id,
                type_name, type_version, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&m.topic)
        .bind(m.key.as_deref())
        .bind(&m.value)
        .bind(headers)
        .bind(&m.message_id)
        .bind(&m.idempotence_id)
        .bind(&m.type_name)
        .bind(m.type_version.as_deref())
        .bind(m.created)
        .fetch_one(conn)
        .await
    }

    async fn insert_many(
        conn: &mut PgConnection,
        messages: &[OutboxMessage],
        headers: &[Vec<u8>],
        _wake: &Arc<Wake>,
    ) -> Result<Vec<i64>, sqlx::Error> {
        let topics: Vec<&str> = messages.iter().map(|m| m.topic.as_str()).collect();
        let keys: Vec<Option<&[u8]>> = messages.iter().map(|m| m.key.as_deref()).collect();
        let values: Vec<&[u8]> = messages.iter().map(|m| m.value.as_slice()).collect();
        let headers: Vec<&[u8]> = headers.iter().map(Vec::as_slice).collect();
        let ids: Vec<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
        let idem: Vec<&str> = messages.iter().map(|m| m.idempotence_id.as_str()).collect();
        let names: Vec<&str> = messages.iter().map(|m| m.type_name.as_str()).collect();
        let versions: Vec<Option<&str>> =
            messages.iter().map(|m| m.type_version.as_deref()).collect();
        let created: Vec<chrono::DateTime<chrono::Utc>> =
            messages.iter().map(|m| m.created).collect();
        let mut out: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO audit_outbox (topic, msg_key, value, headers, message_id, idempotence_id,
                type_name, type_version, created_at)
             SELECT t, k, v, h, mi, ii, tn, tv, c
             FROM UNNEST($1::text[], $2::bytea[], $3::bytea[], $4::bytea[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::timestamptz[])
                  WITH ORDINALITY AS u(t, k, v, h, mi, ii, tn, tv, c, ord)
             ORDER BY ord
             RETURNING id",
        )
        .bind(&topics)
        .bind(&keys)
        .bind(&values)
        .bind(&headers)
        .bind(&ids)
        .bind(&idem)
        .bind(&names)
        .bind(&versions)
        .bind(&created)
        .fetch_all(conn)
        .await?;
        // Ids come from the sequence in insertion (= input) order.
        out.sort_unstable();
        Ok(out)
    }

    async fn claim(
        pool: &Pool<Self>,
        relay_id: &str,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<ClaimedRow>, sqlx::Error> {
        let mut tx = pool.begin().await?;
        // A relay paused inside its claim transaction (a stopped process, a VM stall) would hold
        // the row locks of the candidates and so block every other relay: the server ends such a
        // transaction after a quarter of the lease (1 s to 30 s). The claim then fails and is
        // retried; nothing was claimed. (One round trip with the plan settings.)
        let idle_ms = (millis(lease) / 4).clamp(1_000, 30_000);
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "{CLAIM_PLAN}; SET LOCAL idle_in_transaction_session_timeout = {idle_ms}"
        )))
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(CLAIM)
            .bind(relay_id)
            .bind(millis_f64(lease))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut out = rows.iter().map(claimed).collect::<Result<Vec<_>, _>>()?;
        out.sort_unstable_by_key(|r| r.id);
        Ok(out)
    }

    async fn mark_sent(pool: &Pool<Self>, token: &str, ids: &[i64]) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE audit_outbox SET sent_at = now(), claimed_by = NULL, claim_expires_at = NULL
             WHERE id = ANY($1) AND claimed_by = $2",
        )
        .bind(ids)
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
            "UPDATE audit_outbox SET attempts = attempts + 1,
                next_attempt_at = now() + $2 * interval '1 millisecond',
                claimed_by = NULL, claim_expires_at = NULL, last_error = $3
             WHERE id = ANY($1) AND sent_at IS NULL AND claimed_by = $4",
        )
        .bind(ids)
        .bind(millis_f64(delay))
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
            "UPDATE audit_outbox SET attempts = attempts + 1, failed_at = now(), failure_reason = $2,
                last_error = $2, claimed_by = NULL, claim_expires_at = NULL
             WHERE id = $1 AND sent_at IS NULL AND claimed_by = $3",
        )
        .bind(id)
        .bind(reason)
        .bind(token)
        .execute(pool)
        .await?
        .rows_affected())
    }

    async fn release(pool: &Pool<Self>, relay_id: &str) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE audit_outbox SET claimed_by = NULL, claim_expires_at = NULL
             WHERE claimed_by = $1 AND sent_at IS NULL",
        )
        .bind(relay_id)
        .execute(pool)
        .await?
        .rows_affected())
    }

    async fn release_ids(pool: &Pool<Self>, token: &str, ids: &[i64]) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE audit_outbox SET claimed_by = NULL, claim_expires_at = NULL
             WHERE id = ANY($1) AND claimed_by = $2 AND sent_at IS NULL",
        )
        .bind(ids)
        .bind(token)
        .execute(pool)
        .await?
        .rows_affected())
    }

    async fn counts(pool: &Pool<Self>) -> Result<OutboxCounts, sqlx::Error> {
        let row = sqlx::query(
            "SELECT
                count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL),
                count(*) FILTER (WHERE sent_at IS NOT NULL),
                count(*) FILTER (WHERE failed_at IS NOT NULL),
                count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL
                                 AND next_attempt_at <= now())
             FROM audit_outbox",
        )
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
             FROM audit_outbox WHERE failed_at IS NOT NULL AND id > $1 ORDER BY id LIMIT $2",
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
                    failed_at: r.try_get(6)?,
                    reason: r.try_get(7)?,
                })
            })
            .collect()
    }

    async fn resend(pool: &Pool<Self>, id: Option<i64>) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE audit_outbox SET failed_at = NULL, failure_reason = NULL, attempts = 0,
                next_attempt_at = '-infinity', resend_requested_at = now(),
                claimed_by = NULL, claim_expires_at = NULL
             WHERE failed_at IS NOT NULL AND ($1::bigint IS NULL OR id = $1)",
        )
        .bind(id)
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
                SELECT id FROM audit_outbox
                WHERE sent_at IS NOT NULL AND sent_at < now() - $1 * interval '1 millisecond'
                LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(millis_f64(older_than))
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
                SELECT id FROM audit_outbox
                WHERE failed_at IS NOT NULL AND failed_at < now() - $1 * interval '1 millisecond'
                LIMIT $2 FOR UPDATE SKIP LOCKED)
             RETURNING id, message_id",
        )
        .bind(millis_f64(older_than))
        .bind(page)
        .fetch_all(pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    fn spawn_listener(
        pool: &Pool<Self>,
        wake: Arc<Wake>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let pool = pool.clone();
        Some(tokio::spawn(async move {
            let mut delay = Duration::from_millis(100);
            loop {
                if *stop.borrow() {
                    return;
                }
                let listener = async {
                    let mut l = PgListener::connect_with(&pool).await?;
                    l.ignore_pool_close_event(true);
                    l.listen(CHANNEL).await?;
                    Ok::<_, sqlx::Error>(l)
                };
                let mut listener = tokio::select! {
                    _ = stop.changed() => return,
                    l = listener => l,
                };
                match listener {
                    Ok(ref mut l) => {
                        delay = Duration::from_millis(100);
                        // Anything committed while we were not listening is picked up now.
                        wake.notify_one();
                        loop {
                            let next = tokio::select! {
                                _ = stop.changed() => return,
                                n = l.try_recv() => n,
                            };
                            match next {
                                Ok(Some(_)) => wake.notify_one(),
                                Ok(None) => {
                                    tracing::warn!("outbox LISTEN connection lost, reconnecting");
                                    metrics::counter!(crate::metrics::LISTENER_RECONNECTS)
                                        .increment(1);
                                    break;
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, "outbox LISTEN connection failed, reconnecting");
                                    metrics::counter!(crate::metrics::LISTENER_RECONNECTS)
                                        .increment(1);
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, ?delay, "outbox LISTEN connection cannot be opened, retrying");
                    }
                }
                tokio::select! {
                    _ = stop.changed() => return,
                    () = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }))
    }
}
