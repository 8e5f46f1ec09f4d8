//! Acceptance 3 of issue 15: the error events decode with Python `avro` (and `fastavro`)
//! against the official schema parsed from the vendored `.avsc`, every field holds the expected
//! value (`cases.rs` writes each event down as Avro JSON from the inputs), and a poison record's
//! original value and key bytes come back bit for bit.
//!
//! The records are the Kafka bytes: Confluent-framed with the schema id, the frame header is
//! checked here and the datum behind it is what Python decodes (`scripts/python/interop.py read`).

use audit_error_event::EMPTY_CONTENT;
use serde_json::Value;

use crate::cases::{Case, cases};
use crate::python::{repo_root, run_python};

const IMPLS: [&str; 2] = ["avro", "fastavro"];
const VALUE_SCHEMA_ID: u32 = 0x0102_0304;
const KEY_SCHEMA_ID: u32 = 77;

/// Decodes the datums of `framed` (Confluent frames with `schema_id`) with Python `impl_`
/// against `schema` (a file in `avro/`): one Avro JSON value per datum.
fn python_read(impl_: &str, schema: &str, framed: &[Vec<u8>], schema_id: u32) -> Vec<Value> {
    let mut lines = String::new();
    for record in framed {
        let (header, datum) = record.split_at(5);
        assert_eq!(header[0], 0, "Confluent magic byte");
        assert_eq!(
            u32::from_be_bytes(header[1..5].try_into().unwrap()),
            schema_id
        );
        lines.push_str(&serde_json::json!({ "hex": hex::encode(datum) }).to_string());
        lines.push('\n');
    }
    let schema = repo_root().join("avro").join(schema);
    let out = run_python(
        "interop.py",
        &[
            "read",
            "--impl",
            impl_,
            "--schema",
            &schema.to_string_lossy(),
        ],
        &lines,
    );
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{impl_} printed {l}: {e}")))
        .collect()
}

/// Bytes from their Avro JSON form (ISO-8859-1 code points).
fn bytes_of(v: &Value) -> Vec<u8> {
    v.as_str()
        .unwrap_or_else(|| panic!("not a bytes value: {v}"))
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or_else(|_| panic!("code point {c:?} > 255")))
        .collect()
}

#[test]
fn error_events_decode_with_python_avro_and_hold_the_expected_values() {
    let cases: Vec<Case> = cases();
    let values: Vec<Vec<u8>> = cases
        .iter()
        .map(|c| c.event.framed_value(VALUE_SCHEMA_ID))
        .collect();
    let keys: Vec<Vec<u8>> = cases
        .iter()
        .map(|c| c.event.framed_key(KEY_SCHEMA_ID))
        .collect();
    for impl_ in IMPLS {
        let events = python_read(
            impl_,
            "MessageProcessingFailedEvent_v1.0.0.avsc",
            &values,
            VALUE_SCHEMA_ID,
        );
        let decoded_keys = python_read(
            impl_,
            "MessageProcessingFailedMessageKey_v1.0.0.avsc",
            &keys,
            KEY_SCHEMA_ID,
        );
        assert_eq!(events.len(), cases.len());
        for ((case, event), key) in cases.iter().zip(&events).zip(&decoded_keys) {
            assert_eq!(
                event,
                &case.expected_event,
                "{impl_}, {}: the event as Python decodes it (left) is not the expected one;\n{}",
                case.name,
                serde_json::to_string_pretty(event).unwrap()
            );
            assert_eq!(key, &case.expected_key, "{impl_}, {}: key", case.name);

            // the original bytes, bit for bit
            let original = bytes_of(&event["payload"]["originalMessage"]);
            let expected = case.value.clone().unwrap_or_else(|| EMPTY_CONTENT.to_vec());
            assert_eq!(
                original, expected,
                "{impl_}, {}: originalMessage",
                case.name
            );
            match (&case.key, &event["payload"]["originalKey"]) {
                (Some(k), Value::Object(branch)) => {
                    assert_eq!(
                        &bytes_of(&branch["bytes"]),
                        k,
                        "{impl_}, {}: originalKey",
                        case.name
                    );
                }
                (None, Value::Null) => {}
                (k, v) => panic!("{impl_}, {}: originalKey {v} for key {k:?}", case.name),
            }
        }
    }
}

/// The poison case carries every byte value, so "bit for bit" covers all 256 of them.
#[test]
fn the_poison_value_covers_every_byte() {
    let value = crate::cases::poison_value();
    let seen: std::collections::BTreeSet<u8> = value.iter().copied().collect();
    assert_eq!(seen.len(), 256);
    assert!(audit_error_event::decode_command(&value).is_err());
}
