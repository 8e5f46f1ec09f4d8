//! HTTP ingestion: per-record answers, limits, the queue-full path.

use audit_store::{Access, RecordFilter};
use serde_json::{Value, json};

use crate::support::{TestServer, command, token};

async fn stored(server: &TestServer) -> u64 {
    server.store.stats().await.unwrap().records
}

/// The `status` of each per-record answer, in order.
fn statuses(results: &[Value]) -> Vec<&str> {
    results
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn mixed_batch_is_answered_per_record() {
    let server = TestServer::sqlite(|_| {}).await;
    let writer = token("audit:write");
    let first = command("BILLING", "INV-1", "u1", 1);
    let (status, body) = server.ingest(&writer, std::slice::from_ref(&first)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 1);

    let mut blank_user = command("BILLING", "INV-2", "u2", 2);
    blank_user["payload"]["trigger"]["AuditUser"]["id"] = json!(" ");
    let mut blank_object = command("BILLING", "INV-3", "u3", 3);
    blank_object["payload"]["auditedData"]["id"] = json!("");
    let valid = command("BILLING", "INV-4", "u4", 4);
    let batch = [
        first.clone(),
        blank_user,
        json!({"identity": "not a command"}),
        valid.clone(),
        blank_object,
        json!(42),
    ];
    let (status, body) = server.ingest(&writer, &batch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 1, "{body}");
    assert_eq!(body["duplicates"], 1, "{body}");
    assert_eq!(body["rejected"], 4, "{body}");
    let results = body["results"].as_array().unwrap();
    let statuses = statuses(results);
    assert_eq!(
        statuses,
        [
            "duplicate",
            "rejected",
            "rejected",
            "accepted",
            "rejected",
            "rejected"
        ]
    );
    assert_eq!(
        results[1]["error"]["path"], "payload.trigger.AuditUser.id",
        "{body}"
    );
    assert!(
        results[1]["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("user id")
    );
    assert_eq!(results[4]["error"]["path"], "payload.auditedData.id");
    assert!(
        results[2]["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("not a CreateAuditRecordCommand")
    );
    assert_eq!(results[3]["messageId"], valid["identity"]["id"]);
    // exactly the two valid ones are stored, the stored record is the sent one
    assert_eq!(stored(&server).await, 2);
    let page = server
        .store
        .query(
            &RecordFilter {
                object_id: Some("INV-4".into()),
                ..RecordFilter::default()
            },
            &Access::AllSystems,
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(
        page.records[0].message_id,
        valid["identity"]["id"].as_str().unwrap()
    );
    assert_eq!(
        page.records[0].source,
        audit_store::Source::Http {
            client: "alice".into()
        }
    );
    // the records wrapper form
    let body =
        serde_json::to_vec(&json!({"records": [command("BILLING", "INV-5", "u5", 5)]})).unwrap();
    let response = server.post("/v1/audit/records", &writer, body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(stored(&server).await, 3);
}

#[tokio::test]
async fn invalid_json_oversized_body_and_batch_over_limit() {
    let server = TestServer::sqlite(|c| {
        c.ingest.max_body_bytes = 8 * 1024;
        c.ingest.max_batch = 3;
    })
    .await;
    let writer = token("audit:write");
    let response = server
        .post("/v1/audit/records", &writer, b"[{\"identity\": ".to_vec())
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON"),
        "{body}"
    );

    let response = server
        .post("/v1/audit/records", &writer, b"{\"other\": []}".to_vec())
        .await;
    assert_eq!(response.status(), 400);

    let big = vec![b' '; 9 * 1024];
    let response = server.post("/v1/audit/records", &writer, big).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("8192 bytes"),
        "{body}"
    );

    let four: Vec<Value> = (0..4).map(|i| command("BILLING", "X", "u", i)).collect();
    let (status, body) = server.ingest(&writer, &four).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("at most 3"),
        "{body}"
    );
    assert_eq!(
        stored(&server).await,
        0,
        "nothing of a refused request is stored"
    );

    let (status, body) = server.ingest(&writer, &four[..3]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stored(&server).await, 3);
}

#[tokio::test]
async fn full_queue_answers_429_with_retry_after() {
    use sqlx::Connection as _;
    let server = TestServer::sqlite(|c| {
        c.ingest.queue_capacity = 2;
        c.ingest.max_batch = 2;
        c.ingest.retry_after_secs = 3;
    })
    .await;
    let writer = token("audit:write");
    // hold SQLite's write lock: the writer task blocks on its batch (busy timeout 5 s)
    let url = server.store_url();
    let mut lock = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .unwrap();

    let first = {
        let base = server.url("/v1/audit/records");
        let client = server.client.clone();
        let writer = writer.clone();
        let body = serde_json::to_vec(&[
            command("BILLING", "Q", "u", 1),
            command("BILLING", "Q", "u", 2),
        ])
        .unwrap();
        tokio::spawn(async move {
            client
                .post(base)
                .bearer_auth(writer)
                .body(body)
                .send()
                .await
                .unwrap()
        })
    };
    // wait until the first batch holds both queue places
    let admin = token("audit:admin");
    let mut in_use = 0;
    for _ in 0..200 {
        let (_, status) = server.get_json("/v1/audit/status", &admin).await;
        in_use = status["queueInUse"].as_u64().unwrap_or_default();
        if in_use == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(in_use, 2);
    let response = server
        .post(
            "/v1/audit/records",
            &writer,
            serde_json::to_vec(&[command("BILLING", "Q", "u", 3)]).unwrap(),
        )
        .await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "3");

    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    let first = first.await.unwrap();
    assert_eq!(first.status(), 200);
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["accepted"], 2, "{body}");
    // the refused record was not stored, the retry is
    assert_eq!(stored(&server).await, 2);
    let (status, _) = server
        .ingest(&writer, &[command("BILLING", "Q", "u", 3)])
        .await;
    assert_eq!(status, 200);
    assert_eq!(stored(&server).await, 3);
}

/// The `AuditRecord` JSON (what `audit decode` prints) is taken like the command JSON: stored
/// as the same record, deduplicated against the command form, refused with paths of its own form.
#[tokio::test]
async fn audit_record_json_is_ingested_validated_and_deduplicated() {
    let server = TestServer::sqlite(|_| {}).await;
    let writer = token("audit:write");
    let as_record = |command: &Value| -> (audit_consumer::AuditRecord, Value) {
        let command = audit_schema::json::from_json_value(command).unwrap();
        let record = audit_consumer::AuditRecord::from(command);
        let json = serde_json::to_value(&record).unwrap();
        (record, json)
    };
    let (record, valid) = as_record(&command("BILLING", "R-1", "u1", 1));
    // the same record in the command form: a duplicate of the record form
    let sent_as_command = command("BILLING", "R-2", "u2", 2);
    let (_, same_as_record) = as_record(&sent_as_command);
    let (_, mut blank_user) = as_record(&command("BILLING", "R-3", "u3", 3));
    blank_user["trigger"]["user"]["id"] = json!("  ");
    let (_, mut sub_milli) = as_record(&command("BILLING", "R-4", "u4", 4));
    sub_milli["timestamp"] = json!("2026-05-28T08:00:00.000123Z");
    let (_, mut unknown) = as_record(&command("BILLING", "R-5", "u5", 5));
    unknown["serviceNam"] = json!("typo");

    let (status, body) = server
        .ingest(&writer, std::slice::from_ref(&sent_as_command))
        .await;
    assert_eq!(status, 200, "{body}");
    let batch = [valid, same_as_record, blank_user, sub_milli, unknown];
    let (status, body) = server.ingest(&writer, &batch).await;
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    let statuses = statuses(results);
    assert_eq!(
        statuses,
        ["accepted", "duplicate", "rejected", "rejected", "rejected"],
        "{body}"
    );
    assert_eq!(results[2]["error"]["path"], "trigger.user.id", "{body}");
    assert_eq!(results[3]["error"]["path"], "timestamp", "{body}");
    let reason = results[4]["error"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("not an AuditRecord") && reason.contains("serviceNam"),
        "{body}"
    );
    assert_eq!(stored(&server).await, 2);
    // the stored document reads back as the sent record, field by field
    let stored = server
        .store
        .get(record.metadata().message_id(), &Access::AllSystems)
        .await
        .unwrap()
        .unwrap();
    let back: audit_consumer::AuditRecord = serde_json::from_value(stored.document).unwrap();
    assert_eq!(back, record);
}
