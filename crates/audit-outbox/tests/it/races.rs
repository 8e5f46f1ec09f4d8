//! Claim and lease races (issue 12): a stale relay changes no row it no longer owns, a dropped
//! handle stops the relay, a panicking settle task releases its rows, secrets stay out of `Debug`,
//! SQLite wake-ups are per transaction.
#![allow(clippy::indexing_slicing, clippy::panic)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use audit_outbox::{Backend, RelayConfig, metrics as m};
use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use sqlx::{Postgres, Sqlite};

use crate::faults::{signal, sqlite_outbox};
use crate::support::*;

const LIMIT: Duration = Duration::from_secs(120);

/// Sum of a counter over snapshots (the debugging recorder's snapshots drain counters).
#[derive(Default)]
struct Counters(HashMap<String, u64>);

impl Counters {
    fn read(&mut self, s: &Snapshotter, name: &str) -> u64 {
        for (k, _, _, v) in s.snapshot().into_vec() {
            if let DebugValue::Counter(c) = v {
                *self.0.entry(k.key().name().to_owned()).or_default() += c;
            }
        }
        self.0.get(name).copied().unwrap_or(0)
    }
}

// --- defect 1: status changes are conditional on the claim token --------------------------

async fn stale_token_changes_nothing<DB: Backend>(pool: &sqlx::Pool<DB>) -> TestResult
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    // relay A claims with a lease that is over at once; relay B claims the same rows after it
    let a = "relay-a#1";
    let b = "relay-b#1";
    let claimed_a = DB::claim(pool, a, 10, Duration::from_millis(1)).await?;
    assert_eq!(claimed_a.len(), 10);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let claimed_b = DB::claim(pool, b, 10, Duration::from_secs(60)).await?;
    assert_eq!(claimed_b.len(), 10, "B takes the expired claims over");
    let ids: Vec<i64> = claimed_a.iter().map(|r| r.id).collect();
    // A wakes up and tries every status change: none touches B's rows
    assert_eq!(DB::mark_sent(pool, a, &ids).await?, 0);
    assert_eq!(
        DB::mark_retry(pool, a, &ids, Duration::from_secs(1), "stale").await?,
        0
    );
    assert_eq!(DB::mark_failed(pool, a, ids[0], "stale").await?, 0);
    assert_eq!(DB::release_ids(pool, a, &ids).await?, 0);
    assert_eq!(DB::release(pool, a).await?, 0);
    // B's own changes work and report the rows changed
    assert_eq!(DB::mark_sent(pool, b, &ids[..5]).await?, 5);
    assert_eq!(
        DB::mark_retry(pool, b, &ids[5..], Duration::from_secs(1), "x").await?,
        5
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_token_changes_no_row_postgres() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let mut tx = pool.begin().await?;
    for _ in 0..10 {
        outbox.enqueue(&mut tx, &msg("t", Some("k"))).await?;
    }
    tx.commit().await?;
    stale_token_changes_nothing::<Postgres>(&pool).await?;
    let untouched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_outbox WHERE last_error = 'stale' OR failed_at IS NOT NULL",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(untouched, 0, "the stale relay wrote nothing");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_token_changes_no_row_sqlite() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_url, pool, outbox) = sqlite_outbox(&dir).await?;
    let mut tx = pool.begin().await?;
    for _ in 0..10 {
        outbox.enqueue(&mut tx, &msg("t", Some("k"))).await?;
    }
    tx.commit().await?;
    stale_token_changes_nothing::<Sqlite>(&pool).await?;
    let untouched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_outbox WHERE last_error = 'stale' OR failed_at IS NOT NULL",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(untouched, 0, "the stale relay wrote nothing");
    Ok(())
}

/// A relay process of this crate's `outbox-relay` binary, its stdout piped (its final counters).
fn spawn_relay(
    url: &str,
    bootstrap: &str,
    id: &str,
    lease_ms: u64,
    timeout_ms: u64,
) -> Result<Child, BoxError> {
    Ok(Command::new(env!("CARGO_BIN_EXE_outbox-relay"))
        .env("OUTBOX_DATABASE_URL", url)
        .env("OUTBOX_BOOTSTRAP", bootstrap)
        .env("OUTBOX_RELAY_ID", id)
        .env("OUTBOX_BATCH_SIZE", "500")
        .env("OUTBOX_LEASE_MS", lease_ms.to_string())
        .env("OUTBOX_DELIVERY_TIMEOUT_MS", timeout_ms.to_string())
        .env("OUTBOX_POLL_MS", "200")
        .stdout(Stdio::piped())
        .spawn()?)
}

/// `name: N` from the `relay-stats RelayStats { .. }` line.
fn stat(line: &str, name: &str) -> Result<u64, BoxError> {
    let rest = line
        .split(&format!("{name}: "))
        .nth(1)
        .ok_or_else(|| format!("{name} missing in {line}"))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Ok(digits.parse()?)
}

/// Acceptance 3: a relay process frozen (SIGSTOP) longer than its lease while a second relay
/// takes its rows over, then resumed (SIGCONT): every row delivered, duplicates only for the rows
/// of the frozen batches (at most one each), per-key first deliveries in id order, and the
/// resumed relay changes no row it no longer owns (from its own statement counts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_frozen_past_its_lease_changes_no_row_it_no_longer_owns() -> TestResult {
    let (db, pool, outbox) = pg_outbox().await?;
    let (broker, topic) = tansu_topic(2)?;
    let bootstrap = broker.bootstrap();
    let total: i64 = 4000;
    for t in 0..8 {
        let mut tx = pool.begin().await?;
        for i in 0..500 {
            outbox
                .enqueue(&mut tx, &msg(&topic, Some(&format!("k{}", (t + i) % 13))))
                .await?;
        }
        tx.commit().await?;
    }
    let frozen_count = || async {
        Ok::<i64, BoxError>(
            sqlx::query_scalar(
                "SELECT count(*) FROM audit_outbox WHERE claimed_by LIKE 'frozen#%' AND sent_at IS NULL",
            )
            .fetch_one(&pool)
            .await?,
        )
    };
    let mut a = spawn_relay(db.url(), &bootstrap, "frozen", 3000, 2000)?;
    // Freeze A while it holds a claimed batch it has not marked (looked at again after the
    // freeze: a statement sent before it may still complete).
    let start = std::time::Instant::now();
    let froze: TestResult = loop {
        if frozen_count().await? > 0 {
            signal(&a, "STOP")?;
            tokio::time::sleep(Duration::from_millis(100)).await;
            if frozen_count().await? > 0 {
                break Ok(());
            }
            signal(&a, "CONT")?;
        }
        if start.elapsed() > LIMIT {
            break Err("relay A never held a batch".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    if froze.is_err() {
        a.kill()?;
    }
    froze?;
    let frozen_ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM audit_outbox WHERE claimed_by LIKE 'frozen#%' AND sent_at IS NULL",
    )
    .fetch_all(&pool)
    .await?;
    let sent_before_freeze = outbox.counts().await?.sent;

    // B takes over once A's lease has run out and delivers everything.
    let mut cfg = relay_config(&bootstrap);
    cfg = cfg.relay_id("taker");
    let b = outbox.start_relay(cfg)?;
    wait_sent(&outbox, u64::try_from(total)?, LIMIT).await?;
    let b_stats = b.shutdown().await?;

    // A resumes: its acknowledgements or timeouts arrive long after its lease.
    signal(&a, "CONT")?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    signal(&a, "TERM")?;
    let out = a.wait_with_output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("relay-stats"))
        .ok_or_else(|| format!("no stats from relay A: {stdout}"))?;
    let a_changed = stat(line, "rows_changed")?;
    let a_lost = stat(line, "claims_taken_over")? + stat(line, "lease_expired_skips")?;
    eprintln!(
        "frozen relay: {} rows frozen, {sent_before_freeze} sent before the freeze; A: {line}; B delivered {}",
        frozen_ids.len(),
        b_stats.delivered
    );
    // the fault happened: A's frozen batch could not be settled by A
    assert!(
        a_lost >= frozen_ids.len() as u64,
        "A refused or skipped {a_lost} row changes for {} frozen rows",
        frozen_ids.len()
    );
    // A changed exactly the rows it had settled before the freeze, none after
    assert_eq!(
        a_changed, sent_before_freeze,
        "the resumed relay changed rows it no longer owned"
    );
    assert_eq!(
        b_stats.delivered + sent_before_freeze,
        u64::try_from(total)?
    );
    let c = outbox.counts().await?;
    assert_eq!((c.sent, c.pending, c.failed), (u64::try_from(total)?, 0, 0));

    // every row delivered; duplicates only for frozen rows, at most one each
    let records = consume_all(&bootstrap, &topic, 2, usize::try_from(total)?).await?;
    let counts = counts_by_value(&records);
    assert_eq!(counts.len(), usize::try_from(total)?, "every row delivered");
    let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT id, value FROM audit_outbox")
        .fetch_all(&pool)
        .await?;
    let id_of: HashMap<String, i64> = rows
        .into_iter()
        .map(|(id, v)| (String::from_utf8_lossy(&v).into_owned(), id))
        .collect();
    for (value, n) in &counts {
        let id = id_of[value];
        let bound = if frozen_ids.contains(&id) { 2 } else { 1 };
        assert!(*n <= bound, "row {id} delivered {n} times (bound {bound})");
    }
    // per key: first deliveries in id order
    let mut first_seen: HashMap<Vec<u8>, Vec<i64>> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    let mut by_partition = records.clone();
    by_partition.sort_by_key(|r| (r.partition, r.offset));
    for r in &by_partition {
        if seen.insert(r.value_str()) {
            first_seen
                .entry(r.key.clone().unwrap_or_default())
                .or_default()
                .push(id_of[&r.value_str()]);
        }
    }
    for (key, ids) in &first_seen {
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "key {:?}: first deliveries out of id order",
            String::from_utf8_lossy(key)
        );
    }
    Ok(())
}

// --- defect 2: dropping the handle stops the relay ------------------------------------------

#[test]
fn dropping_the_handle_stops_the_relay() -> TestResult {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (_db, pool, outbox) = pg_outbox().await?;
        let (broker, topic) = tansu_topic(1)?;
        let mut cfg = relay_config(&broker.bootstrap());
        cfg = cfg.poll_interval(Duration::from_millis(100));
        let relay = outbox.start_relay(cfg)?;
        let mut counters = Counters::default();
        eventually("the relay claims", LIMIT, || {
            let claims = counters.read(&snapshotter, m::CLAIMS);
            async move { Ok((claims >= 2).then_some(())) }
        })
        .await?;
        drop(relay);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after_drop = counters.read(&snapshotter, m::CLAIMS);
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let later = counters.read(&snapshotter, m::CLAIMS);
        assert_eq!(
            later,
            after_drop,
            "claims after the handle was dropped: {}",
            later - after_drop
        );
        // the stopped relay delivers nothing more
        let mut tx = pool.begin().await?;
        outbox.enqueue(&mut tx, &msg(&topic, None)).await?;
        tx.commit().await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(counters.read(&snapshotter, m::CLAIMS), later);
        assert_eq!(outbox.counts().await?.pending, 1);
        Ok::<_, BoxError>(())
    })
}

// --- defect 9: a panicking settle task is surfaced and its rows are released -----------------

/// A recorder whose commit-to-ack histogram panics once (the fault), delegating the rest.
struct PanicOnce {
    inner: DebuggingRecorder,
    armed: Arc<AtomicBool>,
}

struct Boom(Arc<AtomicBool>);

impl HistogramFn for Boom {
    fn record(&self, _value: f64) {
        if self.0.swap(false, Ordering::SeqCst) {
            panic!("injected panic in the settle task");
        }
    }
}

impl Recorder for PanicOnce {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.inner.register_counter(key, metadata)
    }
    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.inner.register_gauge(key, metadata)
    }
    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        if key.name() == m::COMMIT_TO_ACK {
            Histogram::from_arc(Arc::new(Boom(self.armed.clone())))
        } else {
            self.inner.register_histogram(key, metadata)
        }
    }
}

#[test]
fn a_panicking_settle_task_is_counted_and_its_rows_released() -> TestResult {
    let inner = DebuggingRecorder::new();
    let snapshotter = inner.snapshotter();
    let armed = Arc::new(AtomicBool::new(true));
    let recorder = PanicOnce {
        inner,
        armed: armed.clone(),
    };
    let _guard = metrics::set_default_local_recorder(&recorder);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (_db, pool, outbox) = pg_outbox().await?;
        let (broker, topic) = tansu_topic(1)?;
        let mut cfg = relay_config(&broker.bootstrap());
        // far beyond the wait below: only the release can free the rows in time
        cfg = cfg.lease(Duration::from_secs(300));
        let relay = outbox.start_relay(cfg)?;
        let mut tx = pool.begin().await?;
        for _ in 0..100 {
            outbox.enqueue(&mut tx, &msg(&topic, Some("k"))).await?;
        }
        tx.commit().await?;
        wait_sent(&outbox, 100, Duration::from_secs(60)).await?;
        assert!(!armed.load(Ordering::SeqCst), "the fault was injected");
        let stats = relay.shutdown().await?;
        assert_eq!(stats.settle_panics, 1, "the panic is counted");
        let mut counters = Counters::default();
        assert_eq!(counters.read(&snapshotter, m::SETTLE_PANICS), 1);
        Ok::<_, BoxError>(())
    })
}

// --- defect 7: no secret in Debug -------------------------------------------------------------

#[test]
fn relay_config_debug_shows_no_secret() {
    let secrets = [
        ("sasl.password", "s3cr3t-sasl"),
        ("ssl.key.password", "s3cr3t-keypass"),
        ("ssl.keystore.password", "s3cr3t-keystore"),
        ("ssl.key.pem", "s3cr3t-pem"),
        ("sasl.oauthbearer.client.secret", "s3cr3t-oauth"),
        ("sasl.oauthbearer.config", "s3cr3t-oauthcfg"),
        ("sasl.jaas.config", "s3cr3t-jaas"),
    ];
    let mut cfg =
        RelayConfig::new("127.0.0.1:9092").producer_property("sasl.username", "relay-user");
    for (k, v) in secrets {
        cfg = cfg.producer_property(k, v);
    }
    for shown in [format!("{cfg:?}"), format!("{cfg:#?}")] {
        for (k, v) in secrets {
            assert!(!shown.contains(v), "{k} shown: {shown}");
            assert!(shown.contains(k), "the key {k} itself is shown");
        }
        assert!(
            shown.contains("relay-user"),
            "non-secret values stay visible"
        );
    }
}

// --- defect 8: SQLite wake-ups belong to the transaction --------------------------------------

/// Commits on several writer connections each wake the relay (polling is off: an hour), and a
/// rolled-back enqueue leaves nothing armed that a later unrelated commit could fire.
#[test]
fn sqlite_wake_ups_with_several_writer_connections() -> TestResult {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let dir = tempfile::tempdir()?;
        let (_url, pool, outbox) = sqlite_outbox(&dir).await?;
        let (broker, topic) = tansu_topic(1)?;
        let mut cfg = relay_config(&broker.bootstrap());
        cfg = cfg.poll_interval(Duration::from_secs(3600));
        let relay = outbox.start_relay(cfg)?;
        let mut counters = Counters::default();
        eventually("first claim", LIMIT, || {
            let claims = counters.read(&snapshotter, m::CLAIMS);
            async move { Ok((claims >= 1).then_some(())) }
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let idle = counters.read(&snapshotter, m::CLAIMS);

        let mut c1 = pool.acquire().await?;
        let mut c2 = pool.acquire().await?;
        let mut c3 = pool.acquire().await?;
        // an enqueue rolled back on c1, then an unrelated write committed on c1 (whose commit
        // hook the enqueue installed): no wake-up
        {
            let mut tx = sqlx::Acquire::begin(&mut *c1).await?;
            outbox.enqueue(&mut tx, &msg(&topic, None)).await?;
            tx.rollback().await?;
        }
        {
            let mut tx = sqlx::Acquire::begin(&mut *c1).await?;
            sqlx::query("CREATE TABLE IF NOT EXISTS unrelated (x INTEGER)")
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO unrelated VALUES (1)")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            counters.read(&snapshotter, m::CLAIMS),
            idle,
            "a rolled-back enqueue woke the relay"
        );
        // commits on three connections, interleaved with writes of the others: each wakes
        let mut expected = 0;
        for round in 0..3 {
            for conn in [&mut c1, &mut c2, &mut c3] {
                let mut tx = sqlx::Acquire::begin(&mut **conn).await?;
                for _ in 0..5 {
                    outbox.enqueue(&mut tx, &msg(&topic, None)).await?;
                }
                tx.commit().await?;
                expected += 5;
                wait_sent(&outbox, expected, Duration::from_secs(30))
                    .await
                    .map_err(|e| format!("round {round}: {e} (a lost wake-up)"))?;
                // an unrelated commit on another connection between enqueues
                sqlx::query("INSERT INTO unrelated VALUES (2)")
                    .execute(&pool)
                    .await?;
            }
        }
        relay.shutdown().await?;
        Ok::<_, BoxError>(())
    })
}
