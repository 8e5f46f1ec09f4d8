//! `make demo`: the whole path of an audit command, end to end, with embedded defaults.
//!
//! 1. builds `--count` commands (default 100,000) of varied shapes with `audit-builder`
//!    (user and system triggers, every event type, contexts, event data, audited objects with
//!    value / null / JSON / S3 entries), sanitized by `audit-sanitize`'s default rules: every
//!    tenth command carries an e-mail address, an IBAN or a password in its event data or JSON
//!    object data, and none of them may reach the consumed records unmasked;
//! 2. enqueues them into a SQLite outbox (a file in a temporary directory) in business
//!    transactions (one business row and 1-5 commands per transaction), or with `--publisher`
//!    hands them to the non-blocking `audit-publisher` (bounded queue, batched into the SQLite
//!    outbox by its writer);
//! 3. the outbox relay delivers them to Kafka: librdkafka's in-process mock cluster by default,
//!    or `--brokers HOST:PORT`;
//! 4. the consumer runtime of `audit-consumer` decodes them into `AuditRecord`s, written as JSON
//!    lines to `--out` (default `demo-out/records.jsonl`);
//! 5. at the same time the audit service (`audit-server`, in process, on a random loopback
//!    port) ingests the topic in its own consumer group into a SQLite store (`--store`, default
//!    `demo-out/audit.db`, created fresh), and the demo asks its HTTP API, with a bearer token
//!    it mints, for the records about object `Invoice/INV-42`;
//! 6. prints a summary (sent, received, stored, duplicates, throughput, p50/p99
//!    commit-to-consume latency, sensitive values planted / masked / seen downstream, the
//!    query's answer) and exits non-zero unless every sent record was received and stored, no
//!    planted value was seen in a consumed or stored record, and the query found every record
//!    about the object.
//!
//! ```text
//! cargo run --release -p audit-demo -- --count 100000 --out demo-out/records.jsonl
//! ```

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use audit_builder::{
    AuditCommandBuilder, AuditEventType, AuditObjectDataRole, AuditedObject, ObjectData,
};
use audit_consumer::runtime::{AuditConsumer, ConsumerConfig, Delivery, HandlerError};
use audit_consumer::{LocalVersions, SchemaVersion};
use audit_outbox::sender::{AuditSender, SchemaId};
use audit_outbox::{Outbox, RelayConfig};
use audit_publisher::{AuditPublisher, Published, PublisherConfig, WhenFull};
use audit_sanitize::{MASK, Sanitizer};
use chrono::{DateTime, Utc};
use clap::Parser;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::types::RDKafkaErrorCode;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use audit_support::BoxError;

mod trail;

/// The schema id the demo pins for version 1.0.2 (no registry in the embedded set-up).
const SCHEMA_ID: u32 = 1;

/// End-to-end demo: builder -> SQLite outbox -> Kafka -> consumer runtime -> JSON lines.
#[derive(Debug, Parser)]
#[command(name = "audit-demo", version, about)]
struct Args {
    /// Number of audit commands to build and send.
    #[arg(long, default_value_t = 100_000)]
    count: u64,
    /// Kafka bootstrap servers (HOST:PORT,...); default: librdkafka's in-process mock cluster.
    #[arg(long)]
    brokers: Option<String>,
    /// Where the consumed AuditRecords are written as JSON lines.
    #[arg(long, default_value = "demo-out/records.jsonl")]
    out: PathBuf,
    /// Topic to send to (created if missing).
    #[arg(long, default_value = "audit-demo")]
    topic: String,
    /// Partitions of the topic when the demo creates it.
    #[arg(long, default_value_t = 4)]
    partitions: i32,
    /// Give up when no record arrives for this many seconds after all were committed.
    #[arg(long, default_value_t = 60)]
    stall_timeout: u64,
    /// Publish through the non-blocking `AuditPublisher` (queue -> SQLite spill -> relay)
    /// instead of business transactions.
    #[arg(long)]
    publisher: bool,
    /// The audit service's SQLite store (removed and created fresh).
    #[arg(long, default_value = "demo-out/audit.db")]
    store: PathBuf,
}

/// The object the demo asks the audit service about: every thousandth command
/// ([`is_about_the_queried_object`]) is about it.
const QUERIED_OBJECT: (&str, &str) = ("Invoice", "INV-42");

/// Whether command `i` is about [`QUERIED_OBJECT`].
fn is_about_the_queried_object(i: u64) -> bool {
    i % 1_000 == 42
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            let mut text = e.to_string();
            let mut source = e.source();
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            eprintln!("audit-demo: {text}");
            ExitCode::from(2)
        }
    }
}

/// What the consumer side saw.
#[derive(Default)]
struct Received {
    seen: HashSet<String>,
    duplicates: u64,
    latencies_micros: Vec<u64>,
    /// Records with a masked value in them.
    masked: u64,
    /// Records in which a planted sensitive value appears (must stay 0).
    leaked: u64,
}

/// The sensitive values the demo plants ([`command`]); the consumer checks each record's JSON.
const PLANTED_EMAIL_DOMAIN: &str = "@customer-mail.example";
const PLANTED_IBAN: &str = "CH93 0076 2011 6238 5295 7";
const PLANTED_PASSWORD: &str = "correct-horse-battery-staple";

/// Whether `json` contains a planted sensitive value.
fn leaks(json: &[u8]) -> bool {
    let text = String::from_utf8_lossy(json);
    text.contains(PLANTED_EMAIL_DOMAIN)
        || text.contains(PLANTED_IBAN)
        || text.contains(&PLANTED_IBAN.replace(' ', ""))
        || text.contains(PLANTED_PASSWORD)
}

/// Sanitizer figures of the producer side.
#[derive(Default)]
struct Planted {
    /// Commands that carry a sensitive value.
    commands: u64,
    /// Changes the sanitizer made (counts per rule summed).
    changes: u64,
}

async fn run(args: Args) -> Result<bool, BoxError> {
    let count = args.count;
    // --- Kafka: mock cluster or real brokers
    let mock = match &args.brokers {
        Some(_) => None,
        None => Some(MockCluster::new(1)?),
    };
    let bootstrap = match (&args.brokers, &mock) {
        (Some(brokers), _) => brokers.clone(),
        (None, Some(mock)) => mock.bootstrap_servers(),
        (None, None) => return Err("no Kafka".into()),
    };
    let error_topic = format!("{}-errors", args.topic);
    match &mock {
        Some(mock) => {
            mock.create_topic(&args.topic, args.partitions, 1)?;
            mock.create_topic(&error_topic, 1, 1)?;
        }
        None => {
            create_topics(
                &bootstrap,
                &[(&args.topic, args.partitions), (&error_topic, 1)],
            )
            .await?
        }
    }

    // --- the audit service: its own consumer group on the same topic, SQLite store
    let trail = trail::Trail::start(
        &args.store,
        &bootstrap,
        &args.topic,
        &error_topic,
        SCHEMA_ID,
    )
    .await?;

    // --- SQLite outbox in a temporary directory
    let dir = tempfile::tempdir()?;
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("outbox.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?;
    sqlx::query("CREATE TABLE business_event (id INTEGER PRIMARY KEY, description TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    let outbox = Outbox::new(pool.clone());
    outbox.migrate().await?;
    let sender = AuditSender::pinned(args.topic.clone(), SchemaId::Pinned(SCHEMA_ID))?;
    let sending = if args.publisher {
        Sending::Publisher(AuditPublisher::start(
            outbox.clone(),
            sender.clone(),
            RelayConfig::new(bootstrap.clone()),
            PublisherConfig::new()
                .queue_capacity(20_000)
                .batch_size(1_000)
                .when_full(WhenFull::Wait(Duration::from_secs(5))),
        )?)
    } else {
        Sending::Relay(outbox.start_relay(RelayConfig::new(bootstrap.clone()))?)
    };

    // --- output
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let out = Mutex::new(BufWriter::new(File::create(&args.out)?));

    // --- progress
    let bars = MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
    let style =
        ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos}/{len} {per_sec} {elapsed}")?
            .progress_chars("=> ");
    let sent_bar = bars.add(
        ProgressBar::new(count)
            .with_style(style.clone())
            .with_prefix("committed"),
    );
    let recv_bar = bars.add(
        ProgressBar::new(count)
            .with_style(style.clone())
            .with_prefix("consumed"),
    );
    let store_bar = bars.add(
        ProgressBar::new(count)
            .with_style(style)
            .with_prefix("stored"),
    );

    // --- consumer
    let group = format!("audit-demo-{}", uuid::Uuid::new_v4());
    let config = ConsumerConfig::new(bootstrap.clone(), group, [args.topic.clone()])
        .error_topic(error_topic)
        .max_in_flight(256)
        .commit_interval(Duration::from_millis(200));
    let consumer = AuditConsumer::new(
        config,
        LocalVersions::new().with_id(SCHEMA_ID, SchemaVersion::V1_0_2),
    )?;

    let committed_at: Mutex<HashMap<audit_schema::CompactString, Instant>> = Mutex::new(
        HashMap::with_capacity(usize::try_from(count.min(1 << 20)).unwrap_or(0)),
    );
    let received = Mutex::new(Received::default());
    let sent = AtomicU64::new(0);
    let planted = Mutex::new(Planted::default());
    let sanitizer = Arc::new(Sanitizer::with_defaults());
    let producing_done = AtomicBool::new(false);
    let distinct = AtomicU64::new(0);
    let started: Mutex<Option<Instant>> = Mutex::new(None);
    let stall = Duration::from_secs(args.stall_timeout);

    let handler = |delivery: Arc<Delivery>| {
        let (out, received, committed_at, recv_bar, distinct) =
            (&out, &received, &committed_at, &recv_bar, &distinct);
        async move {
            let now = Instant::now();
            let record = delivery.record();
            let id = record.metadata().message_id();
            let line = serde_json::to_vec(record).map_err(HandlerError::permanent)?;
            let leaked = leaks(&line);
            let masked = String::from_utf8_lossy(&line).contains(MASK);
            let mut r = received.lock().unwrap_or_else(PoisonError::into_inner);
            if !r.seen.insert(id.to_owned()) {
                r.duplicates += 1;
                return Ok(());
            }
            r.leaked += u64::from(leaked);
            r.masked += u64::from(masked);
            let committed = committed_at
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(id)
                .copied();
            if let Some(at) = committed {
                r.latencies_micros.push(
                    u64::try_from(now.saturating_duration_since(at).as_micros())
                        .unwrap_or(u64::MAX),
                );
            }
            drop(r);
            {
                let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
                out.write_all(&line)
                    .and_then(|()| out.write_all(b"\n"))
                    .map_err(HandlerError::transient)?;
            }
            distinct.fetch_add(1, Ordering::Relaxed);
            recv_bar.inc(1);
            Ok(())
        }
    };

    let produce = async {
        // Start once the consumer joined the group, so the latency figures measure the path and
        // not the group join (the mock cluster delays the first rebalance by 3 s).
        let joined = Instant::now();
        while consumer.assignment().map(|a| a.is_empty()).unwrap_or(true)
            && joined.elapsed() < stall
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        *started.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        let result = produce(
            &Producer {
                outbox: &outbox,
                pool: &pool,
                sender: &sender,
                sanitizer: &sanitizer,
                planted: &planted,
                publisher: match &sending {
                    Sending::Publisher(p) => Some(p),
                    Sending::Relay(_) => None,
                },
            },
            count,
            &committed_at,
            &sent,
            &sent_bar,
        )
        .await;
        producing_done.store(true, Ordering::SeqCst);
        result
    };
    let shutdown = async {
        let mut last = (0, Instant::now());
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let got = distinct.load(Ordering::Relaxed);
            let done = producing_done.load(Ordering::SeqCst);
            if done && got >= sent.load(Ordering::SeqCst) {
                return;
            }
            if got != last.0 {
                last = (got, Instant::now());
            } else if done && last.1.elapsed() > stall {
                eprintln!("audit-demo: no record for {stall:?}; stopping");
                return;
            }
        }
    };
    let (produced, consumed) = tokio::join!(produce, consumer.run(handler, shutdown));
    let elapsed = started
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .map_or(Duration::ZERO, |s| s.elapsed());
    produced?;
    let summary = consumed?;
    sent_bar.finish();
    recv_bar.finish();
    // Leave the group and stop the clients while the broker is still there.
    consumer.close().await;
    let relay_stats = match sending {
        Sending::Relay(relay) => {
            let stats = relay.stats();
            relay.shutdown().await?;
            stats
        }
        Sending::Publisher(publisher) => publisher.shutdown().await?.relay,
    };
    out.into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .flush()?;

    // --- the audit service: everything stored? then ask it about one object
    let stored = trail
        .wait_stored(sent.load(Ordering::SeqCst), stall, &store_bar)
        .await?;
    store_bar.finish();
    let expected_about = (0..count)
        .filter(|&i| is_about_the_queried_object(i))
        .count() as u64;
    let about = trail
        .query_object(QUERIED_OBJECT.0, QUERIED_OBJECT.1, 3)
        .await?;
    let stored_leaks = trail.stored_leaks(leaks).await?;
    trail.shutdown().await?;

    let sent = sent.load(Ordering::SeqCst);
    let received = received
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let got = received.seen.len() as u64;
    let mut latencies = received.latencies_micros;
    latencies.sort_unstable();
    let planted = planted.into_inner().unwrap_or_else(PoisonError::into_inner);
    let ok = sent == got
        && summary.dead_lettered == 0
        && received.leaked == 0
        && stored == sent
        && stored_leaks == 0
        && about.count == expected_about;
    print_summary(&Summary {
        path: if args.publisher {
            "AuditPublisher (queue -> SQLite spill -> relay)"
        } else {
            "business transactions (SQLite outbox -> relay)"
        },
        kafka: if mock.is_some() {
            "in-process mock cluster".to_owned()
        } else {
            bootstrap
        },
        sent,
        relayed: relay_stats.delivered,
        received: got,
        duplicates: received.duplicates + summary.duplicates,
        dead_lettered: summary.dead_lettered,
        elapsed,
        p50: percentile(&latencies, 50),
        p99: percentile(&latencies, 99),
        out: &args.out,
        planted_commands: planted.commands,
        sanitizer_changes: planted.changes,
        masked_records: received.masked,
        leaked_records: received.leaked,
        stored,
        stored_leaks,
        store: &args.store,
        about,
        expected_about,
        ok,
    });
    Ok(ok)
}

/// What the producing side writes with.
struct Producer<'a> {
    outbox: &'a Outbox<sqlx::Sqlite>,
    pool: &'a sqlx::SqlitePool,
    sender: &'a AuditSender,
    sanitizer: &'a Arc<Sanitizer>,
    planted: &'a Mutex<Planted>,
    /// With `--publisher`: commands go through it instead of business transactions.
    publisher: Option<&'a AuditPublisher>,
}

/// Who delivers: the demo's own relay, or the publisher (which runs its relay).
enum Sending {
    Relay(audit_outbox::RelayHandle),
    Publisher(AuditPublisher),
}

/// Enqueues `count` commands in business transactions of 1-5 commands plus one business row.
async fn produce(
    producer: &Producer<'_>,
    count: u64,
    committed_at: &Mutex<HashMap<audit_schema::CompactString, Instant>>,
    sent: &AtomicU64,
    bar: &ProgressBar,
) -> Result<(), BoxError> {
    let now = Utc::now();
    let base = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
    let mut next = 0u64;
    let mut transaction = 0u64;
    while next < count {
        let size = (1 + transaction % 5).min(count - next);
        let mut commands = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        for i in next..next + size {
            let (command, report) = command(i, base, producer.sanitizer)?.build_with_report()?;
            if is_planted(i) {
                let mut p = producer
                    .planted
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                p.commands += 1;
                p.changes += report.total();
            }
            commands.push(command);
        }
        if let Some(publisher) = producer.publisher {
            let now = Instant::now();
            {
                let mut map = committed_at.lock().unwrap_or_else(PoisonError::into_inner);
                for command in &commands {
                    map.insert(command.identity.id.clone(), now);
                }
            }
            for command in commands {
                if publisher.try_publish(command).await? != Published::Queued {
                    return Err("the publisher dropped a command".into());
                }
            }
            sent.fetch_add(size, Ordering::SeqCst);
            bar.inc(size);
            next += size;
            transaction += 1;
            continue;
        }
        let (outbox, pool, sender) = (producer.outbox, producer.pool, producer.sender);
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO business_event (description) VALUES (?)")
            .bind(format!(
                "business transaction {transaction} with {size} audited actions"
            ))
            .execute(&mut *tx)
            .await?;
        for command in &commands {
            sender.send(outbox, &mut tx, command).await?;
        }
        tx.commit().await?;
        let now = Instant::now();
        {
            let mut map = committed_at.lock().unwrap_or_else(PoisonError::into_inner);
            for command in &commands {
                map.insert(command.identity.id.clone(), now);
            }
        }
        sent.fetch_add(size, Ordering::SeqCst);
        bar.inc(size);
        next += size;
        transaction += 1;
    }
    Ok(())
}

const EVENT_TYPES: [AuditEventType; 8] = [
    AuditEventType::Created,
    AuditEventType::Read,
    AuditEventType::Listed,
    AuditEventType::Modified,
    AuditEventType::Disclosed,
    AuditEventType::Destroyed,
    AuditEventType::Deleted,
    AuditEventType::Unknown,
];

/// Whether command `i` carries a sensitive value (every tenth).
fn is_planted(i: u64) -> bool {
    i % 10 == 7
}

/// The builder of command number `i` (sanitized with `sanitizer`): shapes vary with `i`; the
/// timestamp `base + i ms` keeps idempotence ids unique. Every tenth command carries a sensitive
/// value ([`is_planted`]): an e-mail address or an IBAN in event data, or a password and an
/// e-mail address in a JSON document.
fn command(
    i: u64,
    base: DateTime<Utc>,
    sanitizer: &Arc<Sanitizer>,
) -> Result<AuditCommandBuilder, audit_builder::Error> {
    let timestamp = base + chrono::Duration::milliseconds(i64::try_from(i).unwrap_or(i64::MAX));
    let (service, system) = match i % 3 {
        0 => ("invoice-service", "BILLING"),
        1 => ("customer-service", "CRM"),
        _ => ("document-archive", "DMS"),
    };
    let event_type = EVENT_TYPES
        .get((i % 8) as usize)
        .copied()
        .unwrap_or_default();
    let mut builder = AuditCommandBuilder::new(service, system, timestamp)
        .event_type(event_type)
        .sanitizer(Arc::clone(sanitizer));
    builder = if i % 4 == 3 {
        builder.system_component("BIT", "SCHEDULER", format!("nightly-job-{}", i % 3))
    } else {
        builder.user(
            format!("user-{}", i % 1_000),
            "https://idp.example.admin.ch/realms/demo",
        )
    };
    match i % 5 {
        0 => {}
        1 => {
            builder = builder.context_with_process_id(
                format!("use-case-{}", i % 7),
                format!("process-{}", i % 11),
            )
        }
        _ => builder = builder.context(format!("use-case-{}", i % 7)),
    }
    for k in 0..(i % 4) {
        builder = builder.event_data(format!("key-{k}"), format!("value-{i}-{k}"));
    }
    if is_planted(i) {
        builder = match (i / 10) % 3 {
            0 => builder.event_data(
                "contact",
                format!("Jane Doe <jane.doe.{i}{PLANTED_EMAIL_DOMAIN}>"),
            ),
            1 => builder.event_data("payment", format!("refund to {PLANTED_IBAN}")),
            // i = 30k + 27 is a multiple of 3: no other audited object replaces this one
            _ => builder.audited_object(AuditedObject::new("Account", format!("ACC-{i}")).json(
                "profile",
                &serde_json::json!({
                    "login": {"password": PLANTED_PASSWORD, "recovery": [format!("ops.{i}{PLANTED_EMAIL_DOMAIN}")]},
                    "active": true
                }),
            )),
        };
    }
    if !i.is_multiple_of(3) {
        let mut object = AuditedObject::new(
            if i.is_multiple_of(2) {
                "Invoice"
            } else {
                "Customer"
            },
            format!("OBJ-{i}"),
        );
        if i.is_multiple_of(2) {
            object = object.version(format!("{}", i % 9));
        }
        object = match i % 6 {
            0 | 1 => object
                .data(
                    ObjectData::value("amount", format!("{}.{:02}", i % 997, i % 100))
                        .role(AuditObjectDataRole::New),
                )
                .data(
                    ObjectData::value("amount", format!("{}.00", i % 991))
                        .role(AuditObjectDataRole::Old),
                ),
            2 => object.json(
                "document",
                &serde_json::json!({"n": i, "tags": ["audit", "demo"], "nested": {"ok": true}}),
            ),
            3 => object.s3("scan", format!("s3://audit-demo/scans/{i}.pdf")),
            4 => object.null_value("comment"),
            _ => object
                .value("status", "OPEN")
                .json_bytes("raw", b"{\"compact\":1}".to_vec())
                .s3("attachment", "s3://b/k"),
        };
        builder = builder.audited_object(object);
    }
    if is_about_the_queried_object(i) {
        let event_type = EVENT_TYPES
            .get(((i / 1_000) % 8) as usize)
            .copied()
            .unwrap_or_default();
        builder = builder.event_type(event_type).audited_object(
            AuditedObject::new(QUERIED_OBJECT.0, QUERIED_OBJECT.1)
                .version(format!("{}", i / 1_000))
                .value("status", if i % 2_000 == 42 { "OPEN" } else { "PAID" }),
        );
    }
    Ok(builder)
}

async fn create_topics(bootstrap: &str, topics: &[(&str, i32)]) -> Result<(), BoxError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1)))
        .collect();
    for result in admin.create_topics(&new, &AdminOptions::new()).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(format!("creating topic {topic}: {code}").into()),
        }
    }
    Ok(())
}

fn percentile(sorted: &[u64], p: usize) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() - 1) * p).div_ceil(100);
    sorted
        .get(index)
        .map(|&micros| Duration::from_micros(micros))
}

struct Summary<'a> {
    path: &'static str,
    kafka: String,
    sent: u64,
    relayed: u64,
    received: u64,
    duplicates: u64,
    dead_lettered: u64,
    elapsed: Duration,
    p50: Option<Duration>,
    p99: Option<Duration>,
    out: &'a Path,
    planted_commands: u64,
    sanitizer_changes: u64,
    masked_records: u64,
    leaked_records: u64,
    stored: u64,
    stored_leaks: u64,
    store: &'a Path,
    about: trail::ObjectQuery,
    expected_about: u64,
    ok: bool,
}

fn print_summary(s: &Summary<'_>) {
    let ms = |d: Option<Duration>| {
        d.map_or_else(
            || "n/a".to_owned(),
            |d| format!("{:.1} ms", d.as_secs_f64() * 1e3),
        )
    };
    let rate = audit_support::count_to_f64(s.received) / s.elapsed.as_secs_f64().max(1e-9);
    println!("audit-demo summary (Kafka: {})", s.kafka);
    println!("  path                             {}", s.path);
    println!("  sent (committed to the outbox)   {}", s.sent);
    println!("  relayed (acknowledged by Kafka)  {}", s.relayed);
    println!("  received (distinct records)      {}", s.received);
    println!("  duplicates                       {}", s.duplicates);
    println!("  sent to the error topic          {}", s.dead_lettered);
    println!(
        "  elapsed (first commit to last)   {:.2} s",
        s.elapsed.as_secs_f64()
    );
    println!("  throughput (end to end)          {rate:.0} records/s");
    println!(
        "  commit-to-consume latency        p50 {}, p99 {}",
        ms(s.p50),
        ms(s.p99)
    );
    println!(
        "  sensitive data (sanitizer)       {} commands with an e-mail, IBAN or password; {} values masked",
        s.planted_commands, s.sanitizer_changes
    );
    println!(
        "                                   {} consumed records show {MASK}, {} show a planted value",
        s.masked_records, s.leaked_records
    );
    println!("  records written to               {}", s.out.display());
    println!(
        "  audit service (audit-server)     {} records stored in {}, {} of them show a planted value",
        s.stored,
        s.store.display(),
        s.stored_leaks
    );
    println!(
        "  records about object {}/{}  {} (expected {}; {} pages over HTTP, as {}):",
        QUERIED_OBJECT.0,
        QUERIED_OBJECT.1,
        s.about.count,
        s.expected_about,
        s.about.pages,
        trail::READER
    );
    for line in &s.about.first_lines {
        println!("    {line}");
    }
    if s.ok {
        println!(
            "OK: sent == received == stored ({}), no sensitive value downstream",
            s.sent
        );
    } else {
        println!(
            "FAILED: sent {} / received {} / stored {} (or records on the error topic, {} consumed and {} stored records with a planted sensitive value, or {} of {} records about {}/{} found)",
            s.sent,
            s.received,
            s.stored,
            s.leaked_records,
            s.stored_leaks,
            s.about.count,
            s.expected_about,
            QUERIED_OBJECT.0,
            QUERIED_OBJECT.1
        );
    }
}
