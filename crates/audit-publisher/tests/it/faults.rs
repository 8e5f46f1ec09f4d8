//! Acceptance 3: the broker is down while commands are published from 8 tasks; nothing is lost
//! (every command read back from the topic by message id and idempotence id), the circuit opens
//! and closes again (status, watch and the metrics, in that order).
//!
//! Default: 10,000 commands, 5 s outage. Full run (a debug build takes about 45 s):
//! `PUBLISHER_FAULT_COMMANDS=100000 PUBLISHER_OUTAGE_SECS=30 nice cargo test -p
//! audit-publisher --test it faults -- --nocapture`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use audit_outbox::metrics as om;
use audit_publisher::{CircuitState, Published, PublisherConfig, WhenFull};
use rdkafka::mocking::MockCluster;

use crate::support::*;

const TASKS: u64 = 8;
/// The mock cluster keeps at most 5 MiB per partition (see `consume_ids`): 100,000 commands of
/// about 200 bytes need at least 4 partitions; 16 leave room (`PUBLISHER_FAULT_PARTITIONS`
/// overrides it, e.g. 2 to see the limit).
const PARTITIONS: u64 = 16;

/// The circuit's metrics so far: the gauge's values and the transitions, in order.
fn circuit_metrics(log: &MetricLog) -> (Vec<f64>, Vec<String>) {
    let gauge = log
        .events(om::CIRCUIT_OPEN)
        .into_iter()
        .filter(|(name, _)| name == om::CIRCUIT_OPEN)
        .map(|(_, v)| v)
        .collect();
    let transitions = log
        .events(om::CIRCUIT_TRANSITIONS)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    (gauge, transitions)
}

fn transition(state: &str) -> String {
    format!("{}{{state={state}}}", om::CIRCUIT_TRANSITIONS)
}

/// The recorder is installed thread-locally on a current-thread runtime (the relay and writer
/// tasks run on it too), so tests running in parallel do not touch it.
#[test]
fn broker_outage_loses_nothing_and_the_circuit_opens_then_closes() -> TestResult {
    let log = MetricLog::default();
    let _guard = metrics::set_default_local_recorder(&log);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let total = env_u64("PUBLISHER_FAULT_COMMANDS", 10_000).div_ceil(TASKS) * TASKS;
    let outage = Duration::from_secs(env_u64("PUBLISHER_OUTAGE_SECS", 5));
    let partitions = i32::try_from(env_u64("PUBLISHER_FAULT_PARTITIONS", PARTITIONS))?;
    rt.block_on(async {
        let mock = MockCluster::new(1)?;
        let topic = "outage";
        mock.create_topic(topic, partitions, 1)?;
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
            || async {
                let watched = !seen
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_empty();
                Ok((publisher.status().circuit == CircuitState::Open && watched).then_some(()))
            },
        )
        .await?;
        // the fault happened and shows in the watch and the metrics: open, nothing closed yet
        let opened_seen = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let (gauge, transitions) = circuit_metrics(&log);
        eprintln!(
            "circuit open: watch {opened_seen:?}, gauge {gauge:?}, transitions {transitions:?}"
        );
        assert_eq!(opened_seen, [CircuitState::Open], "the watch saw it open");
        assert_eq!(gauge, [1.0], "audit_outbox_circuit_open is 1");
        assert_eq!(transitions, [transition("open")]);
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

        // every command is on the topic (at least once), by message id and idempotence id
        let read_started = Instant::now();
        let ids = consume_ids(&bootstrap, topic, partitions).await?;
        let duplicates = assert_exactly(&ids, "outage", total)?;
        eprintln!(
            "read back {} distinct commands ({duplicates} duplicates) from {partitions} partitions \
             in {:.1} s",
            ids.len(),
            read_started.elapsed().as_secs_f64()
        );

        // the circuit in the metrics: open first, closed last, the gauge following, the counts
        // those of the relay
        let (gauge, transitions) = circuit_metrics(&log);
        eprintln!("circuit metrics: gauge {gauge:?}, transitions {transitions:?}");
        let watched: Vec<String> = states
            .iter()
            .map(|s| {
                transition(if *s == CircuitState::Open {
                    "open"
                } else {
                    "closed"
                })
            })
            .collect();
        assert_eq!(transitions, watched, "the metrics saw what the watch saw");
        assert_eq!(gauge.first(), Some(&1.0), "{gauge:?}");
        assert_eq!(gauge.last(), Some(&0.0), "{gauge:?}");
        assert_eq!(
            log.counter(&transition("open")),
            status.relay.circuit_opened
        );
        assert_eq!(
            log.counter(&transition("closed")),
            status.relay.circuit_closed
        );
        assert_eq!(
            log.counter(audit_publisher::metrics::ACCEPTED),
            total,
            "accepted counter"
        );
        Ok(())
    })
}
