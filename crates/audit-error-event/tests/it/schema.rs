//! The vendored `.avsc` files against two other derivations:
//! - jEAP's Avro IDL (`MessageProcessingFailedEvent.avdl`, `MessageProcessingFailedMessageKey.avdl`
//!   and the imported `DomainEventBaseTypes.avdl` of jeap-admin-ch/jeap-messaging, restated
//!   below) compiled by the `avdl` crate (Apache Avro 1.12.1's `idl2schemata`): the same JSON
//!   value (names, namespaces, field order, union order, defaults, logical types);
//! - Python `avro` 1.12 and `fastavro` parsing the `.avsc` (`scripts/python/fingerprints.py`):
//!   the same Parsing Canonical Form and CRC-64-AVRO fingerprint as ours and as the generated
//!   `EventSchemaVersion` / `KeySchemaVersion` embed, and Python `avro`'s view of the defaults
//!   and logical types.

use std::path::{Path, PathBuf};

use audit_error_event::{
    EVENT_FULL_NAME, EVENT_SCHEMA_JSON, EventSchemaVersion, KEY_FULL_NAME, KEY_SCHEMA_JSON,
    KeySchemaVersion,
};
use audit_schema::canonical::{fingerprint, parsing_canonical_form};
use serde_json::Value;

use crate::python::{python, repo_root, run_python};

/// `jeap-messaging-avro/src/main/avro/DomainEventBaseTypes.avdl` at
/// 6f9c33b6b042d83595d5b929d33739a704fad516.
const BASE_TYPES_IDL: &str = r#"@namespace("ch.admin.bit.jeap.domainevent.avro")
protocol DomainEventBaseProtocol {
  record AvroDomainEventPublisher { string system; string service; }
  record AvroDomainEventType { string name; string version; }
  record AvroDomainEventIdentity { string eventId; string idempotenceId; timestamp_ms created; }
  record AvroDomainEventUser {
    string? id = null; string? familyName = null; string? givenName = null;
    string? businessPartnerName = null; string? businessPartnerId = null;
    map<string> propertiesMap = {};
  }
}
"#;

/// `jeap-messaging-avro-errorevent/src/main/avro/MessageProcessingFailedEvent.avdl` at
/// c821f06715cb2a52d43d5d3bd4cd4ffd610bbfce.
const EVENT_IDL: &str = r#"@namespace("ch.admin.bit.jeap.messaging.avro.errorevent")
protocol MessageProcessingFailedEventProtocol {
  import idl "DomainEventBaseTypes.avdl";
  record MessageProcessingFailedPayload {
    bytes originalMessage;
    union{null, bytes} originalKey = null;
    string errorMessage;
    union{null, string} errorDescription = null;
    union{null, string} stackTrace = null;
    union{null, string} stackTraceHash = null;
    union{null, FailedMessageMetadata} failedMessageMetadata = null;
  }
  record FailedMessageMetadata {
    union{null, string} eventId = null;
    union{null, string} idempotenceId = null;
    union{null, timestamp_ms} created = null;
    union{null, string} system = null;
    union{null, string} service = null;
    union{null, string} messageTypeName = null;
    union{null, string} messageTypeVersion = null;
    map<bytes> headers = {};
  }
  record MessageProcessingFailedReferences { MessageReference message; ErrorTypeReference errorType; }
  record MessageReference { string type; string topicName; string partition; string offset; }
  record ErrorTypeReference { string type; string temporality; string code; }
  record MessageProcessingFailedEvent {
    ch.admin.bit.jeap.domainevent.avro.AvroDomainEventIdentity identity;
    ch.admin.bit.jeap.domainevent.avro.AvroDomainEventType type;
    ch.admin.bit.jeap.domainevent.avro.AvroDomainEventPublisher publisher;
    MessageProcessingFailedReferences references;
    MessageProcessingFailedPayload payload;
    union{null, string} processId = null;
    string domainEventVersion;
  }
}
"#;

/// `jeap-messaging-avro-errorevent/src/main/avro/MessageProcessingFailedMessageKey.avdl` at
/// c821f06715cb2a52d43d5d3bd4cd4ffd610bbfce.
const KEY_IDL: &str = r#"@namespace("ch.admin.bit.jeap.messaging.avro.errorevent")
protocol MessageProcessingFailedMessageKeyProtocol {
  record MessageProcessingFailedMessageKey { string key; }
}
"#;

fn avsc_path(record: &str) -> PathBuf {
    repo_root().join(format!("avro/{record}_v1.0.0.avsc"))
}

/// The schema of `record` as `avdl` derives it from `file` in `dir`.
fn from_idl(dir: &Path, file: &str, record: &str) -> Value {
    let output = avdl::Idl2Schemata::new()
        .import_dir(dir)
        .extract(dir.join(file))
        .unwrap_or_else(|e| panic!("avdl cannot compile {file}: {e:?}"));
    output
        .schemas
        .into_iter()
        .find(|s| s.name == record)
        .unwrap_or_else(|| panic!("{file} declares no record {record}"))
        .schema
}

struct IdlDir(PathBuf);

impl IdlDir {
    fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("audit-error-event-idl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in [
            ("DomainEventBaseTypes.avdl", BASE_TYPES_IDL),
            ("MessageProcessingFailedEvent.avdl", EVENT_IDL),
            ("MessageProcessingFailedMessageKey.avdl", KEY_IDL),
        ] {
            std::fs::write(dir.join(file), text).unwrap();
        }
        Self(dir)
    }
}

impl Drop for IdlDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn vendored_avsc_is_the_schema_the_idl_compiles_to() {
    let dir = IdlDir::new();
    for (file, record, text) in [
        (
            "MessageProcessingFailedEvent.avdl",
            "MessageProcessingFailedEvent",
            EVENT_SCHEMA_JSON,
        ),
        (
            "MessageProcessingFailedMessageKey.avdl",
            "MessageProcessingFailedMessageKey",
            KEY_SCHEMA_JSON,
        ),
    ] {
        let idl = from_idl(&dir.0, file, record);
        let avsc: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            avsc,
            idl,
            "{record}: the vendored .avsc is not what the IDL compiles to;\nIDL gives:\n{}",
            serde_json::to_string_pretty(&idl).unwrap()
        );
        // the text the crate embeds is the file's
        assert_eq!(std::fs::read_to_string(avsc_path(record)).unwrap(), text);
    }
}

fn hex_u64(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    u64::from_str_radix(s, 16).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn canonical_form_and_fingerprint_equal_python_avro_and_fastavro() {
    let paths = [
        avsc_path("MessageProcessingFailedEvent"),
        avsc_path("MessageProcessingFailedMessageKey"),
    ];
    let args: Vec<String> = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out: Value = serde_json::from_str(&run_python("fingerprints.py", &args, "")).unwrap();
    let files = out["files"].as_array().cloned().unwrap_or_default();
    let ours = [
        (
            EVENT_SCHEMA_JSON,
            EventSchemaVersion::LATEST.canonical_form(),
            EventSchemaVersion::LATEST.fingerprint(),
        ),
        (
            KEY_SCHEMA_JSON,
            KeySchemaVersion::LATEST.canonical_form(),
            KeySchemaVersion::LATEST.fingerprint(),
        ),
    ];
    assert_eq!(files.len(), ours.len());
    for (py, (text, form, fp)) in files.iter().zip(ours) {
        assert_eq!(parsing_canonical_form(text).unwrap(), form);
        assert_eq!(fingerprint(form), fp);
        assert_eq!(py["fastavro"]["canonical_form"].as_str(), Some(form));
        assert_eq!(hex_u64(&py["fastavro"]["fingerprint"]), fp);
        assert_eq!(py["avro"]["spec_form_reparsed"].as_str(), Some(form));
        assert_eq!(hex_u64(&py["avro"]["spec_fingerprint"]), fp);
    }
    assert!(EventSchemaVersion::LATEST.canonical_form().starts_with(&format!(
        r#"{{"name":"{EVENT_FULL_NAME}","type":"record","fields":[{{"name":"identity","type":{{"name":"ch.admin.bit.jeap.domainevent.avro.AvroDomainEventIdentity""#
    )));
    assert!(
        KeySchemaVersion::LATEST
            .canonical_form()
            .starts_with(&format!(r#"{{"name":"{KEY_FULL_NAME}""#))
    );
}

/// What the canonical form strips, as Python `avro` parses it from the vendored file: the
/// defaults (`null`, `{}` for the headers map) and the `timestamp-millis` logical types.
#[test]
fn python_avro_sees_the_defaults_and_logical_types() {
    const SCRIPT: &str = r#"
import json, sys
import avro.schema
s = avro.schema.parse(open(sys.argv[1]).read())
out = {}
def walk(schema, path):
    if isinstance(schema, avro.schema.RecordSchema):
        for f in schema.fields:
            p = path + "." + f.name if path else f.name
            entry = {"type": f.type.type}
            if f.has_default:
                entry["default"] = f.default
            if isinstance(f.type, avro.schema.UnionSchema):
                entry["branches"] = [b.type for b in f.type.schemas]
                entry["logical"] = [getattr(b, "logical_type", None) for b in f.type.schemas]
            else:
                entry["logical"] = getattr(f.type, "logical_type", None)
            if isinstance(f.type, avro.schema.MapSchema):
                entry["values"] = f.type.values.type
            out[p] = entry
            walk(f.type, p)
    elif isinstance(schema, avro.schema.UnionSchema):
        for b in schema.schemas:
            walk(b, path)
walk(s, "")
print(json.dumps(out, sort_keys=True))
"#;
    let _ = python();
    let path = avsc_path("MessageProcessingFailedEvent");
    let out = crate::python::run_python_code(SCRIPT, &[&path.to_string_lossy()]);
    let fields: Value = serde_json::from_str(&out).unwrap();
    let f = |p: &str| {
        fields
            .get(p)
            .unwrap_or_else(|| panic!("no field {p}: {fields}"))
    };
    assert_eq!(f("identity.created")["logical"], "timestamp-millis");
    assert_eq!(f("identity.created")["type"], "long");
    let created = f("payload.failedMessageMetadata.created");
    assert_eq!(created["branches"], serde_json::json!(["null", "long"]));
    assert_eq!(
        created["logical"],
        serde_json::json!([null, "timestamp-millis"])
    );
    assert_eq!(created["default"], Value::Null);
    let headers = f("payload.failedMessageMetadata.headers");
    assert_eq!(headers["type"], "map");
    assert_eq!(headers["values"], "bytes");
    assert_eq!(headers["default"], serde_json::json!({}));
    assert_eq!(
        f("payload.originalKey")["branches"],
        serde_json::json!(["null", "bytes"])
    );
    assert_eq!(
        f("payload.failedMessageMetadata")["branches"],
        serde_json::json!(["null", "record"])
    );
    // every optional field defaults to null and has null as first branch; nothing else has a default
    for (path, entry) in fields.as_object().unwrap() {
        match entry.get("branches") {
            Some(b) => {
                assert_eq!(b[0], "null", "{path}");
                assert_eq!(entry.get("default"), Some(&Value::Null), "{path}");
            }
            None if path.ends_with(".headers") => {}
            None => assert_eq!(entry.get("default"), None, "{path} has a default"),
        }
    }
}
