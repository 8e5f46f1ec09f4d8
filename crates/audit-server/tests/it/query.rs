//! The query API: filters, pagination, get by id, export, system-limited readers, hostile
//! parameters, and the audit records of reads.

use std::collections::BTreeSet;

use audit_consumer::AuditEventType;
use audit_store::{Access, RecordFilter};
use serde_json::Value;

use crate::support::{TestServer, command, reader_for, token};

/// 30 records: systems BILLING (even) and HR (odd), objects INV-0..INV-4, users u0..u2.
async fn populated() -> TestServer {
    let server = TestServer::sqlite(|c| {
        c.query.max_limit = 50;
        c.query.default_limit = 50;
    })
    .await;
    let items: Vec<Value> = (0..30)
        .map(|i| {
            let system = if i % 2 == 0 { "BILLING" } else { "HR" };
            command(system, &format!("INV-{}", i % 5), &format!("u{}", i % 3), i)
        })
        .collect();
    let (status, body) = server.ingest(&token("audit:write"), &items).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 30);
    server
}

fn ids(page: &Value) -> Vec<String> {
    page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["messageId"].as_str().unwrap().to_owned())
        .collect()
}

/// The reads audited so far (records of the server's own system).
async fn reads(server: &TestServer) -> Vec<audit_store::StoredRecord> {
    let filter = RecordFilter {
        system: Some("AUDIT".into()),
        event_types: vec![AuditEventType::Read, AuditEventType::Listed],
        ..RecordFilter::default()
    };
    server
        .store
        .query(&filter, &Access::AllSystems, None, 1000)
        .await
        .unwrap()
        .records
}

#[tokio::test]
async fn filters_and_pagination_match_the_data() {
    let server = populated().await;
    let admin = token("audit:read");
    let (status, page) = server
        .get_json(
            "/v1/audit/records?objectType=Invoice&objectId=INV-2&limit=50",
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    // i % 5 == 2: 2, 7, 12, 17, 22, 27, newest first
    let events: Vec<&str> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["record"]["auditedObject"]["id"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(events.len(), 6, "{page}");
    assert!(page.get("next").is_none());
    let times: Vec<&str> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["eventTimestamp"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");

    let (_, page) = server
        .get_json("/v1/audit/records?system=HR&userId=u1&order=asc", &admin)
        .await;
    // odd i with i % 3 == 1: 1, 7, 13, 19, 25
    assert_eq!(ids(&page).len(), 5, "{page}");
    let (_, page) = server
        .get_json(
            "/v1/audit/records?from=2026-05-28T20:26:50Z&until=2026-05-28T20:26:55Z",
            &admin,
        )
        .await;
    let expected = server
        .store
        .query(
            &RecordFilter {
                from: Some("2026-05-28T20:26:50Z".parse().unwrap()),
                until: Some("2026-05-28T20:26:55Z".parse().unwrap()),
                ..RecordFilter::default()
            },
            &Access::AllSystems,
            None,
            100,
        )
        .await
        .unwrap();
    assert!(!expected.records.is_empty());
    assert_eq!(ids(&page).len(), expected.records.len());
    let (_, page) = server
        .get_json("/v1/audit/records?eventType=CREATED,READ", &admin)
        .await;
    assert!(ids(&page).is_empty(), "every record is MODIFIED: {page}");

    // keyset pages of 7 give every record exactly once
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            None => "/v1/audit/records?system=BILLING&limit=7".to_owned(),
            Some(c) => format!("/v1/audit/records?system=BILLING&limit=7&cursor={c}"),
        };
        let (status, page) = server.get_json(&path, &admin).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        pages += 1;
        match page.get("next").and_then(Value::as_str) {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 15);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 15);

    // limits
    for bad in [
        "limit=0",
        "limit=51",
        "limit=x",
        "order=sideways",
        "triggerKind=ROBOT",
        "from=yesterday",
        "eventType=EATEN",
        "unknown=1",
    ] {
        let (status, body) = server
            .get_json(&format!("/v1/audit/records?{bad}"), &admin)
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[tokio::test]
async fn get_by_id_and_export() {
    let server = populated().await;
    let reader = token("audit:read");
    let (_, page) = server.get_json("/v1/audit/records?limit=1", &reader).await;
    let id = ids(&page).remove(0);
    let (status, record) = server
        .get_json(&format!("/v1/audit/records/{id}"), &reader)
        .await;
    assert_eq!(status, 200);
    assert_eq!(record["messageId"], id.as_str());
    assert_eq!(
        record["record"]["metadata"]["messageId"],
        id.as_str(),
        "{record}"
    );
    let (status, _) = server
        .get_json("/v1/audit/records/no-such-id", &reader)
        .await;
    assert_eq!(status, 404);

    let response = server
        .get("/v1/audit/records/export?system=HR", Some(&reader))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 15);
    assert!(lines.iter().all(|l| l["system"] == "HR"));

    let response = server
        .get(
            "/v1/audit/records/export?format=csv&objectId=INV-3",
            Some(&reader),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = response.text().await.unwrap();
    let mut rows = text.split("\r\n").filter(|l| !l.is_empty());
    assert!(rows.next().unwrap().starts_with("id,messageId,"));
    assert_eq!(rows.count(), 6);

    for bad in ["format=xml", "cursor=abc", "limit=5"] {
        let (status, body) = server
            .get_json(&format!("/v1/audit/records/export?{bad}"), &reader)
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[tokio::test]
async fn a_system_limited_reader_sees_only_its_systems() {
    let server = populated().await;
    let billing = reader_for(&["BILLING"]);
    let all = token("audit:read");

    let (_, page) = server
        .get_json("/v1/audit/records?limit=50", &billing)
        .await;
    let records = page["records"].as_array().unwrap();
    assert_eq!(records.len(), 15);
    assert!(records.iter().all(|r| r["system"] == "BILLING"));
    // asking for another system explicitly gives nothing
    let (_, page) = server
        .get_json("/v1/audit/records?system=HR", &billing)
        .await;
    assert!(ids(&page).is_empty());

    // get by id of an HR record: 404 for the BILLING reader, 200 for the unlimited one
    let (_, hr) = server
        .get_json("/v1/audit/records?system=HR&limit=1", &all)
        .await;
    let hr_id = ids(&hr).remove(0);
    assert_eq!(
        server
            .get_json(&format!("/v1/audit/records/{hr_id}"), &billing)
            .await
            .0,
        404
    );
    assert_eq!(
        server
            .get_json(&format!("/v1/audit/records/{hr_id}"), &all)
            .await
            .0,
        200
    );

    // export
    let text = server
        .get("/v1/audit/records/export", Some(&billing))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(text.lines().count(), 15);
    assert!(text.lines().all(|l| l.contains("\"system\":\"BILLING\"")));

    // a cursor of the unlimited reader (whose next page holds HR records) is refused
    let (_, page) = server.get_json("/v1/audit/records?limit=2", &all).await;
    let foreign = page["next"].as_str().unwrap().to_owned();
    let (status, body) = server
        .get_json(
            &format!("/v1/audit/records?limit=2&cursor={foreign}"),
            &billing,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    // a hand-made cursor (flipped bytes) is refused or stays within BILLING
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (_, page) = server.get_json("/v1/audit/records?limit=2", &billing).await;
    let own = page["next"].as_str().unwrap().to_owned();
    let mut bytes = engine.decode(&own).unwrap();
    for i in [1, 20, 30] {
        bytes[i] ^= 0xff;
        let forged = engine.encode(&bytes);
        let (status, page) = server
            .get_json(
                &format!("/v1/audit/records?limit=50&cursor={forged}"),
                &billing,
            )
            .await;
        assert!(status == 400 || status == 200, "{page}");
        if status == 200 {
            assert!(
                page["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["system"] == "BILLING")
            );
        }
        bytes[i] ^= 0xff;
    }
    for garbage in ["%27%20OR%201%3D1--", "AAAA", "x".repeat(400).as_str()] {
        let (status, _) = server
            .get_json(&format!("/v1/audit/records?cursor={garbage}"), &billing)
            .await;
        assert_eq!(status, 400, "{garbage}");
    }
}

#[tokio::test]
async fn hostile_parameters_are_rejected_or_harmless() {
    let server = populated().await;
    let reader = reader_for(&["BILLING"]);
    let hostile = [
        "' OR '1'='1",
        "BILLING' OR system='HR",
        "x'; DROP TABLE audit_record; --",
        "\" OR \"\"=\"",
        "../../../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "*",
        "%",
        "BILLING\u{0}",
    ];
    let params = [
        "service",
        "system",
        "userId",
        "identityProvider",
        "objectType",
        "objectId",
        "processId",
        "useCase",
        "eventType",
        "triggerKind",
        "order",
        "from",
        "until",
        "limit",
        "cursor",
    ];
    let encode = |v: &str| {
        v.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    for param in params {
        for value in hostile {
            for route in ["/v1/audit/records", "/v1/audit/records/export"] {
                if route.ends_with("export") && (param == "limit" || param == "cursor") {
                    continue;
                }
                let response = server
                    .get(&format!("{route}?{param}={}", encode(value)), Some(&reader))
                    .await;
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                assert!(
                    status == 200 || status == 400,
                    "{param}={value:?}: {status} {text}"
                );
                if status == 200 {
                    // harmless: nothing but BILLING records, and no record matches the literal
                    assert!(!text.contains("\"system\":\"HR\""), "{param}={value:?}");
                    assert!(
                        !text.contains("\"messageId\""),
                        "{param}={value:?} matched: {text}"
                    );
                }
            }
        }
    }
    for value in hostile {
        let (status, _) = server
            .get_json(&format!("/v1/audit/records/{}", encode(value)), &reader)
            .await;
        assert!(status == 404 || status == 400, "{value:?}: {status}");
    }
    // the table is intact
    let stats = server.store.stats().await.unwrap();
    assert!(stats.records >= 30);
    let page = server
        .store
        .query(
            &RecordFilter::default(),
            &Access::systems(["HR"]),
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(page.records.len(), 15);
}

#[tokio::test]
async fn every_read_is_audited_naming_the_reader_and_filter() {
    let server = populated().await;
    let reader = reader_for(&["BILLING"]);
    assert!(reads(&server).await.is_empty());
    let (status, _) = server
        .get_json(
            "/v1/audit/records?objectType=Invoice&objectId=INV-1",
            &reader,
        )
        .await;
    assert_eq!(status, 200);
    let (_, _) = server.get_json("/v1/audit/records/msg-x", &reader).await;
    let _ = server
        .get(
            "/v1/audit/records/export?userId=u2&format=csv",
            Some(&reader),
        )
        .await
        .text()
        .await
        .unwrap();
    let reads = reads(&server).await;
    assert_eq!(reads.len(), 3);
    let by_type = |t: AuditEventType| reads.iter().filter(|r| r.event_type == t).count();
    assert_eq!(by_type(AuditEventType::Listed), 2);
    assert_eq!(by_type(AuditEventType::Read), 1);
    for r in &reads {
        assert!(
            matches!(&r.trigger, audit_store::StoredTrigger::User { id, .. } if id == "reader-of-BILLING"),
            "{:?}",
            r.trigger
        );
    }
    let docs: Vec<String> = reads.iter().map(|r| r.document.to_string()).collect();
    assert!(
        docs.iter()
            .any(|d| d.contains("filter.objectId") && d.contains("INV-1")),
        "{docs:?}"
    );
    assert!(
        docs.iter()
            .any(|d| d.contains("filter.userId") && d.contains("csv")),
        "{docs:?}"
    );
    let read = reads
        .iter()
        .find(|r| r.event_type == AuditEventType::Read)
        .unwrap();
    assert_eq!(read.object.as_ref().unwrap().id, "msg-x");
    // a BILLING reader does not see the audit records of reads (system AUDIT)
    let (_, page) = server
        .get_json("/v1/audit/records?system=AUDIT", &reader)
        .await;
    assert!(ids(&page).is_empty());
}
