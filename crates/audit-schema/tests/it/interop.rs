//! Cross-implementation tests against Python's `avro` 1.12 (the Apache reference implementation)
//! and `fastavro`, through `scripts/python/interop.py`, for each of the three schema versions as
//! writer:
//! - bytes we write (`to_avro_datum`, `to_avro_datum_as`) decode there to the expected datum;
//! - bytes they write decode here (`from_avro_datum_as`) to the command they were made from,
//!   and are byte-for-byte the bytes we write;
//! - the committed fixtures under `tests/fixtures/python-avro/` (written by Python `avro`, also
//!   with a writer whose enum has a symbol our reader does not know) decode here.
//!
//! The interpreter comes from `AUDIT_PYTHON` or `<repo>/.venv/bin/python`, which
//! `scripts/ensure-python.sh` (run by `make prep` / `make test`) creates. Without it these tests
//! fail; they never skip.
//!
//! Exchange form with Python: the Avro JSON encoding of the specification (unions as
//! `{"<branch full name>": value}`, timestamps as epoch milliseconds, bytes as ISO-8859-1 code
//! points), see the docstring of `interop.py`. `avro_json` below produces it from a command for
//! a given writer version, independently of the codec under test.

// Test code: a failed expectation is a panic with a message.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use audit_schema::{
    AuditContext, AuditEventDataElement, AuditEventDetails, AuditEventType, AuditObject,
    AuditObjectData, AuditObjectDataJSON, AuditObjectDataRole, AuditObjectDataS3,
    AuditObjectDataValue, AuditSystemComponent, AuditTrigger, AuditUser, AvroMessageIdentity,
    AvroMessagePublisher, AvroMessageType, CompactString, CreateAuditRecordCommand,
    CreateAuditRecordCommandPayload, CreateAuditRecordCommandReferences, SchemaVersion,
    WriterSchema,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

const NS: &str = "ch.admin.bit.jeap.audit.record.create";

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn schema_path(version: SchemaVersion) -> PathBuf {
    repo_root().join(format!(
        "avro/CreateAuditRecordCommand_v{}.avsc",
        version.as_str()
    ))
}

/// The Python interpreter with `avro` and `fastavro`: `AUDIT_PYTHON`, else `<repo>/.venv/bin/python`.
pub(crate) fn python() -> PathBuf {
    let (path, origin) = match std::env::var_os("AUDIT_PYTHON") {
        Some(p) => (PathBuf::from(p), "AUDIT_PYTHON"),
        None => (
            repo_root().join(".venv/bin/python"),
            "the default <repo>/.venv",
        ),
    };
    assert!(
        path.is_file(),
        "no Python interpreter at {} ({origin}): run `bash scripts/ensure-python.sh` (or `make prep`) \
         to create the venv with avro 1.12 and fastavro, or set AUDIT_PYTHON",
        path.display()
    );
    path
}

/// Runs `scripts/python/<script>` with `args`, feeding `stdin`; panics with stderr on failure.
pub(crate) fn run_python(script: &str, args: &[&str], stdin: &str) -> String {
    let script_path = repo_root().join("scripts/python").join(script);
    let mut child = Command::new(python())
        .arg(&script_path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start Python for {script}: {e}"));
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .unwrap_or_else(|e| panic!("cannot feed {script}: {e}"));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{script} did not finish: {e}"));
    assert!(
        out.status.success(),
        "{script} {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("{script} printed non-UTF-8: {e}"))
}

fn ts(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis)
        .unwrap_or_else(|| panic!("timestamp {millis} out of range"))
}

/// A small deterministic generator (xorshift64*), so the commands are varied but reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
    fn string(&mut self) -> CompactString {
        const PIECES: &[&str] = &[
            "a", "Z", "0", "-", " ", "é", "日本", "🦀", "\"", "\\", "\n", "\u{0}", "ß",
        ];
        let len = match self.below(10) {
            0 => 0,
            1 => 64 + self.below(200) as usize, // lengths whose zig-zag varint takes 2 bytes
            _ => self.below(12) as usize,
        };
        (0..len)
            .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
            .collect()
    }
    fn opt_string(&mut self) -> Option<CompactString> {
        self.coin().then(|| self.string())
    }
    fn millis(&mut self) -> i64 {
        // Within Python's datetime range (years 1..=9999), both signs, all magnitudes.
        const MIN: i64 = -62_135_596_800_000;
        const MAX: i64 = 253_402_300_799_999;
        match self.below(4) {
            0 => 1_700_000_000_000 + self.below(100_000_000_000) as i64,
            1 => -(self.below(1 << 20) as i64),
            2 => MIN + self.below((MAX - MIN) as u64) as i64,
            _ => self.below(1 << 33) as i64,
        }
    }
    fn role(&mut self) -> Option<AuditObjectDataRole> {
        match self.below(3) {
            0 => None,
            1 => Some(AuditObjectDataRole::New),
            _ => Some(AuditObjectDataRole::Old),
        }
    }
    fn bytes(&mut self) -> Vec<u8> {
        match self.below(3) {
            0 => br#"{"a":1,"b":[true,null]}"#.to_vec(),
            1 => (0..self.below(300)).map(|_| self.next() as u8).collect(),
            _ => Vec::new(),
        }
    }
}

/// Varied commands with every optional part present and absent: hand-picked edge cases plus
/// pseudo-random ones. Every object-data `value` is `Some` when `old_compatible` (1.0.0 and
/// 1.0.1 cannot carry `None` there).
pub(crate) fn sample_commands(count: usize, old_compatible: bool) -> Vec<CreateAuditRecordCommand> {
    let mut out = vec![minimal_command(), typical_command()];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    while out.len() < count {
        let event_data = rng.coin().then(|| {
            (0..rng.below(5))
                .map(|_| AuditEventDataElement {
                    key: rng.string(),
                    value: rng.string(),
                })
                .collect()
        });
        let object_data = rng.coin().then(|| {
            (0..rng.below(6))
                .map(|_| match rng.below(3) {
                    0 => AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
                        role: rng.role(),
                        name: rng.string(),
                        value: if old_compatible {
                            Some(rng.string())
                        } else {
                            rng.opt_string()
                        },
                    }),
                    1 => AuditObjectData::AuditObjectDataJSON(AuditObjectDataJSON {
                        role: rng.role(),
                        name: rng.string(),
                        json_as_utf8: rng.bytes(),
                    }),
                    _ => AuditObjectData::AuditObjectDataS3(AuditObjectDataS3 {
                        role: rng.role(),
                        name: rng.string(),
                        object_reference: rng.string(),
                    }),
                })
                .collect()
        });
        let audited_data = rng.coin().then(|| AuditObject {
            r#type: rng.string(),
            id: rng.string(),
            version: rng.opt_string(),
            object_data,
        });
        let trigger = if rng.coin() {
            AuditTrigger::AuditUser(AuditUser {
                id: rng.string(),
                identity_provider: rng.string(),
            })
        } else {
            AuditTrigger::AuditSystemComponent(AuditSystemComponent {
                department: rng.string(),
                system: rng.string(),
                component: rng.string(),
            })
        };
        let event_type = AuditEventType::from_symbol(
            AuditEventType::SYMBOLS[rng.below(AuditEventType::SYMBOLS.len() as u64) as usize],
        )
        .unwrap_or_else(|| panic!("SYMBOLS and from_symbol disagree"));
        out.push(CreateAuditRecordCommand {
            identity: AvroMessageIdentity {
                id: rng.string(),
                idempotence_id: rng.string(),
                created: ts(rng.millis()),
            },
            r#type: AvroMessageType {
                name: rng.string(),
                version: rng.string(),
                variant: rng.opt_string(),
            },
            publisher: AvroMessagePublisher {
                system: rng.string(),
                service: rng.string(),
            },
            references: CreateAuditRecordCommandReferences {},
            payload: CreateAuditRecordCommandPayload {
                timestamp: ts(rng.millis()),
                event: AuditEventDetails {
                    r#type: event_type,
                    context: rng.coin().then(|| AuditContext {
                        use_case: rng.string(),
                        process_id: rng.opt_string(),
                    }),
                    event_data,
                },
                trigger,
                audited_data,
            },
            process_id: rng.opt_string(),
            command_version: rng.string(),
        });
    }
    out
}

/// Only the required parts.
pub(crate) fn minimal_command() -> CreateAuditRecordCommand {
    CreateAuditRecordCommand {
        identity: AvroMessageIdentity {
            id: "0b9a3c2e-8f1d-4a57-9a43-5d0c1e2f3a4b".into(),
            idempotence_id: "audit-0b9a3c2e".into(),
            created: ts(1_700_000_000_123),
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
            timestamp: ts(1_700_000_000_000),
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

/// Three event-data entries and an audited object with four object-data entries of all kinds.
pub(crate) fn typical_command() -> CreateAuditRecordCommand {
    let mut cmd = minimal_command();
    cmd.r#type.variant = Some("v".into());
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

fn tagged(branch: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(branch.to_owned(), value);
    Value::Object(m)
}

fn named(short: &str, value: Value) -> Value {
    tagged(&format!("{NS}.{short}"), value)
}

fn opt_string(s: Option<&CompactString>) -> Value {
    s.map_or(Value::Null, |s| tagged("string", json!(s)))
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

fn role(r: Option<AuditObjectDataRole>) -> Value {
    r.map_or(Value::Null, |r| {
        named("AuditObjectDataRole", json!(r.as_str()))
    })
}

/// The Avro JSON encoding of `cmd` under the schema of `version`; `None` when `cmd` has no
/// representation there (an object-data `value` of `None` before 1.0.2).
pub(crate) fn avro_json(cmd: &CreateAuditRecordCommand, version: SchemaVersion) -> Option<Value> {
    let p = &cmd.payload;
    let context = p.event.context.as_ref().map_or(Value::Null, |c| {
        named(
            "AuditContext",
            json!({"useCase": c.use_case, "processId": opt_string(c.process_id.as_ref())}),
        )
    });
    let event_data = p.event.event_data.as_ref().map_or(Value::Null, |items| {
        tagged(
            "array",
            Value::Array(
                items
                    .iter()
                    .map(|e| json!({"key": e.key, "value": e.value}))
                    .collect(),
            ),
        )
    });
    let trigger = match &p.trigger {
        AuditTrigger::AuditUser(u) => named(
            "AuditUser",
            json!({"id": u.id, "identityProvider": u.identity_provider}),
        ),
        AuditTrigger::AuditSystemComponent(s) => named(
            "AuditSystemComponent",
            json!({"department": s.department, "system": s.system, "component": s.component}),
        ),
    };
    let audited = match &p.audited_data {
        None => Value::Null,
        Some(o) => {
            let data = match &o.object_data {
                None => Value::Null,
                Some(items) => {
                    let mut array = Vec::with_capacity(items.len());
                    for item in items {
                        array.push(match item {
                            AuditObjectData::AuditObjectDataValue(v) => {
                                let value = if version == SchemaVersion::V1_0_2 {
                                    opt_string(v.value.as_ref())
                                } else {
                                    json!(v.value.as_ref()?)
                                };
                                named(
                                    "AuditObjectDataValue",
                                    json!({"role": role(v.role), "name": v.name, "value": value}),
                                )
                            }
                            AuditObjectData::AuditObjectDataJSON(j) => named(
                                "AuditObjectDataJSON",
                                json!({"role": role(j.role), "name": j.name, "jsonAsUTF8": latin1(&j.json_as_utf8)}),
                            ),
                            AuditObjectData::AuditObjectDataS3(s) => named(
                                "AuditObjectDataS3",
                                json!({"role": role(s.role), "name": s.name, "objectReference": s.object_reference}),
                            ),
                        });
                    }
                    tagged("array", Value::Array(array))
                }
            };
            named(
                "AuditObject",
                json!({"type": o.r#type, "id": o.id, "version": opt_string(o.version.as_ref()), "objectData": data}),
            )
        }
    };
    Some(json!({
        "identity": {
            "id": cmd.identity.id,
            "idempotenceId": cmd.identity.idempotence_id,
            "created": cmd.identity.created.timestamp_millis(),
        },
        "type": {"name": cmd.r#type.name, "version": cmd.r#type.version, "variant": opt_string(cmd.r#type.variant.as_ref())},
        "publisher": {"system": cmd.publisher.system, "service": cmd.publisher.service},
        "references": {},
        "payload": {
            "timestamp": p.timestamp.timestamp_millis(),
            "event": {"type": p.event.r#type.as_str(), "context": context, "eventData": event_data},
            "trigger": trigger,
            "auditedData": audited,
        },
        "processId": opt_string(cmd.process_id.as_ref()),
        "commandVersion": cmd.command_version,
    }))
}

/// Our encoding of `cmd` with `version` as the writer schema.
pub(crate) fn encode_as(cmd: &CreateAuditRecordCommand, version: SchemaVersion) -> Vec<u8> {
    if version == SchemaVersion::LATEST {
        cmd.to_avro_datum()
    } else {
        cmd.to_avro_datum_as(version)
            .unwrap_or_else(|e| panic!("to_avro_datum_as({}) failed: {e}", version.as_str()))
    }
}

fn hex_lines(datums: &[Vec<u8>]) -> String {
    datums
        .iter()
        .map(|d| format!("{}\n", json!({"hex": hex::encode(d)})))
        .collect()
}

fn parse_hex_lines(text: &str) -> Vec<Vec<u8>> {
    text.lines()
        .map(|line| {
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("bad line {line}: {e}"));
            hex::decode(v["hex"].as_str().unwrap_or_default())
                .unwrap_or_else(|e| panic!("bad hex: {e}"))
        })
        .collect()
}

fn parse_json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("bad line {line}: {e}")))
        .collect()
}

const IMPLS: [&str; 2] = ["avro", "fastavro"];

fn path_str(p: &Path) -> String {
    p.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", p.display()))
        .to_owned()
}

#[test]
fn bytes_we_write_decode_in_python_for_every_writer_version() {
    for &version in SchemaVersion::ALL {
        let commands = sample_commands(120, version != SchemaVersion::V1_0_2);
        let datums: Vec<Vec<u8>> = commands.iter().map(|c| encode_as(c, version)).collect();
        let expected: Vec<Value> = commands
            .iter()
            .map(|c| avro_json(c, version).unwrap_or_else(|| panic!("sample not representable")))
            .collect();
        let schema = path_str(&schema_path(version));
        let latest = path_str(&schema_path(SchemaVersion::LATEST));
        for implementation in IMPLS {
            let got = parse_json_lines(&run_python(
                "interop.py",
                &["read", "--impl", implementation, "--schema", &schema],
                &hex_lines(&datums),
            ));
            assert_eq!(got.len(), expected.len());
            for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                assert_eq!(
                    g,
                    e,
                    "{implementation} read of datum {i} written as {}",
                    version.as_str()
                );
            }
            // Python's own schema resolution to the newest reader sees the same command.
            let resolved = parse_json_lines(&run_python(
                "interop.py",
                &[
                    "read",
                    "--impl",
                    implementation,
                    "--schema",
                    &schema,
                    "--reader-schema",
                    &latest,
                ],
                &hex_lines(&datums),
            ));
            for (i, (g, c)) in resolved.iter().zip(&commands).enumerate() {
                assert_eq!(
                    Some(g),
                    avro_json(c, SchemaVersion::LATEST).as_ref(),
                    "{implementation} resolution {} -> latest, datum {i}",
                    version.as_str()
                );
            }
        }
    }
}

#[test]
fn bytes_python_writes_decode_here_for_every_writer_version() {
    for &version in SchemaVersion::ALL {
        let commands = sample_commands(120, version != SchemaVersion::V1_0_2);
        let input: String = commands
            .iter()
            .map(|c| {
                format!(
                    "{}\n",
                    avro_json(c, version).unwrap_or_else(|| panic!("not representable"))
                )
            })
            .collect();
        let schema = path_str(&schema_path(version));
        for implementation in IMPLS {
            let datums = parse_hex_lines(&run_python(
                "interop.py",
                &["write", "--impl", implementation, "--schema", &schema],
                &input,
            ));
            assert_eq!(datums.len(), commands.len());
            for (i, (bytes, cmd)) in datums.iter().zip(&commands).enumerate() {
                let decoded = CreateAuditRecordCommand::from_avro_datum_as(bytes, version)
                    .unwrap_or_else(|e| {
                        panic!(
                            "{implementation} datum {i} ({}) does not decode: {e}",
                            version.as_str()
                        )
                    });
                assert_eq!(
                    &decoded,
                    cmd,
                    "{implementation} datum {i} written as {}",
                    version.as_str()
                );
                assert_eq!(
                    bytes,
                    &encode_as(cmd, version),
                    "{implementation} and we encode datum {i} differently as {}",
                    version.as_str()
                );
                if version == SchemaVersion::LATEST {
                    let latest =
                        CreateAuditRecordCommand::from_avro_datum(bytes).unwrap_or_else(|e| {
                            panic!("from_avro_datum of {implementation} datum {i}: {e}")
                        });
                    assert_eq!(&latest, cmd);
                }
            }
        }
    }
}

#[test]
fn older_writer_versions_cannot_carry_a_missing_value() {
    let cmd = typical_command();
    let mut without_value = cmd.clone();
    if let Some(AuditObjectData::AuditObjectDataValue(v)) = without_value
        .payload
        .audited_data
        .as_mut()
        .and_then(|o| o.object_data.as_mut())
        .and_then(|d| d.first_mut())
    {
        v.value = None;
    } else {
        panic!("typical command starts with a value entry");
    }
    for version in [SchemaVersion::V1_0_0, SchemaVersion::V1_0_1] {
        assert!(avro_json(&without_value, version).is_none());
        assert!(
            without_value.to_avro_datum_as(version).is_err(),
            "a None value must not be written as {}",
            version.as_str()
        );
        assert!(cmd.to_avro_datum_as(version).is_ok());
    }
    assert_eq!(
        without_value
            .to_avro_datum_as(SchemaVersion::V1_0_2)
            .unwrap_or_else(|e| panic!("{e}")),
        without_value.to_avro_datum()
    );
}

// ---------------------------------------------------------------------------------------------
// Committed fixtures written by Python avro (scripts/python/make_fixtures.py).

pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python-avro")
}

/// Every fixture datum: (directory name, datum file stem, writer schema text, datum bytes,
/// expected Avro JSON as written).
fn fixtures() -> Vec<(String, String, String, Vec<u8>, Value)> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap_or_else(|e| panic!("{}: {e}", fixtures_dir().display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let dir_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let schema = std::fs::read_to_string(dir.join("writer.avsc"))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "bin"))
            .collect();
        files.sort();
        for bin in files {
            let stem = bin
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
            let json_text = std::fs::read_to_string(bin.with_extension("json"))
                .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
            let value: Value = serde_json::from_str(&json_text).unwrap_or_else(|e| panic!("{e}"));
            out.push((dir_name.clone(), stem, schema.clone(), bytes, value));
        }
    }
    out
}

#[test]
fn python_avro_fixtures_decode_here() {
    let all = fixtures();
    for dir in [
        "v1.0.0",
        "v1.0.1",
        "v1.0.0-extra-symbol",
        "v1.0.1-extra-symbol",
    ] {
        assert!(all.iter().any(|f| f.0 == dir), "no fixtures in {dir}");
    }
    // Every fixture is checked; the failures are listed together.
    let mut problems = Vec::new();
    let mut seen_unknown = 0;
    for (dir, stem, schema, bytes, written) in &all {
        if let Err(problem) = check_fixture(dir, schema, bytes, written, &mut seen_unknown) {
            problems.push(format!("{dir}/{stem}: {problem}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} fixture(s) wrong:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        seen_unknown >= 2,
        "fixtures must contain symbols unknown to the reader"
    );
}

fn check_fixture(
    dir: &str,
    schema: &str,
    bytes: &[u8],
    written: &Value,
    seen_unknown: &mut usize,
) -> Result<(), String> {
    let writer =
        WriterSchema::parse(schema).map_err(|e| format!("writer.avsc does not parse: {e}"))?;
    let via_writer = writer
        .decode(bytes)
        .map_err(|e| format!("WriterSchema::decode: {e}"))?;
    let written_symbol = written["payload"]["event"]["type"]
        .as_str()
        .unwrap_or_default();
    let base = dir
        .split('-')
        .next()
        .unwrap_or_default()
        .trim_start_matches('v');
    let version = SchemaVersion::parse(base).ok_or("no version in the folder name")?;
    if !dir.contains("extra-symbol") {
        // A known version: the generated fast path and the WriterSchema path agree.
        if writer.known_version().map(SchemaVersion::canonical_form)
            != Some(version.canonical_form())
        {
            return Err(format!("known_version() is {:?}", writer.known_version()));
        }
        let fast = CreateAuditRecordCommand::from_avro_datum_as(bytes, version)
            .map_err(|e| format!("from_avro_datum_as: {e}"))?;
        if fast != via_writer {
            return Err(format!(
                "fast path {fast:?}\n  != WriterSchema path {via_writer:?}"
            ));
        }
        if avro_json(&fast, version).as_ref() != Some(written) {
            return Err(format!("decoded {fast:?}, not what was written"));
        }
        if fast.to_avro_datum_as(version).ok().as_deref() != Some(bytes) {
            return Err("re-encoding gives other bytes".into());
        }
        return Ok(());
    }
    // A writer with extra enum symbols: a symbol unknown to the reader becomes UNKNOWN (the
    // reader's default), a known one keeps its name although its index moved.
    if writer.known_version().is_some() {
        return Err("the modified writer must not be a known version".into());
    }
    let mut expected = written.clone();
    if AuditEventType::from_symbol(written_symbol).is_none() {
        expected["payload"]["event"]["type"] = json!("UNKNOWN");
        *seen_unknown += 1;
    }
    let Some(got) = avro_json(&via_writer, version) else {
        return Err(format!(
            "an object-data `value` of None, which a {} writer cannot have written (a JSON or S3 \
             record read as the Value branch?): {:?}",
            version.as_str(),
            via_writer.payload.audited_data
        ));
    };
    if got != expected {
        return Err(format!("decoded\n  {got}\n  expected\n  {expected}"));
    }
    Ok(())
}

/// The committed fixtures are what `make_fixtures.py` produces today (Python avro still writes
/// the same bytes; the fixtures were not edited by hand).
#[test]
fn fixtures_are_reproducible_by_their_script() {
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let target = path_str(out.path());
    run_python("make_fixtures.py", &["--out", &target], "");
    let mut compared = 0;
    for (dir, stem, schema, bytes, written) in fixtures() {
        let fresh = out.path().join(&dir);
        let schema_now = std::fs::read_to_string(fresh.join("writer.avsc")).unwrap_or_default();
        assert_eq!(schema_now, schema, "{dir}/writer.avsc");
        let bytes_now = std::fs::read(fresh.join(format!("{stem}.bin"))).unwrap_or_default();
        assert_eq!(bytes_now, bytes, "{dir}/{stem}.bin");
        let json_now: Value = serde_json::from_str(
            &std::fs::read_to_string(fresh.join(format!("{stem}.json"))).unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(json_now, written, "{dir}/{stem}.json");
        compared += 1;
    }
    assert!(compared >= 8, "only {compared} fixtures");
}
