//! Rollback/commit, permanent failures and resend, two relays, connection loss, listener loss.

use std::collections::HashSet;
use std::time::Duration;

use std::collections::HashMap;

use audit_builder::{AuditCommandFactory, AuditEventType, JwtClaims};
use audit_outbox::TRACEPARENT_HEADER;
use audit_outbox::sender::{AuditSender, SchemaId};
use audit_schema::{AuditTrigger, CreateAuditRecordCommand, confluent};
use chrono::Utc;

use crate::support::*;

const LIMIT: Duration = Duration::from_secs(120);

/// Acceptance 1: 1,000 rolled-back enqueues deliver nothing; 1,000 committed deliver 1,000, each
/// decodable back into the original command (Confluent frame with the pinned schema id, Avro of
/// the newest schema). The commands go through the three sender paths: already built,
/// user-triggered, message-triggered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_delivers_nothing_commit_delivers_everything() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let (broker, topic) = tansu_topic(2)?;
    let sender = AuditSender::pinned(&topic, SchemaId::Pinned(42))?;
    let factory = AuditCommandFactory::new("outbox-test", "AUDIT")?;
    let command = |i: usize| {
        factory
            .builder(Utc::now())
            .event_type(AuditEventType::Modified)
            .context("outbox-test")
            .event_data("i", i.to_string())
            .user(format!("user-{i}"), "idp")
            .build()
    };
    for _ in 0..10 {
        let mut tx = pool.begin().await?;
        for i in 0..100 {
            sender.send(&outbox, &mut tx, &command(i)?).await?;
        }
        tx.rollback().await?;
    }
    assert_eq!(outbox.counts().await?.pending, 0);
    let relay = outbox.start_relay(relay_config(&broker.bootstrap()))?;
    let mut expected = HashMap::new();
    let claims = JwtClaims {
        sub: "u-claims".into(),
        iss: "https://idp.example".into(),
    };
    for round in 0..10 {
        let mut tx = pool.begin().await?;
        for i in 0..100 {
            match round % 3 {
                0 => {
                    let c = command(i)?;
                    sender.send(&outbox, &mut tx, &c).await?;
                    expected.insert(c.identity.id.clone(), Some(c));
                }
                1 => {
                    let b = factory
                        .builder(Utc::now())
                        .event_type(AuditEventType::Read)
                        .context("uc");
                    sender
                        .audit_user_triggered(&outbox, &mut tx, b, &claims)
                        .await?;
                }
                _ => {
                    let received = command(i)?;
                    let b = factory
                        .builder(Utc::now())
                        .event_type(AuditEventType::Created);
                    sender
                        .audit_message_triggered(&outbox, &mut tx, b, "DEPT", &received)
                        .await?;
                }
            }
        }
        tx.commit().await?;
    }
    wait_sent(&outbox, 1000, LIMIT).await?;
    relay.shutdown().await?;
    let records = consume_all(&broker.bootstrap(), &topic, 2, 1000).await?;
    assert_eq!(
        records.len(),
        1000,
        "exactly the committed rows, none of the rolled-back ones"
    );
    let mut seen = HashSet::new();
    let (mut users, mut systems) = (0, 0);
    for r in &records {
        let (schema_id, datum) = confluent::unframe(&r.value)?;
        assert_eq!(schema_id, 42);
        let decoded = CreateAuditRecordCommand::from_avro_datum(datum)?;
        assert!(seen.insert(decoded.identity.id.clone()), "duplicate");
        if let Some(Some(original)) = expected.get(&decoded.identity.id) {
            assert_eq!(&decoded, original);
        }
        match &decoded.payload.trigger {
            AuditTrigger::AuditUser(u) if u.id == "u-claims" => users += 1,
            AuditTrigger::AuditSystemComponent(s) => {
                assert_eq!(s.department, "DEPT");
                systems += 1;
            }
            AuditTrigger::AuditUser(_) => {}
        }
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(expected.keys().filter(|k| seen.contains(*k)).count(), 400);
    assert_eq!((users, systems), (300, 300));
    Ok(())
}

/// Enqueue stores key, value and headers as given; the relay delivers them unchanged, and a
/// `traceparent` from the registered source is stored when none is given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_value_and_headers_arrive_unchanged() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let (broker, topic) = tansu_topic(1)?;
    let relay = outbox.start_relay(relay_config(&broker.bootstrap()))?;
    let mut expected = HashMap::new();
    let mut tx = pool.begin().await?;
    let mut batch = Vec::new();
    for i in 0..50 {
        let mut m = msg(&topic, Some(&format!("k{i}")))
            .with_header("x-signature", vec![1, 2, 3, 0, 255])
            .with_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        if i % 5 == 0 {
            m.key = None;
            m.type_version = None;
        }
        if i < 25 {
            outbox.enqueue(&mut tx, &m).await?;
        } else {
            batch.push(m.clone());
        }
        expected.insert(m.message_id.clone(), m);
    }
    // enqueue_all: one statement, ids in input order; an invalid message fails it before writing.
    let mut invalid = batch.clone();
    invalid.push(msg(" ", None));
    assert!(outbox.enqueue_all(&mut tx, &invalid).await.is_err());
    let ids = outbox.enqueue_all(&mut tx, &batch).await?;
    assert_eq!(ids.len(), 25);
    assert!(ids.windows(2).all(|w| w.first() < w.last()));
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT message_id FROM audit_outbox WHERE id = ANY($1) ORDER BY id")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
    assert_eq!(
        stored,
        batch
            .iter()
            .map(|m| m.message_id.clone())
            .collect::<Vec<_>>()
    );
    tx.commit().await?;
    wait_sent(&outbox, 50, LIMIT).await?;
    relay.shutdown().await?;
    let records = consume_all(&broker.bootstrap(), &topic, 1, 50).await?;
    assert_eq!(records.len(), 50);
    for r in &records {
        let m = expected
            .get(&r.value_str())
            .ok_or("a record that was never committed")?;
        assert_eq!(r.key.as_deref(), m.key.as_deref());
        assert_eq!(r.value, m.value);
        assert_eq!(r.headers, m.headers);
        assert!(r.headers.iter().any(|(n, _)| n == TRACEPARENT_HEADER));
    }
    Ok(())
}

/// Acceptance 4: an unknown topic and a record too large are marked failed with the reason, the
/// rows after them are delivered; after creating the topic, resend delivers the row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_are_marked_and_resend_delivers() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let (broker, topic) = tansu_topic(1)?;
    let missing = unique("missing");
    let mut tx = pool.begin().await?;
    outbox.enqueue(&mut tx, &msg(&topic, Some("a"))).await?;
    let unknown_id = outbox.enqueue(&mut tx, &msg(&missing, Some("a"))).await?;
    let mut big = msg(&topic, Some("b"));
    big.value = vec![7u8; 2 * 1024 * 1024];
    let big_id = outbox.enqueue(&mut tx, &big).await?;
    let mut after = Vec::new();
    for _ in 0..20 {
        let m = msg(&topic, Some("a"));
        outbox.enqueue(&mut tx, &m).await?;
        after.push(m.message_id);
    }
    tx.commit().await?;

    let relay = outbox.start_relay(relay_config(&broker.bootstrap()))?;
    eventually("two failed rows and 21 sent", LIMIT, || async {
        let c = outbox.counts().await?;
        Ok((c.failed == 2 && c.sent == 21 && c.pending == 0).then_some(()))
    })
    .await?;
    let failed = outbox.list_failed(0, 10).await?;
    assert_eq!(
        failed.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![unknown_id, big_id]
    );
    let reason = |id| {
        failed
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.reason.to_lowercase())
            .unwrap_or_default()
    };
    assert!(
        reason(unknown_id).contains("unknown"),
        "reason: {}",
        reason(unknown_id)
    );
    assert!(
        reason(big_id).contains("too large") || reason(big_id).contains("size"),
        "reason: {}",
        reason(big_id)
    );
    assert_eq!(outbox.count_failed().await?, 2);

    // The rows after the failed ones were delivered.
    let records = consume_all(&broker.bootstrap(), &topic, 1, 21).await?;
    let got: HashSet<String> = records.iter().map(Rec::value_str).collect();
    assert!(after.iter().all(|id| got.contains(id)));

    // Fix the cause (create the topic) and resend that row only.
    broker.create_topic(&missing, 1)?;
    assert!(outbox.resend(unknown_id).await?);
    assert!(!outbox.resend(unknown_id + 100_000).await?);
    eventually("resent row delivered", LIMIT, || async {
        let c = outbox.counts().await?;
        Ok((c.sent == 22 && c.failed == 1).then_some(()))
    })
    .await?;
    let records = consume_all(&broker.bootstrap(), &missing, 1, 1).await?;
    assert_eq!(records.len(), 1);
    // The too-large row fails again on resend-all: its cause is not fixed.
    assert_eq!(outbox.resend_all_failed().await?, 1);
    eventually("too-large row failed again", LIMIT, || async {
        Ok(
            (outbox.count_failed().await? == 1 && outbox.counts().await?.pending == 0)
                .then_some(()),
        )
    })
    .await?;
    relay.shutdown().await?;
    Ok(())
}

/// Acceptance 5: two relays on one database deliver 10,000 rows, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_deliver_each_row_once() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let (broker, topic) = tansu_topic(4)?;
    let mut c1 = relay_config(&broker.bootstrap());
    c1 = c1.batch_size(300);
    let mut c2 = c1.clone();
    c2 = c2.relay_id("relay-two");
    c1 = c1.relay_id("relay-one");
    let r1 = outbox.start_relay(c1)?;
    let r2 = audit_outbox::Outbox::new(pool.clone()).start_relay(c2)?;
    for t in 0..100 {
        let mut tx = pool.begin().await?;
        for i in 0..100 {
            let key = if i % 2 == 0 {
                Some(format!("k{}", (t * 100 + i) % 97))
            } else {
                None
            };
            outbox
                .enqueue(&mut tx, &msg(&topic, key.as_deref()))
                .await?;
        }
        tx.commit().await?;
    }
    wait_sent(&outbox, 10_000, LIMIT).await?;
    let s1 = r1.shutdown().await?;
    let s2 = r2.shutdown().await?;
    // both relays did a share of the work, and together exactly the rows (counted from their
    // own statements)
    eprintln!("two relays: {} + {} rows", s1.delivered, s2.delivered);
    assert!(
        s1.delivered > 0 && s2.delivered > 0,
        "one relay did nothing: {} / {}",
        s1.delivered,
        s2.delivered
    );
    assert_eq!(s1.delivered + s2.delivered, 10_000);
    assert_eq!(s1.claims_taken_over + s2.claims_taken_over, 0);
    let records = consume_all(&broker.bootstrap(), &topic, 4, 10_000).await?;
    let counts = counts_by_value(&records);
    assert_eq!(counts.len(), 10_000, "every row delivered");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "rows delivered twice: {}", twice.len());
    assert_eq!(records.len(), 10_000);
    Ok(())
}

/// Acceptance 6: `pg_terminate_backend` of the relay's connections while it delivers: it recovers
/// by itself and finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_recovers_from_terminated_connections() -> TestResult {
    let (db, pool, outbox) = pg_outbox().await?;
    let (broker, topic) = tansu_topic(1)?;
    for _ in 0..100 {
        let mut tx = pool.begin().await?;
        for _ in 0..100 {
            outbox.enqueue(&mut tx, &msg(&topic, None)).await?;
        }
        tx.commit().await?;
    }
    // The relay gets its own pool, with an application name, so that only its connections are
    // terminated (not the test's).
    let relay_options: sqlx::postgres::PgConnectOptions = db.url().parse()?;
    let relay_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(relay_options.application_name("outbox-relay-under-test"))
        .await?;
    let mut cfg = relay_config(&broker.bootstrap());
    cfg = cfg.batch_size(100);
    let relay = audit_outbox::Outbox::new(relay_pool).start_relay(cfg)?;
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(db.url())
        .await?;
    // Terminate the relay's connections while rows are pending, until one of its statements
    // has failed (counted by the relay) and at most 200 rounds.
    let mut killed = 0i64;
    let mut rounds = 0;
    while relay.stats().database_errors == 0 && rounds < 200 {
        rounds += 1;
        if outbox.counts().await?.pending == 0 {
            break;
        }
        let n: i64 = sqlx::query_scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'outbox-relay-under-test'",
        )
        .fetch_one(&admin)
        .await?;
        killed += n;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed_statements = relay.stats().database_errors;
    eprintln!(
        "terminated {killed} relay backends in {rounds} rounds; {failed_statements} relay statements failed"
    );
    assert!(killed > 0, "no relay backend was terminated");
    assert!(
        failed_statements > 0,
        "no relay statement failed: the fault did not hit the relay"
    );
    wait_sent(&outbox, 10_000, LIMIT).await?;
    relay.shutdown().await?;
    let records = consume_all(&broker.bootstrap(), &topic, 1, 10_000).await?;
    assert_eq!(counts_by_value(&records).len(), 10_000);
    Ok(())
}

/// Acceptance 9: the LISTEN connection is killed; rows committed afterwards are still delivered
/// (by the re-opened listener or, at the latest, by polling).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_loss_does_not_lose_rows() -> TestResult {
    let (_db, pool, outbox) = pg_outbox().await?;
    let (broker, topic) = tansu_topic(1)?;
    let mut cfg = relay_config(&broker.bootstrap());
    cfg = cfg.poll_interval(Duration::from_secs(2));
    let relay = outbox.start_relay(cfg)?;
    let listeners = || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        )
        .fetch_one(&pool)
        .await?;
        Ok::<_, BoxError>(n)
    };
    eventually("listener connected", LIMIT, || async {
        Ok((listeners().await? > 0).then_some(()))
    })
    .await?;
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(killed, 1);
    for _ in 0..5 {
        let mut tx = pool.begin().await?;
        for _ in 0..10 {
            outbox.enqueue(&mut tx, &msg(&topic, Some("k"))).await?;
        }
        tx.commit().await?;
    }
    wait_sent(&outbox, 50, LIMIT).await?;
    // The listener is back (so later commits wake the relay at once again).
    eventually("listener re-connected", LIMIT, || async {
        Ok((listeners().await? > 0).then_some(()))
    })
    .await?;
    relay.shutdown().await?;
    assert_eq!(
        counts_by_value(&consume_all(&broker.bootstrap(), &topic, 1, 50).await?).len(),
        50
    );
    Ok(())
}
