//! The indexes serve the queries: `EXPLAIN` of the store's own statements on PostgreSQL (and
//! `EXPLAIN QUERY PLAN` on SQLite) after loading and analysing generated data.

use audit_store::{Access, AuditStore, RecordFilter};
use chrono::Duration;

use crate::support;

fn cases() -> Vec<(&'static str, RecordFilter, &'static str)> {
    let from = support::base() + Duration::days(3);
    vec![
        (
            "object type + id",
            RecordFilter {
                object_type: Some("Invoice".into()),
                object_id: Some("ID-17".into()),
                ..RecordFilter::default()
            },
            "audit_record_object_idx",
        ),
        (
            "user id + time range",
            RecordFilter {
                user_id: Some("u7".into()),
                from: Some(from),
                until: Some(from + Duration::days(7)),
                ..RecordFilter::default()
            },
            "audit_record_user_idx",
        ),
        (
            "system + time range",
            RecordFilter {
                system: Some("HR".into()),
                from: Some(from),
                until: Some(from + Duration::days(1)),
                ..RecordFilter::default()
            },
            "audit_record_system_idx",
        ),
    ]
}

async fn assert_plans(store: &AuditStore, name: &str) {
    for (what, filter, index) in cases() {
        for access in [Access::AllSystems, Access::systems(["HR", "BILLING"])] {
            let plan = store.explain(&filter, &access, None, 100).await.unwrap();
            if std::env::var_os("AUDIT_STORE_SHOW_PLANS").is_some() {
                eprintln!("{name}: {what} ({access:?}):\n{plan}\n");
            }
            assert!(
                plan.contains(index),
                "{name}: {what} ({access:?}) should use {index}:\n{plan}"
            );
            // the next page too (keyset condition)
            let cursor = store.query(&filter, &access, None, 1).await.unwrap().next;
            let plan = store
                .explain(&filter, &access, cursor.as_ref(), 100)
                .await
                .unwrap();
            assert!(
                plan.contains(index),
                "{name}: {what}, next page, should use {index}:\n{plan}"
            );
        }
    }
}

#[tokio::test]
async fn postgres_indexes_serve_the_filters() {
    let s = support::postgres().await;
    support::generated(&s.store, 0x5eed_0002, 30_000).await;
    analyze(&s).await;
    assert_plans(&s.store, "postgres").await;
}

#[tokio::test]
async fn sqlite_indexes_serve_the_filters() {
    let s = support::sqlite().await;
    support::generated(&s.store, 0x5eed_0003, 10_000).await;
    assert_plans(&s.store, "sqlite").await;
}

async fn analyze(s: &support::TestStore) {
    // statistics as autovacuum would gather them
    s.store.analyze().await.unwrap();
}
