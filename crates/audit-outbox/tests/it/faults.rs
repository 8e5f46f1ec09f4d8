//! Broker outage (mock cluster), crashes of a relay process (SIGKILL), SQLite.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command};
use std::time::Duration;

use audit_outbox::Outbox;
use rdkafka::mocking::MockCluster;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use crate::support::*;

const LIMIT: Duration = Duration::from_secs(120);

/// Acceptance 3: brokers down for longer than the delivery timeout: nothing is marked failed,
/// the attempts grow (back-off), and everything is delivered once the broker is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_outage_backs_off_and_delivers_after_recovery() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let mock = MockCluster::new(1)?;
    let topic = unique("outage");
    mock.create_topic(&topic, 1, 1)?;
    let bootstrap = mock.bootstrap_servers();
    mock.broker_down(1)?;
    let mut cfg = relay_config(&bootstrap);
    cfg = cfg.delivery_timeout(Duration::from_millis(1500));
    cfg = cfg.lease(Duration::from_secs(10));
    cfg = cfg.backoff(backoff(200, 1000));
    let relay = outbox.start_relay(cfg)?;
    let mut tx = pool.begin().await?;
    for i in 0..200 {
        outbox
            .enqueue(&mut tx, &msg(&topic, Some(&format!("k{}", i % 10))))
            .await?;
    }
    tx.commit().await?;
    let attempts = || async {
        let (min, max): (i32, i32) =
            sqlx::query_as("SELECT min(attempts), max(attempts) FROM audit_outbox")
                .fetch_one(&pool)
                .await?;
        Ok::<_, BoxError>((min, max))
    };
    // The back-off, measured: each time the first row's attempt count grows, the delay the relay
    // set (next attempt - now, read at once) is the configured one for that attempt (200, 400,
    // 800 ms, then the 1 s cap), less the milliseconds this loop needs to see it.
    let first_id: i64 = sqlx::query_scalar("SELECT min(id) FROM audit_outbox")
        .fetch_one(&pool)
        .await?;
    let mut delays: Vec<(i32, f64)> = Vec::new();
    let started = std::time::Instant::now();
    while delays.len() < 5 && started.elapsed() < LIMIT {
        let (n, remaining_ms): (i32, f64) = sqlx::query_as(
            "SELECT attempts, CASE WHEN isfinite(next_attempt_at)
                THEN (extract(epoch FROM next_attempt_at - now()) * 1000)::float8 ELSE 0 END
             FROM audit_outbox WHERE id = $1",
        )
        .bind(first_id)
        .fetch_one(&pool)
        .await?;
        if n > 0 && delays.last().is_none_or(|(last, _)| *last != n) {
            delays.push((n, remaining_ms));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("back-off after attempt n (ms left when seen): {delays:?}");
    assert_eq!(delays.len(), 5, "five attempts seen: {delays:?}");
    for (n, remaining) in &delays {
        let configured = (200.0 * f64::from(1u32 << (n - 1).clamp(0, 10))).min(1000.0);
        // never more than configured; at least half of it from the second attempt on (so a
        // back-off that does not grow, or grows past the cap, fails), whatever this loop's lag
        let floor = if *n >= 2 { configured / 2.0 } else { f64::MIN };
        assert!(
            *remaining <= configured + 20.0 && *remaining >= floor,
            "attempt {n}: {remaining:.0} ms left, configured {configured} ms ({delays:?})"
        );
    }
    eventually("every row retried at least twice", LIMIT, || async {
        Ok((attempts().await?.0 >= 2).then_some(()))
    })
    .await?;
    let c = outbox.counts().await?;
    assert_eq!(
        (c.failed, c.sent, c.pending),
        (0, 0, 200),
        "nothing failed or sent while down"
    );
    let last_error: Option<String> = sqlx::query_scalar("SELECT max(last_error) FROM audit_outbox")
        .fetch_one(&pool)
        .await?;
    assert!(last_error.is_some());

    mock.broker_up(1)?;
    wait_sent(&outbox, 200, LIMIT).await?;
    assert_eq!(outbox.count_failed().await?, 0);
    let (min, _) = attempts().await?;
    assert!(min >= 2, "the back-off is visible in the attempt counts");
    relay.shutdown().await?;
    let records = consume_all(&bootstrap, &topic, 1, 200).await?;
    assert_eq!(counts_by_value(&records).len(), 200);
    Ok(())
}

fn spawn_relay(url: &str, bootstrap: &str, id: &str) -> Result<Child, BoxError> {
    Ok(Command::new(env!("CARGO_BIN_EXE_outbox-relay"))
        .env("OUTBOX_DATABASE_URL", url)
        .env("OUTBOX_BOOTSTRAP", bootstrap)
        .env("OUTBOX_RELAY_ID", id)
        .env("OUTBOX_BATCH_SIZE", "500")
        .env("OUTBOX_LEASE_MS", "6000")
        .env("OUTBOX_DELIVERY_TIMEOUT_MS", "5000")
        .env("OUTBOX_POLL_MS", "200")
        .spawn()?)
}

/// Sends `sig` (`STOP`, `CONT`, `TERM`) to a child process.
pub fn signal(child: &Child, sig: &str) -> TestResult {
    let status = Command::new("kill")
        .args(["-s", sig, &child.id().to_string()])
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("kill -s {sig} {} failed: {status}", child.id()).into())
    }
}

/// The crash scenario for any backend: `total` rows to `topic` are committed; `in_flight(relay_id)`
/// returns the message ids the killed relay had claimed and not marked sent.
async fn crash_scenario<DB, F, Fut>(
    outbox: &Outbox<DB>,
    url: &str,
    bootstrap: &str,
    topic: &str,
    total: u64,
    in_flight: F,
) -> TestResult
where
    DB: audit_outbox::Backend,
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<String>, BoxError>>,
{
    // value -> number of kills at which its row was in flight (a row re-claimed after one kill
    // can be in flight again at the next one, and then be delivered three times)
    let mut in_flight_at_kills: HashMap<String, usize> = HashMap::new();
    let mut kills_mid_batch = 0;
    // Three kills, each with a claimed batch in flight; a round whose kill found the batch
    // settled after all (a statement completed after the freeze) is repeated, at most 8 rounds.
    for round in 1..=8u64 {
        if kills_mid_batch == 3 {
            break;
        }
        let id = format!("crash-{round}");
        let mut child = spawn_relay(url, bootstrap, &id)?;
        let target = total * round / 10;
        // Kill once the relay has passed `target` and holds a claimed batch: it is frozen
        // (SIGSTOP) and given time to let its last statement complete before the second look, so
        // the batch seen is the batch in flight at the kill.
        let start = std::time::Instant::now();
        let waited: TestResult = loop {
            if outbox.counts().await?.sent >= target && !in_flight(id.clone()).await?.is_empty() {
                signal(&child, "STOP")?;
                // a statement the relay sent before it froze may still complete in the database
                tokio::time::sleep(Duration::from_millis(100)).await;
                if !in_flight(id.clone()).await?.is_empty() {
                    break Ok(());
                }
                signal(&child, "CONT")?;
            }
            if start.elapsed() > LIMIT {
                break Err("the relay made no progress".into());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        child.kill()?; // SIGKILL
        child.wait()?;
        waited?;
        // What the dead relay left claimed and unsent (a statement it had already sent to the
        // database may still have completed, so this is looked up again).
        let ids = in_flight(id).await?;
        if !ids.is_empty() {
            kills_mid_batch += 1;
        }
        for value in ids {
            *in_flight_at_kills.entry(value).or_default() += 1;
        }
    }
    let mut last = spawn_relay(url, bootstrap, "after-crashes")?;
    let done = wait_sent(outbox, total, LIMIT).await;
    last.kill()?;
    last.wait()?;
    done?;
    let records = consume_all(bootstrap, topic, 2, usize::try_from(total)?).await?;
    let counts = counts_by_value(&records);
    assert_eq!(counts.len() as u64, total, "every committed row delivered");
    let extra = records.len() as u64 - total;
    let in_flight_total: usize = in_flight_at_kills.values().sum();
    eprintln!(
        "crash test: {total} rows, {} records, {extra} duplicates, {in_flight_total} rows in flight at the kills ({} distinct), {kills_mid_batch} kills mid-batch",
        records.len(),
        in_flight_at_kills.len()
    );
    assert_eq!(
        kills_mid_batch, 3,
        "every kill hits a claimed batch in flight"
    );
    for (value, n) in &counts {
        let kills = in_flight_at_kills.get(value).copied().unwrap_or(0);
        assert!(
            n - 1 <= kills,
            "{value} delivered {n} times but in flight at {kills} kills"
        );
    }
    assert!(
        extra <= in_flight_total as u64,
        "more duplicates than rows in flight"
    );
    Ok(())
}

async fn fill<DB: audit_outbox::Backend>(
    outbox: &Outbox<DB>,
    pool: &sqlx::Pool<DB>,
    topic: &str,
    txs: usize,
    per_tx: usize,
) -> TestResult {
    for t in 0..txs {
        let mut tx = pool.begin().await?;
        for i in 0..per_tx {
            outbox
                .enqueue(&mut tx, &msg(topic, Some(&format!("k{}", (t + i) % 13))))
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Acceptance 2 (PostgreSQL): the relay process is SIGKILLed three times in the middle of its
/// batches; after a restart every row is delivered, and the only duplicates are rows of the
/// batches in flight at the kills (both counted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_process_killed_three_times_postgres() -> TestResult {
    let (db, pool, outbox) = pg_outbox().await?;
    let (broker, topic) = tansu_topic(2)?;
    fill(&outbox, &pool, &topic, 40, 500).await?;
    crash_scenario(
        &outbox,
        db.url(),
        &broker.bootstrap(),
        &topic,
        20_000,
        |id| {
            let pool = pool.clone();
            async move {
                Ok(sqlx::query_scalar(
                    "SELECT value FROM audit_outbox WHERE claimed_by LIKE $1 || '#%' AND sent_at IS NULL",
                )
                .bind(id)
                .fetch_all(&pool)
                .await?
                .into_iter()
                .map(|v: Vec<u8>| String::from_utf8_lossy(&v).into_owned())
                .collect())
            }
        },
    )
    .await
}

pub async fn sqlite_outbox(
    dir: &tempfile::TempDir,
) -> Result<(String, sqlx::SqlitePool, Outbox<sqlx::Sqlite>), BoxError> {
    let url = format!("sqlite://{}", dir.path().join("outbox.db").display());
    let opts: SqliteConnectOptions = url.parse()?;
    let opts = opts
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(opts)
        .await?;
    let outbox = Outbox::new(pool.clone());
    outbox.migrate().await?;
    Ok((url, pool, outbox))
}

/// Acceptance 7a: SQLite file database, rollback delivers nothing, commit delivers everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_rollback_and_commit() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_url, pool, outbox) = sqlite_outbox(&dir).await?;
    let (broker, topic) = tansu_topic(1)?;
    let relay = outbox.start_relay(relay_config(&broker.bootstrap()))?;
    let mut committed = HashSet::new();
    for round in 0..20 {
        let mut tx = pool.begin().await?;
        let messages: Vec<_> = (0..100)
            .map(|i| msg(&topic, Some(&format!("k{i}"))))
            .collect();
        if round % 4 < 2 {
            for m in &messages {
                outbox.enqueue(&mut tx, m).await?;
            }
        } else {
            assert_eq!(outbox.enqueue_all(&mut tx, &messages).await?.len(), 100);
        }
        if round % 2 == 1 {
            committed.extend(messages.into_iter().map(|m| m.message_id));
        }
        if round % 2 == 1 {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
    }
    wait_sent(&outbox, 1000, LIMIT).await?;
    relay.shutdown().await?;
    let records = consume_all(&broker.bootstrap(), &topic, 1, 1000).await?;
    assert_eq!(records.len(), 1000);
    let got: HashSet<String> = records.iter().map(Rec::value_str).collect();
    assert_eq!(got, committed);
    Ok(())
}

/// Acceptance 7b: SQLite file database, relay process SIGKILLed three times mid-batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_process_killed_three_times_sqlite() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (url, pool, outbox) = sqlite_outbox(&dir).await?;
    let (broker, topic) = tansu_topic(2)?;
    fill(&outbox, &pool, &topic, 20, 500).await?;
    crash_scenario(&outbox, &url, &broker.bootstrap(), &topic, 10_000, |id| {
        let pool = pool.clone();
        async move {
            Ok(sqlx::query_scalar(
                "SELECT value FROM audit_outbox WHERE claimed_by LIKE ? || '#%' AND sent_at IS NULL",
            )
            .bind(id)
            .fetch_all(&pool)
            .await?
            .into_iter()
            .map(|v: Vec<u8>| String::from_utf8_lossy(&v).into_owned())
            .collect())
        }
    })
    .await
}
