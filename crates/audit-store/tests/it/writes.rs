//! Batched idempotent writes: duplicates across and inside batches, the stored columns and
//! document, concurrent writers of the same records.

use audit_consumer::AuditEventType;
use audit_store::{
    Access, IncomingRecord, Source, StoredObject, StoredTrigger, TriggerKind, WriteOutcome,
};
use chrono::{TimeZone, Utc};

use crate::support::{self, Rng};

fn stored(o: &WriteOutcome) -> bool {
    matches!(o, WriteOutcome::Stored { .. })
}

#[tokio::test]
async fn duplicates_across_and_inside_batches_are_stored_once_and_counted() {
    for s in support::both().await {
        let mut rng = Rng(11);
        let a = support::record(&mut rng, "w", 1);
        let b = support::record(&mut rng, "w", 2);
        let c = support::record(&mut rng, "w", 3);
        let d = support::record(&mut rng, "w", 4);
        // `a` twice in one batch: the second occurrence is a duplicate
        let out = s
            .store
            .write_batch(&[a.clone(), b.clone(), a.clone(), c.clone()])
            .await
            .unwrap();
        assert_eq!(
            out.iter().map(stored).collect::<Vec<_>>(),
            [true, true, false, true],
            "{}",
            s.name
        );
        assert_eq!(out[2], WriteOutcome::Duplicate);
        // redelivery of `c` with a new record `d`
        let again = s.store.write_batch(&[c.clone(), d.clone()]).await.unwrap();
        assert_eq!(again[0], WriteOutcome::Duplicate, "{}", s.name);
        assert!(stored(&again[1]));
        assert_eq!(s.store.stats().await.unwrap().records, 4, "{}", s.name);
        // the empty batch
        assert!(s.store.write_batch(&[]).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_large_batch_with_duplicates_spanning_statement_chunks() {
    for s in support::both().await {
        let mut rng = Rng(12);
        let unique: Vec<_> = (0..1_300)
            .map(|i| support::record(&mut rng, "big", i))
            .collect();
        let mut batch = unique.clone();
        // repeat records from the first chunk at the end (past SQLite's 500-row statements)
        batch.extend(unique[..50].iter().cloned());
        let out = s.store.write_batch(&batch).await.unwrap();
        assert_eq!(
            out.iter().filter(|o| stored(o)).count(),
            1_300,
            "{}",
            s.name
        );
        assert!(out[1_300..].iter().all(|o| *o == WriteOutcome::Duplicate));
        let ids: std::collections::HashSet<_> = out
            .iter()
            .filter_map(|o| match o {
                WriteOutcome::Stored { id } => Some(*id),
                WriteOutcome::Duplicate => None,
            })
            .collect();
        assert_eq!(ids.len(), 1_300, "distinct row ids");
        assert_eq!(s.store.stats().await.unwrap().records, 1_300);
    }
}

#[tokio::test]
async fn concurrent_writers_of_the_same_records_store_each_once() {
    for s in support::both().await {
        let mut rng = Rng(13);
        let batch: Vec<_> = (0..400)
            .map(|i| support::record(&mut rng, "c", i))
            .collect();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let store = s.store.clone();
                let batch = batch.clone();
                tokio::spawn(async move { store.write_batch(&batch).await.unwrap() })
            })
            .collect();
        let mut stored_total = 0;
        for t in tasks {
            stored_total += t.await.unwrap().iter().filter(|o| stored(o)).count();
        }
        assert_eq!(
            stored_total, 400,
            "{}: each record stored by exactly one writer",
            s.name
        );
        assert_eq!(s.store.stats().await.unwrap().records, 400);
    }
}

#[tokio::test]
async fn the_stored_columns_and_document_are_the_record() {
    for s in support::both().await {
        let ts = Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap()
            + chrono::Duration::milliseconds(891);
        let user = audit_builder::AuditCommandBuilder::new("invoice-service", "BILLING", ts)
            .event_type(AuditEventType::Modified)
            .context_with_process_id("pay-invoice", "p-1")
            .user("u1", "https://idp.example")
            .audited_object(
                audit_builder::AuditedObject::new("Invoice", "INV-42")
                    .version("3")
                    .value("status", "PAID"),
            )
            .event_data("k", "v")
            .build()
            .unwrap();
        let system = audit_builder::AuditCommandBuilder::new("batch", "LEDGER", ts)
            .system_component("FIN", "LEDGER", "closer")
            .build()
            .unwrap();
        let received = Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 8).unwrap();
        let user_record = audit_consumer::AuditRecord::from(user);
        let system_record = audit_consumer::AuditRecord::from(system);
        let batch = [
            IncomingRecord::new(
                user_record.clone(),
                Source::Kafka {
                    topic: "audit-commands".into(),
                    partition: 3,
                    offset: 99,
                },
            )
            .received_at(received),
            IncomingRecord::new(
                system_record.clone(),
                Source::Http {
                    client: "svc-a".into(),
                },
            )
            .received_at(received)
            .schema_version("1.0.1"),
        ];
        s.store.write_batch(&batch).await.unwrap();

        let got = s
            .store
            .get(user_record.metadata().message_id(), &Access::AllSystems)
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(got.message_id, user_record.metadata().message_id());
        assert_eq!(got.idempotence_id, user_record.metadata().idempotence_id());
        assert_eq!(got.event_timestamp, ts, "{}", s.name);
        assert_eq!(got.created, user_record.metadata().created());
        assert_eq!(got.received, received);
        assert_eq!(
            (got.service.as_str(), got.system.as_str()),
            ("invoice-service", "BILLING")
        );
        assert_eq!(got.event_type, AuditEventType::Modified);
        assert_eq!(got.use_case.as_deref(), Some("pay-invoice"));
        assert_eq!(got.process_id.as_deref(), Some("p-1"));
        assert_eq!(
            got.trigger,
            StoredTrigger::User {
                id: "u1".into(),
                identity_provider: "https://idp.example".into()
            }
        );
        assert_eq!(
            got.object,
            Some(StoredObject {
                object_type: "Invoice".into(),
                id: "INV-42".into(),
                version: Some("3".into())
            })
        );
        assert_eq!(got.schema_version, audit_schema_version());
        assert_eq!(
            got.source,
            Source::Kafka {
                topic: "audit-commands".into(),
                partition: 3,
                offset: 99
            }
        );
        assert_eq!(
            got.document,
            serde_json::to_value(&user_record).unwrap(),
            "{}",
            s.name
        );

        let got = s
            .store
            .get(system_record.metadata().message_id(), &Access::AllSystems)
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(got.trigger_kind(), TriggerKind::SystemComponent);
        assert_eq!(
            got.trigger,
            StoredTrigger::SystemComponent {
                department: "FIN".into(),
                system: "LEDGER".into(),
                component: "closer".into()
            }
        );
        assert_eq!(got.object, None);
        assert_eq!(got.use_case, None);
        assert_eq!(got.schema_version, "1.0.1");
        assert_eq!(
            got.source,
            Source::Http {
                client: "svc-a".into()
            }
        );
        assert_eq!(got.document, serde_json::to_value(&system_record).unwrap());

        let stats = s.store.stats().await.unwrap();
        assert_eq!((stats.records, stats.last_received), (2, Some(received)));
        s.store.ping().await.unwrap();
        // migrate is idempotent
        s.store.migrate().await.unwrap();
        assert_eq!(s.store.stats().await.unwrap().records, 2);
    }
}

fn audit_schema_version() -> &'static str {
    "1.0.2"
}

#[tokio::test]
async fn connect_rejects_unknown_schemes_without_echoing_the_url() {
    let err = audit_store::AuditStore::connect("mysql://user:secret@host/db")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, audit_store::Error::UnsupportedUrl { .. }),
        "{err:?}"
    );
    assert!(text.contains("mysql") && !text.contains("secret"), "{text}");
}

#[tokio::test]
async fn postgres_a_failed_batch_stores_none_of_its_records_and_leaves_the_session_clean() {
    // one connection: every batch goes through the same session (a write path that keeps
    // per-session state, e.g. a staging table, must not leak rows from one batch into the next)
    let db = audit_testkit::PgDatabase::create().await.unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(db.url())
        .await
        .unwrap();
    let store = audit_store::AuditStore::postgres(pool);
    store.migrate().await.unwrap();
    let mut rng = Rng(14);
    let first: Vec<_> = (0..3).map(|i| support::record(&mut rng, "s", i)).collect();
    let out = store.write_batch(&first).await.unwrap();
    assert!(out.iter().all(stored));
    // retention removes them; a later batch must not bring them back
    let far = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(store.delete_older_than(far, 100).await.unwrap().deleted, 3);

    // a batch the database rejects (NUL in a text column) stores none of its records
    let good = support::record(&mut rng, "s", 10);
    let bad = support::record(&mut rng, "s", 11);
    let bad = IncomingRecord::new(
        bad.record().clone(),
        Source::Http {
            client: "nul\0client".into(),
        },
    );
    let err = store.write_batch(&[good.clone(), bad]).await.unwrap_err();
    assert!(
        matches!(err, audit_store::Error::Database { .. }),
        "{err:?}"
    );
    assert_eq!(store.stats().await.unwrap().records, 0);

    // the next batch on the same session stores exactly its own records
    let next = support::record(&mut rng, "s", 12);
    let out = store.write_batch(&[good, next]).await.unwrap();
    assert!(out.iter().all(stored), "{out:?}");
    assert_eq!(store.stats().await.unwrap().records, 2);
    drop(store);
    db.drop_database().await.unwrap();
}
