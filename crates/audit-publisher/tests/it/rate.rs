//! Acceptance 4: a burst over the rate limit is spilled to SQLite and delivered in full at the
//! limited rate; with `OverLimit::Drop` what is over the limit is dropped and counted.
//!
//! Default: a burst of 2,000 at 1,000/s (bucket of 100). Full run: `PUBLISHER_RATE_COMMANDS=10000
//! cargo test -p audit-publisher --test it rate -- --nocapture`.

use std::time::Instant;

use audit_publisher::{OverLimit, Published, PublisherConfig, RateLimit};
use rdkafka::mocking::MockCluster;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_is_spilled_and_delivered_at_the_limited_rate() -> TestResult {
    let total = env_u64("PUBLISHER_RATE_COMMANDS", 2_000);
    let (rate, bucket) = (1_000u32, 100u32);
    let mock = MockCluster::new(1)?;
    let topic = "rate";
    mock.create_topic(topic, 1, 1)?;
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir()?;
    let (publisher, outbox) = start_publisher(
        &dir,
        relay_config(&bootstrap),
        topic,
        PublisherConfig::new()
            .queue_capacity(total as usize)
            .rate_limit(RateLimit::new(rate, bucket)),
    )
    .await?;
    let started = Instant::now();
    for i in 0..total {
        assert_eq!(
            publisher.try_publish(command("rate", i)).await?,
            Published::Queued
        );
    }
    let published = started.elapsed();
    eventually("everything spilled to SQLite", LIMIT, || async {
        Ok((publisher.status().written == total).then_some(()))
    })
    .await?;
    let spilled = started.elapsed();
    let spilled_pending = outbox.counts().await?.pending;
    eventually("everything delivered", LIMIT, || async {
        Ok((publisher.status().relay.delivered == total).then_some(()))
    })
    .await?;
    let delivered = started.elapsed();
    let status = publisher.shutdown().await?;
    let measured = total as f64 / delivered.as_secs_f64();
    eprintln!(
        "burst of {total} at {rate}/s (bucket {bucket}): published in {published:?}, in SQLite after \
         {spilled:?} ({spilled_pending} pending then), delivered after {delivered:?}: {measured:.0} records/s, \
         {} waits for tokens",
        status.relay.rate_limit_waits
    );
    assert!(
        status.relay.rate_limit_waits > 0,
        "the limiter held the relay back"
    );
    // The bucket admits at most `bucket + rate * t` records by time t: delivering everything
    // cannot take less than (total - bucket) / rate (a property of the limiter, not a benchmark).
    let floor = (total - u64::from(bucket)) as f64 / f64::from(rate);
    assert!(
        delivered.as_secs_f64() >= floor * 0.99,
        "delivered {total} in {delivered:?}, faster than the limit allows ({floor:.2} s)"
    );
    // delivered in full: every command, by message id and idempotence id
    let ids = consume_ids(&bootstrap, topic, 1).await?;
    let duplicates = assert_exactly(&ids, "rate", total)?;
    eprintln!("read back all {total} ({duplicates} duplicates)");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_limit_drop_drops_and_counts() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (publisher, outbox) = start_publisher(
        &dir,
        relay_config("127.0.0.1:9"),
        "rate-drop",
        PublisherConfig::new().rate_limit(RateLimit::new(100, 50).over_limit(OverLimit::Drop)),
    )
    .await?;
    let started = Instant::now();
    let mut dropped = 0u64;
    for i in 0..1_000 {
        if publisher.try_publish(command("rate-drop", i)).await? == Published::Dropped {
            dropped += 1;
        }
    }
    let elapsed = started.elapsed();
    let status = publisher.shutdown().await?;
    eprintln!("{status:?} in {elapsed:?}");
    assert!(dropped > 0, "the limit was hit");
    assert_eq!(status.dropped_rate_limited, dropped);
    assert_eq!(status.accepted + dropped, 1_000);
    // at most the bucket plus what it earned meanwhile
    let allowed = 50.0 + 100.0 * elapsed.as_secs_f64() + 1.0;
    assert!(
        (status.accepted as f64) <= allowed,
        "{} accepted, at most {allowed:.0}",
        status.accepted
    );
    assert_eq!(outbox.counts().await?.pending, status.accepted);
    // the relay is not limited in drop mode
    assert_eq!(status.relay.rate_limit_waits, 0);
    Ok(())
}
