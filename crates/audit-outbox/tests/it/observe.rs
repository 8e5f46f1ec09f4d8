//! Metrics (acceptance 8) and per-key ordering with concurrent writers and two relays
//! (acceptance 10).

use std::collections::HashMap;
use std::time::Duration;

use audit_outbox::metrics as m;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

use crate::support::*;

const LIMIT: Duration = Duration::from_secs(120);

/// Acceptance 8: after a run, the backlog gauge is 0 and the delivered counter equals the rows.
/// The recorder is installed thread-locally on a current-thread runtime, so the other tests
/// running in parallel do not touch it.
#[test]
fn metrics_after_a_run() -> TestResult {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (_db, pool, outbox) = pg_outbox().await?;
        let (broker, topic) = tansu_topic(1)?;
        let relay = outbox.start_relay(relay_config(&broker.bootstrap()))?;
        for _ in 0..5 {
            let mut tx = pool.begin().await?;
            for _ in 0..100 {
                outbox.enqueue(&mut tx, &msg(&topic, Some("k"))).await?;
            }
            tx.commit().await?;
        }
        // One permanent failure (unknown topic) for the failure counter and failed gauge.
        let mut tx = pool.begin().await?;
        outbox
            .enqueue(&mut tx, &msg(&unique("missing"), None))
            .await?;
        tx.commit().await?;
        eventually("500 sent, 1 failed", LIMIT, || async {
            let c = outbox.counts().await?;
            Ok((c.sent == 500 && c.failed == 1 && c.pending == 0).then_some(()))
        })
        .await?;
        // The relay refreshes the gauges when idle and when it stops. One snapshot only: the
        // debugging recorder's snapshots drain the values.
        relay.shutdown().await?;
        let s = values(&snapshotter);
        assert_eq!(s.get(m::BACKLOG), Some(&Val::Gauge(0.0)));
        assert_eq!(s.get(m::FAILED), Some(&Val::Gauge(1.0)));
        assert_eq!(s.get(m::DELIVERED), Some(&Val::Counter(500)));
        assert_eq!(s.get(m::ENQUEUED), Some(&Val::Counter(501)));
        assert_eq!(
            s.get(&format!("{}{{class=permanent}}", m::DELIVERY_FAILURES)),
            Some(&Val::Counter(1))
        );
        assert_eq!(s.get(m::COMMIT_TO_ACK).map(Val::len), Some(500));
        assert!(s.get(m::BATCH_DURATION).map(Val::len).unwrap_or(0) >= 1);
        Ok::<_, BoxError>(())
    })
}

#[derive(Debug, PartialEq)]
enum Val {
    Counter(u64),
    Gauge(f64),
    Histogram(Vec<f64>),
}

impl Val {
    fn len(&self) -> usize {
        match self {
            Val::Histogram(v) => v.len(),
            _ => 0,
        }
    }
}

/// Snapshot as `name` or `name{label=value}` -> value.
fn values(s: &metrics_util::debugging::Snapshotter) -> HashMap<String, Val> {
    s.snapshot()
        .into_vec()
        .into_iter()
        .map(|(k, _, _, v)| {
            let key = k.key();
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            let name = if labels.is_empty() {
                key.name().to_owned()
            } else {
                format!("{}{{{}}}", key.name(), labels.join(","))
            };
            let v = match v {
                DebugValue::Counter(c) => Val::Counter(c),
                DebugValue::Gauge(g) => Val::Gauge(g.into_inner()),
                DebugValue::Histogram(h) => {
                    Val::Histogram(h.into_iter().map(|x| x.into_inner()).collect())
                }
            };
            (name, v)
        })
        .collect()
}

/// Acceptance 10: four concurrent writers (each key written under the aggregate's lock, like a
/// business row lock) and two relays: for every key, all records are in one partition and the
/// first delivery of each record is in commit order (= outbox id order for the key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_key_order_with_four_writers_and_two_relays() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let (broker, topic) = tansu_topic(3)?;
    let mut c1 = relay_config(&broker.bootstrap());
    c1 = c1.batch_size(40);
    let mut c2 = c1.clone();
    c1 = c1.relay_id("order-1");
    c2 = c2.relay_id("order-2");
    let r1 = outbox.start_relay(c1)?;
    let r2 = audit_outbox::Outbox::new(pool.clone()).start_relay(c2)?;
    let mut writers = Vec::new();
    for w in 0..4u64 {
        let (pool, outbox, topic) = (pool.clone(), outbox.clone(), topic.clone());
        writers.push(tokio::spawn(async move {
            for t in 0..150u64 {
                let key = format!("key-{}", (w * 7 + t * 3) % 12);
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
                for _ in 0..(1 + t % 3) {
                    outbox.enqueue(&mut tx, &msg(&topic, Some(&key))).await?;
                }
                tx.commit().await?;
            }
            Ok::<_, BoxError>(())
        }));
    }
    for w in writers {
        w.await??;
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_outbox")
        .fetch_one(&pool)
        .await?;
    let total = u64::try_from(total)?;
    wait_sent(&outbox, total, LIMIT).await?;
    let s1 = r1.shutdown().await?;
    let s2 = r2.shutdown().await?;
    assert!(
        s1.delivered > 0 && s2.delivered > 0,
        "both relays deliver a share: {} / {}",
        s1.delivered,
        s2.delivered
    );
    let ids: HashMap<String, i64> =
        sqlx::query_as::<_, (Vec<u8>, i64)>("SELECT value, id FROM audit_outbox")
            .fetch_all(&pool)
            .await?
            .into_iter()
            .map(|(v, id)| (String::from_utf8_lossy(&v).into_owned(), id))
            .collect();
    let records = consume_all(&broker.bootstrap(), &topic, 3, usize::try_from(total)?).await?;
    assert_eq!(counts_by_value(&records).len() as u64, total);
    let mut per_key: HashMap<Vec<u8>, (i32, Vec<i64>)> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for r in &records {
        // records are sorted by (partition, offset)
        let key = r.key.clone().ok_or("record without key")?;
        let id = *ids.get(&r.value_str()).ok_or("unknown record")?;
        let entry = per_key.entry(key).or_insert((r.partition, Vec::new()));
        assert_eq!(entry.0, r.partition, "one key, one partition");
        if seen.insert(id) {
            entry.1.push(id); // first delivery only
        }
    }
    for (key, (_, ids)) in &per_key {
        assert!(
            ids.is_sorted() && ids.windows(2).all(|w| w.first() != w.last()),
            "key {} out of order: {ids:?}",
            String::from_utf8_lossy(key)
        );
    }
    assert_eq!(per_key.len(), 12);
    Ok(())
}

/// The `traceparent` header is captured from the current `tracing` span (OpenTelemetry context
/// through `tracing-opentelemetry`) when the message carries none, and absent outside a span.
#[test]
fn traceparent_is_captured_from_the_tracing_context() -> TestResult {
    use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
    use tracing::Instrument;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::layer::SubscriberExt;

    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("outbox-test")));
    let _subscriber = tracing::subscriber::set_default(subscriber);
    audit_outbox::trace::set_traceparent_source(audit_outbox::trace::opentelemetry_traceparent);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await?;
        let outbox = audit_outbox::Outbox::new(pool.clone());
        outbox.migrate().await?;
        let span = tracing::info_span!("business transaction");
        let trace_id = span.context().span().span_context().trace_id().to_string();
        async {
            let mut tx = pool.begin().await?;
            outbox.enqueue(&mut tx, &msg("t", None)).await?;
            tx.commit().await?;
            Ok::<_, BoxError>(())
        }
        .instrument(span)
        .await?;
        let mut tx = pool.begin().await?;
        outbox.enqueue(&mut tx, &msg("t", None)).await?; // outside any span
        tx.commit().await?;
        let stored: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, headers FROM audit_outbox ORDER BY id")
                .fetch_all(&pool)
                .await?;
        let traceparent = |i: usize| -> Result<Option<String>, BoxError> {
            let (id, bytes) = stored.get(i).ok_or("row missing")?;
            Ok(audit_outbox::decode_headers(*id, bytes)?
                .into_iter()
                .find(|(n, _)| n == audit_outbox::TRACEPARENT_HEADER)
                .map(|(_, v)| String::from_utf8_lossy(&v).into_owned()))
        };
        let inside = traceparent(0)?.ok_or("no traceparent stored inside the span")?;
        assert!(
            inside.starts_with(&format!("00-{trace_id}-")),
            "{inside} vs trace {trace_id}"
        );
        assert!(audit_outbox::trace::is_valid_traceparent(&inside));
        assert_eq!(traceparent(1)?, None);
        Ok::<_, BoxError>(())
    })
}
