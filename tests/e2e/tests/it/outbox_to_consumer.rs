//! Issue 7, acceptance 3: builder -> PostgreSQL outbox -> relay -> Tansu -> consumer runtime, with
//! the schema id registered by the producer side in a real schema registry (rivven-schema) and
//! fetched by id by the consumer.
//!
//! What one run proves:
//! * every command enqueued in a committed business transaction arrives exactly once, and the
//!   `AuditRecord` the handler gets equals the one made from the built command;
//! * commands enqueued in rolled-back transactions (together with their business rows) never reach
//!   the topic nor the handler;
//! * the Kafka record value is `0x00` + the registered id (big-endian) + the Avro datum of the
//!   built command, byte for byte; the record key is null;
//! * the W3C `traceparent` travels from the producing side (captured from the OpenTelemetry context
//!   of the `tracing` span the business transaction runs in, or set explicitly on the message) to
//!   the record headers and to `Delivery::traceparent`; a message enqueued outside any trace
//!   context carries none;
//! * the sender gets its id from the producer's registry client (the raw `.avsc` registered under
//!   jEAP's TopicRecordNameStrategy subject) and the consumer's own registry client (never
//!   registering) is the consumer's writer-schema source, fetching the writer schema by that id;
//! * the relay marked every row sent, and the consumer group committed every offset.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use audit_builder::{
    AuditCommandBuilder, AuditEventType, AuditObjectDataRole, AuditedObject,
    CreateAuditRecordCommand, JwtClaims, ObjectData,
};
use audit_consumer::runtime::{
    AuditConsumer, ConsumerConfig, Delivery, HandlerError, RunSummary, TRACEPARENT_HEADER,
    TraceParent,
};
use audit_consumer::{AuditRecord, SchemaVersion};
use audit_outbox::sender::AuditSender;
use audit_outbox::{Outbox, RelayConfig};
use audit_registry::{RegistryClient, RegistryConfig};
use audit_testkit::{PgDatabase, SchemaRegistry, Tansu};
use chrono::{DateTime, TimeZone, Utc};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use sqlx::postgres::PgPoolOptions;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Upper bound for waiting on the pipeline: a hang guard, not a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(120);
/// Business transactions; each enqueues 1-4 commands.
const TRANSACTIONS: usize = 140;
/// Partitions of the audit topic.
const PARTITIONS: i32 = 3;

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

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{name}-{}-{nanos}", std::process::id())
}

fn base_time() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_779_955_200_120)
        .single()
        .unwrap_or_default()
}

/// Command `i`: every trigger kind (user, user from a token, system component, system component
/// derived from a consumed message, explicit idempotence id and variant), contexts with and
/// without process id, a process id without context, 0-3 event-data entries, no audited object
/// or one with no data, values with NEW/OLD roles, null values, JSON (rendered and raw,
/// non-UTF-8 bytes), S3 references.
fn command(
    i: usize,
    previous: Option<&CreateAuditRecordCommand>,
) -> TestResult<CreateAuditRecordCommand> {
    let at = base_time() + chrono::Duration::milliseconds(i64::try_from(i)?);
    let (service, system) = [
        ("invoice-service", "BILLING"),
        ("customer-service", "CRM"),
        ("archiv-dienst-zürich", "DMS"),
    ][i % 3];
    let mut b = AuditCommandBuilder::new(service, system, at).event_type(EVENT_TYPES[i % 8]);
    b = match (i % 5, previous) {
        (0, _) => b.user(
            format!("user-{i}"),
            "https://idp.example.admin.ch/realms/e2e",
        ),
        (1, _) => b.user_from_token(&JwtClaims {
            sub: format!("sub-{i}"),
            iss: "https://login.example/ä".into(),
        }),
        (3, Some(consumed)) => b.system_component_from_message("IT", consumed),
        (2 | 3, _) => b.system_component("BIT", "SCHEDULER", format!("nightly-job-{}", i % 7)),
        _ => b
            .user(format!("user-{i}"), "idp")
            .idempotence_id(format!("explicit-idempotence-{i}"))
            .variant("e2e"),
    };
    b = match i % 4 {
        0 => b,
        1 => b.context(format!("use-case-{}", i % 6)),
        2 => b.context_with_process_id(format!("use-case-{}", i % 6), format!("process-{i}")),
        _ => b.process_id(format!("process-{i}")),
    };
    for k in 0..(i % 4) {
        b = b.event_data(format!("key-{k}"), format!("wert-{i}-{k} ✓"));
    }
    if !i.is_multiple_of(7) {
        let mut object = AuditedObject::new(
            if i.is_multiple_of(2) {
                "Invoice"
            } else {
                "Person"
            },
            format!("OBJ-{i}"),
        );
        if !i.is_multiple_of(3) {
            object = object.version(format!("{}", i % 9));
        }
        object = match i % 6 {
            0 => object,
            1 => object
                .data(ObjectData::value("amount", format!("{i}.50")).role(AuditObjectDataRole::New))
                .data(ObjectData::value("amount", "0.00").role(AuditObjectDataRole::Old)),
            2 => object.json(
                "document",
                &serde_json::json!({"n": i, "tags": ["audit", "e2e"], "nested": {"ok": true}}),
            ),
            3 => object.s3("scan", format!("s3://audit-e2e/scans/{i}.pdf")),
            4 => object
                .null_value("comment")
                .data(ObjectData::null_value("previous").role(AuditObjectDataRole::Old)),
            _ => object
                .value("status", "OPEN")
                .json_bytes("raw", vec![0xff, 0x00, b'{'])
                .data(ObjectData::s3("attachment", "s3://b/k").role(AuditObjectDataRole::New))
                .data(
                    ObjectData::json("meta", &serde_json::json!({"before": [1, 2]}))
                        .role(AuditObjectDataRole::Old),
                ),
        };
        b = b.audited_object(object);
    }
    Ok(b.build()?)
}

/// Where the `traceparent` of a business transaction's messages comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trace {
    /// Captured by the outbox from the OpenTelemetry context of the current `tracing` span.
    Span,
    /// Set on each message explicitly.
    Explicit,
    /// No trace context at all.
    None,
}

struct Transaction {
    no: usize,
    rolled_back: bool,
    trace: Trace,
    commands: Vec<CreateAuditRecordCommand>,
}

/// The plan: 140 transactions with 1-4 commands each; every 13th (from the 6th) is rolled back.
fn plan() -> TestResult<Vec<Transaction>> {
    let mut transactions = Vec::with_capacity(TRANSACTIONS);
    let mut i = 0;
    let mut previous: Option<CreateAuditRecordCommand> = None;
    for no in 0..TRANSACTIONS {
        let mut commands = Vec::new();
        for _ in 0..(no % 4 + 1) {
            let c = command(i, previous.as_ref())?;
            previous = Some(c.clone());
            commands.push(c);
            i += 1;
        }
        transactions.push(Transaction {
            no,
            rolled_back: no % 13 == 5,
            trace: [Trace::Span, Trace::Explicit, Trace::None][no % 3],
            commands,
        });
    }
    Ok(transactions)
}

/// What the consumer side must see for one committed command.
struct Expected {
    record: AuditRecord,
    datum: Vec<u8>,
    traceparent: Option<String>,
}

/// The `traceparent` the outbox captures inside `span` (computed from the span's OpenTelemetry
/// context, independently of the outbox's capture function).
fn traceparent_of(span: &tracing::Span) -> String {
    let cx = span.context();
    let otel_span = cx.span();
    let sc = otel_span.span_context();
    format!(
        "00-{}-{}-{:02x}",
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().to_u8()
    )
}

/// Everything the pipeline run leaves for the checks against the raw topic.
struct Run {
    topic: String,
    group: String,
    schema_id: u32,
    expected: HashMap<String, Expected>,
    rolled_back: HashSet<String>,
}

#[test]
fn builder_outbox_tansu_consumer_records_equal_what_was_built_with_registry_schema_ids()
-> TestResult {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("audit-e2e")));
    // The enqueues run on this thread (inside `block_on`), so a thread-local default suffices.
    let _subscriber = tracing::subscriber::set_default(subscriber);
    audit_outbox::trace::set_traceparent_source(audit_outbox::trace::opentelemetry_traceparent);

    let registry = SchemaRegistry::start()?;
    let tansu = Tansu::shared()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let run = rt.block_on(pipeline(tansu, &registry))?;
    check_topic(tansu, &run)?;
    Ok(())
}

async fn pipeline(tansu: &Tansu, registry: &SchemaRegistry) -> TestResult<Run> {
    let topic = unique("e2e-audit");
    let error_topic = format!("{topic}-errors");
    tansu.create_topic(&topic, u32::try_from(PARTITIONS)?)?;
    tansu.create_topic(&error_topic, 1)?;

    // Producer side: the sender gets its id from the registry client, which registers the raw
    // .avsc of the newest version (register-or-get) under jEAP's subject. An older version is
    // registered there first, so the id of the newest one is not simply the first id the
    // registry hands out.
    let producer_registry = RegistryClient::new(RegistryConfig::new(registry.url()))?;
    let subject = producer_registry.command_subject(&topic);
    assert_eq!(
        subject,
        format!("{topic}-ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand")
    );
    let old_id = producer_registry
        .schema_id(&subject, SchemaVersion::V1_0_0.schema_json())
        .await?;
    let sender = AuditSender::with_provider(&topic, &producer_registry).await?;
    let schema_id = sender.schema_id();
    assert_ne!(
        old_id, schema_id,
        "1.0.0 and the newest version share an id"
    );
    let latest = producer_registry.subject_version(&subject, None).await?;
    assert_eq!(
        latest.id, schema_id,
        "the sender's id is the subject's latest version"
    );

    // Consumer side: its own client (empty cache, never registers) is the consumer's
    // writer-schema source and fetches the writer schema by id.
    let consumer_registry =
        RegistryClient::new(RegistryConfig::new(registry.url()).auto_register(false))?;
    assert_eq!(consumer_registry.request_count(), 0);

    // The service's database: the outbox and a business table.
    let db = PgDatabase::create().await?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect(db.url())
        .await?;
    let outbox = Outbox::new(pool.clone());
    outbox.migrate().await?;
    sqlx::query(
        "CREATE TABLE business_event (id BIGSERIAL PRIMARY KEY, tx_no INT NOT NULL UNIQUE, \
         note TEXT NOT NULL)",
    )
    .execute(&pool)
    .await?;
    let relay = outbox.start_relay(RelayConfig::new(tansu.bootstrap()))?;

    let transactions = plan()?;
    let committed_count: usize = transactions
        .iter()
        .filter(|t| !t.rolled_back)
        .map(|t| t.commands.len())
        .sum();
    let rolled_back_count: usize = transactions
        .iter()
        .filter(|t| t.rolled_back)
        .map(|t| t.commands.len())
        .sum();
    assert!(committed_count >= 300 && rolled_back_count >= 20);

    // The consumer runs while the service writes.
    let group = unique("e2e-archive");
    let consumer = AuditConsumer::new(
        ConsumerConfig::new(tansu.bootstrap(), group.as_str(), [topic.as_str()])
            .error_topic(error_topic.as_str())
            .max_in_flight(32)
            .commit_interval(Duration::from_millis(200))
            .set("fetch.wait.max.ms", "50"),
        consumer_registry.clone(),
    )?;
    let seen: Arc<Mutex<Vec<Arc<Delivery>>>> = Arc::default();
    let all_seen = Arc::new(tokio::sync::Notify::new());
    let stop = Arc::new(tokio::sync::Notify::new());
    let consuming = tokio::spawn({
        let seen = Arc::clone(&seen);
        let all_seen = Arc::clone(&all_seen);
        let stop = Arc::clone(&stop);
        async move {
            consumer
                .run(
                    move |delivery: Arc<Delivery>| {
                        let seen = Arc::clone(&seen);
                        let all_seen = Arc::clone(&all_seen);
                        async move {
                            let n = {
                                let mut seen = seen.lock().unwrap();
                                seen.push(delivery);
                                seen.len()
                            };
                            if n >= committed_count {
                                all_seen.notify_one();
                            }
                            Ok::<(), HandlerError>(())
                        }
                    },
                    async move { stop.notified().await },
                )
                .await
        }
    });

    // The service: business row + audit commands in one transaction, commit or roll back.
    let mut expected = HashMap::new();
    let mut rolled_back = HashSet::new();
    for t in &transactions {
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO business_event (tx_no, note) VALUES ($1, $2)")
            .bind(i32::try_from(t.no)?)
            .bind(format!("business write of transaction {}", t.no))
            .execute(&mut *tx)
            .await?;
        let mut traceparents = Vec::new();
        match t.trace {
            Trace::Span => {
                let span = tracing::info_span!("business transaction", no = t.no);
                let tp = traceparent_of(&span);
                async {
                    for c in &t.commands {
                        sender.send(&outbox, &mut tx, c).await?;
                    }
                    Ok::<_, audit_outbox::Error>(())
                }
                .instrument(span)
                .await?;
                traceparents.resize(t.commands.len(), Some(tp));
            }
            Trace::Explicit => {
                for (k, c) in t.commands.iter().enumerate() {
                    // flags alternate between sampled and not sampled
                    let tp = format!("00-{:032x}-{:016x}-{:02x}", t.no + 1, k + 1, k % 2);
                    outbox
                        .enqueue(&mut tx, &sender.message(c).with_traceparent(tp.as_str()))
                        .await?;
                    traceparents.push(Some(tp));
                }
            }
            Trace::None => {
                for c in &t.commands {
                    sender.send(&outbox, &mut tx, c).await?;
                }
                traceparents.resize(t.commands.len(), None);
            }
        }
        if t.rolled_back {
            tx.rollback().await?;
            rolled_back.extend(t.commands.iter().map(|c| c.identity.id.to_string()));
        } else {
            tx.commit().await?;
            for (c, traceparent) in t.commands.iter().zip(traceparents) {
                let previous = expected.insert(
                    c.identity.id.to_string(),
                    Expected {
                        record: AuditRecord::from(c.clone()),
                        datum: c.to_avro_datum(),
                        traceparent,
                    },
                );
                assert!(
                    previous.is_none(),
                    "message id {} built twice",
                    c.identity.id
                );
            }
        }
    }
    assert_eq!(expected.len(), committed_count);
    assert_eq!(rolled_back.len(), rolled_back_count);

    // Wait until the handler has seen as many records as were committed.
    if tokio::time::timeout(HANG_GUARD, all_seen.notified())
        .await
        .is_err()
    {
        let n = seen.lock().unwrap().len();
        return Err(format!(
            "only {n} of {committed_count} records handled within {HANG_GUARD:?}; outbox: {:?}",
            outbox.counts().await?
        )
        .into());
    }
    stop.notify_one();
    let summary: RunSummary = consuming.await??;
    relay.shutdown().await?;

    // The outbox: exactly the committed rows, all sent; the business table likewise.
    let counts = outbox.counts().await?;
    assert_eq!(
        (counts.pending, counts.sent, counts.failed),
        (0, u64::try_from(committed_count)?, 0),
        "outbox rows (pending, sent, failed)"
    );
    let business: Vec<(i32,)> = sqlx::query_as("SELECT tx_no FROM business_event ORDER BY tx_no")
        .fetch_all(&pool)
        .await?;
    let committed_nos: Vec<i32> = transactions
        .iter()
        .filter(|t| !t.rolled_back)
        .map(|t| i32::try_from(t.no))
        .collect::<Result<_, _>>()?;
    assert_eq!(
        business.into_iter().map(|(n,)| n).collect::<Vec<_>>(),
        committed_nos
    );

    // The consumer: every committed command once, equal to what was built.
    let deliveries = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(summary.received, u64::try_from(committed_count)?);
    assert_eq!(summary.handled, u64::try_from(committed_count)?);
    assert_eq!(
        (summary.duplicates, summary.dead_lettered, summary.abandoned),
        (0, 0, 0)
    );
    assert_eq!(deliveries.len(), committed_count);
    let mut delivered_ids = HashSet::new();
    let mut partitions = HashSet::new();
    let mut with_traceparent = 0;
    for d in &deliveries {
        let id = d.record().metadata().message_id();
        assert!(
            !rolled_back.contains(id),
            "command {id} of a rolled-back transaction was delivered"
        );
        assert!(delivered_ids.insert(id.to_owned()), "{id} delivered twice");
        let want = expected
            .get(id)
            .ok_or_else(|| format!("delivered command {id} was never built"))?;
        assert_eq!(d.record(), &want.record, "record {id}");
        assert_eq!(d.topic(), topic);
        partitions.insert(d.partition());
        let want_tp = want
            .traceparent
            .as_deref()
            .map(|tp| TraceParent::parse(tp).ok_or_else(|| format!("bad traceparent {tp}")))
            .transpose()?;
        assert_eq!(d.traceparent(), want_tp.as_ref(), "traceparent of {id}");
        with_traceparent += usize::from(want_tp.is_some());
    }
    assert!(with_traceparent > 0 && with_traceparent < committed_count);
    // Null keys: librdkafka's sticky partitioner picks the partitions (not necessarily all).
    assert!(!partitions.is_empty());

    // The consumer fetched the writer schema by id from the registry, and it is the newest
    // version (matched by fingerprint: rivven-schema stores a re-serialized text).
    assert!(
        consumer_registry.request_count() >= 1,
        "the consumer never asked the registry"
    );
    let fetched = consumer_registry.writer_schema(schema_id).await?;
    assert_eq!(fetched.known_version(), Some(SchemaVersion::LATEST));

    pool.close().await;
    drop(db);
    Ok(Run {
        topic,
        group,
        schema_id,
        expected,
        rolled_back,
    })
}

/// Marks the end of a partition for the raw read (produced after the relay has stopped).
const END_MARKER: &[u8] = b"e2e end of partition";

/// Reads the topic with a plain rdkafka consumer from the beginning of every partition up to an
/// end marker produced now: exactly the committed commands, framed with the registered id, null
/// keys, `traceparent` headers; and the consumer group committed the end of every partition.
///
/// Tansu 0.6.0 reports wrong high watermarks (ListOffsets), so they cannot mark the end.
fn check_topic(tansu: &Tansu, run: &Run) -> TestResult {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", tansu.bootstrap())
        .set("acks", "all")
        .create()?;
    for p in 0..PARTITIONS {
        producer
            .send(
                BaseRecord::<(), _>::to(&run.topic)
                    .partition(p)
                    .payload(END_MARKER),
            )
            .map_err(|(e, _)| e)?;
    }
    producer.flush(Duration::from_secs(30))?;

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", tansu.bootstrap())
        .set("group.id", unique("e2e-raw"))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "50")
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        assignment.add_partition_offset(&run.topic, p, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;

    let frame = {
        let mut f = vec![0u8];
        f.extend_from_slice(&run.schema_id.to_be_bytes());
        f
    };
    // partition -> offset of its end marker
    let mut ends: HashMap<i32, i64> = HashMap::new();
    let mut seen = HashSet::new();
    let deadline = Instant::now() + HANG_GUARD;
    while ends.len() < usize::try_from(PARTITIONS)? {
        if Instant::now() > deadline {
            return Err(format!("raw read stalled: {} records, ends {ends:?}", seen.len()).into());
        }
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message?;
        assert!(
            !ends.contains_key(&message.partition()),
            "a record after the end marker"
        );
        let value = message.payload().ok_or("record without value")?;
        if value == END_MARKER {
            ends.insert(message.partition(), message.offset());
            continue;
        }
        assert_eq!(message.key(), None, "record key");
        assert_eq!(value.get(..5), Some(frame.as_slice()), "Confluent header");
        let command = CreateAuditRecordCommand::from_avro_datum(&value[5..])?;
        let id = command.identity.id.as_str();
        assert!(
            !run.rolled_back.contains(id),
            "rolled-back {id} in the topic"
        );
        assert!(seen.insert(id.to_owned()), "{id} twice in the topic");
        let want = run
            .expected
            .get(id)
            .ok_or_else(|| format!("{id} in the topic was never built"))?;
        assert_eq!(&value[5..], want.datum.as_slice(), "datum of {id}");
        let traceparent = message.headers().and_then(|headers| {
            headers
                .iter()
                .find(|h| h.key == TRACEPARENT_HEADER)
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        });
        assert_eq!(traceparent, want.traceparent, "traceparent header of {id}");
    }
    assert_eq!(seen.len(), run.expected.len(), "commands in the topic");
    assert_eq!(
        ends.values().sum::<i64>(),
        i64::try_from(run.expected.len())?,
        "records before the end markers"
    );

    // The group committed the end of every partition (the offset the end marker got).
    let mut partitions = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        partitions.add_partition(&run.topic, p);
    }
    let group: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", tansu.bootstrap())
        .set("group.id", run.group.as_str())
        .create()?;
    let committed = group.committed_offsets(partitions, Duration::from_secs(30))?;
    for element in committed.elements() {
        let end = ends.get(&element.partition()).copied().unwrap_or(-1);
        // A partition that got no record has nothing committed.
        let want = if end == 0 {
            Offset::Invalid
        } else {
            Offset::Offset(end)
        };
        assert_eq!(
            element.offset(),
            want,
            "committed offset of partition {}",
            element.partition()
        );
    }
    Ok(())
}
