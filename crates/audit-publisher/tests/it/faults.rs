//! Acceptance 3: the broker is down while commands are published from 8 tasks; nothing is lost,
//! the circuit opens and closes again (state, watch and metrics).
//!
//! Default: 10,000 commands, 5 s outage. Full run: `PUBLISHER_FAULT_COMMANDS=100000
//! PUBLISHER_OUTAGE_SECS=30 cargo test -p audit-publisher --test it faults -- --nocapture`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use audit_outbox::metrics as om;
use audit_publisher::{CircuitState, Published, PublisherConfig, WhenFull};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use rdkafka::mocking::MockCluster;

use crate::support::*;

const TASKS: u64 = 8;

/// The recorder is installed thread-locally on a current-thread runtime (the relay and writer
/// tasks run on it too), so tests running in parallel do not touch it.
#[test]
fn broker_outage_loses_nothing_and_the_circuit_opens_then_closes() -> TestResult {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let total = env_u64("PUBLISHER_FAULT_COMMANDS", 10_000).div_ceil(TASKS) * TASKS;
    let outage = Duration::from_secs(env_u64("PUBLISHER_OUTAGE_SECS", 5));
    rt.block_on(async {
        let mock = MockCluster::new(1)?;
        let topic = "outage";
        mock.create_topic(topic, 2, 1)?;
        let bootstrap = mock.bootstrap_servers();
        let dir = tempfile::tempdir()?;
        let (publisher, outbox) = start_publisher(
            &dir,
            relay_config(&bootstrap),
            topic,
            PublisherConfig::new()
                .queue_capacity(20_000)
                .when_full(WhenFull::Wait(Duration::from_secs(30))),
        )
        .await?;
        // every state the circuit goes through, in order
        let seen: Arc<Mutex<Vec<CircuitState>>> = Arc::default();
        let mut watch = publisher.circuit_watch();
        let recorder_task = {
            let seen = seen.clone();
            tokio::spawn(async move {
                while watch.changed().await.is_ok() {
                    let state = *watch.borrow_and_update();
                    seen.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(state);
                }
            })
        };

        mock.broker_down(1)?;
        let down_at = Instant::now();
        let mut tasks = Vec::new();
        for t in 0..TASKS {
            let publisher = publisher.clone();
            tasks.push(tokio::spawn(async move {
                let mut queued = 0u64;
                for i in (t..total).step_by(TASKS as usize) {
                    if publisher.try_publish(command("outage", i)).await? == Published::Queued {
                        queued += 1;
                    }
                    if i % 256 == t {
                        tokio::task::yield_now().await;
                    }
                }
                Ok::<u64, audit_publisher::Error>(queued)
            }));
        }
        let mut queued = 0;
        for t in tasks {
            queued += t.await??;
        }
        assert_eq!(
            queued, total,
            "every command accepted while the broker is down"
        );
        // the delivery timeout is 1.5 s: well within the outage, the circuit must be open
        eventually(
            "the circuit opens",
            outage + Duration::from_secs(30),
            || async { Ok((publisher.status().circuit == CircuitState::Open).then_some(())) },
        )
        .await?;
        eventually("everything spilled to SQLite", LIMIT, || async {
            Ok((publisher.status().written == total).then_some(()))
        })
        .await?;
        tokio::time::sleep(outage.saturating_sub(down_at.elapsed())).await;
        let during = publisher.status();
        eprintln!("during the outage ({outage:?}): {during:?}");
        assert_eq!(during.relay.delivered, 0, "nothing delivered while down");
        assert!(during.relay.transient_failures > 0, "the outage was seen");
        assert_eq!(
            during.written, total,
            "everything spilled to SQLite while down"
        );
        assert_eq!(outbox.counts().await?.pending, total);

        mock.broker_up(1)?;
        let up_at = Instant::now();
        eventually("everything delivered after recovery", LIMIT, || async {
            let s = publisher.status();
            Ok((s.relay.delivered >= total && s.circuit == CircuitState::Closed).then_some(()))
        })
        .await?;
        eprintln!(
            "recovered: {total} delivered {:.1} s after the broker came back",
            up_at.elapsed().as_secs_f64()
        );
        let status = publisher.shutdown().await?;
        recorder_task.abort();
        assert_eq!(status.dropped_queue_full + status.rejected, 0);
        assert!(status.relay.circuit_opened >= 1 && status.relay.circuit_closed >= 1);
        assert_eq!(status.circuit, CircuitState::Closed);
        let states = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(
            states.first(),
            Some(&CircuitState::Open),
            "opened first: {states:?}"
        );
        assert_eq!(states.last(), Some(&CircuitState::Closed), "{states:?}");
        let c = outbox.counts().await?;
        assert_eq!((c.sent, c.pending, c.failed), (total, 0, 0));

        // every command is on the topic (at least once)
        let ids = consume_ids(&bootstrap, topic, 2).await?;
        let missing: Vec<u64> = (0..total)
            .filter(|i| !ids.contains_key(&format!("outage-{i}")))
            .collect();
        assert!(
            missing.is_empty(),
            "{} commands missing: {:?}",
            missing.len(),
            missing.iter().take(10).collect::<Vec<_>>()
        );
        assert_eq!(ids.len() as u64, total, "nothing else on the topic");
        let duplicates: usize = ids.values().map(|n| n - 1).sum();
        eprintln!("consumed {} distinct, {duplicates} duplicates", ids.len());

        // the circuit in the metrics: opened, closed, gauge back at 0
        let snapshot: HashMap<String, DebugValue> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let key = key.key();
                let mut name = key.name().to_owned();
                for label in key.labels() {
                    name.push_str(&format!("{{{}={}}}", label.key(), label.value()));
                }
                (name, value)
            })
            .collect();
        let counter = |name: &str| match snapshot.get(name) {
            Some(DebugValue::Counter(n)) => *n,
            _ => 0,
        };
        let opened = counter(&format!("{}{{state=open}}", om::CIRCUIT_TRANSITIONS));
        let closed = counter(&format!("{}{{state=closed}}", om::CIRCUIT_TRANSITIONS));
        eprintln!("circuit transitions in the metrics: open {opened}, closed {closed}");
        assert!(opened >= 1 && closed >= 1, "open {opened}, closed {closed}");
        assert_eq!(opened, status.relay.circuit_opened);
        assert_eq!(closed, status.relay.circuit_closed);
        match snapshot.get(om::CIRCUIT_OPEN) {
            Some(DebugValue::Gauge(g)) => assert_eq!(g.into_inner(), 0.0),
            other => return Err(format!("circuit gauge: {other:?}").into()),
        }
        assert_eq!(
            counter(audit_publisher::metrics::ACCEPTED),
            total,
            "accepted counter"
        );
        Ok(())
    })
}
