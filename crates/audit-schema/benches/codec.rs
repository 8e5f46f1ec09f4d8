// Test, benchmark and example arithmetic on small known counts: the cast lints guard library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_lossless
)]
//! Codec benchmark: Avro binary encode and decode of a minimal and a typical
//! `CreateAuditRecordCommand` (3 event-data entries; an audited object with 4 object-data entries
//! of all three kinds) with
//! - `audit_schema`: our generated codec (`encode_datum` into a reused buffer, `from_avro_datum`);
//! - `audit_schema_view` (decode groups only): the zero-copy view `CreateAuditRecordCommandRef`
//!   (same validation, strings and bytes borrowed from the datum);
//! - `apache_avro_serde`: apache-avro 0.22's direct serde path (`GenericDatumWriter::write_ser`,
//!   `GenericDatumReader::read_deser` without a reader schema);
//! - `serde_avro_fast`: `to_datum` into a reused buffer, `from_datum_slice`;
//! - `clone_floor` (decode groups only): `Clone` of the command, i.e. just the heap allocations
//!   of its owned strings and vectors, a floor for any decoder into owned types.
//!
//! The generated types serialize for JSON (RFC 3339 timestamps, bytes as JSON), so the serde
//! libraries get bench-local mirror structs whose serde shape matches the Avro schema (epoch
//! milliseconds, `serialize_bytes`, record names as serde container names, unions as externally
//! tagged enums in branch order whose variants carry the branches' full names). Before
//! measuring, every library's bytes are checked to equal ours and to decode back to the input.
//! (apache-avro's `Value` path, `to_value`, turns an externally tagged enum into a
//! `{type, value}` record rather than a union branch, so it cannot take these types at all.)
//!
//! Run: `cargo bench -p audit-schema --bench codec` (release). Results: `target/criterion/`.
//!
//! `cargo bench -p audit-schema --bench codec -- ratio` instead measures the ratios interleaved:
//! in each of many short rounds every contender runs one batch (in rotating order), and the
//! report gives the median per-round ratio. On a shared machine whose speed drifts, criterion's
//! one-after-the-other groups compare different minutes; the rounds compare the same ones.

// Benchmark set-up: a broken expectation should stop the run loudly.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;

use audit_schema::{
    AuditContext, AuditEventDataElement, AuditEventDetails, AuditEventType, AuditObject,
    AuditObjectData, AuditObjectDataJSON, AuditObjectDataRole, AuditObjectDataS3,
    AuditObjectDataValue, AuditSystemComponent, AuditTrigger, AuditUser, AvroMessageIdentity,
    AvroMessagePublisher, AvroMessageType, CreateAuditRecordCommand,
    CreateAuditRecordCommandPayload, CreateAuditRecordCommandReferences, SchemaVersion,
};
use chrono::DateTime;
use criterion::{Criterion, criterion_group};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// The two commands.

fn minimal() -> CreateAuditRecordCommand {
    CreateAuditRecordCommand {
        identity: AvroMessageIdentity {
            id: "0b9a3c2e-8f1d-4a57-9a43-5d0c1e2f3a4b".into(),
            idempotence_id: "audit-0b9a3c2e-8f1d-4a57-9a43-5d0c1e2f3a4b".into(),
            created: DateTime::from_timestamp_millis(1_700_000_000_123).unwrap(),
        },
        r#type: AvroMessageType {
            name: "CreateAuditRecordCommand".into(),
            version: "1.0.2".into(),
            variant: None,
        },
        publisher: AvroMessagePublisher {
            system: "JME".into(),
            service: "jme-audit-service".into(),
        },
        references: CreateAuditRecordCommandReferences {},
        payload: CreateAuditRecordCommandPayload {
            timestamp: DateTime::from_timestamp_millis(1_700_000_000_000).unwrap(),
            event: AuditEventDetails {
                r#type: AuditEventType::Read,
                context: None,
                event_data: None,
            },
            trigger: AuditTrigger::AuditUser(AuditUser {
                id: "user-1".into(),
                identity_provider: "eIAM".into(),
            }),
            audited_data: None,
        },
        process_id: None,
        command_version: "1.0.2".into(),
    }
}

fn typical() -> CreateAuditRecordCommand {
    let mut cmd = minimal();
    cmd.process_id = Some("process-42".into());
    cmd.payload.event = AuditEventDetails {
        r#type: AuditEventType::Modified,
        context: Some(AuditContext {
            use_case: "change-address".into(),
            process_id: Some("process-42".into()),
        }),
        event_data: Some(
            [
                ("reason", "customer request"),
                ("channel", "web"),
                ("ticket", "T-1234"),
            ]
            .into_iter()
            .map(|(k, v)| AuditEventDataElement {
                key: k.into(),
                value: v.into(),
            })
            .collect(),
        ),
    };
    cmd.payload.trigger = AuditTrigger::AuditSystemComponent(AuditSystemComponent {
        department: "BIT".into(),
        system: "JME".into(),
        component: "address-service".into(),
    });
    cmd.payload.audited_data = Some(AuditObject {
        r#type: "Address".into(),
        id: "addr-77".into(),
        version: Some("3".into()),
        object_data: Some(vec![
            AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
                role: Some(AuditObjectDataRole::Old),
                name: "street".into(),
                value: Some("Bahnhofstrasse 1".into()),
            }),
            AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
                role: Some(AuditObjectDataRole::New),
                name: "street".into(),
                value: Some("Bundesplatz 3".into()),
            }),
            AuditObjectData::AuditObjectDataJSON(AuditObjectDataJSON {
                role: None,
                name: "address".into(),
                json_as_utf8: br#"{"zip":"3003","city":"Bern"}"#.to_vec(),
            }),
            AuditObjectData::AuditObjectDataS3(AuditObjectDataS3 {
                role: Some(AuditObjectDataRole::New),
                name: "scan".into(),
                object_reference: "s3://audit/addr-77/scan.pdf".into(),
            }),
        ]),
    });
    cmd
}

// ---------------------------------------------------------------------------------------------
// Mirror types with the serde shape of the Avro schema (field names, branch order, millis).

mod mirror {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[serde(rename = "CreateAuditRecordCommand")]
    pub struct Command {
        pub identity: Identity,
        #[serde(rename = "type")]
        pub message_type: MessageType,
        pub publisher: Publisher,
        pub references: References,
        pub payload: Payload,
        pub process_id: Option<String>,
        pub command_version: String,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[serde(rename = "AvroMessageIdentity")]
    pub struct Identity {
        pub id: String,
        pub idempotence_id: String,
        pub created: i64,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "AvroMessageType")]
    pub struct MessageType {
        pub name: String,
        pub version: String,
        pub variant: Option<String>,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "AvroMessagePublisher")]
    pub struct Publisher {
        pub system: String,
        pub service: String,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "CreateAuditRecordCommandReferences")]
    pub struct References {}
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[serde(rename = "CreateAuditRecordCommandPayload")]
    pub struct Payload {
        pub timestamp: i64,
        pub event: Event,
        pub trigger: Trigger,
        pub audited_data: Option<Object>,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[serde(rename = "AuditEventDetails")]
    pub struct Event {
        #[serde(rename = "type")]
        pub event_type: EventType,
        pub context: Option<Context>,
        pub event_data: Option<Vec<EventData>>,
    }
    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    #[serde(rename = "AuditEventType")]
    pub enum EventType {
        Created,
        Read,
        Listed,
        Modified,
        Disclosed,
        Destroyed,
        Deleted,
        Unknown,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[serde(rename = "AuditContext")]
    pub struct Context {
        pub use_case: String,
        pub process_id: Option<String>,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "AuditEventDataElement")]
    pub struct EventData {
        pub key: String,
        pub value: String,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub enum Trigger {
        #[serde(rename = "ch.admin.bit.jeap.audit.record.create.AuditUser")]
        AuditUser(User),
        #[serde(rename = "ch.admin.bit.jeap.audit.record.create.AuditSystemComponent")]
        AuditSystemComponent(SystemComponent),
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[serde(rename = "AuditUser")]
    pub struct User {
        pub id: String,
        pub identity_provider: String,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "AuditSystemComponent")]
    pub struct SystemComponent {
        pub department: String,
        pub system: String,
        pub component: String,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[serde(rename = "AuditObject")]
    pub struct Object {
        #[serde(rename = "type")]
        pub object_type: String,
        pub id: String,
        pub version: Option<String>,
        pub object_data: Option<Vec<ObjectData>>,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[allow(clippy::enum_variant_names)]
    pub enum ObjectData {
        #[serde(rename = "ch.admin.bit.jeap.audit.record.create.AuditObjectDataValue")]
        AuditObjectDataValue(DataValue),
        #[serde(rename = "ch.admin.bit.jeap.audit.record.create.AuditObjectDataJSON")]
        AuditObjectDataJson(DataJson),
        #[serde(rename = "ch.admin.bit.jeap.audit.record.create.AuditObjectDataS3")]
        AuditObjectDataS3(DataS3),
    }
    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    #[serde(rename = "AuditObjectDataRole")]
    pub enum Role {
        New,
        Old,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "AuditObjectDataValue")]
    pub struct DataValue {
        pub role: Option<Role>,
        pub name: String,
        pub value: Option<String>,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "AuditObjectDataJSON")]
    pub struct DataJson {
        pub role: Option<Role>,
        pub name: String,
        #[serde(rename = "jsonAsUTF8", with = "avro_bytes")]
        pub json_as_utf8: Vec<u8>,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[serde(rename = "AuditObjectDataS3")]
    pub struct DataS3 {
        pub role: Option<Role>,
        pub name: String,
        pub object_reference: String,
    }

    /// `bytes` through `serialize_bytes` / a bytes visitor (what Avro serde libraries expect).
    mod avro_bytes {
        use serde::Serializer;
        use serde::de::{Deserializer, Error, SeqAccess, Visitor};

        pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Vec<u8>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                    Ok(v.to_vec())
                }
                fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                    Ok(v)
                }
                fn visit_str<E: Error>(self, v: &str) -> Result<Vec<u8>, E> {
                    Ok(v.as_bytes().to_vec())
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                    let mut out = Vec::new();
                    while let Some(b) = seq.next_element::<u8>()? {
                        out.push(b);
                    }
                    Ok(out)
                }
            }
            d.deserialize_bytes(V)
        }
    }
}

fn role(r: Option<AuditObjectDataRole>) -> Option<mirror::Role> {
    r.map(|r| match r {
        AuditObjectDataRole::New => mirror::Role::New,
        AuditObjectDataRole::Old => mirror::Role::Old,
    })
}

fn to_mirror(c: &CreateAuditRecordCommand) -> mirror::Command {
    use mirror::*;
    let p = &c.payload;
    Command {
        identity: Identity {
            id: c.identity.id.to_string(),
            idempotence_id: c.identity.idempotence_id.to_string(),
            created: c.identity.created.timestamp_millis(),
        },
        message_type: MessageType {
            name: c.r#type.name.to_string(),
            version: c.r#type.version.to_string(),
            variant: c.r#type.variant.as_deref().map(str::to_owned),
        },
        publisher: Publisher {
            system: c.publisher.system.to_string(),
            service: c.publisher.service.to_string(),
        },
        references: References {},
        payload: Payload {
            timestamp: p.timestamp.timestamp_millis(),
            event: Event {
                event_type: match p.event.r#type {
                    AuditEventType::Created => EventType::Created,
                    AuditEventType::Read => EventType::Read,
                    AuditEventType::Listed => EventType::Listed,
                    AuditEventType::Modified => EventType::Modified,
                    AuditEventType::Disclosed => EventType::Disclosed,
                    AuditEventType::Destroyed => EventType::Destroyed,
                    AuditEventType::Deleted => EventType::Deleted,
                    AuditEventType::Unknown => EventType::Unknown,
                },
                context: p.event.context.as_ref().map(|x| Context {
                    use_case: x.use_case.to_string(),
                    process_id: x.process_id.as_deref().map(str::to_owned),
                }),
                event_data: p.event.event_data.as_ref().map(|v| {
                    v.iter()
                        .map(|e| EventData {
                            key: e.key.to_string(),
                            value: e.value.to_string(),
                        })
                        .collect()
                }),
            },
            trigger: match &p.trigger {
                AuditTrigger::AuditUser(u) => Trigger::AuditUser(User {
                    id: u.id.to_string(),
                    identity_provider: u.identity_provider.to_string(),
                }),
                AuditTrigger::AuditSystemComponent(s) => {
                    Trigger::AuditSystemComponent(SystemComponent {
                        department: s.department.to_string(),
                        system: s.system.to_string(),
                        component: s.component.to_string(),
                    })
                }
            },
            audited_data: p.audited_data.as_ref().map(|o| Object {
                object_type: o.r#type.to_string(),
                id: o.id.to_string(),
                version: o.version.as_deref().map(str::to_owned),
                object_data: o.object_data.as_ref().map(|items| {
                    items
                        .iter()
                        .map(|d| match d {
                            AuditObjectData::AuditObjectDataValue(v) => {
                                ObjectData::AuditObjectDataValue(DataValue {
                                    role: role(v.role),
                                    name: v.name.to_string(),
                                    value: v.value.as_deref().map(str::to_owned),
                                })
                            }
                            AuditObjectData::AuditObjectDataJSON(j) => {
                                ObjectData::AuditObjectDataJson(DataJson {
                                    role: role(j.role),
                                    name: j.name.to_string(),
                                    json_as_utf8: j.json_as_utf8.clone(),
                                })
                            }
                            AuditObjectData::AuditObjectDataS3(s) => {
                                ObjectData::AuditObjectDataS3(DataS3 {
                                    role: role(s.role),
                                    name: s.name.to_string(),
                                    object_reference: s.object_reference.to_string(),
                                })
                            }
                        })
                        .collect()
                }),
            }),
        },
        process_id: c.process_id.as_deref().map(str::to_owned),
        command_version: c.command_version.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------

struct Libraries<'s> {
    apache_writer: apache_avro::writer::datum::GenericDatumWriter<'s>,
    apache_reader: apache_avro::reader::datum::GenericDatumReader<'s>,
    fast_schema: &'s serde_avro_fast::Schema,
}

impl Libraries<'_> {
    fn apache_serde_encode(&self, m: &mirror::Command, out: &mut Vec<u8>) {
        self.apache_writer
            .write_ser(out, m)
            .expect("apache-avro write_ser");
    }

    fn apache_serde_decode(&self, bytes: &[u8]) -> mirror::Command {
        self.apache_reader
            .read_deser(&mut &bytes[..])
            .expect("apache-avro read_deser")
    }

    fn fast_decode(&self, bytes: &[u8]) -> mirror::Command {
        serde_avro_fast::from_datum_slice(bytes, self.fast_schema)
            .expect("serde_avro_fast from_datum_slice")
    }
}

fn fast_encode(
    m: &mirror::Command,
    out: Vec<u8>,
    config: &mut serde_avro_fast::ser::SerializerConfig<'_>,
) -> Vec<u8> {
    serde_avro_fast::to_datum(m, out, config).expect("serde_avro_fast to_datum")
}

/// Every library writes our bytes and reads them back to the same value.
fn check(libs: &Libraries<'_>, cmd: &CreateAuditRecordCommand, label: &str) {
    let ours = cmd.to_avro_datum();
    let m = to_mirror(cmd);
    assert_eq!(
        CreateAuditRecordCommand::from_avro_datum(&ours).expect("our decode"),
        *cmd,
        "{label}: ours"
    );

    let mut out = Vec::new();
    libs.apache_serde_encode(&m, &mut out);
    assert_eq!(out, ours, "{label}: apache-avro write_ser bytes");
    assert_eq!(
        libs.apache_serde_decode(&ours),
        m,
        "{label}: apache-avro read_deser"
    );

    let mut config = serde_avro_fast::ser::SerializerConfig::new(libs.fast_schema);
    assert_eq!(
        fast_encode(&m, Vec::new(), &mut config),
        ours,
        "{label}: serde_avro_fast bytes"
    );
    assert_eq!(
        libs.fast_decode(&ours),
        m,
        "{label}: serde_avro_fast decode"
    );
}

fn bench(c: &mut Criterion) {
    let json = SchemaVersion::LATEST.schema_json();
    let apache_schema =
        apache_avro::Schema::parse_str(json).expect("apache-avro parses the schema");
    let fast_schema: serde_avro_fast::Schema =
        json.parse().expect("serde_avro_fast parses the schema");
    // Built once, outside the measured loops (resolving the schema is set-up, not codec work).
    let libs = Libraries {
        apache_writer: apache_avro::writer::datum::GenericDatumWriter::builder(&apache_schema)
            .build()
            .expect("writer"),
        apache_reader: apache_avro::reader::datum::GenericDatumReader::builder(&apache_schema)
            .build()
            .expect("reader"),
        fast_schema: &fast_schema,
    };
    for (label, cmd) in [("minimal", minimal()), ("typical", typical())] {
        check(&libs, &cmd, label);
        let bytes = cmd.to_avro_datum();
        eprintln!("{label} command: {} bytes as an Avro datum", bytes.len());
        let m = to_mirror(&cmd);

        let mut g = c.benchmark_group(format!("encode/{label}"));
        let mut buf = Vec::with_capacity(1024);
        g.bench_function("audit_schema", |b| {
            b.iter(|| {
                buf.clear();
                black_box(&cmd).encode_datum(&mut buf);
                black_box(buf.len())
            })
        });
        g.bench_function("apache_avro_serde", |b| {
            b.iter(|| {
                buf.clear();
                libs.apache_serde_encode(black_box(&m), &mut buf);
                black_box(buf.len())
            })
        });
        let mut config = serde_avro_fast::ser::SerializerConfig::new(&fast_schema);
        let mut fast_buf = Vec::with_capacity(1024);
        g.bench_function("serde_avro_fast", |b| {
            b.iter(|| {
                fast_buf.clear();
                fast_buf = fast_encode(black_box(&m), std::mem::take(&mut fast_buf), &mut config);
                black_box(fast_buf.len())
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("decode/{label}"));
        g.bench_function("audit_schema", |b| {
            b.iter(|| CreateAuditRecordCommand::from_avro_datum(black_box(&bytes)).expect("decode"))
        });
        // Zero-copy decode: the same validation (UTF-8, union/enum indexes, bounds), strings and
        // bytes borrowed from the datum instead of allocated.
        g.bench_function("audit_schema_view", |b| {
            b.iter(|| {
                audit_schema::CreateAuditRecordCommandRef::from_avro_datum(black_box(&bytes))
                    .expect("decode")
            })
        });
        g.bench_function("apache_avro_serde", |b| {
            b.iter(|| libs.apache_serde_decode(black_box(&bytes)))
        });
        g.bench_function("serde_avro_fast", |b| {
            b.iter(|| libs.fast_decode(black_box(&bytes)))
        });
        // Reference, not a codec: cloning the command makes the same heap allocations a decoder
        // must make for the owned strings and vectors, so no owned decode can be faster.
        g.bench_function("clone_floor", |b| b.iter(|| black_box(&cmd).clone()));
        g.finish();
    }
}

/// Shorter than criterion's defaults (the machine is shared); still enough samples for stable
/// means at these sub-microsecond to microsecond timings.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3))
        .sample_size(60)
}

criterion_group! { name = benches; config = config(); targets = bench }

fn main() {
    if std::env::args().skip(1).any(|a| a == "ratio") {
        ratio::run();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

/// Interleaved measurement (`-- ratio`): median of per-round ratios, robust to machine drift.
mod ratio {
    use std::time::{Duration, Instant};

    use super::{CreateAuditRecordCommand, Libraries, black_box, minimal, to_mirror, typical};

    const ROUNDS: usize = 300;
    const BATCH_TIME: Duration = Duration::from_millis(2);

    type Job<'a> = Box<dyn FnMut() + 'a>;

    /// Iterations of `job` that take about `BATCH_TIME`.
    fn batch_size(job: &mut Job<'_>) -> u32 {
        let mut n = 1u32;
        loop {
            let t = Instant::now();
            for _ in 0..n {
                job();
            }
            if t.elapsed() >= BATCH_TIME / 4 || n >= 1 << 24 {
                return n.saturating_mul(4);
            }
            n = n.saturating_mul(2);
        }
    }

    fn median(v: &mut [f64]) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    fn pct(v: &mut [f64], p: usize) -> f64 {
        v.sort_by(f64::total_cmp);
        v[(v.len() - 1) * p / 100]
    }

    /// Runs the contenders interleaved; the first is the baseline of the ratios.
    fn compare(title: &str, mut jobs: Vec<(&str, Job<'_>)>) {
        let sizes: Vec<u32> = jobs.iter_mut().map(|(_, j)| batch_size(j)).collect();
        let mut ns: Vec<Vec<f64>> = vec![Vec::with_capacity(ROUNDS); jobs.len()];
        for round in 0..ROUNDS {
            for k in 0..jobs.len() {
                let i = (round + k) % jobs.len();
                let (_, job) = &mut jobs[i];
                let t = Instant::now();
                for _ in 0..sizes[i] {
                    job();
                }
                ns[i].push(t.elapsed().as_nanos() as f64 / f64::from(sizes[i]));
            }
        }
        println!("{title}");
        for (i, (name, _)) in jobs.iter().enumerate() {
            let mut ratios: Vec<f64> = ns[0].iter().zip(&ns[i]).map(|(b, x)| b / x).collect();
            let med_ns = median(&mut ns[i].clone());
            println!(
                "  {name:<22} {med_ns:>9.0} ns/op   {:>5.2}x  (rounds p10..p90: {:.2}x..{:.2}x)",
                median(&mut ratios),
                pct(&mut ratios, 10),
                pct(&mut ratios, 90),
            );
        }
    }

    pub(super) fn run() {
        let json = audit_schema::SchemaVersion::LATEST.schema_json();
        let schema = apache_avro::Schema::parse_str(json).expect("apache-avro parses the schema");
        let libs = Libraries {
            apache_writer: apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
                .build()
                .expect("writer"),
            apache_reader: apache_avro::reader::datum::GenericDatumReader::builder(&schema)
                .build()
                .expect("reader"),
            fast_schema: &json.parse().expect("serde_avro_fast parses the schema"),
        };
        println!(
            "{ROUNDS} interleaved rounds of ~{} ms per contender; ratio = apache-avro serde time / contender time",
            BATCH_TIME.as_millis()
        );
        for (label, cmd) in [("typical", typical()), ("minimal", minimal())] {
            super::check(&libs, &cmd, label);
            let bytes = cmd.to_avro_datum();
            let m = to_mirror(&cmd);
            let (libs, bytes, cmd, m) = (&libs, &bytes, &cmd, &m);
            compare(
                &format!("decode/{label} ({} bytes)", bytes.len()),
                vec![
                    (
                        "apache_avro_serde",
                        Box::new(move || {
                            black_box(libs.apache_serde_decode(black_box(bytes)));
                        }),
                    ),
                    (
                        "audit_schema",
                        Box::new(move || {
                            black_box(
                                CreateAuditRecordCommand::from_avro_datum(black_box(bytes))
                                    .expect("decode"),
                            );
                        }),
                    ),
                    (
                        "audit_schema_view",
                        Box::new(move || {
                            black_box(
                                audit_schema::CreateAuditRecordCommandRef::from_avro_datum(
                                    black_box(bytes),
                                )
                                .expect("decode"),
                            );
                        }),
                    ),
                ],
            );
            let (mut b1, mut b2) = (Vec::with_capacity(1024), Vec::with_capacity(1024));
            compare(
                &format!("encode/{label}"),
                vec![
                    (
                        "apache_avro_serde",
                        Box::new(move || {
                            b1.clear();
                            libs.apache_serde_encode(black_box(m), &mut b1);
                            black_box(b1.len());
                        }),
                    ),
                    (
                        "audit_schema",
                        Box::new(move || {
                            b2.clear();
                            black_box(cmd).encode_datum(&mut b2);
                            black_box(b2.len());
                        }),
                    ),
                ],
            );
        }
    }
}

// The mirror types' serde derives are only used through the libraries above.
const _: fn() = || {
    fn assert_serde<T: Serialize + for<'de> Deserialize<'de>>() {}
    assert_serde::<mirror::Command>();
};
