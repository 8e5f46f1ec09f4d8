// Test, benchmark and example arithmetic on small known counts: the cast lints guard library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_lossless
)]
//! Benchmark of the outbox against PostgreSQL (127.0.0.1:5432) and a Tansu broker, plus a mock
//! cluster with a 5 s round trip for the slow-broker case.
//!
//! `cargo run --release -p audit-outbox --example outbox-bench`
//!
//! Environment: `BENCH_ROWS` (backlog size, default 50,000), `BENCH_BATCH` and `BENCH_DEPTH`
//! (relay batch size and pipeline depth, default: the `RelayConfig` defaults 1,000 and 2),
//! `RUST_LOG=audit_outbox=debug` for per-batch timings.
//!
//! Prints: enqueue throughput (transactions of 100), relay throughput on a backlog, commit-to-ack
//! p50/p99 idle and under load, p99 enqueue-transaction latency with a normal and a slow broker.

use std::time::{Duration, Instant};

use audit_outbox::{Outbox, OutboxMessage, RelayConfig, metrics as m};
use audit_testkit::{PgDatabase, Tansu};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use rdkafka::mocking::MockCluster;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};

use audit_support::BoxError;

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or(f64::NAN)
}

fn histogram(s: &Snapshotter, name: &str) -> Vec<f64> {
    s.snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, ..)| k.key().name() == name)
        .flat_map(|(.., v)| match v {
            DebugValue::Histogram(h) => h.into_iter().map(|x| x.into_inner()).collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn message(topic: &str, i: usize) -> OutboxMessage {
    OutboxMessage::new(topic, vec![b'x'; 400]).with_key(format!("key-{}", i % 64).into_bytes())
}

/// Enqueues `txs` transactions of `per_tx` rows; returns per-transaction latencies (seconds).
async fn enqueue(
    outbox: &Outbox<Postgres>,
    pool: &PgPool,
    topic: &str,
    txs: usize,
    per_tx: usize,
) -> Result<Vec<f64>, BoxError> {
    let mut lat = Vec::with_capacity(txs);
    for t in 0..txs {
        let start = Instant::now();
        let mut tx = pool.begin().await?;
        for i in 0..per_tx {
            outbox
                .enqueue(&mut tx, &message(topic, t * per_tx + i))
                .await?;
        }
        tx.commit().await?;
        lat.push(start.elapsed().as_secs_f64());
    }
    Ok(lat)
}

async fn wait_sent(outbox: &Outbox<Postgres>, n: u64) -> Result<(), BoxError> {
    loop {
        let c = outbox.counts().await?;
        if c.sent >= n && c.pending == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn relay_config(bootstrap: &str) -> RelayConfig {
    let env = |name: &str, default: u32| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut c = RelayConfig::new(bootstrap);
    c = c.batch_size(env("BENCH_BATCH", 1000));
    c = c.pipeline_depth(env("BENCH_DEPTH", 2));
    c
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let recorder = DebuggingRecorder::new();
    let snap = recorder.snapshotter();
    metrics::set_global_recorder(recorder).map_err(|e| e.to_string())?;

    let db = PgDatabase::create().await?;
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(db.url())
        .await?;
    let outbox = Outbox::new(pool.clone());
    outbox.migrate().await?;
    let broker = Tansu::start()?;
    let topic = "outbox-bench";
    broker.create_topic(topic, 3)?;
    let bootstrap = broker.bootstrap();

    // 1. Enqueue throughput (no relay running).
    let n: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let start = Instant::now();
    let mut lat = enqueue(&outbox, &pool, topic, n / 100, 100).await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "enqueue: {n} rows in transactions of 100: {:.0} rows/s, p99 transaction {:.1} ms",
        n as f64 / secs,
        pct(&mut lat, 0.99) * 1e3
    );

    // 1b. The same with `enqueue_all` (one statement per transaction).
    let start = Instant::now();
    let mut lat = Vec::new();
    for t in 0..n / 100 {
        let t0 = Instant::now();
        let batch: Vec<_> = (0..100).map(|i| message(topic, t * 100 + i)).collect();
        let mut tx = pool.begin().await?;
        outbox.enqueue_all(&mut tx, &batch).await?;
        tx.commit().await?;
        lat.push(t0.elapsed().as_secs_f64());
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "enqueue_all: {n} rows in transactions of 100: {:.0} rows/s, p99 transaction {:.1} ms",
        n as f64 / secs,
        pct(&mut lat, 0.99) * 1e3
    );
    let n = 2 * n;

    // 2. Relay throughput on the backlog: overall (incl. the producer's start-up: connection,
    //    metadata, producer id) and sustained (from 10 % delivered to 100 %).
    let start = Instant::now();
    let relay = outbox.start_relay(relay_config(&bootstrap))?;
    let mut tenth = None;
    loop {
        let c = outbox.counts().await?;
        if tenth.is_none() && c.sent >= n as u64 / 10 {
            tenth = Some((Instant::now(), c.sent));
        }
        if c.sent >= n as u64 && c.pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let (t10, sent10) = tenth.ok_or("no progress")?;
    let sustained = (n as u64 - sent10) as f64 / t10.elapsed().as_secs_f64();
    println!(
        "relay: {n} rows backlog delivered in {secs:.2} s: {:.0} rows/s overall, {sustained:.0} rows/s sustained (10 % -> 100 %)",
        n as f64 / secs
    );
    let _ = histogram(&snap, m::COMMIT_TO_ACK); // drain

    // 3. Commit-to-ack idle: single-row transactions, one at a time, relay idle in between.
    for i in 0..200 {
        let mut tx = pool.begin().await?;
        let id = outbox.enqueue(&mut tx, &message(topic, i)).await?;
        tx.commit().await?;
        // Wait for this row by primary key (a cheap look-up, so the waiting adds no load).
        loop {
            let sent: bool =
                sqlx::query_scalar("SELECT sent_at IS NOT NULL FROM audit_outbox WHERE id = $1")
                    .bind(id)
                    .fetch_one(&pool)
                    .await?;
            if sent {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_sent(&outbox, (n + 200) as u64).await?;
    let mut idle = histogram(&snap, m::COMMIT_TO_ACK);
    println!(
        "commit-to-ack idle ({} single-row commits): p50 {:.1} ms, p99 {:.1} ms",
        idle.len(),
        pct(&mut idle, 0.5) * 1e3,
        pct(&mut idle, 0.99) * 1e3
    );

    // 4. Under load: 4 writers, transactions of 100, while the relay delivers.
    let before = outbox.counts().await?.sent;
    let start = Instant::now();
    let mut writers = Vec::new();
    for _ in 0..4 {
        let (outbox, pool) = (outbox.clone(), pool.clone());
        writers.push(tokio::spawn(async move {
            enqueue(&outbox, &pool, topic, 50, 100).await
        }));
    }
    let mut load_lat = Vec::new();
    for w in writers {
        load_lat.extend(w.await??);
    }
    wait_sent(&outbox, before + 20_000).await?;
    let secs = start.elapsed().as_secs_f64();
    let mut load = histogram(&snap, m::COMMIT_TO_ACK);
    println!(
        "under load (4 writers x 50 tx x 100 rows): {:.0} rows/s end to end, commit-to-ack p50 {:.1} ms, p99 {:.1} ms, enqueue tx p99 {:.1} ms",
        20_000.0 / secs,
        pct(&mut load, 0.5) * 1e3,
        pct(&mut load, 0.99) * 1e3,
        pct(&mut load_lat, 0.99) * 1e3
    );
    relay.shutdown().await?;

    // 5. Slow broker: the relay produces to a mock cluster with a 5 s round trip while
    //    transactions enqueue; compare the p99 transaction latency with the normal broker.
    let mut normal = {
        let relay = outbox.start_relay(relay_config(&bootstrap))?;
        let lat = enqueue(&outbox, &pool, topic, 200, 100).await?;
        relay.shutdown().await?;
        lat
    };
    let mock = MockCluster::new(1)?;
    mock.create_topic("slow", 1, 1)?;
    mock.broker_round_trip_time(1, Duration::from_secs(5))?;
    let mut slow_cfg = relay_config(&mock.bootstrap_servers());
    slow_cfg = slow_cfg.delivery_timeout(Duration::from_secs(60));
    let relay = outbox.start_relay(slow_cfg)?;
    let mut slow = enqueue(&outbox, &pool, "slow", 200, 100).await?;
    println!(
        "enqueue tx p99 (100 rows): normal broker {:.1} ms, 5 s round-trip broker {:.1} ms (p50 {:.1} / {:.1} ms)",
        pct(&mut normal, 0.99) * 1e3,
        pct(&mut slow, 0.99) * 1e3,
        pct(&mut normal, 0.5) * 1e3,
        pct(&mut slow, 0.5) * 1e3
    );
    relay.shutdown().await?;
    Ok(())
}
