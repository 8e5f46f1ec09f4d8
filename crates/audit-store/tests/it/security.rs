//! Access control in SQL (list, get, export, cursors) and SQL injection in every filter value.

use std::collections::BTreeSet;

use audit_builder::{AuditCommandBuilder, AuditedObject};
use audit_consumer::AuditRecord;
use audit_store::{Access, AuditStore, Cursor, Error, IncomingRecord, RecordFilter, Source};
use base64::Engine as _;
use futures::TryStreamExt as _;

use crate::support::{self, Model, Rng};

const PAYLOADS: &[&str] = &[
    "' OR '1'='1",
    "x'; DROP TABLE audit_record; --",
    "\" OR \"\"=\"",
    "1) OR (1=1",
    "%",
    "_",
    "*",
    "\\",
    "'; DELETE FROM audit_record WHERE ''='",
    "$1",
    "?",
    "BILLING' OR system <> 'BILLING",
];

/// One record per payload with the payload in every filterable field, plus ordinary records.
fn hostile_records() -> Vec<IncomingRecord> {
    let mut out = Vec::new();
    for (i, p) in PAYLOADS.iter().enumerate() {
        let ts = support::base() + chrono::Duration::minutes(i as i64);
        let command = AuditCommandBuilder::new(*p, *p, ts)
            .context_with_process_id(*p, *p)
            .user(*p, *p)
            .audited_object(AuditedObject::new(*p, *p))
            .idempotence_id(format!("hostile-{i}"))
            .build()
            .unwrap();
        out.push(IncomingRecord::new(
            AuditRecord::from(command),
            Source::Http {
                client: (*p).into(),
            },
        ));
    }
    let mut rng = Rng(41);
    out.extend((0..300).map(|i| support::record(&mut rng, "plain", i)));
    out
}

fn single_field_filters(value: &str) -> Vec<RecordFilter> {
    let v = Some(value.to_owned());
    let d = RecordFilter::default;
    vec![
        RecordFilter {
            service: v.clone(),
            ..d()
        },
        RecordFilter {
            system: v.clone(),
            ..d()
        },
        RecordFilter {
            user_id: v.clone(),
            ..d()
        },
        RecordFilter {
            identity_provider: v.clone(),
            ..d()
        },
        RecordFilter {
            object_type: v.clone(),
            ..d()
        },
        RecordFilter {
            object_id: v.clone(),
            ..d()
        },
        RecordFilter {
            process_id: v.clone(),
            ..d()
        },
        RecordFilter { use_case: v, ..d() },
    ]
}

#[tokio::test]
async fn sql_injection_in_every_filter_value_is_harmless() {
    for s in support::both().await {
        let records = hostile_records();
        let models = support::load(&s.store, &records, 100).await;
        let total = models.len() as u64;
        for p in PAYLOADS {
            let accesses = [
                Access::AllSystems,
                Access::systems([*p]),
                Access::systems(["BILLING", *p]),
            ];
            for f in single_field_filters(p) {
                for access in &accesses {
                    // the statement text does not depend on the values: only placeholders
                    let sql = s.store.query_sql(&f, access, None, 100).unwrap();
                    let benign = s
                        .store
                        .query_sql(&same_shape(&f), &same_shape_access(access), None, 100)
                        .unwrap();
                    assert_eq!(sql, benign, "{}: a value changed the SQL text", s.name);
                    let got = support::all_pages(&s.store, &f, access, 100).await;
                    let expected = support::brute_force(&models, &f, access);
                    assert_eq!(got, expected, "{}: {f:?} {access:?}", s.name);
                }
                // the record carrying the payload is found by it (exact match, no pattern)
                let got = support::all_pages(&s.store, &f, &Access::AllSystems, 100).await;
                assert_eq!(got.len(), 1, "{}: {f:?} finds exactly its record", s.name);
            }
            assert!(s.store.get(p, &Access::AllSystems).await.unwrap().is_none());
        }
        // nothing was dropped or deleted
        assert_eq!(s.store.stats().await.unwrap().records, total, "{}", s.name);
    }
}

/// The same filter with every string value replaced by a harmless one.
fn same_shape(f: &RecordFilter) -> RecordFilter {
    let x = |v: &Option<String>| v.as_ref().map(|_| "x".to_owned());
    RecordFilter {
        service: x(&f.service),
        system: x(&f.system),
        user_id: x(&f.user_id),
        identity_provider: x(&f.identity_provider),
        object_type: x(&f.object_type),
        object_id: x(&f.object_id),
        process_id: x(&f.process_id),
        use_case: x(&f.use_case),
        ..f.clone()
    }
}

fn same_shape_access(a: &Access) -> Access {
    match a {
        Access::AllSystems => Access::AllSystems,
        Access::Systems(set) => Access::systems((0..set.len()).map(|i| format!("s{i}"))),
    }
}

async fn billing_store() -> Vec<(support::TestStore, Vec<Model>)> {
    let mut out = Vec::new();
    for s in support::both().await {
        let mut rng = Rng(51);
        let records: Vec<_> = (0..2_000)
            .map(|i| support::record(&mut rng, "acl", i))
            .collect();
        let models = support::load(&s.store, &records, 500).await;
        out.push((s, models));
    }
    out
}

#[tokio::test]
async fn a_system_limited_reader_sees_only_its_systems_in_list_get_and_export() {
    for (s, models) in billing_store().await {
        let billing = Access::systems(["BILLING"]);
        let none = Access::Systems(BTreeSet::new());
        let all = RecordFilter::default();
        let listed = support::all_pages(&s.store, &all, &billing, 100).await;
        assert_eq!(
            listed,
            support::brute_force(&models, &all, &billing),
            "{}",
            s.name
        );
        assert!(!listed.is_empty() && listed.len() < models.len());
        let exported: Vec<_> = s.store.export(&all, &billing).try_collect().await.unwrap();
        assert_eq!(exported.len(), listed.len());
        assert!(
            exported.iter().all(|r| r.system == "BILLING"),
            "{}: export",
            s.name
        );
        assert!(
            support::all_pages(&s.store, &all, &none, 100)
                .await
                .is_empty()
        );
        // asking for another system through the filter does not widen access
        let other = RecordFilter {
            system: Some("PAYMENT".into()),
            ..RecordFilter::default()
        };
        assert!(
            support::all_pages(&s.store, &other, &billing, 100)
                .await
                .is_empty()
        );

        // get by id: only records of the reader's systems
        let theirs = models.iter().find(|m| m.system == "PAYMENT").unwrap();
        let ours = models.iter().find(|m| m.system == "BILLING").unwrap();
        assert!(
            s.store
                .get(&theirs.message_id, &billing)
                .await
                .unwrap()
                .is_none(),
            "{}: get of another system",
            s.name
        );
        assert!(
            s.store
                .get(&theirs.message_id, &none)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            s.store
                .get(&ours.message_id, &billing)
                .await
                .unwrap()
                .unwrap()
                .id,
            ours.id
        );
        assert_eq!(
            s.store
                .get(&theirs.message_id, &Access::AllSystems)
                .await
                .unwrap()
                .unwrap()
                .id,
            theirs.id
        );
    }
}

/// Replaces the position bytes of a cursor, keeping its fingerprint.
fn forge(cursor: &Cursor, ts_micros: i64, id: i64) -> Result<Cursor, Error> {
    let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.encode())
        .unwrap();
    bytes[17..25].copy_from_slice(&ts_micros.to_be_bytes());
    bytes[25..33].copy_from_slice(&id.to_be_bytes());
    Cursor::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

async fn first_cursor(store: &AuditStore, f: &RecordFilter, a: &Access) -> Cursor {
    store
        .query(f, a, None, 10)
        .await
        .unwrap()
        .next
        .expect("more than one page")
}

#[tokio::test]
async fn cursors_cannot_widen_a_query() {
    for (s, models) in billing_store().await {
        let billing = Access::systems(["BILLING"]);
        let all = RecordFilter::default();
        let cursor = first_cursor(&s.store, &all, &Access::AllSystems).await;
        // a cursor of an unrestricted reader, presented by a limited one: refused
        let err = s
            .store
            .query(&all, &billing, Some(&cursor), 10)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::CursorMismatch), "{}: {err:?}", s.name);
        // ... and with another filter
        let invoices = RecordFilter {
            object_type: Some("Invoice".into()),
            ..RecordFilter::default()
        };
        let err = s
            .store
            .query(&invoices, &Access::AllSystems, Some(&cursor), 10)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::CursorMismatch));
        // a forged position in the limited reader's own cursor still returns only its records
        let own = first_cursor(&s.store, &all, &billing).await;
        let year_9999 = chrono::DateTime::parse_from_rfc3339("9999-12-31T00:00:00Z")
            .unwrap()
            .timestamp_micros();
        let forged = forge(&own, year_9999, i64::MAX).unwrap();
        let page = s
            .store
            .query(&all, &billing, Some(&forged), 1_000)
            .await
            .unwrap();
        assert!(!page.records.is_empty());
        assert!(
            page.records.iter().all(|r| r.system == "BILLING"),
            "{}: forged cursor",
            s.name
        );
        let visible = support::brute_force(&models, &all, &billing).len();
        assert!(page.records.len() <= visible);
        assert!(matches!(
            forge(&own, i64::MAX, 1),
            Err(Error::InvalidCursor { .. })
        ));
        // garbage
        for text in ["", "!!!", "AQ", &"A".repeat(60)] {
            assert!(
                matches!(Cursor::decode(text), Err(Error::InvalidCursor { .. })),
                "{text:?}"
            );
        }
        assert_eq!(Cursor::decode(&own.encode()).unwrap(), own);
    }
}
