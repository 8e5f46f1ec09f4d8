//! Wake-up on commit, graceful shutdown, producer rebuild after a fatal error, housekeeping,
//! migrations.

use std::time::Duration;

use audit_outbox::{HousekeepingConfig, Outbox};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use crate::support::*;

const LIMIT: Duration = Duration::from_secs(120);
const HOUR: Duration = Duration::from_secs(3600);

/// With a poll interval of an hour, only the commit wake-up (LISTEN/NOTIFY) can deliver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_commit_wakes_the_relay() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let (broker, topic) = tansu_topic(1)?;
    let mut cfg = relay_config(&broker.bootstrap());
    cfg = cfg.poll_interval(HOUR);
    let relay = outbox.start_relay(cfg)?;
    eventually("listener connected", LIMIT, || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        )
        .fetch_one(&pool)
        .await?;
        Ok((n > 0).then_some(()))
    })
    .await?;
    for round in 1..=3u64 {
        let mut tx = pool.begin().await?;
        outbox.enqueue(&mut tx, &msg(&topic, None)).await?;
        tx.commit().await?;
        wait_sent(&outbox, round, LIMIT).await?;
    }
    relay.shutdown().await?;
    Ok(())
}

/// SQLite: the in-process signal from the commit wakes the idle relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_commit_wakes_the_relay() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_url, pool, outbox) = crate::faults::sqlite_outbox(&dir).await?;
    let (broker, topic) = tansu_topic(1)?;
    let mut cfg = relay_config(&broker.bootstrap());
    cfg = cfg.poll_interval(HOUR);
    let mut tx = pool.begin().await?;
    outbox.enqueue(&mut tx, &msg(&topic, None)).await?;
    tx.commit().await?;
    let relay = outbox.start_relay(cfg)?;
    wait_sent(&outbox, 1, LIMIT).await?; // the start-up claim; the relay is idle afterwards
    for round in 2..=4u64 {
        let mut tx = pool.begin().await?;
        outbox.enqueue(&mut tx, &msg(&topic, None)).await?;
        tx.commit().await?;
        wait_sent(&outbox, round, LIMIT).await?;
    }
    relay.shutdown().await?;
    Ok(())
}

/// Shutdown during a slow batch: the relay stops claiming, waits for the batch in flight (its
/// rows end up sent) and leaves no claim behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_the_batch_in_flight() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let mock = MockCluster::new(1)?;
    let topic = unique("shutdown");
    mock.create_topic(&topic, 1, 1)?;
    let mut cfg = relay_config(&mock.bootstrap_servers());
    cfg = cfg.batch_size(10);
    // Several round trips (metadata, producer id, produce) before the first acknowledgement.
    cfg = cfg.delivery_timeout(Duration::from_secs(60));
    cfg = cfg.lease(Duration::from_secs(120));
    let mut tx = pool.begin().await?;
    for _ in 0..100 {
        outbox.enqueue(&mut tx, &msg(&topic, None)).await?;
    }
    tx.commit().await?;
    mock.broker_round_trip_time(1, Duration::from_millis(1000))?;
    let relay = outbox.start_relay(cfg)?;
    let claimed = || async {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM audit_outbox WHERE claimed_by IS NOT NULL")
                .fetch_one(&pool)
                .await?;
        Ok::<_, BoxError>(n)
    };
    eventually("a batch in flight", LIMIT, || async {
        Ok((claimed().await? > 0).then_some(()))
    })
    .await?;
    relay.shutdown().await?;
    let c = outbox.counts().await?;
    let last_error: Option<String> = sqlx::query_scalar("SELECT max(last_error) FROM audit_outbox")
        .fetch_one(&pool)
        .await?;
    assert_eq!(last_error, None, "no delivery failed");
    assert_eq!(claimed().await?, 0, "claims released");
    assert!(
        c.sent >= 10,
        "the batch in flight was delivered and marked: {c:?}"
    );
    assert!(c.pending > 0, "the relay stopped claiming: {c:?}");
    assert_eq!(c.sent + c.pending, 100);
    Ok(())
}

/// A fatal idempotent-producer error (out-of-order sequence on the head-of-line request) makes
/// the relay rebuild its producer; no row is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fatal_producer_error_rebuilds_the_producer() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let mock = MockCluster::new(1)?;
    let topic = unique("fatal");
    mock.create_topic(&topic, 1, 1)?;
    let bootstrap = mock.bootstrap_servers();
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER],
    );
    let relay = outbox.start_relay(relay_config(&bootstrap))?;
    let mut tx = pool.begin().await?;
    for _ in 0..50 {
        outbox.enqueue(&mut tx, &msg(&topic, Some("k"))).await?;
    }
    tx.commit().await?;
    wait_sent(&outbox, 50, LIMIT).await?;
    let stats = relay.stats();
    relay.shutdown().await?;
    assert_eq!(stats.producer_rebuilds, 1, "{stats:?}");
    assert_eq!(outbox.count_failed().await?, 0);
    let records = consume_all(&bootstrap, &topic, 1, 50).await?;
    assert_eq!(counts_by_value(&records).len(), 50);
    Ok(())
}

/// Housekeeping deletes old sent rows in pages and nothing else; failed rows only with a
/// configured retention. No relay runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn housekeeping_postgres() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let mut tx = pool.begin().await?;
    for _ in 0..30 {
        outbox.enqueue(&mut tx, &msg("t", None)).await?;
    }
    tx.commit().await?;
    // ids 1..=23: sent 3 days ago; 24..=25 sent now; 26..=27 failed 3 days ago; 28..=30 pending
    // (enqueued long ago: age alone never deletes).
    sqlx::raw_sql(
        "UPDATE audit_outbox SET sent_at = now() - interval '3 days' WHERE id <= 23;
         UPDATE audit_outbox SET sent_at = now() WHERE id IN (24, 25);
         UPDATE audit_outbox SET failed_at = now() - interval '3 days', failure_reason = 'x' WHERE id IN (26, 27);
         UPDATE audit_outbox SET enqueued_at = now() - interval '30 days', created_at = now() - interval '30 days' WHERE id > 27;",
    )
    .execute(&pool)
    .await?;
    let config = HousekeepingConfig::new().page_size(5);
    let report = outbox.housekeep_once(&config).await?;
    assert_eq!((report.sent_deleted, report.failed_deleted), (23, 0));
    let c = outbox.counts().await?;
    assert_eq!((c.sent, c.failed, c.pending), (2, 2, 3));
    let config = config.failed_retention(Duration::from_secs(86_400));
    let handle = outbox.start_housekeeping(config)?;
    eventually(
        "failed rows deleted by the background task",
        LIMIT,
        || async { Ok((outbox.count_failed().await? == 0).then_some(())) },
    )
    .await?;
    handle.shutdown().await?;
    let c = outbox.counts().await?;
    assert_eq!((c.sent, c.failed, c.pending), (2, 0, 3));
    Ok(())
}

/// The same on SQLite (its SQL is separate).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn housekeeping_sqlite() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_url, pool, outbox) = crate::faults::sqlite_outbox(&dir).await?;
    let mut tx = pool.begin().await?;
    for _ in 0..12 {
        outbox.enqueue(&mut tx, &msg("t", None)).await?;
    }
    tx.commit().await?;
    let day: i64 = 86_400_000_000;
    let now = chrono::Utc::now().timestamp_micros();
    sqlx::query("UPDATE audit_outbox SET sent_at = ? WHERE id <= 7")
        .bind(now - 3 * day)
        .execute(&pool)
        .await?;
    sqlx::query("UPDATE audit_outbox SET sent_at = ? WHERE id = 8")
        .bind(now)
        .execute(&pool)
        .await?;
    sqlx::query("UPDATE audit_outbox SET failed_at = ?, failure_reason = 'x' WHERE id IN (9, 10)")
        .bind(now - 3 * day)
        .execute(&pool)
        .await?;
    let config = HousekeepingConfig::new().page_size(3);
    let report = outbox.housekeep_once(&config).await?;
    assert_eq!((report.sent_deleted, report.failed_deleted), (7, 0));
    let config = config.failed_retention(Duration::from_secs(86_400));
    let report = outbox.housekeep_once(&config).await?;
    assert_eq!((report.sent_deleted, report.failed_deleted), (0, 2));
    let c = outbox.counts().await?;
    assert_eq!((c.sent, c.failed, c.pending), (1, 0, 2));
    Ok(())
}

/// The backlog counts ready rows only: a row in back-off is pending but not ready (both backends).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backlog_counts_ready_rows_not_rows_in_back_off() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_url, pool, outbox) = crate::faults::sqlite_outbox(&dir).await?;
    let mut tx = pool.begin().await?;
    for _ in 0..3 {
        outbox.enqueue(&mut tx, &msg("t", None)).await?;
    }
    tx.commit().await?;
    let later = chrono::Utc::now().timestamp_micros() + 3_600_000_000;
    sqlx::query("UPDATE audit_outbox SET attempts = 1, next_attempt_at = ? WHERE id = 2")
        .bind(later)
        .execute(&pool)
        .await?;
    let c = outbox.refresh_gauges().await?;
    assert_eq!((c.pending, c.ready), (3, 2));

    let (_db, pool, outbox) = pg_outbox().await?;
    let mut tx = pool.begin().await?;
    for _ in 0..3 {
        outbox.enqueue(&mut tx, &msg("t", None)).await?;
    }
    tx.commit().await?;
    sqlx::query(
        "UPDATE audit_outbox SET attempts = 1, next_attempt_at = now() + interval '1 hour'
         WHERE id = (SELECT min(id) FROM audit_outbox)",
    )
    .execute(&pool)
    .await?;
    let c = outbox.refresh_gauges().await?;
    assert_eq!((c.pending, c.ready), (3, 2));
    Ok(())
}

/// Migrations are recorded and can be applied again (several processes at start-up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_once_and_are_idempotent() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let other = Outbox::new(pool.clone());
    let (a, b) = tokio::join!(outbox.migrate(), other.migrate());
    a?;
    b?;
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM audit_outbox_migration ORDER BY version")
            .fetch_all(&pool)
            .await?;
    assert_eq!(versions, vec![1]);
    // The shipped SQL itself is idempotent too (for teams applying it with their own tool).
    for m in audit_outbox::POSTGRES_MIGRATIONS {
        sqlx::raw_sql(m.sql).execute(&pool).await?;
    }
    let dir = tempfile::tempdir()?;
    let (_url, spool, soutbox) = crate::faults::sqlite_outbox(&dir).await?;
    soutbox.migrate().await?;
    for m in audit_outbox::SQLITE_MIGRATIONS {
        sqlx::raw_sql(m.sql).execute(&spool).await?;
    }
    Ok(())
}
