//! Runtime guards that need a fault on cue (librdkafka's in-process mock cluster): the bounded
//! uncommitted window, no blocking call on a current-thread runtime, no secret in `Debug`, and
//! the handler inside the deduplication transaction on SQLite.

use audit_support::Backoff;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use audit_builder::{AuditCommandBuilder, AuditEventType};
use audit_consumer::runtime::{
    AuditConsumer, ConsumerConfig, Dedup, DedupTx, Delivery, HandlerError, RetryPolicy,
};
use rdkafka::config::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::{record_value, t0, versions};

const HANG_GUARD: Duration = Duration::from_secs(120);

fn command_value(i: usize) -> Vec<u8> {
    let command = AuditCommandBuilder::new("guard-test", "TEST", t0())
        .event_type(AuditEventType::Modified)
        .user(format!("u{i}"), "idp")
        .build()
        .unwrap();
    record_value(&command)
}

fn index_of(delivery: &Delivery) -> usize {
    match delivery.record().trigger() {
        audit_consumer::Trigger::User(user) => user.id().trim_start_matches('u').parse().unwrap(),
        other => panic!("unexpected trigger {other:?}"),
    }
}

async fn produce(bootstrap: &str, topic: &str, indexes: impl IntoIterator<Item = usize>) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    for i in indexes {
        producer
            .send(
                FutureRecord::<(), _>::to(topic).payload(&command_value(i)),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
}

fn config(bootstrap: &str, topic: &str) -> ConsumerConfig {
    ConsumerConfig::new(bootstrap, "guard-group", [topic])
        .commit_interval(Duration::from_millis(50))
        .retry(RetryPolicy::new(
            Backoff::new(Duration::from_millis(5), Duration::from_millis(50))
                .expect("valid back-off"),
        ))
}

async fn until(mut condition: impl FnMut() -> bool) {
    tokio::time::timeout(HANG_GUARD, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("condition never became true");
}

/// Defect 4: a record whose handling never finishes freezes its partition's committable
/// position; the partition is consumed only up to the bound, then paused, and resumed when the
/// record finishes. The window is exported as a gauge.
#[tokio::test(flavor = "current_thread")]
async fn a_stuck_record_pauses_its_partition_at_the_uncommitted_bound_and_it_resumes_after() {
    const N: usize = 1_000;
    const BOUND: usize = 100;
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("bound", 1, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    produce(&bootstrap, "bound", 0..N).await;

    let calls = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicBool::new(false));
    let consumer = AuditConsumer::new(
        config(&bootstrap, "bound")
            .max_in_flight(64)
            .max_uncommitted_per_partition(BOUND),
        versions(),
    )
    .unwrap();
    let handler = {
        let (calls, done, release) = (calls.clone(), done.clone(), release.clone());
        move |delivery: Arc<Delivery>| {
            let (calls, done, release) = (calls.clone(), done.clone(), release.clone());
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                if index_of(&delivery) == 0 {
                    // stuck (like a record retried forever) until the test releases it
                    while !release.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
                done.fetch_add(1, Ordering::SeqCst);
                Ok::<(), HandlerError>(())
            }
        }
    };
    let observed = Arc::new(std::sync::Mutex::new((0usize, 0f64)));
    let shutdown = {
        let (calls, done, release, observed) = (
            calls.clone(),
            done.clone(),
            release.clone(),
            observed.clone(),
        );
        let snapshotter = &snapshotter;
        async move {
            until(|| calls.load(Ordering::SeqCst) >= BOUND).await;
            // a second for more records to arrive if the partition were not paused
            tokio::time::sleep(Duration::from_secs(1)).await;
            let gauge = snapshotter
                .snapshot()
                .into_vec()
                .into_iter()
                .find(|(key, ..)| key.key().name() == audit_consumer::runtime::metrics::UNCOMMITTED)
                .map(|(.., value)| match value {
                    metrics_util::debugging::DebugValue::Gauge(g) => g.into_inner(),
                    other => panic!("not a gauge: {other:?}"),
                })
                .unwrap_or(-1.0);
            *observed.lock().unwrap() = (calls.load(Ordering::SeqCst), gauge);
            release.store(true, Ordering::SeqCst);
            until(|| done.load(Ordering::SeqCst) >= N).await;
        }
    };
    let summary = tokio::time::timeout(HANG_GUARD, consumer.run(handler, shutdown))
        .await
        .unwrap()
        .unwrap();
    let (calls_while_stuck, gauge_while_stuck) = *observed.lock().unwrap();
    assert_eq!(
        calls_while_stuck, BOUND,
        "consumption of the partition stops at the bound while record 0 is unfinished"
    );
    assert_eq!(
        gauge_while_stuck, BOUND as f64,
        "the uncommitted gauge shows the window"
    );
    assert!(summary.pauses >= 1, "paused at the bound: {summary:?}");
    assert!(summary.resumes >= 1, "resumed after the drain: {summary:?}");
    assert_eq!(
        summary.handled, N as u64,
        "everything handled after the resume"
    );
    assert_eq!(calls.load(Ordering::SeqCst), N);
}

/// Defect 6: the final (synchronous) commit and dropping the consumer wait for a slow broker,
/// but not on the runtime's only thread: a timer task keeps ticking meanwhile.
#[tokio::test(flavor = "current_thread")]
async fn shutdown_commit_and_drop_leave_a_current_thread_runtime_running() {
    const N: usize = 50;
    const RTT: Duration = Duration::from_millis(1_500);
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("slow", 1, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    produce(&bootstrap, "slow", 0..N).await;

    let ticks = Arc::new(AtomicU64::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let handled = Arc::new(AtomicUsize::new(0));
    // no periodic commit: everything is committed by the final commit
    let consumer = AuditConsumer::new(
        config(&bootstrap, "slow").commit_interval(Duration::from_secs(3600)),
        versions(),
    )
    .unwrap();
    let handler = {
        let handled = handled.clone();
        move |_: Arc<Delivery>| {
            let handled = handled.clone();
            async move {
                handled.fetch_add(1, Ordering::SeqCst);
                Ok::<(), HandlerError>(())
            }
        }
    };
    let start = Arc::new(std::sync::Mutex::new(None));
    let shutdown = {
        let (handled, ticks, start) = (handled.clone(), ticks.clone(), start.clone());
        let cluster = &cluster;
        async move {
            until(|| handled.load(Ordering::SeqCst) >= N).await;
            cluster.broker_round_trip_time(1, RTT).unwrap();
            *start.lock().unwrap() = Some((Instant::now(), ticks.load(Ordering::SeqCst)));
        }
    };
    let summary = tokio::time::timeout(HANG_GUARD, consumer.run(handler, shutdown))
        .await
        .unwrap()
        .unwrap();
    let (began, ticks_before) = start.lock().unwrap().unwrap();
    let commit_took = began.elapsed();
    let ticks_during_commit = ticks.load(Ordering::SeqCst) - ticks_before;
    assert_eq!(summary.handled, N as u64);
    assert!(
        commit_took >= RTT,
        "the fault happened: the final commit waited for the slow broker ({commit_took:?})"
    );
    assert!(
        ticks_during_commit >= 20,
        "only {ticks_during_commit} ticks of 5 ms during a {commit_took:?} commit: the thread was blocked"
    );

    // Dropping closes the clients (leave group with a slow broker) off this thread.
    let began = Instant::now();
    let ticks_before = ticks.load(Ordering::SeqCst);
    drop(consumer);
    tokio::time::sleep_until((began + RTT).into()).await;
    let ticks_during_drop = ticks.load(Ordering::SeqCst) - ticks_before;
    assert!(
        ticks_during_drop >= 20,
        "only {ticks_during_drop} ticks of 5 ms in the {RTT:?} after the drop: the drop blocked"
    );
    ticker.abort();
}

/// Defect 7: no secret property value appears in the `Debug` output of any configuration type.
#[tokio::test(flavor = "current_thread")]
async fn debug_output_of_every_config_type_redacts_secrets() {
    const SECRETS: &[(&str, &str)] = &[
        ("sasl.password", "s3cret-sasl-password"),
        ("ssl.key.password", "s3cret-key-password"),
        ("ssl.keystore.password", "s3cret-keystore-password"),
        ("sasl.oauthbearer.client.secret", "s3cret-client-secret"),
        (
            "sasl.oauthbearer.config",
            "principal=me s3cret-oauth-config",
        ),
        ("ssl.key.pem", "-----BEGIN PRIVATE KEY----- s3cret-pem"),
    ];
    let mut config = ConsumerConfig::new("127.0.0.1:9", "g", ["t"]).set("sasl.username", "alice");
    for (k, v) in SECRETS {
        config = config.set(*k, *v);
    }
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://alice:s3cret-db-password@127.0.0.1:5432/test")
        .unwrap();
    let config = config.dedup(Dedup::postgres(pool.clone(), "ctx"));
    let printed_config = format!("{config:?} {config:#?}");
    assert!(
        printed_config.contains("alice"),
        "non-secret values are shown: {printed_config}"
    );
    assert!(printed_config.contains("sasl.password"), "keys are shown");
    // A consumer needs properties librdkafka accepts on this build: the SASL ones.
    let consumer_config = ConsumerConfig::new("127.0.0.1:9", "g", ["t"])
        .set("security.protocol", "sasl_plaintext")
        .set("sasl.mechanism", "PLAIN")
        .set("sasl.username", "alice")
        .set("sasl.password", "s3cret-sasl-password")
        .dedup(Dedup::postgres(pool.clone(), "ctx"));
    let consumer = AuditConsumer::new(consumer_config, versions()).unwrap();
    let printed_consumer = format!("{consumer:?} {consumer:#?}");
    let printed_dedup = format!("{:?}", Dedup::postgres(pool, "ctx"));
    for printed in [&printed_config, &printed_consumer, &printed_dedup] {
        assert!(
            !printed.contains("s3cret"),
            "a secret is printed: {printed}"
        );
    }
    assert!(printed_consumer.contains("<redacted>"));
    consumer.close().await;
}

/// Defect 5 on SQLite: the handler writes its effect through the deduplication transaction (the
/// one holding the write lock): no wait on the lock, and effect and marker commit together, so
/// a record published twice has one effect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_handler_writes_its_effect_in_the_dedup_transaction_once_per_id() {
    const N: usize = 30;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("d.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let dedup = Dedup::sqlite(pool.clone(), "ctx");
    dedup.migrate().await.unwrap();
    dedup.migrate().await.unwrap(); // applied once, recorded
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_consumer_migration")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied, 1);
    sqlx::query("CREATE TABLE effects (i INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("sq", 1, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    // every record twice (a producer retry), then a sentinel
    produce(&bootstrap, "sq", (0..N).chain(0..N).chain([N])).await;
    let failed_once = Arc::new(AtomicUsize::new(0));
    let consumer = AuditConsumer::new(
        config(&bootstrap, "sq").max_in_flight(8).dedup(dedup),
        versions(),
    )
    .unwrap();
    let handler = {
        let failed_once = failed_once.clone();
        move |delivery: Arc<Delivery>, mut tx: DedupTx| {
            let failed_once = failed_once.clone();
            async move {
                let i = index_of(&delivery);
                sqlx::query("INSERT INTO effects (i) VALUES (?)")
                    .bind(i as i64)
                    .execute(tx.sqlite().unwrap())
                    .await
                    .map_err(HandlerError::transient)?;
                // record 7 fails once after writing its effect: rolled back with its marker
                if i == 7 && failed_once.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Err(HandlerError::transient("fails once after the write"));
                }
                Ok(tx)
            }
        }
    };
    let shutdown = {
        let pool = pool.clone();
        async move {
            loop {
                let markers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM idempotent_processing")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                if markers > N as i64 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let summary = tokio::time::timeout(HANG_GUARD, consumer.run_in_transaction(handler, shutdown))
        .await
        .unwrap()
        .unwrap();
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT i, COUNT(*) FROM effects GROUP BY i ORDER BY i")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), N + 1, "every record has an effect");
    assert!(
        rows.iter().all(|&(_, n)| n == 1),
        "one effect per id: {rows:?}"
    );
    assert!(
        failed_once.load(Ordering::SeqCst) >= 1,
        "the failure happened"
    );
    assert!(summary.retries >= 1);
    assert_eq!(summary.handled, N as u64 + 1);
    assert_eq!(
        summary.duplicates, N as u64,
        "the second copies were skipped"
    );
}

/// Defect 6, rebalance: the revoked partitions' positions are committed from the rebalance
/// callback, which librdkafka calls on the polling task (here the runtime's only thread). With a
/// slow broker a synchronous commit there would stall the runtime for a round trip; the
/// asynchronous one does not, and the new owner still starts after the revoked positions.
#[tokio::test(flavor = "current_thread")]
async fn a_rebalance_commit_leaves_a_current_thread_runtime_running() {
    const N: usize = 200;
    const RTT: Duration = Duration::from_millis(1_500);
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("rebal", 2, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    produce(&bootstrap, "rebal", 0..N).await;

    // the longest pause between two ticks of a 5 ms timer
    let max_gap = Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let ticker = tokio::spawn({
        let max_gap = max_gap.clone();
        async move {
            let mut last = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let now = Instant::now();
                let mut gap = max_gap.lock().unwrap();
                *gap = (*gap).max(now - last);
                last = now;
            }
        }
    });
    let counter = || {
        let n = Arc::new(AtomicUsize::new(0));
        let handler = {
            let n = n.clone();
            move |_: Arc<Delivery>| {
                let n = n.clone();
                async move {
                    n.fetch_add(1, Ordering::SeqCst);
                    Ok::<(), HandlerError>(())
                }
            }
        };
        (n, handler)
    };
    // no periodic commit: the positions reach the broker only through the revocation
    let group_config = || {
        config(&bootstrap, "rebal")
            .commit_interval(Duration::from_secs(3600))
            .set("session.timeout.ms", "6000")
    };
    let (first_handled, first_handler) = counter();
    let (second_handled, second_handler) = counter();
    let first = AuditConsumer::new(group_config(), versions()).unwrap();
    let second_assigned = Arc::new(AtomicBool::new(false));
    let first_run = first.run(first_handler, {
        let second_assigned = second_assigned.clone();
        async move {
            until(|| second_assigned.load(Ordering::SeqCst)).await;
        }
    });
    let second_run = async {
        until(|| first_handled.load(Ordering::SeqCst) >= N).await;
        cluster.broker_round_trip_time(1, RTT).unwrap();
        *max_gap.lock().unwrap() = Duration::ZERO;
        let second = AuditConsumer::new(group_config(), versions()).unwrap();
        let assigned = async {
            until(|| second.assignment().is_ok_and(|a| !a.is_empty())).await;
            second_assigned.store(true, Ordering::SeqCst);
            // time for the new owner to fetch from the committed positions
            tokio::time::sleep(RTT * 3).await;
        };
        let summary = second.run(second_handler, assigned).await;
        (summary, second)
    };
    let (first_summary, (second_summary, second)) =
        tokio::time::timeout(HANG_GUARD, async { tokio::join!(first_run, second_run) })
            .await
            .unwrap();
    let (first_summary, second_summary) = (first_summary.unwrap(), second_summary.unwrap());
    let gap = *max_gap.lock().unwrap();
    ticker.abort();
    assert_eq!(first_summary.handled, N as u64);
    assert!(
        first_summary.revocations >= 1,
        "the fault happened: the first member's partitions were revoked while the broker was slow"
    );
    assert_eq!(
        second_handled.load(Ordering::SeqCst),
        0,
        "the revoked positions were committed: the new owner had nothing to redo ({second_summary:?})"
    );
    assert!(
        gap < RTT,
        "the runtime thread stalled for {gap:?} (broker round trip {RTT:?})"
    );
    first.close().await;
    second.close().await;
}
