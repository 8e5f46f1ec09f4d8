//! Whole-process benchmark of the store (figures in README-section.md):
//!
//! 1. insert throughput in batches on PostgreSQL and SQLite (records/s, deduplication on:
//!    every insert goes through the unique idempotence-id index and `ON CONFLICT`);
//! 2. filtered queries (object type + id; user id + time range; system + time range), page of
//!    100, over the PostgreSQL store: p50 / p99 / max latency.
//!
//! ```text
//! cargo run --release -p audit-store --example store-bench -- [records] [batch] [queries] [sqlite-records] [writers]
//! ```
//! Defaults: 1,000,000 records, batches of 1,000, 1,000 queries per filter, 200,000 SQLite records
//! and 1 PostgreSQL writer (`records` 0: SQLite only; `queries` 0: inserts only).
//! PostgreSQL: `AUDIT_PG_URL` (default postgres://postgres@127.0.0.1:5432), a fresh database.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::time::{Duration, Instant};

use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
use audit_consumer::AuditRecord;
use audit_store::{Access, AuditStore, IncomingRecord, RecordFilter, Source};
use chrono::{DateTime, TimeZone, Utc};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const USERS: u64 = 10_000;
const OBJECTS: u64 = 200_000;
const SYSTEMS: [&str; 8] = [
    "BILLING", "PAYMENT", "LEDGER", "PORTAL", "HR", "CRM", "ERP", "DMS",
];
const TYPES: [&str; 4] = ["Invoice", "Payment", "Customer", "Contract"];
const MINUTES: u64 = 365 * 24 * 60;

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

fn record(rng: &mut Rng, i: u64) -> IncomingRecord {
    let ts = base() + chrono::Duration::minutes(rng.below(MINUTES) as i64);
    let system = SYSTEMS[rng.below(SYSTEMS.len() as u64) as usize];
    let command = AuditCommandBuilder::new("bench-service", system, ts)
        .event_type(AuditEventType::Modified)
        .user(format!("u{}", rng.below(USERS)), "idp")
        .context_with_process_id("bench", format!("p-{}", rng.below(100_000)))
        .audited_object(
            AuditedObject::new(
                TYPES[rng.below(TYPES.len() as u64) as usize],
                format!("O-{}", rng.below(OBJECTS)),
            )
            .value("status", "PAID"),
        )
        .event_data("amount", "100.00")
        .idempotence_id(format!("bench-{i}"))
        .build()
        .unwrap();
    IncomingRecord::new(
        AuditRecord::from(command),
        Source::Kafka {
            topic: "audit".into(),
            partition: (i % 12) as i32,
            offset: i as i64,
        },
    )
}

/// Loads `records` records in batches of `batch` through `writers` concurrent writers (each
/// generates its own share, generation time not counted); returns records/s of wall time.
async fn load(store: &AuditStore, records: u64, batch: u64, writers: u64) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (w + 1));
            let mut generate = Duration::ZERO;
            let mut i = w * batch;
            while i < records {
                let n = batch.min(records - i);
                let start = Instant::now();
                let chunk: Vec<_> = (i..i + n).map(|k| record(&mut rng, k)).collect();
                generate += start.elapsed();
                store.write_batch(&chunk).await.unwrap();
                i += batch * writers;
            }
            generate
        }));
    }
    let mut generate = Duration::ZERO;
    for t in tasks {
        generate += t.await.unwrap();
    }
    let insert = started.elapsed().saturating_sub(generate / writers as u32);
    records as f64 / insert.as_secs_f64()
}

/// Experiment knob: `AUDIT_BENCH_DROP_INDEXES=service,process` drops those secondary indexes
/// of the bench database before the load (to measure what each index costs per insert; the
/// store's queries on those columns then scan).
async fn drop_indexes(url: &str) {
    let Ok(names) = std::env::var("AUDIT_BENCH_DROP_INDEXES") else {
        return;
    };
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    for name in names.split(',').filter(|n| !n.is_empty()) {
        let index = match name {
            "message" => "audit_record_message_idx",
            "time" => "audit_record_time_idx",
            "system" => "audit_record_system_idx",
            "service" => "audit_record_service_idx",
            "user" => "audit_record_user_idx",
            "object" => "audit_record_object_idx",
            "process" => "audit_record_process_idx",
            other => panic!("AUDIT_BENCH_DROP_INDEXES: unknown index {other}"),
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP INDEX {index}")))
            .execute(&pool)
            .await
            .unwrap();
        println!("(dropped {index})");
    }
    pool.close().await;
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

async fn latencies(
    store: &AuditStore,
    name: &str,
    access: &Access,
    queries: u64,
    make: impl Fn(&mut Rng) -> RecordFilter,
) {
    let mut rng = Rng(42);
    let mut times = Vec::with_capacity(queries as usize);
    let mut rows = 0usize;
    for _ in 0..queries {
        let filter = make(&mut rng);
        let start = Instant::now();
        let page = store.query(&filter, access, None, 100).await.unwrap();
        times.push(start.elapsed());
        rows += page.records.len();
    }
    times.sort();
    println!(
        "  {name:<34} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  (avg {:.1} rows/page)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
        rows as f64 / queries as f64,
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numeric argument"))
        .collect();
    let records = args.first().copied().unwrap_or(1_000_000);
    let batch = args.get(1).copied().unwrap_or(1_000);
    let queries = args.get(2).copied().unwrap_or(1_000);
    let sqlite_records = args.get(3).copied().unwrap_or(200_000);
    let writers = args.get(4).copied().unwrap_or(1);

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let sqlite = AuditStore::connect(&url).await.unwrap();
    sqlite.migrate().await.unwrap();
    let rate = load(&sqlite, sqlite_records, batch, 1).await;
    println!(
        "SQLite: inserted {sqlite_records} records in batches of {batch}: {rate:.0} records/s"
    );

    if records == 0 {
        return;
    }
    let db = audit_testkit::PgDatabase::create().await.unwrap();
    let pg = AuditStore::connect(db.url()).await.unwrap();
    pg.migrate().await.unwrap();
    drop_indexes(db.url()).await;
    let rate = load(&pg, records, batch, writers).await;
    println!(
        "PostgreSQL: inserted {records} records in batches of {batch} by {writers} writer(s): {rate:.0} records/s"
    );
    if queries == 0 {
        drop(pg);
        db.drop_database().await.unwrap();
        return;
    }
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    sqlx::query("VACUUM ANALYZE audit_record")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    println!("PostgreSQL: {queries} queries per filter, page of 100, over {records} records:");
    latencies(
        &pg,
        "object type + id",
        &Access::AllSystems,
        queries,
        |rng| RecordFilter {
            object_type: Some(TYPES[rng.below(TYPES.len() as u64) as usize].into()),
            object_id: Some(format!("O-{}", rng.below(OBJECTS))),
            ..RecordFilter::default()
        },
    )
    .await;
    latencies(
        &pg,
        "user id + 30-day range",
        &Access::AllSystems,
        queries,
        |rng| {
            let from = base() + chrono::Duration::minutes(rng.below(MINUTES - 43_200) as i64);
            RecordFilter {
                user_id: Some(format!("u{}", rng.below(USERS))),
                from: Some(from),
                until: Some(from + chrono::Duration::days(30)),
                ..RecordFilter::default()
            }
        },
    )
    .await;
    latencies(
        &pg,
        "system + 1-day range",
        &Access::AllSystems,
        queries,
        |rng| {
            let from = base() + chrono::Duration::minutes(rng.below(MINUTES - 1_440) as i64);
            RecordFilter {
                system: Some(SYSTEMS[rng.below(SYSTEMS.len() as u64) as usize].into()),
                from: Some(from),
                until: Some(from + chrono::Duration::days(1)),
                ..RecordFilter::default()
            }
        },
    )
    .await;
    latencies(
        &pg,
        "object type + id, reader of 1 system",
        &Access::systems(["BILLING"]),
        queries,
        |rng| RecordFilter {
            object_type: Some(TYPES[rng.below(TYPES.len() as u64) as usize].into()),
            object_id: Some(format!("O-{}", rng.below(OBJECTS))),
            ..RecordFilter::default()
        },
    )
    .await;
    drop(pg);
    db.drop_database().await.unwrap();
}
