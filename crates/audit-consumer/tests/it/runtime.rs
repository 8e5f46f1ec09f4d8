//! The Kafka consumer runtime against a real Kafka-protocol broker (Tansu 0.6.0): volume with
//! counted side effects, transient failures, poisoned records, kill and restart (with and
//! without deduplication), a rebalance while processing.

use audit_support::Backoff;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use audit_builder::{AuditCommandBuilder, AuditEventType};
use audit_consumer::runtime::{
    AuditConsumer, ConsumerConfig, Dedup, DedupTx, Delivery, ERROR_MESSAGE_HEADER,
    ERROR_OFFSET_HEADER, ERROR_PARTITION_HEADER, ERROR_STAGE_HEADER, ERROR_TOPIC_HEADER,
    HandlerError, RetryPolicy, RunSummary, TRACEPARENT_HEADER,
};
use audit_testkit::{PgDatabase, Tansu};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use crate::{ID_1_0_0, ID_1_0_2, record_value, t0, versions};

/// Upper bound for a whole scenario: a hang guard, not a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(300);

pub(crate) fn tansu() -> &'static Tansu {
    Tansu::shared().unwrap()
}

pub(crate) fn unique(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{name}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Record `i`: a user-triggered command whose idempotence id ends in the user id `u{i}`.
pub(crate) fn command_value(i: usize) -> Vec<u8> {
    let command = AuditCommandBuilder::new("runtime-test", "TEST", t0())
        .event_type(AuditEventType::Modified)
        .user(format!("u{i}"), "idp")
        .event_data("n", i.to_string())
        .build()
        .unwrap();
    record_value(&command)
}

/// The `i` of a record built by [`command_value`].
pub(crate) fn index_of(delivery: &Delivery) -> usize {
    match delivery.record().trigger() {
        audit_consumer::Trigger::User(user) => user.id().trim_start_matches('u').parse().unwrap(),
        other => panic!("unexpected trigger {other:?}"),
    }
}

fn traceparent(i: usize) -> String {
    format!("00-{:032x}-{:016x}-01", i + 1, i + 1)
}

/// Produces `values` (with a `traceparent` header each) to `topic`, round-robin over partitions.
///
/// One record per record batch (`batch.num.messages=1`): Tansu 0.6.0 returns nothing to a fetch
/// that starts at an offset inside a multi-record batch (the consumer stalls), which a consumer
/// resuming from a committed offset does. Real Kafka returns the enclosing batch; see
/// docs/consumer-runtime.md.
async fn produce(topic: &str, values: Vec<(Vec<u8>, Option<String>)>) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", tansu().bootstrap())
        .set("batch.num.messages", "1")
        .set("acks", "all")
        .create()
        .unwrap();
    let mut pending = FuturesUnordered::new();
    for (value, tp) in values {
        let producer = &producer;
        pending.push(async move {
            let mut headers = OwnedHeaders::new().insert(Header {
                key: "x-test",
                value: Some("kept"),
            });
            if let Some(tp) = &tp {
                headers = headers.insert(Header {
                    key: TRACEPARENT_HEADER,
                    value: Some(tp.as_str()),
                });
            }
            producer
                .send(
                    FutureRecord::<(), _>::to(topic)
                        .payload(&value)
                        .headers(headers),
                    Duration::from_secs(60),
                )
                .await
                .map_err(|(e, _)| e)
                .unwrap();
        });
        if pending.len() >= 1000 {
            pending.next().await;
        }
    }
    while pending.next().await.is_some() {}
}

pub(crate) fn topic_with(partitions: u32, name: &str) -> String {
    let topic = unique(name);
    tansu().create_topic(&topic, partitions).unwrap();
    topic
}

/// The group's committed offsets summed over the partitions of `topic`.
pub(crate) fn committed_total(group: &str, topic: &str, partitions: i32) -> i64 {
    committed(group, topic, partitions).values().sum()
}

fn committed(group: &str, topic: &str, partitions: i32) -> HashMap<i32, i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", tansu().bootstrap())
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let offsets = consumer
        .committed_offsets(tpl, Duration::from_secs(30))
        .unwrap();
    offsets
        .elements()
        .iter()
        .map(|e| {
            let offset = match e.offset() {
                Offset::Offset(o) => o,
                _ => 0,
            };
            (e.partition(), offset)
        })
        .collect()
}

/// Counts handler side effects per record index.
#[derive(Clone, Default)]
pub(crate) struct Effects(Arc<Mutex<HashMap<usize, u32>>>, Arc<AtomicUsize>);

impl Effects {
    pub(crate) fn record(&self, i: usize) {
        *self.0.lock().unwrap().entry(i).or_default() += 1;
        self.1.fetch_add(1, Ordering::SeqCst);
    }
    pub(crate) fn distinct(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    pub(crate) fn snapshot(&self) -> HashMap<usize, u32> {
        self.0.lock().unwrap().clone()
    }
    /// Completes once `n` distinct records have a side effect.
    pub(crate) fn reached(&self, n: usize) -> impl Future<Output = ()> + use<> {
        let me = self.clone();
        async move {
            while me.distinct() < n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

pub(crate) fn config(topic: &str, group: &str) -> ConsumerConfig {
    ConsumerConfig::new(tansu().bootstrap(), group, [topic])
        .commit_interval(Duration::from_millis(100))
        .retry(RetryPolicy::new(
            Backoff::new(Duration::from_millis(5), Duration::from_millis(100))
                .expect("valid back-off"),
        ))
}

pub(crate) async fn guarded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG_GUARD, f)
        .await
        .expect("scenario hung")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_records_each_handled_with_side_effects_and_committed() {
    const N: usize = 10_000;
    let topic = topic_with(3, "rt-volume");
    let group = unique("g-volume");
    produce(
        &topic,
        (0..N)
            .map(|i| (command_value(i), Some(traceparent(i))))
            .collect(),
    )
    .await;

    let effects = Effects::default();
    let bad_trace = Arc::new(AtomicUsize::new(0));
    let consumer = AuditConsumer::new(config(&topic, &group), versions()).unwrap();
    let handler = {
        let (effects, bad_trace) = (effects.clone(), bad_trace.clone());
        move |delivery: Arc<Delivery>| {
            let (effects, bad_trace) = (effects.clone(), bad_trace.clone());
            async move {
                let i = index_of(&delivery);
                if delivery.traceparent().map(|tp| tp.trace_id.clone())
                    != Some(format!("{:032x}", i + 1))
                {
                    bad_trace.fetch_add(1, Ordering::SeqCst);
                }
                tokio::task::yield_now().await;
                effects.record(i);
                Ok::<(), HandlerError>(())
            }
        }
    };
    let summary = guarded(consumer.run(handler, effects.reached(N)))
        .await
        .unwrap();

    assert_eq!(effects.distinct(), N);
    assert!(
        effects.snapshot().values().all(|&n| n == 1),
        "a clean run handles each record once"
    );
    assert_eq!(summary.received, N as u64);
    assert_eq!(summary.handled, N as u64);
    assert_eq!(
        bad_trace.load(Ordering::SeqCst),
        0,
        "traceparent reaches the handler"
    );
    assert_eq!(
        committed_total(&group, &topic, 3),
        N as i64,
        "graceful shutdown commits next-to-read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failure_on_every_100th_record_is_retried_and_nothing_is_lost() {
    const N: usize = 10_000;
    let topic = topic_with(2, "rt-transient");
    let group = unique("g-transient");
    produce(&topic, (0..N).map(|i| (command_value(i), None)).collect()).await;

    let effects = Effects::default();
    let failed_once = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let consumer = AuditConsumer::new(config(&topic, &group), versions()).unwrap();
    let handler = {
        let (effects, failed_once) = (effects.clone(), failed_once.clone());
        move |delivery: Arc<Delivery>| {
            let (effects, failed_once) = (effects.clone(), failed_once.clone());
            async move {
                let i = index_of(&delivery);
                if i.is_multiple_of(100) && failed_once.lock().unwrap().insert(i) {
                    return Err(HandlerError::transient(format!(
                        "downstream unavailable for {i}"
                    )));
                }
                effects.record(i);
                Ok(())
            }
        }
    };
    let summary = guarded(consumer.run(handler, effects.reached(N)))
        .await
        .unwrap();

    assert_eq!(failed_once.lock().unwrap().len(), N / 100);
    assert_eq!(effects.distinct(), N, "every record handled, none lost");
    assert_eq!(summary.retries, (N / 100) as u64);
    assert_eq!(summary.dead_lettered, 0);
    assert_eq!(committed_total(&group, &topic, 2), N as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poisoned_record_goes_to_the_error_topic_with_metadata_and_consumption_continues() {
    let topic = topic_with(1, "rt-poison");
    let error_topic = topic_with(1, "rt-poison-errors");
    let group = unique("g-poison");
    let garbage = b"\xde\xad\xbe\xef not avro".to_vec();
    let mut values: Vec<_> = (0..50).map(|i| (command_value(i), None)).collect();
    values.push((garbage.clone(), Some(traceparent(999))));
    values.extend((50..100).map(|i| (command_value(i), None)));
    // One partition, produced in order: the garbage sits at offset 50.
    for value in values {
        produce(&topic, vec![value]).await;
    }

    let effects = Effects::default();
    let consumer =
        AuditConsumer::new(config(&topic, &group).error_topic(&error_topic), versions()).unwrap();
    let handler = {
        let effects = effects.clone();
        move |delivery: Arc<Delivery>| {
            let effects = effects.clone();
            async move {
                effects.record(index_of(&delivery));
                Ok::<(), HandlerError>(())
            }
        }
    };
    let summary = guarded(consumer.run(handler, effects.reached(100)))
        .await
        .unwrap();
    assert_eq!(summary.dead_lettered, 1);
    assert_eq!(
        effects.distinct(),
        100,
        "the records after the poisoned one are consumed"
    );
    assert_eq!(
        committed_total(&group, &topic, 1),
        101,
        "the poisoned record is committed past"
    );

    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", tansu().bootstrap())
        .set("group.id", unique("g-poison-reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    reader.subscribe(&[error_topic.as_str()]).unwrap();
    let message = guarded(async {
        loop {
            if let Some(m) = reader.poll(Duration::from_millis(100)) {
                break m.unwrap().detach();
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(
        message.payload(),
        Some(garbage.as_slice()),
        "the original bytes"
    );
    let headers: HashMap<String, String> = message
        .headers()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h.key.to_owned(),
                String::from_utf8(h.value.unwrap().to_vec()).unwrap(),
            )
        })
        .collect();
    assert_eq!(headers[ERROR_TOPIC_HEADER], topic);
    assert_eq!(headers[ERROR_PARTITION_HEADER], "0");
    assert_eq!(headers[ERROR_OFFSET_HEADER], "50");
    assert_eq!(headers[ERROR_STAGE_HEADER], "decode");
    assert!(
        headers[ERROR_MESSAGE_HEADER].contains("magic byte"),
        "{}",
        headers[ERROR_MESSAGE_HEADER]
    );
    assert_eq!(headers["x-test"], "kept", "original headers are kept");
    assert_eq!(headers[TRACEPARENT_HEADER], traceparent(999));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failure_without_error_topic_stops_and_commits_only_what_came_before() {
    let topic = topic_with(1, "rt-no-error-topic");
    let group = unique("g-no-error-topic");
    let mut values: Vec<_> = (0..10).map(|i| (command_value(i), None)).collect();
    values.push((vec![0, 0, 0, 0x7f, 0x7f, 1], None)); // unknown schema id
    values.extend((10..20).map(|i| (command_value(i), None)));
    for value in values {
        produce(&topic, vec![value]).await;
    }
    let consumer = AuditConsumer::new(config(&topic, &group).max_in_flight(1), versions()).unwrap();
    let handler = |_: Arc<Delivery>| async { Ok::<(), HandlerError>(()) };
    let error = guarded(consumer.run(handler, std::future::pending()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            audit_consumer::Error::PermanentFailure {
                offset: 10,
                partition: 0,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(committed_total(&group, &topic, 1), 10);
}

/// Kill scenario: the handler of record `KILL_AT` (in offset order, one partition, one record in
/// flight) never finishes, and the consumer is dropped there like a crashed process. A second
/// consumer of the group then takes over.
async fn kill_and_restart(dedup: Option<Dedup>) -> (HashMap<usize, u32>, i64) {
    const N: usize = 2_000;
    const KILL_AT: usize = 1_234;
    let topic = topic_with(1, "rt-kill");
    let group = unique("g-kill");
    produce(&topic, (0..N).map(|i| (command_value(i), None)).collect()).await;
    let with_dedup = |c: ConsumerConfig| match &dedup {
        Some(d) => c.dedup(d.clone()),
        None => c,
    };

    let effects = Effects::default();
    let killed = Arc::new(tokio::sync::Notify::new());
    {
        let consumer = AuditConsumer::new(
            with_dedup(config(&topic, &group).max_in_flight(1)),
            versions(),
        )
        .unwrap();
        let handler = {
            let (effects, killed) = (effects.clone(), killed.clone());
            move |delivery: Arc<Delivery>| {
                let (effects, killed) = (effects.clone(), killed.clone());
                async move {
                    let i = index_of(&delivery);
                    if i == KILL_AT {
                        killed.notify_one();
                        std::future::pending::<()>().await;
                    }
                    effects.record(i);
                    Ok::<(), HandlerError>(())
                }
            }
        };
        let run = consumer.run(handler, std::future::pending());
        tokio::select! {
            result = run => panic!("the first consumer ended on its own: {result:?}"),
            () = killed.notified() => {}
        }
        // the run future is dropped here (crash); then the consumer
    }
    let committed_at_kill = committed_total(&group, &topic, 1);
    assert!(
        committed_at_kill <= KILL_AT as i64,
        "never committed past the unfinished record"
    );

    let consumer = AuditConsumer::new(with_dedup(config(&topic, &group)), versions()).unwrap();
    let handler = {
        let effects = effects.clone();
        move |delivery: Arc<Delivery>| {
            let effects = effects.clone();
            async move {
                effects.record(index_of(&delivery));
                Ok::<(), HandlerError>(())
            }
        }
    };
    let _: RunSummary = guarded(consumer.run(handler, effects.reached(N)))
        .await
        .unwrap();
    assert_eq!(committed_total(&group, &topic, 1), N as i64);
    let effects = effects.snapshot();
    assert_eq!(effects.len(), N, "nothing lost");
    (effects, committed_at_kill)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_consumer_restarts_at_least_once_with_duplicates_only_after_the_last_commit() {
    let (effects, committed_at_kill) = guarded(kill_and_restart(None)).await;
    for (i, n) in &effects {
        // one partition, produced in order: record i sits at offset i
        if (*i as i64) < committed_at_kill {
            assert_eq!(
                *n, 1,
                "record {i} before the committed offset {committed_at_kill} was handled again"
            );
        } else {
            assert!(*n <= 2, "record {i} handled {n} times");
        }
    }
}

/// Environment of [`sigkill_dedup_child`]: bootstrap, topic, group and the database URL.
const DEDUP_CHILD_ENV: &str = "AUDIT_RUNTIME_DEDUP_KILL_CHILD";

/// The handler of the SIGKILL deduplication test: writes the record's index into `effects`
/// through the deduplication transaction.
fn effect_writer() -> impl audit_consumer::runtime::TxHandler {
    |delivery: Arc<Delivery>, mut tx: DedupTx| async move {
        let i = index_of(&delivery) as i32;
        let Some(conn) = tx.postgres() else {
            return Err(HandlerError::permanent("not PostgreSQL"));
        };
        sqlx::query("INSERT INTO effects (i) VALUES ($1)")
            .bind(i)
            .execute(conn)
            .await
            .map_err(HandlerError::transient)?;
        Ok(tx)
    }
}

/// The consumer process that [`sigkilled_consumer_with_dedup_has_each_effect_exactly_once`]
/// kills: effects and idempotence ids commit per record, offsets only every second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run as a child process by the SIGKILL deduplication test"]
async fn sigkill_dedup_child() {
    let Ok(spec) = std::env::var(DEDUP_CHILD_ENV) else {
        return;
    };
    let [bootstrap, topic, group, url]: [&str; 4] =
        spec.split('|').collect::<Vec<_>>().try_into().unwrap();
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let config = ConsumerConfig::new(bootstrap, group, [topic])
        .max_in_flight(16)
        .commit_interval(Duration::from_secs(1))
        .set("session.timeout.ms", "6000")
        .dedup(Dedup::postgres(pool, "runtime-test"));
    let consumer = AuditConsumer::new(config, versions()).unwrap();
    consumer
        .run_in_transaction(effect_writer(), std::future::pending())
        .await
        .unwrap();
}

/// Deduplication across a real crash: the consumer process is SIGKILLed while records have
/// their effect (written in the deduplication transaction) committed but their offset not; the
/// restarted consumer gets them again and every record's effect exists exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_consumer_with_dedup_has_each_effect_exactly_once() {
    const N: usize = 3_000;
    let db = PgDatabase::create().await.unwrap();
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let dedup = Dedup::postgres(pool.clone(), "runtime-test");
    dedup.migrate().await.unwrap();
    sqlx::query("CREATE TABLE effects (i INT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let topic = topic_with(1, "rt-sigkill-dedup");
    let group = unique("g-sigkill-dedup");
    produce(&topic, (0..N).map(|i| (command_value(i), None)).collect()).await;
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "runtime::sigkill_dedup_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            DEDUP_CHILD_ENV,
            format!("{}|{topic}|{group}|{}", tansu().bootstrap(), db.url()),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    guarded(async {
        while count("SELECT COUNT(*) FROM effects").await < (N / 2) as i64 {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the child consumer exited early: {status}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    child.kill().unwrap(); // SIGKILL: no shutdown, no commit
    child.wait().unwrap();
    let committed_at_kill = committed_total(&group, &topic, 1);
    let effects_at_kill = count("SELECT COUNT(*) FROM effects").await;
    // one partition, produced in order: record i sits at offset i
    let effect_but_no_offset: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM effects WHERE i >= $1")
            .bind(committed_at_kill)
            .fetch_one(&pool)
            .await
            .unwrap();
    eprintln!(
        "SIGKILL with {effects_at_kill} effects, committed offset {committed_at_kill}: \
         {effect_but_no_offset} records have their effect but not their offset committed"
    );
    assert!(
        effect_but_no_offset > 0,
        "the kill fell between an effect's commit and its offset's commit"
    );

    let consumer = AuditConsumer::new(config(&topic, &group).dedup(dedup), versions()).unwrap();
    let all_there = async {
        while count("SELECT COUNT(DISTINCT i) FROM effects").await < N as i64 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let summary = guarded(consumer.run_in_transaction(effect_writer(), all_there))
        .await
        .unwrap();
    let twice: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT i, COUNT(*) FROM effects GROUP BY i HAVING COUNT(*) <> 1 ORDER BY i",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(twice.is_empty(), "effects not exactly once: {twice:?}");
    assert_eq!(count("SELECT COUNT(*) FROM effects").await, N as i64);
    assert!(
        summary.duplicates >= effect_but_no_offset as u64,
        "the redelivered records were skipped as duplicates: {summary:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedup_on_sqlite_skips_redelivered_ids_and_housekeeping_deletes_expired_ones() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("dedup.db").display()
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let dedup = Dedup::sqlite(pool, "ctx").retention(Duration::from_secs(3600));
    dedup.migrate().await.unwrap();

    // The same 20 commands published twice (a producer retry): handled once each.
    let topic = topic_with(1, "rt-dedup-sqlite");
    let group = unique("g-dedup-sqlite");
    let values: Vec<_> = (0..20)
        .chain(0..20)
        .map(|i| (command_value(i), None))
        .collect();
    produce(&topic, values).await;
    let effects = Effects::default();
    let consumer =
        AuditConsumer::new(config(&topic, &group).dedup(dedup.clone()), versions()).unwrap();
    let handler = {
        let effects = effects.clone();
        move |delivery: Arc<Delivery>| {
            let effects = effects.clone();
            async move {
                effects.record(index_of(&delivery));
                Ok::<(), HandlerError>(())
            }
        }
    };
    let committed_all = {
        let (group, topic) = (group.clone(), topic.clone());
        async move {
            while tokio::task::spawn_blocking({
                let (group, topic) = (group.clone(), topic.clone());
                move || committed_total(&group, &topic, 1)
            })
            .await
            .unwrap()
                < 40
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let summary = guarded(consumer.run(handler, committed_all)).await.unwrap();
    assert_eq!(summary.handled, 20);
    assert_eq!(summary.duplicates, 20);
    assert!(effects.snapshot().values().all(|&n| n == 1));
    let id = AuditCommandBuilder::new("runtime-test", "TEST", t0())
        .event_type(AuditEventType::Modified)
        .user("u3", "idp")
        .build()
        .unwrap()
        .identity
        .idempotence_id;
    assert!(dedup.contains(&id).await.unwrap());

    assert_eq!(
        dedup.delete_expired().await.unwrap(),
        0,
        "nothing older than the retention"
    );
    let expire_all = dedup.clone().retention(Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(expire_all.delete_expired().await.unwrap(), 20);
    assert!(!dedup.contains(&id).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_consumer_joining_mid_run_loses_nothing_and_duplicates_only_in_flight_records() {
    const N: usize = 10_000;
    const IN_FLIGHT: usize = 4;
    let topic = topic_with(4, "rt-rebalance");
    let group = unique("g-rebalance");
    produce(&topic, (0..N).map(|i| (command_value(i), None)).collect()).await;

    let effects = Effects::default();
    let second_started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Until the second consumer handled a record, the first handles at most IN_FLIGHT records
    // per 10 ms, so the join (several seconds on Tansu) happens while it is still processing.
    let make_handler = |effects: Effects, second: bool| {
        let second_started = second_started.clone();
        move |delivery: Arc<Delivery>| {
            let (effects, second_started) = (effects.clone(), second_started.clone());
            async move {
                if second {
                    second_started.store(true, Ordering::SeqCst);
                } else if !second_started.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                effects.record(index_of(&delivery));
                Ok::<(), HandlerError>(())
            }
        }
    };
    let first =
        AuditConsumer::new(config(&topic, &group).max_in_flight(IN_FLIGHT), versions()).unwrap();
    let first_run = first.run(make_handler(effects.clone(), false), effects.reached(N));
    let second_run = async {
        effects.reached(N / 10).await;
        // subscribing joins the group: create the second consumer only now
        let second =
            AuditConsumer::new(config(&topic, &group).max_in_flight(IN_FLIGHT), versions())
                .unwrap();
        second
            .run(make_handler(effects.clone(), true), effects.reached(N))
            .await
    };
    let (a, b) = guarded(async { tokio::join!(first_run, second_run) }).await;
    let (a, b) = (a.unwrap(), b.unwrap());

    assert!(
        a.revocations >= 1,
        "the first consumer saw the rebalance: {a:?}"
    );
    assert!(b.handled > 0, "the second consumer got partitions: {b:?}");
    let effects = effects.snapshot();
    assert_eq!(effects.len(), N, "nothing lost");
    let duplicates: u32 = effects.values().map(|n| n - 1).sum();
    let bound = (a.revocations + b.revocations) as usize * IN_FLIGHT;
    assert!(
        duplicates as usize <= bound,
        "{duplicates} duplicates, more than the {bound} records that can be in flight at the rebalances"
    );
    assert_eq!(committed_total(&group, &topic, 4), N as i64);
}

#[test]
fn the_test_schema_id_is_the_newest_version() {
    assert_eq!(
        versions().version_for_id(ID_1_0_2),
        Some(audit_consumer::SchemaVersion::V1_0_2)
    );
}

/// Environment of [`sigkill_child`]: bootstrap, topic, group and the side-effect file.
const CHILD_ENV: &str = "AUDIT_RUNTIME_KILL_CHILD";

/// The consumer process that [`sigkilled_consumer_process_restarts_with_duplicates_only_after_the_last_commit`]
/// kills with SIGKILL: appends the index of every handled record to a file (one `write` each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run as a child process by the SIGKILL test"]
async fn sigkill_child() {
    use std::io::Write;
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let [bootstrap, topic, group, file]: [&str; 4] =
        spec.split('|').collect::<Vec<_>>().try_into().unwrap();
    let out = Arc::new(Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .unwrap(),
    ));
    let config = ConsumerConfig::new(bootstrap, group, [topic])
        .max_in_flight(16)
        .commit_interval(Duration::from_millis(100))
        .set("session.timeout.ms", "6000");
    let consumer = AuditConsumer::new(config, versions()).unwrap();
    let handler = move |delivery: Arc<Delivery>| {
        let out = out.clone();
        async move {
            tokio::time::sleep(Duration::from_micros(200)).await;
            let line = format!("{}\n", index_of(&delivery));
            out.lock().unwrap().write_all(line.as_bytes()).unwrap();
            Ok::<(), HandlerError>(())
        }
    };
    consumer.run(handler, std::future::pending()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_consumer_process_restarts_with_duplicates_only_after_the_last_commit() {
    const N: usize = 5_000;
    let topic = topic_with(1, "rt-sigkill");
    let group = unique("g-sigkill");
    produce(&topic, (0..N).map(|i| (command_value(i), None)).collect()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("effects.txt");
    let lines = |file: &std::path::Path| -> Vec<usize> {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect()
    };

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "runtime::sigkill_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!("{}|{topic}|{group}|{}", tansu().bootstrap(), file.display()),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    guarded(async {
        while lines(&file).len() < N / 2 {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the child consumer exited early: {status}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    child.kill().unwrap(); // SIGKILL: no shutdown, no commit, no LeaveGroup
    child.wait().unwrap();
    let before_restart = lines(&file);
    let committed_at_kill = committed_total(&group, &topic, 1);
    assert!(committed_at_kill > 0, "the child committed while running");
    let handled_max = before_restart.iter().copied().max().unwrap() as i64;
    assert!(
        committed_at_kill <= handled_max + 1,
        "never committed past what was handled"
    );

    // Restart: a new member of the group (it takes over once the killed member's session expires).
    let effects = Effects::default();
    for &i in &before_restart {
        effects.record(i);
    }
    let consumer = AuditConsumer::new(config(&topic, &group), versions()).unwrap();
    let handler = {
        let effects = effects.clone();
        move |delivery: Arc<Delivery>| {
            let effects = effects.clone();
            async move {
                effects.record(index_of(&delivery));
                Ok::<(), HandlerError>(())
            }
        }
    };
    guarded(consumer.run(handler, effects.reached(N)))
        .await
        .unwrap();
    assert_eq!(committed_total(&group, &topic, 1), N as i64);
    let effects = effects.snapshot();
    assert_eq!(effects.len(), N, "nothing lost");
    for (i, n) in &effects {
        if (*i as i64) < committed_at_kill {
            assert_eq!(
                *n, 1,
                "record {i} before the committed offset {committed_at_kill} handled again"
            );
        } else {
            assert!(*n <= 2, "record {i} handled {n} times");
        }
    }
    let duplicates = effects.values().filter(|&&n| n == 2).count();
    let uncommitted_handled = before_restart
        .iter()
        .filter(|&&i| i as i64 >= committed_at_kill)
        .count();
    eprintln!(
        "SIGKILL after {} handled, committed offset {committed_at_kill}, {duplicates} duplicates after restart",
        before_restart.len()
    );
    assert_eq!(
        duplicates, uncommitted_handled,
        "exactly the handled-but-uncommitted records come again"
    );
}

/// Captures the fields of closed `audit.consume` spans.
#[derive(Clone, Default)]
struct SpanCapture {
    live: Arc<Mutex<HashMap<u64, HashMap<String, String>>>>,
    closed: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

struct FieldVisitor<'a>(&'a mut HashMap<String, String>);

impl tracing::field::Visit for FieldVisitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SpanCapture {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if attrs.metadata().name() == "audit.consume" {
            let mut fields = HashMap::new();
            attrs.record(&mut FieldVisitor(&mut fields));
            self.live.lock().unwrap().insert(id.into_u64(), fields);
        }
    }
    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let Some(fields) = self.live.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut FieldVisitor(fields));
        }
    }
    fn on_close(&self, id: tracing::span::Id, _: tracing_subscriber::layer::Context<'_, S>) {
        if let Some(fields) = self.live.lock().unwrap().remove(&id.into_u64()) {
            self.closed.lock().unwrap().push(fields);
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn traceparent_is_continued_into_the_handler_span() {
    use tracing_subscriber::layer::SubscriberExt;
    const N: usize = 50;
    let capture = SpanCapture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    // tracing caches a callsite's interest process-wide, and while a single dispatcher is
    // registered it computes it from the *registering* thread's subscriber: a sibling test's
    // thread (no subscriber) reaching `audit.consume` first would cache `never`. A second live
    // dispatcher makes registration consult every dispatcher; the rebuild repairs callsites
    // registered before this point.
    let _anchor = tracing::Dispatch::new(tracing_subscriber::registry());
    tracing::callsite::rebuild_interest_cache();
    let topic = topic_with(1, "rt-trace");
    let group = unique("g-trace");
    produce(
        &topic,
        (0..N)
            .map(|i| (command_value(i), Some(traceparent(i))))
            .collect(),
    )
    .await;

    let effects = Effects::default();
    let outside_span = Arc::new(AtomicUsize::new(0));
    let consumer = AuditConsumer::new(config(&topic, &group), versions()).unwrap();
    let handler = {
        let (effects, outside_span) = (effects.clone(), outside_span.clone());
        move |delivery: Arc<Delivery>| {
            let (effects, outside_span) = (effects.clone(), outside_span.clone());
            async move {
                if tracing::Span::current().metadata().map(|m| m.name()) != Some("audit.consume") {
                    outside_span.fetch_add(1, Ordering::SeqCst);
                }
                effects.record(index_of(&delivery));
                Ok::<(), HandlerError>(())
            }
        }
    };
    guarded(consumer.run(handler, effects.reached(N)))
        .await
        .unwrap();

    assert_eq!(
        outside_span.load(Ordering::SeqCst),
        0,
        "the handler runs inside audit.consume"
    );
    let closed = capture.closed.lock().unwrap().clone();
    assert_eq!(closed.len(), N);
    let mut traces: Vec<(String, String)> = closed
        .iter()
        .map(|f| (f["trace_id"].clone(), f["parent_span_id"].clone()))
        .collect();
    traces.sort();
    let mut expected: Vec<(String, String)> = (0..N)
        .map(|i| (format!("{:032x}", i + 1), format!("{:016x}", i + 1)))
        .collect();
    expected.sort();
    assert_eq!(traces, expected);
    assert!(closed.iter().all(|f| f["messaging.destination"] == topic));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_handler_errors_and_exhausted_retries_go_to_the_error_topic() {
    let topic = topic_with(1, "rt-handler-fail");
    let error_topic = topic_with(1, "rt-handler-fail-errors");
    let group = unique("g-handler-fail");
    for i in 0..20 {
        produce(&topic, vec![(command_value(i), None)]).await;
    }
    let effects = Effects::default();
    let attempts_of_7 = Arc::new(AtomicUsize::new(0));
    let retry = RetryPolicy::new(
        Backoff::new(Duration::from_millis(1), Duration::from_millis(5)).expect("valid back-off"),
    )
    .max_attempts(3);
    let consumer = AuditConsumer::new(
        config(&topic, &group)
            .error_topic(&error_topic)
            .retry(retry),
        versions(),
    )
    .unwrap();
    let handler = {
        let (effects, attempts_of_7) = (effects.clone(), attempts_of_7.clone());
        move |delivery: Arc<Delivery>| {
            let (effects, attempts_of_7) = (effects.clone(), attempts_of_7.clone());
            async move {
                match index_of(&delivery) {
                    5 => Err(HandlerError::permanent("record 5 violates a business rule")),
                    7 => {
                        attempts_of_7.fetch_add(1, Ordering::SeqCst);
                        Err(HandlerError::transient("record 7 keeps failing"))
                    }
                    i => {
                        effects.record(i);
                        Ok(())
                    }
                }
            }
        }
    };
    let committed_all = {
        let (group, topic) = (group.clone(), topic.clone());
        async move {
            loop {
                let (group, topic) = (group.clone(), topic.clone());
                if tokio::task::spawn_blocking(move || committed_total(&group, &topic, 1))
                    .await
                    .unwrap()
                    >= 20
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let summary = guarded(consumer.run(handler, committed_all)).await.unwrap();
    assert_eq!(summary.dead_lettered, 2);
    assert_eq!(summary.handled, 18);
    assert_eq!(attempts_of_7.load(Ordering::SeqCst), 3, "max_attempts");
    assert_eq!(effects.distinct(), 18);

    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", tansu().bootstrap())
        .set("group.id", unique("g-handler-fail-reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    reader.subscribe(&[error_topic.as_str()]).unwrap();
    let mut dead = Vec::new();
    guarded(async {
        while dead.len() < 2 {
            if let Some(m) = reader.poll(Duration::from_millis(100)) {
                let m = m.unwrap();
                let headers: HashMap<String, String> = m
                    .headers()
                    .unwrap()
                    .iter()
                    .map(|h| {
                        (
                            h.key.to_owned(),
                            String::from_utf8(h.value.unwrap().to_vec()).unwrap(),
                        )
                    })
                    .collect();
                dead.push((
                    headers[ERROR_OFFSET_HEADER].clone(),
                    headers[ERROR_STAGE_HEADER].clone(),
                    headers[ERROR_MESSAGE_HEADER].clone(),
                    m.payload().unwrap().to_vec(),
                ));
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    dead.sort();
    assert_eq!((dead[0].0.as_str(), dead[0].1.as_str()), ("5", "handler"));
    assert!(
        dead[0].2.contains("violates a business rule"),
        "{}",
        dead[0].2
    );
    assert_eq!(user_of(&dead[0].3), "u5", "the original record bytes");
    assert_eq!((dead[1].0.as_str(), dead[1].1.as_str()), ("7", "handler"));
    assert!(dead[1].2.contains("keeps failing"), "{}", dead[1].2);
    assert_eq!(user_of(&dead[1].3), "u7");
}

/// The user id of a record value.
fn user_of(value: &[u8]) -> String {
    match audit_consumer::decode(value, &versions())
        .unwrap()
        .trigger()
    {
        audit_consumer::Trigger::User(user) => user.id().to_owned(),
        other => panic!("unexpected trigger {other:?}"),
    }
}

/// Writer schemas by id: the test ids' versions, plus parsed schemas (as a registry client
/// with a cache serves them).
struct VersionsAndParsed(Vec<(u32, Arc<audit_consumer::WriterSchema>)>);

impl audit_consumer::WriterSchemaSource for VersionsAndParsed {
    fn writer_schema(
        &self,
        schema_id: u32,
    ) -> Result<Option<audit_consumer::Writer>, audit_consumer::BoxError> {
        match self.0.iter().find(|(id, _)| *id == schema_id) {
            Some((_, schema)) => Ok(Some(audit_consumer::Writer::Schema(Arc::clone(schema)))),
            None => versions().writer_schema(schema_id),
        }
    }
}

/// `Delivery::schema_id` and `Delivery::writer_version` are the header's id and the writer the
/// consumer resolved for it, whatever `type.version` the producer declared: a pinned 1.0.0 id,
/// the 1.0.2 id, a parsed 1.0.0 schema (canonical form of 1.0.1 too: the newest, 1.0.1) and a
/// parsed writer with an extra event-type symbol (no published version).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_tells_the_schema_id_and_the_resolved_writer_version() {
    use audit_consumer::{SchemaVersion, WriterSchema};
    use audit_schema::confluent;
    const PARSED_1_0_0: u32 = 21;
    const EXTENDED: u32 = 22;
    let extended_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../audit-schema/tests/fixtures/python-avro/v1.0.0-extra-symbol");
    let source = VersionsAndParsed(vec![
        (
            PARSED_1_0_0,
            Arc::new(WriterSchema::parse(SchemaVersion::V1_0_0.schema_json()).unwrap()),
        ),
        (
            EXTENDED,
            Arc::new(
                WriterSchema::parse(
                    &std::fs::read_to_string(extended_dir.join("writer.avsc")).unwrap(),
                )
                .unwrap(),
            ),
        ),
    ]);
    let command = |i: usize, declared: &str| {
        let mut c = AuditCommandBuilder::new("runtime-test", "TEST", t0())
            .event_type(AuditEventType::Created)
            .user(format!("u{i}"), "idp")
            .build()
            .unwrap();
        c.r#type.version = declared.into();
        c
    };
    // (value, expected schema id, expected writer version), keyed by idempotence id
    let mut expected = HashMap::new();
    for (i, (writer, id, want)) in [
        (SchemaVersion::V1_0_0, ID_1_0_0, Some(SchemaVersion::V1_0_0)),
        (SchemaVersion::V1_0_2, ID_1_0_2, Some(SchemaVersion::V1_0_2)),
        (
            SchemaVersion::V1_0_0,
            PARSED_1_0_0,
            Some(SchemaVersion::V1_0_1),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        // every record declares a version other than its writer's
        let c = command(
            i,
            if writer == SchemaVersion::V1_0_2 {
                "1.0.0"
            } else {
                "1.0.2"
            },
        );
        let value = confluent::frame(id, &c.to_avro_datum_as(writer).unwrap());
        expected.insert(c.identity.idempotence_id.to_string(), (value, id, want));
    }
    let datum = std::fs::read(extended_dir.join("01-minimal-read.bin")).unwrap();
    let value = confluent::frame(EXTENDED, &datum);
    let record = audit_consumer::decode(&value, &source).unwrap();
    expected.insert(
        record.metadata().idempotence_id().to_owned(),
        (value, EXTENDED, None),
    );

    let topic = topic_with(1, "rt-writer");
    let group = unique("g-writer");
    produce(
        &topic,
        expected
            .values()
            .map(|(v, _, _)| (v.clone(), None))
            .collect(),
    )
    .await;
    type Seen = HashMap<String, (u32, Option<SchemaVersion>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let consumer = AuditConsumer::new(config(&topic, &group), source).unwrap();
    let handler = {
        let seen = Arc::clone(&seen);
        move |delivery: Arc<Delivery>| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock().unwrap().insert(
                    delivery.record().metadata().idempotence_id().to_owned(),
                    (delivery.schema_id(), delivery.writer_version()),
                );
                Ok::<(), HandlerError>(())
            }
        }
    };
    let n = expected.len();
    let done = {
        let seen = Arc::clone(&seen);
        async move {
            while seen.lock().unwrap().len() < n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    guarded(consumer.run(handler, done)).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let want: Seen = expected
        .into_iter()
        .map(|(k, (_, id, version))| (k, (id, version)))
        .collect();
    assert_eq!(seen, want);
}
