//! Full-queue policies (drop, reject, wait), graceful shutdown, configuration.

use std::time::Duration;

use audit_publisher::{Error, Published, PublisherConfig, WhenFull};
use rdkafka::mocking::MockCluster;

use crate::support::*;

const TASKS: u64 = 8;

/// Publishes `total` commands `{tag}-i` from 8 tasks as fast as possible; returns the ids that
/// were queued (and the errors' given-back commands' ids).
async fn burst(
    publisher: &audit_publisher::AuditPublisher,
    tag: &'static str,
    total: u64,
) -> Result<(Vec<u64>, Vec<u64>, Vec<u64>), BoxError> {
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let publisher = publisher.clone();
        tasks.push(tokio::spawn(async move {
            let (mut queued, mut dropped, mut rejected) = (Vec::new(), Vec::new(), Vec::new());
            for i in (t..total).step_by(TASKS as usize) {
                match publisher.try_publish(command(tag, i)).await {
                    Ok(Published::Queued) => queued.push(i),
                    Ok(Published::Dropped) => dropped.push(i),
                    Err(Error::QueueFull(back)) => {
                        assert_eq!(
                            back.identity.id,
                            format!("{tag}-{i}"),
                            "the command is given back"
                        );
                        rejected.push(i);
                    }
                    Err(e) => return Err(e),
                    Ok(other) => unreachable!("{other:?}"),
                }
            }
            Ok((queued, dropped, rejected))
        }));
    }
    let (mut queued, mut dropped, mut rejected) = (Vec::new(), Vec::new(), Vec::new());
    for t in tasks {
        let (q, d, r) = t.await??;
        queued.extend(q);
        dropped.extend(d);
        rejected.extend(r);
    }
    Ok((queued, dropped, rejected))
}

/// Acceptance 3: with policy `drop`, the drop counter equals the commands missing downstream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_policy_counts_exactly_what_is_missing_downstream() -> TestResult {
    let mock = MockCluster::new(1)?;
    let topic = "drop";
    mock.create_topic(topic, 1, 1)?;
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir()?;
    let total = 20_000;
    let (publisher, _outbox) = start_publisher(
        &dir,
        relay_config(&bootstrap),
        topic,
        PublisherConfig::new()
            .queue_capacity(64)
            .batch_size(32)
            .flush_interval(Duration::ZERO)
            .when_full(WhenFull::Drop),
    )
    .await?;
    let (queued, dropped, rejected) = burst(&publisher, "drop", total).await?;
    let status = publisher.status();
    eprintln!(
        "queued {}, dropped {}: {status:?}",
        queued.len(),
        dropped.len()
    );
    assert!(rejected.is_empty());
    assert!(
        status.dropped_queue_full > 0,
        "the queue overflowed (the fault happened)"
    );
    assert_eq!(status.dropped_queue_full, dropped.len() as u64);
    assert_eq!(status.accepted + status.dropped_queue_full, total);
    eventually("every accepted command delivered", LIMIT, || async {
        Ok((publisher.status().relay.delivered >= status.accepted).then_some(()))
    })
    .await?;
    let status = publisher.shutdown().await?;
    let ids = consume_ids(&bootstrap, topic, 1).await?;
    let missing = (0..total)
        .filter(|i| !ids.contains_key(&format!("drop-{i}")))
        .count() as u64;
    eprintln!(
        "missing downstream {missing}, drop counter {}",
        status.dropped_queue_full
    );
    assert_eq!(missing, status.dropped_queue_full);
    for i in &dropped {
        assert!(
            !ids.contains_key(&format!("drop-{i}")),
            "dropped {i} was delivered"
        );
    }
    Ok(())
}

/// Policy `reject` gives every command it cannot queue back; policy `wait` waits for room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_gives_back_and_wait_waits() -> TestResult {
    let total = 5_000;
    let dir = tempfile::tempdir()?;
    let (publisher, outbox) = start_publisher(
        &dir,
        relay_config("127.0.0.1:9"),
        "reject",
        PublisherConfig::new()
            .queue_capacity(16)
            .batch_size(8)
            .flush_interval(Duration::ZERO)
            .when_full(WhenFull::Reject),
    )
    .await?;
    let (queued, dropped, rejected) = burst(&publisher, "reject", total).await?;
    let status = publisher.shutdown().await?;
    assert!(dropped.is_empty());
    assert!(
        !rejected.is_empty(),
        "the queue overflowed (the fault happened)"
    );
    assert_eq!(status.rejected, rejected.len() as u64);
    assert_eq!(status.accepted, queued.len() as u64);
    assert_eq!(outbox.counts().await?.pending, queued.len() as u64);

    let dir = tempfile::tempdir()?;
    let (publisher, outbox) = start_publisher(
        &dir,
        relay_config("127.0.0.1:9"),
        "wait",
        PublisherConfig::new()
            .queue_capacity(16)
            .batch_size(8)
            .flush_interval(Duration::ZERO)
            .when_full(WhenFull::Wait(Duration::from_secs(60))),
    )
    .await?;
    let (queued, dropped, rejected) = burst(&publisher, "wait", total).await?;
    let status = publisher.shutdown().await?;
    assert!(
        status.waited > 0,
        "callers waited for room (the fault happened)"
    );
    assert!(dropped.is_empty() && rejected.is_empty());
    assert_eq!(queued.len() as u64, total);
    assert_eq!(outbox.counts().await?.pending, total);
    Ok(())
}

/// Graceful shutdown writes everything still queued, batch after batch; afterwards calls get
/// the command back. Another connection holds SQLite's write lock meanwhile, so the writer is
/// stuck in its first batch and the rest waits in the queue when the shutdown starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_flushes_the_queue_to_sqlite() -> TestResult {
    use sqlx::Connection;
    let dir = tempfile::tempdir()?;
    let (publisher, outbox) = start_publisher(
        &dir,
        relay_config("127.0.0.1:9"),
        "flush",
        PublisherConfig::new()
            .queue_capacity(5_000)
            .batch_size(100)
            .flush_interval(Duration::ZERO),
    )
    .await?;
    let mut blocker = sqlx::SqliteConnection::connect(&format!(
        "sqlite://{}",
        dir.path().join("spill.db").display()
    ))
    .await?;
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await?;
    for i in 0..1_000 {
        assert_eq!(
            publisher.try_publish(command("flush", i)).await?,
            Published::Queued
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = publisher.status();
    assert_eq!(before.written, 0, "nothing written while SQLite is locked");
    assert!(
        publisher.queued() >= 800,
        "still queued: {}",
        publisher.queued()
    );
    let shutdown = {
        let publisher = publisher.clone();
        tokio::spawn(async move { publisher.shutdown().await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut blocker).await?;
    let status = shutdown.await??;
    assert_eq!(
        (status.accepted, status.written, status.unwritten),
        (1_000, 1_000, 0)
    );
    assert!(status.batches >= 9, "written batch after batch: {status:?}");
    assert_eq!(outbox.counts().await?.pending, 1_000);
    let after = publisher.try_publish(command("flush", 1_000)).await;
    assert!(
        matches!(&after, Err(Error::Closed(c)) if c.identity.id == "flush-1000"),
        "{after:?}"
    );
    // a second shutdown reports the same
    assert_eq!(publisher.shutdown().await?.written, 1_000);
    Ok(())
}

#[tokio::test]
async fn invalid_settings_and_commands_are_refused() -> TestResult {
    assert!(PublisherConfig::new().validate().is_ok());
    let bad = [
        PublisherConfig::new().queue_capacity(0),
        PublisherConfig::new().batch_size(0),
        PublisherConfig::new().queue_capacity(10).batch_size(11),
        PublisherConfig::new().when_full(WhenFull::Wait(Duration::ZERO)),
        PublisherConfig::new().rate_limit(audit_publisher::RateLimit::new(0, 10)),
        PublisherConfig::new().rate_limit(audit_publisher::RateLimit::new(10, 0)),
    ];
    for config in bad {
        let e = config.validate();
        assert!(matches!(e, Err(Error::Config(_))), "{config:?}: {e:?}");
    }
    let dir = tempfile::tempdir()?;
    let started = start_publisher(
        &dir,
        relay_config("127.0.0.1:9"),
        "x",
        PublisherConfig::new().batch_size(0),
    )
    .await;
    assert!(started.is_err(), "start validates");
    let (publisher, _outbox) = start_publisher(
        &dir,
        relay_config("127.0.0.1:9"),
        "x",
        PublisherConfig::new(),
    )
    .await?;
    let mut c = command("x", 1);
    c.identity.idempotence_id = "".into();
    assert!(matches!(
        publisher.try_publish(c).await,
        Err(Error::InvalidCommand(_))
    ));
    let mut c = command("x", 2);
    c.identity.id = "".into();
    assert!(matches!(
        publisher.try_publish(c).await,
        Err(Error::InvalidCommand(_))
    ));
    assert_eq!(publisher.shutdown().await?.accepted, 0);
    Ok(())
}
