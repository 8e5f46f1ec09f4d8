//! Health, readiness (database behind a proxy that the test cuts), status, metrics, OpenAPI,
//! graceful shutdown.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use audit_server::route_table;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::support::{TestServer, command, config, token};

/// A TCP proxy to PostgreSQL that can be cut (every connection closed, new ones refused) and
/// restored. Counts the connections it severed or refused.
struct Proxy {
    addr: std::net::SocketAddr,
    cut: watch::Sender<bool>,
    severed: Arc<AtomicUsize>,
}

impl Proxy {
    async fn start(upstream: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, watch) = watch::channel(false);
        let severed = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&severed);
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if *watch.borrow() {
                    count.fetch_add(1, Ordering::SeqCst);
                    drop(inbound);
                    continue;
                }
                let mut watch = watch.clone();
                let count = Arc::clone(&count);
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|cut| *cut) => {
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        Self { addr, cut, severed }
    }
}

async fn ready(server: &TestServer) -> (u16, Value) {
    let response = server.get("/readyz", None).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// A server on a fresh PostgreSQL database reached through a [`Proxy`] (readiness waits 1 s).
async fn server_behind_proxy() -> (audit_testkit::PgDatabase, Proxy, TestServer) {
    let db = audit_testkit::PgDatabase::create()
        .await
        .expect("PostgreSQL test database");
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let mut c = config(None);
    c.store_url = format!("postgres://postgres@{}/{}", proxy.addr, db.name());
    c.ready_timeout_secs = 1;
    let store = audit_store::AuditStore::connect(&c.store_url)
        .await
        .unwrap();
    let server = TestServer::start(c, store, None).await;
    (db, proxy, server)
}

#[tokio::test]
async fn readyz_follows_the_database_through_a_cut_proxy() {
    let (_db, proxy, server) = server_behind_proxy().await;
    assert_eq!(
        ready(&server).await,
        (200, serde_json::json!({"status": "ready"}))
    );

    proxy.cut.send_replace(true);
    let (status, body) = ready(&server).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "database unreachable");
    assert!(
        proxy.severed.load(Ordering::SeqCst) >= 1,
        "the cut severed a connection"
    );
    // liveness does not depend on the database
    assert_eq!(server.get("/healthz", None).await.status(), 200);

    proxy.cut.send_replace(false);
    let mut status = 0;
    for _ in 0..50 {
        status = ready(&server).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "ready again after the database is back");
    drop(server);
}

/// Ingestion while the database is unreachable answers 503 with `Retry-After` and stores
/// nothing; the same batch sent again once the database is back is stored in full.
#[tokio::test]
async fn ingestion_answers_503_while_the_database_is_down_and_loses_nothing() {
    let (_db, proxy, server) = server_behind_proxy().await;
    let writer = token("audit:write");
    let batch = [
        command("BILLING", "DOWN-1", "u", 1),
        command("BILLING", "DOWN-2", "u", 2),
    ];

    proxy.cut.send_replace(true);
    let (status, body) = server.ingest(&writer, &batch).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "unavailable", "{body}");
    assert!(
        proxy.severed.load(Ordering::SeqCst) >= 1,
        "the cut severed or refused a connection"
    );
    let response = server
        .post(
            "/v1/audit/records",
            &writer,
            serde_json::to_vec(&batch).unwrap(),
        )
        .await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");

    proxy.cut.send_replace(false);
    let mut answer = (0, Value::Null);
    for _ in 0..50 {
        answer = server.ingest(&writer, &batch).await;
        if answer.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = answer;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 2, "nothing was stored while down: {body}");
    assert_eq!(server.store.stats().await.unwrap().records, 2);
    drop(server);
}

#[tokio::test]
async fn status_and_metrics() {
    let server = TestServer::sqlite(|_| {}).await;
    let admin = token("audit:admin");
    let (status, body) = server.get_json("/v1/audit/status", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(body["records"], 0);
    assert!(body.get("lastIngested").is_none());
    assert!(
        body.get("retentionDays").is_none(),
        "keep forever by default"
    );
    let items: Vec<Value> = (0..3).map(|i| command("BILLING", "S", "u", i)).collect();
    let before = chrono::Utc::now();
    assert_eq!(server.ingest(&token("audit:write"), &items).await.0, 200);
    assert_eq!(
        server.ingest(&token("audit:write"), &items[..1]).await.0,
        200
    );
    let (_, body) = server.get_json("/v1/audit/status", &admin).await;
    assert_eq!(body["records"], 3);
    let last: chrono::DateTime<chrono::Utc> =
        body["lastIngested"].as_str().unwrap().parse().unwrap();
    assert!(last >= before - chrono::Duration::seconds(1));
    assert_eq!(body["queueInUse"], 0);

    let response = server.get("/metrics", Some(&admin)).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let value = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name) && !l.starts_with('#'))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing in\n{text}"))
    };
    // the recorder is process-wide: other tests add to it
    assert!(value("audit_server_ingested_total") >= 3.0);
    assert!(value("audit_server_duplicates_total") >= 1.0);
    assert!(text.contains("audit_server_store_write_seconds"));
}

#[tokio::test]
async fn openapi_document_matches_the_routes() {
    let server = TestServer::sqlite(|_| {}).await;
    let (status, doc) = server.get_json("/openapi.json", &token("")).await;
    assert_eq!(status, 200);
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let routed: BTreeSet<(String, String)> = route_table(1024)
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, routed);
    // and the router serves each documented route (the fallback answers `no_route`)
    let admin = token("audit:admin");
    for (method, path) in &documented {
        let path = path.replace("{messageId}", "m-1");
        let request = match method.as_str() {
            "POST" => server.client.post(server.url(&path)).body("[]"),
            _ => server.client.get(server.url(&path)),
        };
        let response = request.bearer_auth(&admin).send().await.unwrap();
        let text = response.text().await.unwrap();
        assert!(!text.contains("no_route"), "{method} {path} is not routed");
    }
    assert!(
        server
            .get("/v1/audit/nothing", Some(&admin))
            .await
            .text()
            .await
            .unwrap()
            .contains("no_route")
    );
}

#[tokio::test]
async fn graceful_shutdown_writes_what_was_queued() {
    use sqlx::Connection as _;
    let server = TestServer::sqlite(|_| {}).await;
    let mut lock = sqlx::SqliteConnection::connect(&server.store_url())
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .unwrap();
    let request = {
        let client = server.client.clone();
        let url = server.url("/v1/audit/records");
        let body = serde_json::to_vec(&[command("BILLING", "G", "u", 1)]).unwrap();
        let writer = token("audit:write");
        tokio::spawn(async move { client.post(url).bearer_auth(writer).body(body).send().await })
    };
    let admin = token("audit:admin");
    let mut queued = false;
    for _ in 0..200 {
        let (_, status) = server.get_json("/v1/audit/status", &admin).await;
        if status["queueInUse"] == 1 {
            queued = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(queued);
    // the client gives up: its record stays queued
    request.abort();
    let _ = request.await;
    let store = server.store.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    });
    server.stop().await.unwrap();
    assert_eq!(
        store.stats().await.unwrap().records,
        1,
        "stop returned before the queue was written"
    );
}

#[tokio::test]
async fn retention_deletes_only_records_older_than_the_retention() {
    let server = TestServer::sqlite(|c| {
        c.retention.days = Some(30);
        c.retention.interval_secs = 1;
    })
    .await;
    let writer = token("audit:write");
    let now = chrono::Utc::now();
    let at = |days: i64| {
        let t = now - chrono::Duration::days(days);
        let cmd = audit_builder::AuditCommandBuilder::new("svc", "BILLING", t)
            .user("u", "idp")
            .build()
            .unwrap();
        audit_schema::json::to_json(&cmd)
    };
    let (status, body) = server
        .ingest(&writer, &[at(400), at(31), at(29), at(1)])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 4);
    let admin = token("audit:admin");
    let mut records = 4;
    for _ in 0..50 {
        records = server.get_json("/v1/audit/status", &admin).await.1["records"]
            .as_u64()
            .unwrap();
        if records == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(records, 2, "the two records older than 30 days are deleted");
    let left = server
        .store
        .query(
            &audit_store::RecordFilter::default(),
            &audit_store::Access::AllSystems,
            None,
            10,
        )
        .await
        .unwrap();
    assert!(
        left.records
            .iter()
            .all(|r| r.event_timestamp > now - chrono::Duration::days(30))
    );
    let (_, status) = server.get_json("/v1/audit/status", &admin).await;
    assert_eq!(status["retentionDays"], 30);
}

/// Every log line of the process, for the no-secrets-in-logs check.
static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct Capture;

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_and_record_contents_never_reach_the_log() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("audit_server=trace,audit_store=trace")
        .with_writer(|| Capture)
        .try_init();
    let server = TestServer::sqlite(|_| {}).await;
    // an expired token, a wrong-audience token, a valid one: each carries the marker
    let marker = "SECRET-MARKER-7f3a";
    let mut expired = crate::support::claims("audit:write");
    expired["exp"] = serde_json::json!(crate::support::now_secs() - 3600);
    expired["sub"] = serde_json::json!(marker);
    let expired = crate::support::sign(&expired);
    let mut valid = crate::support::claims("audit:write audit:read");
    valid["sub"] = serde_json::json!(marker);
    let valid = crate::support::sign(&valid);
    assert_eq!(
        server
            .get("/v1/audit/records", Some(&expired))
            .await
            .status(),
        401
    );
    assert_eq!(
        server
            .get("/v1/audit/records", Some("garbage-token"))
            .await
            .status(),
        401
    );
    // a record whose contents carry the marker, stored, read and exported; and a rejected one
    let mut item = command("BILLING", marker, marker, 1);
    let mut bad = item.clone();
    bad["identity"]["idempotenceId"] = serde_json::json!(" ");
    item["payload"]["event"]["eventData"] = serde_json::json!([{"key": marker, "value": marker}]);
    assert_eq!(server.ingest(&valid, &[item, bad]).await.0, 200);
    let _ = server
        .get(
            &format!("/v1/audit/records?objectId={marker}"),
            Some(&valid),
        )
        .await
        .text()
        .await;
    let _ = server
        .get("/v1/audit/records/export", Some(&valid))
        .await
        .text()
        .await;
    drop(server);
    let logs = String::from_utf8(LOGS.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("request not authenticated"),
        "the capture sees the server's log lines:\n{logs}"
    );
    assert!(
        !logs.contains(marker),
        "a secret or record value reached the log:\n{logs}"
    );
    assert!(!logs.contains(&expired) && !logs.contains(&valid) && !logs.contains("garbage-token"));
}
