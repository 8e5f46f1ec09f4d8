//! Load generator for a running audit server: HTTP ingestion in batches, then filtered
//! queries. Prints records/s and query latency percentiles.
//!
//! ```text
//! cargo run --release -p audit-server --example load -- \
//!     http://127.0.0.1:8080 SECRET [batches=500] [batch=100] [concurrency=8] [queries=2000]
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
use chrono::{TimeZone, Utc};

fn arg(args: &[String], i: usize, default: usize) -> usize {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn token(secret: &str) -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let claims = serde_json::json!({"sub": "load", "iss": "load", "aud": "audit", "exp": exp,
        "scope": "audit:read audit:write"});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let secret = args.get(2).cloned().unwrap_or_default();
    let batches = arg(&args, 3, 500);
    let batch = arg(&args, 4, 100);
    let concurrency = arg(&args, 5, 8);
    let queries = arg(&args, 6, 2000);
    let token = token(&secret);
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;

    // pre-render every request body so the generator measures the server, not itself
    eprintln!("rendering {batches} batches of {batch} commands");
    let bodies: Vec<Vec<u8>> = (0..batches)
        .map(|b| {
            let items: Vec<serde_json::Value> = (0..batch)
                .map(|i| {
                    let n = (b * batch + i) as i64;
                    let at = Utc
                        .timestamp_opt(1_700_000_000 + run % 100_000 * 1000 + n, 0)
                        .unwrap();
                    let cmd =
                        AuditCommandBuilder::new("load-service", format!("SYS{}", n % 10), at)
                            .event_type(AuditEventType::Modified)
                            .user(format!("user-{}", n % 1000), "https://idp.load")
                            .context("load")
                            .idempotence_id(format!("load-{run}-{n}"))
                            .audited_object(AuditedObject::new(
                                "Invoice",
                                format!("INV-{}", n % 5000),
                            ))
                            .build()
                            .unwrap();
                    audit_schema::json::to_json(&cmd)
                })
                .collect();
            serde_json::to_vec(&items).unwrap()
        })
        .collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let bodies = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let bodies = Arc::clone(&bodies);
        let url = format!("{base}/v1/audit/records");
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let (mut accepted, mut retried) = (0u64, 0u64);
            loop {
                let Some(body) = bodies.lock().unwrap().pop() else {
                    break;
                };
                loop {
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    if response.status() == 429 || response.status() == 503 {
                        retried += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                    assert_eq!(response.status(), 200);
                    let v: serde_json::Value = response.json().await.unwrap();
                    accepted += v["accepted"].as_u64().unwrap();
                    break;
                }
            }
            (accepted, retried)
        }));
    }
    let (mut accepted, mut retried) = (0, 0);
    for t in tasks {
        let (a, r) = t.await.unwrap();
        accepted += a;
        retried += r;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "ingest: {accepted} records accepted in {secs:.2} s = {:.0} records/s \
         (batches of {batch}, {concurrency} connections, {retried} retries after 429/503)",
        accepted as f64 / secs
    );

    let mut latencies = Vec::with_capacity(queries);
    for q in 0..queries {
        let url = format!(
            "{base}/v1/audit/records?objectType=Invoice&objectId=INV-{}&limit=100",
            q % 5000
        );
        let t = Instant::now();
        let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let _ = response.bytes().await.unwrap();
        latencies.push(t.elapsed());
    }
    latencies.sort_unstable();
    if !latencies.is_empty() {
        let p =
            |f: f64| latencies[((latencies.len() as f64 * f) as usize).min(latencies.len() - 1)];
        println!(
            "query (objectType+objectId, page of 100, sequential): {queries} requests, p50 {:?}, p99 {:?}, max {:?}",
            p(0.50),
            p(0.99),
            latencies[latencies.len() - 1]
        );
    }
}
