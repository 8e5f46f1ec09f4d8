//! Signature verification in the runtime against Tansu (issue 15, acceptance 2): records signed
//! by the outbox relay pass a strict consumer; each case of jEAP's outcome table ends on the error
//! topic with jEAP's error code and temporality; unsigned records pass a non-strict consumer;
//! records the Error Handling Service resubmitted for another service are skipped and counted.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use audit_consumer::runtime::{
    AuditConsumer, ConsumerConfig, Delivery, EH_ERROR_HANDLING_SERVICE_HEADER,
    EH_TARGET_SERVICE_HEADER, ERROR_CODE_HEADER, ERROR_OFFSET_HEADER, ERROR_STAGE_HEADER,
    ERROR_TEMPORALITY_HEADER, ErrorEvents, HandlerError, VerifierConfig,
    metrics as runtime_metrics,
};
use audit_outbox::{Outbox, OutboxMessage, RelayConfig};
use audit_signing::{CERTIFICATE_HEADER, RecordSignature, Signer};
use audit_testkit::{KeyCert, Pki};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use crate::runtime::{
    Effects, command_value, committed_total, config, guarded, index_of, tansu, topic_with, unique,
};

/// The publisher of the test commands ([`command_value`]): the CN of the good certificates.
const PUBLISHER: &str = "runtime-test";
/// The consuming service (jEAP `serviceName`).
const CONSUMER: &str = "audit-archive-service";

struct World {
    _pki: Pki,
    ca: KeyCert,
    good: KeyCert,
    expired: KeyCert,
    untrusted: KeyCert,
    other_cn: KeyCert,
}

fn world() -> World {
    let pki = Pki::new().unwrap();
    let ca = pki.ca("Test Root CA").unwrap();
    // same subject as the trusted CA, another key: only the chain check can tell
    let rogue_ca = pki.ca("Test Root CA").unwrap();
    let good = pki.leaf(PUBLISHER, &ca, "0x8000000000000001", 30).unwrap();
    let expired = pki.leaf(PUBLISHER, &ca, "0x21", -1).unwrap();
    let untrusted = pki.leaf(PUBLISHER, &rogue_ca, "0x22", 30).unwrap();
    let other_cn = pki.leaf("other-service", &ca, "0x23", 30).unwrap();
    World {
        _pki: pki,
        ca,
        good,
        expired,
        untrusted,
        other_cn,
    }
}

impl World {
    /// The subscriber's chains: the publisher's good, expired and untrusted ones (the untrusted
    /// leaf configured with the trusted CA as root), and other-service's.
    fn verification(&self, strict: bool) -> VerifierConfig {
        let chain = |leaf: &KeyCert| vec![leaf.cert_string(), self.ca.cert_string()];
        let mut config = VerifierConfig {
            require_signature: strict,
            ..VerifierConfig::default()
        };
        config.certificate_chains.insert(
            PUBLISHER.into(),
            BTreeMap::from([
                ("good".into(), chain(&self.good)),
                ("expired".into(), chain(&self.expired)),
                ("untrusted".into(), chain(&self.untrusted)),
            ]),
        );
        config.certificate_chains.insert(
            "other-service".into(),
            BTreeMap::from([("main".into(), chain(&self.other_cn))]),
        );
        config
    }
}

fn signer(kc: &KeyCert, service: &str) -> Signer {
    Signer::from_pem(&kc.key_pem, &kc.cert_pem, service).unwrap()
}

/// One record to produce: key, value, headers.
struct Out {
    key: Option<Vec<u8>>,
    value: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
}

fn signed(signer: &Signer, key: Option<&[u8]>, value: Vec<u8>) -> Out {
    let signature: RecordSignature = signer.sign_record(key, &value).unwrap();
    Out {
        key: key.map(<[u8]>::to_vec),
        headers: signature
            .headers()
            .map(|(n, v)| (n.to_owned(), v.to_vec()))
            .collect(),
        value,
    }
}

impl Out {
    fn with_header(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self.headers.push((name.to_owned(), value.to_vec()));
        self
    }
}

/// Produces `records` one after the other (each acknowledged before the next: offsets in order),
/// one record per batch (see `runtime::produce`).
async fn produce_in_order(topic: &str, records: Vec<Out>) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", tansu().bootstrap())
        .set("batch.num.messages", "1")
        .set("acks", "all")
        .create()
        .unwrap();
    for r in records {
        let mut headers = OwnedHeaders::new();
        for (name, value) in &r.headers {
            headers = headers.insert(Header {
                key: name.as_str(),
                value: Some(value.as_slice()),
            });
        }
        let mut record = FutureRecord::to(topic).payload(&r.value).headers(headers);
        if let Some(key) = &r.key {
            record = record.key(key);
        }
        producer
            .send(record, Duration::from_secs(60))
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
}

/// Relays `n` commands (`0..n`, keyed `k{i}`) through a SQLite outbox with signing on.
async fn relay_signed(topic: &str, n: usize, kc: &KeyCert) {
    let dir = tempfile::tempdir().unwrap();
    let opts: SqliteConnectOptions = format!("sqlite://{}", dir.path().join("o.db").display())
        .parse()
        .unwrap();
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(opts.create_if_missing(true))
        .await
        .unwrap();
    let outbox = Outbox::new(pool.clone());
    outbox.migrate().await.unwrap();
    let messages: Vec<OutboxMessage> = (0..n)
        .map(|i| {
            OutboxMessage::new(topic, command_value(i))
                .with_type("CreateAuditRecordCommand", Some("1.0.2".into()))
                .with_key(format!("k{i}").into_bytes())
        })
        .collect();
    let mut tx = pool.begin().await.unwrap();
    outbox.enqueue_all(&mut tx, &messages).await.unwrap();
    tx.commit().await.unwrap();
    let relay = outbox
        .start_relay(
            RelayConfig::new(tansu().bootstrap())
                .poll_interval(Duration::from_millis(100))
                .signing_pem(kc.key_pem.clone(), kc.cert_pem.clone(), PUBLISHER),
        )
        .unwrap();
    guarded(async {
        loop {
            let c = outbox.counts().await.unwrap();
            if c.sent == n as u64 && c.pending == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    relay.shutdown().await.unwrap();
}

/// Reads `n` records of `topic` from the beginning.
async fn read(topic: &str, n: usize) -> Vec<OwnedMessage> {
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", tansu().bootstrap())
        .set("group.id", unique("g-sig-reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    reader.subscribe(&[topic]).unwrap();
    guarded(async {
        let mut out = Vec::new();
        while out.len() < n {
            if let Some(m) = reader.poll(Duration::from_millis(100)) {
                out.push(m.unwrap().detach());
            }
            tokio::task::yield_now().await;
        }
        out
    })
    .await
}

fn headers_of(m: &OwnedMessage) -> HashMap<String, Vec<u8>> {
    m.headers()
        .map(|h| {
            h.iter()
                .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                .collect()
        })
        .unwrap_or_default()
}

fn text(headers: &HashMap<String, Vec<u8>>, name: &str) -> String {
    String::from_utf8(headers[name].clone()).unwrap()
}

type Snapshot = Vec<(
    metrics_util::CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)>;

/// Counter totals by metric name and the value of label `label` (or "" without it). (Taking a
/// snapshot resets the debugging recorder's counters: take one and query it.)
fn counters(snapshot: &Snapshot, name: &str, label: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (key, _, _, value) in snapshot {
        if key.key().name() != name {
            continue;
        }
        let DebugValue::Counter(n) = *value else {
            continue;
        };
        let l = key
            .key()
            .labels()
            .find(|l| l.key() == label)
            .map(|l| l.value().to_owned())
            .unwrap_or_default();
        *out.entry(l).or_default() += n;
    }
    out
}

fn handler(
    effects: &Effects,
) -> impl Fn(Arc<Delivery>) -> futures::future::Ready<Result<(), HandlerError>> + use<> {
    let effects = effects.clone();
    move |delivery: Arc<Delivery>| {
        effects.record(index_of(&delivery));
        futures::future::ready(Ok(()))
    }
}

/// Flips one bit of the user id `u{i}` inside the encoded value: still a valid command (the id
/// becomes `t{i}`), but not the signed bytes.
fn flip_user_id_byte(mut value: Vec<u8>, i: usize) -> Vec<u8> {
    let needle = format!("u{i}");
    let at = value
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap();
    value[at] ^= 0x01;
    value
}

const RELAYED: usize = 5;

trait ErrorEventsIf {
    fn error_events_if(self, on: bool, ids: &RecordingIds) -> Self;
}

impl ErrorEventsIf for ConsumerConfig {
    fn error_events_if(self, on: bool, ids: &RecordingIds) -> Self {
        if !on {
            return self;
        }
        let config = audit_error_event::ErrorEventConfig::new("TEST", CONSUMER).unwrap();
        self.error_events(ErrorEvents::new(config, ids.clone()))
    }
}

/// (outcome name, error code, temporality) of a rejected case.
type Expected = (&'static str, &'static str, &'static str);

/// Acceptance 2: relay-signed records pass a strict consumer; a flipped value byte, a wrong
/// certificate serial, an expired certificate, an untrusted chain, a CN that is not the declared
/// publisher, an unsigned record and a tampered key each end on the error topic with jEAP's code
/// and temporality; a record resubmitted for another service is skipped, one for this service is
/// handled.
#[tokio::test(flavor = "current_thread")]
async fn strict_consumer_passes_relay_signed_records_and_sends_each_rejection_to_the_error_topic_with_jeaps_temporality()
 {
    strict_scenario(Mode::RawDeadLetter).await;
}

/// The same table with jEAP error events on the error topic: each rejection is a
/// `MessageProcessingFailedEvent` with jEAP's code and temporality, the original bytes, the
/// reference to topic/partition/offset, keyed by the command id, framed with the ids of the
/// TopicRecordNameStrategy subjects of the error topic.
#[tokio::test(flavor = "current_thread")]
async fn with_error_events_each_rejection_is_a_message_processing_failed_event_with_jeaps_temporality()
 {
    strict_scenario(Mode::ErrorEvents).await;
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    RawDeadLetter,
    ErrorEvents,
}

const EVENT_SCHEMA_ID: u32 = 41;
const KEY_SCHEMA_ID: u32 = 42;

/// A schema-id source that answers fixed ids and records the subjects asked for.
#[derive(Clone, Default)]
struct RecordingIds(Arc<std::sync::Mutex<Vec<String>>>);

impl audit_schema::registry::SchemaIdProvider for RecordingIds {
    fn command_subject(&self, topic: &str) -> String {
        format!("{topic}-unused")
    }

    async fn schema_id(
        &self,
        subject: &str,
        schema_json: &str,
    ) -> Result<u32, audit_consumer::BoxError> {
        self.0.lock().unwrap().push(subject.to_owned());
        Ok(match schema_json {
            audit_error_event::EVENT_SCHEMA_JSON => EVENT_SCHEMA_ID,
            audit_error_event::KEY_SCHEMA_JSON => KEY_SCHEMA_ID,
            other => panic!("unexpected schema {other}"),
        })
    }
}

async fn strict_scenario(mode: Mode) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = ::metrics::set_default_local_recorder(&recorder);
    let w = world();
    let topic = topic_with(1, "sig-strict");
    let error_topic = topic_with(1, "sig-strict-errors");
    let group = unique("g-sig-strict");

    relay_signed(&topic, RELAYED, &w.good).await;
    let good = signer(&w.good, PUBLISHER);
    // (index, expected outcome name, code, temporality); offsets follow the relayed records
    let cases: Vec<(usize, Out, Option<Expected>)> = vec![
        (
            100,
            Out {
                value: flip_user_id_byte(command_value(100), 100),
                ..signed(&good, None, command_value(100))
            },
            Some((
                "invalid_value_signature",
                "MESSAGE_SIGNATURE_VALIDATION_ERROR",
                "PERMANENT",
            )),
        ),
        (
            101,
            signed(&good, None, command_value(101)).with_header(CERTIFICATE_HEADER, &[0x7f, 0x01]),
            Some((
                "certificate_not_found",
                "MESSAGE_CERTIFICATE_VALIDATION_ERROR",
                "TEMPORARY",
            )),
        ),
        (
            102,
            signed(&signer(&w.expired, PUBLISHER), None, command_value(102)),
            Some((
                "certificate_expired",
                "MESSAGE_CERTIFICATE_VALIDATION_ERROR",
                "PERMANENT",
            )),
        ),
        (
            103,
            signed(&signer(&w.untrusted, PUBLISHER), None, command_value(103)),
            Some((
                "invalid_chain",
                "MESSAGE_CERTIFICATE_VALIDATION_ERROR",
                "TEMPORARY",
            )),
        ),
        (
            104,
            signed(
                &signer(&w.other_cn, "other-service"),
                None,
                command_value(104),
            ),
            Some((
                "common_name_mismatch",
                "MESSAGE_CERTIFICATE_VALIDATION_ERROR",
                "PERMANENT",
            )),
        ),
        (
            105,
            Out {
                key: None,
                value: command_value(105),
                headers: Vec::new(),
            },
            Some((
                "strict_mode_signature_missing",
                "MESSAGE_SIGNATURE_VALIDATION_ERROR",
                "PERMANENT",
            )),
        ),
        (
            106,
            Out {
                key: Some(b"tampered-key".to_vec()),
                ..signed(&good, Some(b"k106"), command_value(106))
            },
            Some((
                "invalid_key_signature",
                "MESSAGE_SIGNATURE_VALIDATION_ERROR",
                "PERMANENT",
            )),
        ),
        // resubmitted by the Error Handling Service for another service: skipped
        (
            107,
            signed(&good, None, command_value(107))
                .with_header(EH_TARGET_SERVICE_HEADER, b"some-other-service")
                .with_header(
                    EH_ERROR_HANDLING_SERVICE_HEADER,
                    b"jeap-error-handling-service",
                ),
            None,
        ),
        // resubmitted for this service: handled (last, so its handling ends the run)
        (
            108,
            signed(&good, None, command_value(108))
                .with_header(EH_TARGET_SERVICE_HEADER, CONSUMER.as_bytes()),
            None,
        ),
    ];
    let expected: Vec<(i64, Expected)> = cases
        .iter()
        .enumerate()
        .filter_map(|(n, (_, _, e))| e.map(|e| ((RELAYED + n) as i64, e)))
        .collect();
    let total = RELAYED + cases.len();
    let produced: HashMap<i64, (Option<Vec<u8>>, Vec<u8>)> = cases
        .iter()
        .enumerate()
        .map(|(n, (_, out, _))| ((RELAYED + n) as i64, (out.key.clone(), out.value.clone())))
        .collect();
    produce_in_order(&topic, cases.into_iter().map(|(_, out, _)| out).collect()).await;
    let ids = RecordingIds::default();

    let effects = Effects::default();
    let consumer = AuditConsumer::new(
        config(&topic, &group)
            // in order: when record 108 is handled, everything before it finished
            .max_in_flight(1)
            .service_name(CONSUMER)
            .error_topic(&error_topic)
            .signature_verification(w.verification(true))
            .error_events_if(mode == Mode::ErrorEvents, &ids),
        crate::versions(),
    )
    .unwrap();
    let summary = guarded(consumer.run(handler(&effects), effects.reached(RELAYED + 1)))
        .await
        .unwrap();

    let mut handled: Vec<usize> = effects.snapshot().into_keys().collect();
    handled.sort_unstable();
    assert_eq!(
        handled,
        vec![0, 1, 2, 3, 4, 108],
        "relayed records and 108 handled"
    );
    assert_eq!(summary.handled, RELAYED as u64 + 1);
    assert_eq!(summary.dead_lettered, expected.len() as u64);
    assert_eq!(summary.signature_rejected, expected.len() as u64);
    assert_eq!(summary.skipped_other_service, 1);
    assert_eq!(
        committed_total(&group, &topic, 1),
        total as i64,
        "rejected and skipped records are committed past"
    );

    let errors = read(&error_topic, expected.len()).await;
    let mut seen: Vec<(i64, (String, String))> = errors
        .iter()
        .map(|m| match mode {
            Mode::RawDeadLetter => {
                let h = headers_of(m);
                assert_eq!(text(&h, ERROR_STAGE_HEADER), "signature");
                let offset: i64 = text(&h, ERROR_OFFSET_HEADER).parse().unwrap();
                assert_eq!(
                    m.payload(),
                    Some(produced[&offset].1.as_slice()),
                    "original value"
                );
                (
                    offset,
                    (
                        text(&h, ERROR_CODE_HEADER),
                        text(&h, ERROR_TEMPORALITY_HEADER),
                    ),
                )
            }
            Mode::ErrorEvents => {
                let (id, event) =
                    audit_error_event::decode_framed_value(m.payload().unwrap()).unwrap();
                assert_eq!(id, EVENT_SCHEMA_ID);
                let (key_id, key) = audit_error_event::decode_framed_key(m.key().unwrap()).unwrap();
                assert_eq!(key_id, KEY_SCHEMA_ID);
                let reference = &event.references.message;
                assert_eq!(reference.topic_name, topic);
                assert_eq!(reference.partition, "0");
                let offset: i64 = reference.offset.parse().unwrap();
                let (original_key, original_value) = &produced[&offset];
                assert_eq!(
                    &event.payload.original_message, original_value,
                    "original bytes"
                );
                assert_eq!(event.payload.original_key.as_ref(), original_key.as_ref());
                assert_eq!(event.publisher.service, CONSUMER);
                let metadata = event.payload.failed_message_metadata.as_ref().unwrap();
                // keyed like jEAP: the failed command's id
                assert_eq!(Some(&key.key), metadata.event_id.as_ref());
                assert_eq!(metadata.service.as_deref(), Some(PUBLISHER));
                assert!(!event.payload.error_message.is_empty());
                let error_type = &event.references.error_type;
                (
                    offset,
                    (error_type.code.clone(), error_type.temporality.clone()),
                )
            }
        })
        .collect();
    seen.sort();
    let want: Vec<(i64, (String, String))> = expected
        .iter()
        .map(|(o, (_, code, temporality))| (*o, ((*code).to_owned(), (*temporality).to_owned())))
        .collect();
    assert_eq!(
        seen, want,
        "code and temporality per case (by source offset)"
    );

    if mode == Mode::ErrorEvents {
        let asked: std::collections::BTreeSet<String> =
            ids.0.lock().unwrap().iter().cloned().collect();
        assert_eq!(
            asked,
            std::collections::BTreeSet::from([
                audit_error_event::value_subject(&error_topic),
                audit_error_event::key_subject(&error_topic),
            ]),
            "TopicRecordNameStrategy subjects of the error topic"
        );
    }
    let snapshot: Snapshot = snapshotter.snapshot().into_vec();
    // metrics: the runtime's rejection counter per outcome, the skip counter, jEAP's value checks
    let rejections = counters(&snapshot, runtime_metrics::SIGNATURE_REJECTIONS, "outcome");
    let want: BTreeMap<String, u64> = expected
        .iter()
        .map(|(_, (name, _, _))| ((*name).to_owned(), 1))
        .collect();
    assert_eq!(rejections, want);
    assert_eq!(
        counters(&snapshot, runtime_metrics::SKIPPED, "reason"),
        BTreeMap::from([("eh_target_service".to_owned(), 1)])
    );
    let checks = counters(
        &snapshot,
        audit_signing::metrics::VALIDATION_OUTCOME,
        "status",
    );
    // value checks: 5 relayed + 108 OK; 100..=105 NOK (106 fails on its key first, 107 skipped)
    assert_eq!(
        checks,
        BTreeMap::from([("NOK".to_owned(), 6), ("OK".to_owned(), RELAYED as u64 + 1)])
    );
}

/// Unsigned records (and signed ones) pass a consumer that does not require signatures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_records_pass_a_non_strict_consumer() {
    let w = world();
    let topic = topic_with(1, "sig-lax");
    let error_topic = topic_with(1, "sig-lax-errors");
    let group = unique("g-sig-lax");
    let good = signer(&w.good, PUBLISHER);
    // 0..6 alternately unsigned and signed; 6 (signed) closes the run
    let records: Vec<Out> = (0..=6)
        .map(|i| {
            if i % 2 == 0 && i < 6 {
                Out {
                    key: None,
                    value: command_value(i),
                    headers: Vec::new(),
                }
            } else {
                signed(&good, Some(b"k"), command_value(i))
            }
        })
        .collect();
    produce_in_order(&topic, records).await;
    let effects = Effects::default();
    let consumer = AuditConsumer::new(
        config(&topic, &group)
            // in order: when 6 is handled, everything before it finished
            .max_in_flight(1)
            .service_name(CONSUMER)
            .error_topic(&error_topic)
            .signature_verification(w.verification(false)),
        crate::versions(),
    )
    .unwrap();
    let last_handled = {
        let effects = effects.clone();
        async move {
            while !effects.snapshot().contains_key(&6) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let summary = guarded(consumer.run(handler(&effects), last_handled))
        .await
        .unwrap();
    assert_eq!(summary.dead_lettered, 0, "nothing rejected");
    assert_eq!(summary.handled, 7);
    assert_eq!(effects.distinct(), 7);
}

/// A certificate in the verifier configuration that does not parse stops the consumer at
/// creation with a typed error.
#[test]
fn an_unparsable_chain_certificate_is_a_typed_error_at_creation() {
    let mut verification = VerifierConfig::default();
    verification.certificate_chains.insert(
        PUBLISHER.into(),
        BTreeMap::from([("main".into(), vec!["not a certificate".to_owned()])]),
    );
    let result = AuditConsumer::new(
        ConsumerConfig::new("127.0.0.1:1", "g", ["t"]).signature_verification(verification),
        crate::versions(),
    );
    assert!(
        matches!(result, Err(audit_consumer::Error::SignatureConfig { .. })),
        "{:?}",
        result.err()
    );
}

/// Without verification, in error-event mode: a value that does not decode is
/// `DESERIALIZATION_FAILED`/`PERMANENT` (keyed by the event's idempotence id: no command id can be
/// read), a permanent handler failure `UNKNOWN_EXCEPTION`/`PERMANENT`, a transient one past the
/// retry bound `UNKNOWN_EXCEPTION`/`TEMPORARY`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_and_handler_failures_become_error_events() {
    let topic = topic_with(1, "ev-fail");
    let error_topic = topic_with(1, "ev-fail-errors");
    let group = unique("g-ev-fail");
    let garbage = b"\x00\x00\x00\x00\x03\xff\xff\xff garbage".to_vec();
    let plain = |value: Vec<u8>| Out {
        key: None,
        value,
        headers: Vec::new(),
    };
    produce_in_order(
        &topic,
        vec![
            plain(garbage.clone()),
            plain(command_value(1)),
            plain(command_value(2)),
            plain(command_value(3)),
        ],
    )
    .await;
    let ids = RecordingIds::default();
    let effects = Effects::default();
    let consumer = AuditConsumer::new(
        config(&topic, &group)
            .max_in_flight(1)
            .retry(
                audit_consumer::runtime::RetryPolicy::new(
                    audit_support::Backoff::new(
                        Duration::from_millis(5),
                        Duration::from_millis(20),
                    )
                    .unwrap(),
                )
                .max_attempts(2),
            )
            .error_topic(&error_topic)
            .error_events_if(true, &ids),
        crate::versions(),
    )
    .unwrap();
    let handler = {
        let effects = effects.clone();
        move |delivery: Arc<Delivery>| {
            let effects = effects.clone();
            async move {
                match index_of(&delivery) {
                    1 => Err(HandlerError::permanent("bad data")),
                    2 => Err(HandlerError::transient("database down")),
                    i => {
                        effects.record(i);
                        Ok(())
                    }
                }
            }
        }
    };
    let summary = guarded(consumer.run(handler, effects.reached(1)))
        .await
        .unwrap();
    assert_eq!(summary.dead_lettered, 3);
    let mut events: Vec<_> = read(&error_topic, 3)
        .await
        .iter()
        .map(|m| {
            let (_, event) = audit_error_event::decode_framed_value(m.payload().unwrap()).unwrap();
            let (_, key) = audit_error_event::decode_framed_key(m.key().unwrap()).unwrap();
            (event, key)
        })
        .collect();
    events.sort_by_key(|(e, _)| e.references.message.offset.clone());
    let summary: Vec<(String, String, String)> = events
        .iter()
        .map(|(e, _)| {
            (
                e.references.message.offset.clone(),
                e.references.error_type.code.clone(),
                e.references.error_type.temporality.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "0".into(),
                "DESERIALIZATION_FAILED".into(),
                "PERMANENT".into()
            ),
            ("1".into(), "UNKNOWN_EXCEPTION".into(), "PERMANENT".into()),
            ("2".into(), "UNKNOWN_EXCEPTION".into(), "TEMPORARY".into()),
        ]
    );
    let (poison, poison_key) = &events[0];
    assert_eq!(poison.payload.original_message, garbage, "bit for bit");
    assert_eq!(poison_key.key, poison.identity.idempotence_id);
    let (failed, _) = &events[1];
    assert!(
        failed
            .payload
            .stack_trace
            .as_deref()
            .unwrap_or_default()
            .contains("bad data"),
        "{:?}",
        failed.payload.stack_trace
    );
}

/// Error events framed with the ids of a real schema registry (rivven-schema) through the
/// registry client: the event and key schemas are registered under the TopicRecordNameStrategy
/// subjects of the error topic, and the event carries exactly those ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_events_carry_the_schema_ids_the_registry_gives_for_the_error_topic_subjects() {
    use audit_registry::{RegistryClient, RegistryConfig};
    let url = audit_testkit::SchemaRegistry::shared().unwrap().url();
    let topic = topic_with(1, "ev-reg");
    let error_topic = topic_with(1, "ev-reg-errors");
    let group = unique("g-ev-reg");
    let garbage = b"not a confluent frame".to_vec();
    produce_in_order(
        &topic,
        vec![
            Out {
                key: Some(b"k0".to_vec()),
                value: garbage.clone(),
                headers: Vec::new(),
            },
            Out {
                key: None,
                value: command_value(1),
                headers: Vec::new(),
            },
        ],
    )
    .await;
    let client = RegistryClient::new(RegistryConfig::new(url.clone()).auto_register(true)).unwrap();
    let events = ErrorEvents::new(
        audit_error_event::ErrorEventConfig::new("TEST", CONSUMER).unwrap(),
        client,
    );
    let effects = Effects::default();
    let consumer = AuditConsumer::new(
        config(&topic, &group)
            .max_in_flight(1)
            .error_topic(&error_topic)
            .error_events(events),
        crate::versions(),
    )
    .unwrap();
    let summary = guarded(consumer.run(handler(&effects), effects.reached(1)))
        .await
        .unwrap();
    assert_eq!(summary.dead_lettered, 1);
    let record = read(&error_topic, 1).await.remove(0);
    let (value_id, event) =
        audit_error_event::decode_framed_value(record.payload().unwrap()).unwrap();
    let (key_id, _) = audit_error_event::decode_framed_key(record.key().unwrap()).unwrap();
    assert_eq!(event.payload.original_message, garbage);
    assert_eq!(event.payload.original_key.as_deref(), Some(&b"k0"[..]));
    assert_eq!(
        event.publisher.service, CONSUMER,
        "the events' service is the consumer's"
    );
    // a fresh client (empty caches) asks the registry
    let fresh = RegistryClient::new(RegistryConfig::new(url).lookup_by_version_scan(true)).unwrap();
    for (subject, schema, id) in [
        (
            audit_error_event::value_subject(&error_topic),
            audit_error_event::EVENT_SCHEMA_JSON,
            value_id,
        ),
        (
            audit_error_event::key_subject(&error_topic),
            audit_error_event::KEY_SCHEMA_JSON,
            key_id,
        ),
    ] {
        let found = fresh
            .lookup(&subject, schema)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{subject} not registered"));
        assert_eq!(found.id, id, "{subject}");
    }
    assert_ne!(value_id, key_id);
}

/// The consumer's futures can be spawned (`Send`), also with verification and error events on.
#[tokio::test]
async fn the_run_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let w = world();
    let consumer = AuditConsumer::new(
        ConsumerConfig::new("127.0.0.1:1", "g", ["t"])
            .error_topic("e")
            .signature_verification(w.verification(true))
            .error_events_if(true, &RecordingIds::default()),
        crate::versions(),
    )
    .unwrap();
    let effects = Effects::default();
    let run = consumer.run(handler(&effects), async {});
    assert_send(&run);
}

/// Error events are signed like every jEAP record when a signer is configured: a strict jEAP
/// subscriber of the error topic (the Error Handling Service) verifies value and key with the
/// consuming service's certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_events_are_signed_with_the_consuming_services_certificate() {
    let world = world();
    let pki = Pki::new().unwrap();
    let consumer_leaf = pki.leaf(CONSUMER, &world.ca, "0x31", 30).unwrap();
    let topic = topic_with(1, "ev-signed");
    let error_topic = topic_with(1, "ev-signed-errors");
    let group = unique("g-ev-signed");
    let garbage = b"\x00\x00\x00\x00\x03\xff\xff\xff garbage".to_vec();
    produce_in_order(
        &topic,
        vec![
            Out {
                key: Some(b"k-1".to_vec()),
                value: garbage.clone(),
                headers: Vec::new(),
            },
            Out {
                key: None,
                value: command_value(1),
                headers: Vec::new(),
            },
        ],
    )
    .await;
    let events = ErrorEvents::with_schema_ids(
        audit_error_event::ErrorEventConfig::new("TEST", CONSUMER).unwrap(),
        41,
        42,
    )
    .signed_by(audit_signing::SignerHandle::new(signer(
        &consumer_leaf,
        CONSUMER,
    )));
    let effects = Effects::default();
    let consumer = AuditConsumer::new(
        config(&topic, &group)
            .max_in_flight(1)
            .error_topic(&error_topic)
            .error_events(events),
        crate::versions(),
    )
    .unwrap();
    let handler = {
        let effects = effects.clone();
        move |delivery: Arc<Delivery>| {
            let effects = effects.clone();
            async move {
                effects.record(index_of(&delivery));
                Ok::<(), HandlerError>(())
            }
        }
    };
    let summary = guarded(consumer.run(handler, effects.reached(1)))
        .await
        .unwrap();
    assert_eq!(summary.dead_lettered, 1);

    let event = read(&error_topic, 1).await.remove(0);
    let headers: Vec<(&str, Option<&[u8]>)> = event
        .headers()
        .map(|h| h.iter().map(|h| (h.key, h.value)).collect())
        .unwrap_or_default();
    let received = audit_signing::ReceivedHeaders::from_headers(headers);
    assert!(
        received.value_signature.is_some() && received.key_signature.is_some(),
        "the error event carries jeap-sign and jeap-sign-key: {:?}",
        headers_of(&event).keys().collect::<Vec<_>>()
    );
    let mut strict = VerifierConfig {
        require_signature: true,
        ..VerifierConfig::default()
    };
    strict.certificate_chains.insert(
        CONSUMER.into(),
        BTreeMap::from([(
            "main".into(),
            vec![consumer_leaf.cert_string(), world.ca.cert_string()],
        )]),
    );
    let verifier = audit_signing::Verifier::new(strict).unwrap();
    let (value, key) = (event.payload().unwrap(), event.key().unwrap());
    let message = audit_signing::MessageInfo {
        type_name: "MessageProcessingFailedEvent",
        service: CONSUMER,
    };
    assert!(matches!(
        verifier.verify_value(Some(message), &received, value),
        Ok(audit_signing::Accepted::Verified { .. })
    ));
    assert!(matches!(
        verifier.verify_key(&received, key),
        Ok(audit_signing::Accepted::Verified { .. })
    ));
    let (_, decoded) = audit_error_event::decode_framed_value(value).unwrap();
    assert_eq!(decoded.publisher.service, CONSUMER);
    assert_eq!(decoded.payload.original_message, garbage);
}
