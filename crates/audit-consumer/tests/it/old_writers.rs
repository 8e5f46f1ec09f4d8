//! Acceptance 3: bytes written by an independent implementation (Python `avro` 1.12) with the
//! 1.0.0 and 1.0.1 writer schemas, and with writers that carry event-type symbols this reader does
//! not know. Fixtures and the script that made them: `crates/audit-schema/tests/fixtures/python-avro/`.
//! The expected record comes from each fixture's Avro JSON encoding (written by the same script).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use audit_consumer::{
    AuditEventType, AuditObjectDataRole, AuditRecord, BoxError, Error, ObjectDataKind,
    SchemaVersion, Trigger, Writer, WriterSchema, WriterSchemaSource, decode,
};
use serde_json::Value;

use crate::{ID_1_0_0, ID_1_0_1, versions};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../audit-schema/tests/fixtures/python-avro")
}

/// `(datum, Avro JSON)` of every fixture in `folder`, sorted by name.
fn load(folder: &str) -> Vec<(String, Vec<u8>, Value)> {
    let dir = fixtures().join(folder);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".bin").map(str::to_owned))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "fixtures missing in {}", dir.display());
    names
        .into_iter()
        .map(|name| {
            let bin = std::fs::read(dir.join(format!("{name}.bin"))).unwrap();
            let json =
                serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap())
                    .unwrap();
            (name, bin, json)
        })
        .collect()
}

/// A writer-schema source serving parsed schemas, the way a registry client with a cache does.
struct Parsed(Vec<(u32, Arc<WriterSchema>)>);

impl WriterSchemaSource for Parsed {
    fn writer_schema(&self, schema_id: u32) -> Result<Option<Writer>, BoxError> {
        Ok(self
            .0
            .iter()
            .find(|(id, _)| *id == schema_id)
            .map(|(_, schema)| Writer::Schema(schema.clone())))
    }
}

fn parsed(folder: &str, id: u32) -> Parsed {
    let json = std::fs::read_to_string(fixtures().join(folder).join("writer.avsc")).unwrap();
    Parsed(vec![(id, Arc::new(WriterSchema::parse(&json).unwrap()))])
}

/// The value of an Avro JSON union: `None` for null, the single branch value otherwise.
fn union(value: &Value) -> Option<&Value> {
    match value {
        Value::Null => None,
        Value::Object(map) if map.len() == 1 => map.values().next(),
        other => panic!("not an Avro JSON union: {other}"),
    }
}

fn s(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

fn opt_s(value: &Value) -> Option<&str> {
    union(value).map(s)
}

fn millis(value: &Value) -> i64 {
    value.as_i64().unwrap()
}

fn role(value: &Value) -> Option<AuditObjectDataRole> {
    union(value).map(|r| match s(r) {
        "NEW" => AuditObjectDataRole::New,
        "OLD" => AuditObjectDataRole::Old,
        other => panic!("role {other}"),
    })
}

/// Asserts that `record` carries exactly what the Avro JSON encoding `json` of the same datum says.
fn assert_matches(record: &AuditRecord, json: &Value) {
    let meta = record.metadata();
    assert_eq!(meta.message_id(), s(&json["identity"]["id"]));
    assert_eq!(meta.idempotence_id(), s(&json["identity"]["idempotenceId"]));
    assert_eq!(
        meta.created().timestamp_millis(),
        millis(&json["identity"]["created"])
    );
    assert_eq!(meta.type_name(), s(&json["type"]["name"]));
    assert_eq!(meta.type_version(), s(&json["type"]["version"]));
    assert_eq!(meta.type_variant(), opt_s(&json["type"]["variant"]));
    assert_eq!(meta.process_id(), opt_s(&json["processId"]));
    assert_eq!(meta.command_version(), s(&json["commandVersion"]));
    assert_eq!(record.system_name(), s(&json["publisher"]["system"]));
    assert_eq!(record.service_name(), s(&json["publisher"]["service"]));

    let payload = &json["payload"];
    assert_eq!(
        record.timestamp().timestamp_millis(),
        millis(&payload["timestamp"])
    );
    let symbol = s(&payload["event"]["type"]);
    let known = [
        "CREATED",
        "READ",
        "LISTED",
        "MODIFIED",
        "DISCLOSED",
        "DESTROYED",
        "DELETED",
        "UNKNOWN",
    ];
    let expected_symbol = if known.contains(&symbol) {
        symbol
    } else {
        "UNKNOWN"
    };
    assert_eq!(record.event().event_type().as_str(), expected_symbol);
    let context =
        union(&payload["event"]["context"]).map(|c| (s(&c["useCase"]), opt_s(&c["processId"])));
    assert_eq!(
        record
            .event()
            .context()
            .map(|c| (c.use_case(), c.process_id())),
        context
    );
    let data: Vec<(&str, &str)> = union(&payload["event"]["eventData"])
        .map(|a| {
            a.as_array()
                .unwrap()
                .iter()
                .map(|e| (s(&e["key"]), s(&e["value"])))
                .collect()
        })
        .unwrap_or_default();
    let actual: Vec<(&str, &str)> = record
        .event()
        .event_data()
        .iter()
        .map(|d| (d.key(), d.value()))
        .collect();
    assert_eq!(actual, data);

    let trigger = payload["trigger"].as_object().unwrap();
    let (branch, t) = trigger.iter().next().unwrap();
    match (record.trigger(), branch.rsplit('.').next().unwrap()) {
        (Trigger::User(u), "AuditUser") => {
            assert_eq!(
                (u.id(), u.identity_provider()),
                (s(&t["id"]), s(&t["identityProvider"]))
            );
        }
        (Trigger::SystemComponent(c), "AuditSystemComponent") => assert_eq!(
            (c.department(), c.system(), c.component()),
            (s(&t["department"]), s(&t["system"]), s(&t["component"]))
        ),
        (actual, branch) => panic!("trigger {actual:?} vs branch {branch}"),
    }

    match (record.audited_object(), union(&payload["auditedData"])) {
        (None, None) => {}
        (Some(object), Some(o)) => {
            assert_eq!(
                (object.object_type(), object.id()),
                (s(&o["type"]), s(&o["id"]))
            );
            assert_eq!(object.version(), opt_s(&o["version"]));
            let entries: Vec<&Value> = union(&o["objectData"])
                .map(|a| a.as_array().unwrap().iter().collect())
                .unwrap_or_default();
            assert_eq!(object.object_data().len(), entries.len());
            for (actual, entry) in object.object_data().iter().zip(entries) {
                let (branch, e) = entry.as_object().unwrap().iter().next().unwrap();
                assert_eq!(actual.name(), s(&e["name"]));
                assert_eq!(actual.role(), role(&e["role"]));
                let expected = match branch.rsplit('.').next().unwrap() {
                    // 1.0.0/1.0.1 writers: a plain string; 1.0.2: a union
                    "AuditObjectDataValue" => ObjectDataKind::Value(match &e["value"] {
                        Value::String(v) => Some(v.into()),
                        other => opt_s(other).map(Into::into),
                    }),
                    // Avro JSON encodes bytes as a string of code points 0-255
                    "AuditObjectDataJSON" => ObjectDataKind::Json(
                        s(&e["jsonAsUTF8"])
                            .chars()
                            .map(|c| u8::try_from(u32::from(c)).unwrap())
                            .collect(),
                    ),
                    "AuditObjectDataS3" => {
                        ObjectDataKind::S3Reference(s(&e["objectReference"]).into())
                    }
                    other => panic!("object data branch {other}"),
                };
                assert_eq!(actual.kind(), &expected);
            }
        }
        (actual, expected) => panic!("audited object {actual:?} vs {expected:?}"),
    }
}

fn check_known(folder: &str, version: SchemaVersion, id: u32) {
    let fixtures = load(folder);
    for (name, datum, json) in &fixtures {
        let value = audit_schema::confluent::frame(id, datum);
        let record = decode(&value, &versions()).unwrap_or_else(|e| panic!("{folder}/{name}: {e}"));
        assert_matches(&record, json);
        // the same bytes through the registry-style path (parsed writer schema) give the same record
        let source = parsed(folder, id);
        assert_eq!(decode(&value, &source).unwrap(), record, "{folder}/{name}");
        // single-object framing finds the version by fingerprint
        let mut single = Vec::new();
        audit_schema::single_object::write_header(version.fingerprint(), &mut single);
        single.extend_from_slice(datum);
        assert_eq!(
            audit_consumer::decode_single_object(&single).unwrap(),
            record,
            "{folder}/{name}"
        );
    }
}

#[test]
fn python_written_1_0_0_commands_decode() {
    check_known("v1.0.0", SchemaVersion::V1_0_0, ID_1_0_0);
}

#[test]
fn python_written_1_0_1_commands_decode() {
    check_known("v1.0.1", SchemaVersion::V1_0_1, ID_1_0_1);
}

fn check_extra_symbols(folder: &str) {
    let source = parsed(folder, 77);
    let mut unknown = 0;
    for (name, datum, json) in &load(folder) {
        let record = decode(&audit_schema::confluent::frame(77, datum), &source)
            .unwrap_or_else(|e| panic!("{folder}/{name}: {e}"));
        assert_matches(&record, json);
        let symbol = s(&json["payload"]["event"]["type"]);
        if symbol == "ARCHIVED" || symbol == "EXPORTED" {
            assert_eq!(
                record.event().event_type(),
                AuditEventType::Unknown,
                "{folder}/{name}"
            );
            unknown += 1;
        }
    }
    assert_eq!(unknown, 2, "both unknown-symbol fixtures seen in {folder}");
}

#[test]
fn unknown_symbols_from_a_1_0_0_based_writer_become_unknown() {
    check_extra_symbols("v1.0.0-extra-symbol");
}

#[test]
fn unknown_symbols_from_a_1_0_1_based_writer_become_unknown() {
    check_extra_symbols("v1.0.1-extra-symbol");
}

#[test]
fn known_symbols_of_an_extended_writer_keep_their_meaning() {
    // ARCHIVED is inserted after LISTED: the symbols behind it shift their index on the wire
    let source = parsed("v1.0.1-extra-symbol", 5);
    for (name, datum, json) in load("v1.0.1-extra-symbol") {
        if s(&json["payload"]["event"]["type"]) == "MODIFIED" {
            let record = decode(&audit_schema::confluent::frame(5, &datum), &source).unwrap();
            assert_eq!(
                record.event().event_type(),
                AuditEventType::Modified,
                "{name}"
            );
            return;
        }
    }
    panic!("no MODIFIED fixture");
}

#[test]
fn a_1_0_0_datum_under_the_1_0_2_id_is_a_malformed_datum() {
    // 1.0.2 expects a union index before an object-data value, 1.0.0 writes the string directly:
    // the typical fixture's first value ("Bahnhofstrasse 1", length 16) reads as union index 16.
    let (_, datum, json) = load("v1.0.0")
        .into_iter()
        .find(|(n, _, _)| n.contains("typical"))
        .unwrap();
    let right = decode(
        &audit_schema::confluent::frame(ID_1_0_0, &datum),
        &versions(),
    )
    .unwrap();
    assert_matches(&right, &json);
    let wrong = decode(
        &audit_schema::confluent::frame(crate::ID_1_0_2, &datum),
        &versions(),
    );
    match wrong {
        Err(error @ Error::MalformedDatum { .. }) => {
            let source = std::error::Error::source(&error)
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                source.contains("objectData"),
                "the source names the field: {source}"
            );
        }
        other => panic!("expected MalformedDatum, got {other:?}"),
    }
}

/// A registry-style async source whose lookups suspend once before answering (like a fetch).
struct AsyncParsed(Parsed);

impl audit_consumer::AsyncWriterSchemaSource for AsyncParsed {
    async fn fetch_writer_schema(&self, schema_id: u32) -> Result<Option<Writer>, BoxError> {
        YieldOnce(false).await;
        self.0.writer_schema(schema_id)
    }
}

/// A future that is pending once (waking itself) and then ready.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

/// Polls a future to completion on this thread (the futures here only wake themselves).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

#[test]
fn decode_async_with_an_async_source_gives_the_same_records() {
    for folder in ["v1.0.0", "v1.0.1-extra-symbol"] {
        let source = AsyncParsed(parsed(folder, 21));
        for (name, datum, json) in load(folder) {
            let value = audit_schema::confluent::frame(21, &datum);
            let record = block_on(audit_consumer::decode_async(&value, &source))
                .unwrap_or_else(|e| panic!("{folder}/{name}: {e}"));
            assert_matches(&record, &json);
            assert_eq!(decode(&value, &source.0).unwrap(), record);
        }
        let unknown = block_on(audit_consumer::decode_async(
            &audit_schema::confluent::frame(22, &[]),
            &source,
        ));
        assert!(
            matches!(unknown, Err(Error::UnknownSchemaId { schema_id: 22 })),
            "{unknown:?}"
        );
    }
    // every sync source is an async source
    let (_, datum, json) = load("v1.0.1").into_iter().next().unwrap();
    let value = audit_schema::confluent::frame(ID_1_0_1, &datum);
    assert_matches(
        &block_on(audit_consumer::decode_async(&value, &versions())).unwrap(),
        &json,
    );
}
