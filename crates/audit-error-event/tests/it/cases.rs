//! The failure cases the tests build events for, and for each the event as Avro JSON (the
//! specification's JSON encoding, as `scripts/python/interop.py` prints it), written down here
//! from the inputs and jEAP's rules, independently of the code under test.

use audit_error_event::{
    ErrorEvent, ErrorEventConfig, ErrorInfo, EventIdentity, FailedRecord, RecordPart, Temporality,
    codes,
};
use audit_schema::{
    AuditEventDetails, AuditEventType, AuditUser, AvroMessageIdentity, AvroMessagePublisher,
    AvroMessageType, CreateAuditRecordCommand, CreateAuditRecordCommandPayload,
    CreateAuditRecordCommandReferences, SchemaVersion, confluent,
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub(crate) const SYSTEM: &str = "JME";
pub(crate) const SERVICE: &str = "jme-audit-consumer";
pub(crate) const TOPIC: &str = "jme-audit-create-command";
const META: &str = "ch.admin.bit.jeap.messaging.avro.errorevent.FailedMessageMetadata";

/// The innermost error of the poison case.
#[derive(Debug, thiserror::Error)]
#[error("union index 9 out of range at byte 17")]
pub(crate) struct UnionIndex {
    pub index: u32,
}

/// The outer error of the poison case.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeFailure {
    #[error("cannot decode payload.trigger")]
    Datum(#[source] UnionIndex),
}

/// A handler error without source.
#[derive(Debug, thiserror::Error)]
#[error("publisher jme-other is not allowed for CreateAuditRecordCommand")]
pub(crate) struct NotAllowed;

pub(crate) fn ts(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

/// ISO-8859-1 text of bytes: the Avro JSON encoding of `bytes`.
pub(crate) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

pub(crate) fn identity(n: u8) -> EventIdentity {
    EventIdentity {
        event_id: format!("0f5c6d1e-8a52-4c31-b7a9-00000000000{n}"),
        idempotence_id: format!("7b9e2a44-1c3d-4e5f-a6b7-00000000000{n}"),
        created: ts(1_764_748_800_123 + i64::from(n)),
    }
}

pub(crate) fn command() -> CreateAuditRecordCommand {
    CreateAuditRecordCommand {
        identity: AvroMessageIdentity {
            id: "c0ffee00-1111-4222-8333-444455556666".into(),
            idempotence_id: "JME-audit-READ-u1-2026-12-03T08:00:00Z".into(),
            created: ts(1_764_748_000_456),
        },
        r#type: AvroMessageType {
            name: "CreateAuditRecordCommand".into(),
            version: "1.0.2".into(),
            variant: None,
        },
        publisher: AvroMessagePublisher {
            system: "JME".into(),
            service: "jme-letter-service".into(),
        },
        references: CreateAuditRecordCommandReferences {},
        payload: CreateAuditRecordCommandPayload {
            timestamp: ts(1_764_748_000_000),
            event: AuditEventDetails {
                r#type: AuditEventType::Read,
                context: None,
                event_data: None,
            },
            trigger: audit_schema::AuditTrigger::AuditUser(AuditUser {
                id: "u1".into(),
                identity_provider: "eIAM".into(),
            }),
            audited_data: None,
        },
        process_id: Some("process-42".into()),
        command_version: "1.3.0".into(),
    }
}

/// A failure case: the record, the error and the expected event and key (Avro JSON).
pub(crate) struct Case {
    pub name: &'static str,
    pub event: ErrorEvent,
    pub expected_event: Value,
    pub expected_key: Value,
    pub value: Option<Vec<u8>>,
    pub key: Option<Vec<u8>>,
}

/// Every byte value, plus a Confluent header that points nowhere: a poison value.
pub(crate) fn poison_value() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x01, 0x2c];
    v.extend(0..=255u8);
    v.extend([0xff, 0xfe, 0x00, 0x80]);
    v
}

pub(crate) fn cases() -> Vec<Case> {
    let config = ErrorEventConfig::new(SYSTEM, SERVICE).unwrap();
    let mut out = Vec::new();

    // 1. a poison value (not a command): DESERIALIZATION_FAILED, metadata only from the
    //    preserved headers (the last `jeap-sign` wins, `jeap-sign-key` has no value, the
    //    traceparent is not preserved), key = the event's idempotence id
    let value = poison_value();
    let key = vec![0x80, 0x00, 0xff, b'k'];
    let headers: Vec<(&str, Option<&[u8]>)> = vec![
        ("jeap-sign", Some(b"first")),
        (
            "traceparent",
            Some(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ),
        ("jeap-cert", Some(&[0x01, 0x9a, 0x00, 0xff])),
        ("jeap-sign", Some(&[0xde, 0xad, 0xbe, 0xef])),
        ("jeap-sign-key", None),
    ];
    let cause = DecodeFailure::Datum(UnionIndex { index: 9 });
    let error = ErrorInfo::deserialization_failed(RecordPart::Value, &cause);
    let record = FailedRecord::new(TOPIC, 3, 1_234_567_890_123)
        .with_key(Some(&key))
        .with_value(Some(&value))
        .with_headers(&headers);
    let id = identity(1);
    let event = config.build_event(&record, &error, id.clone());
    // StackHasher's formula with no frames, root cause first, then the outer cause, then the
    // code, as Java 17 computes it: `h = 31 * h + name.hashCode()` over "UnionIndex", "Datum",
    // "DESERIALIZATION_FAILED", printed with String.format("%08x", h)
    let hash = "c9a6a1c1";
    out.push(Case {
        name: "poison value",
        expected_event: json!({
            "identity": {"eventId": id.event_id, "idempotenceId": id.idempotence_id, "created": 1_764_748_800_124_i64},
            "type": {"name": "MessageProcessingFailedEvent", "version": "1.0.0"},
            "publisher": {"system": SYSTEM, "service": SERVICE},
            "references": {
                "message": {"type": "message", "topicName": TOPIC, "partition": "3", "offset": "1234567890123"},
                "errorType": {"type": "exception", "temporality": "PERMANENT", "code": "DESERIALIZATION_FAILED"}
            },
            "payload": {
                "originalMessage": latin1(&value),
                "originalKey": {"bytes": latin1(&key)},
                "errorMessage": "Could not deserialize value",
                "errorDescription": null,
                "stackTrace": {"string": "DESERIALIZATION_FAILED: Could not deserialize value\n\
                    Caused by: Datum: cannot decode payload.trigger\n\
                    Caused by: UnionIndex: union index 9 out of range at byte 17\n"},
                "stackTraceHash": {"string": hash},
                "failedMessageMetadata": {META: {
                    "eventId": null, "idempotenceId": null, "created": null, "system": null,
                    "service": null, "messageTypeName": null, "messageTypeVersion": null,
                    "headers": {"jeap-cert": latin1(&[0x01, 0x9a, 0x00, 0xff]), "jeap-sign": latin1(&[0xde, 0xad, 0xbe, 0xef])}
                }}
            },
            "processId": null,
            "domainEventVersion": "1.2.0"
        }),
        expected_key: json!({"key": id.idempotence_id}),
        event,
        value: Some(value),
        key: Some(key),
    });

    // 2. a command (Confluent-framed 1.0.2 datum) that the handler rejects: the code,
    //    temporality and description given, metadata from the command, key = its id,
    //    processId from the command
    let cmd = command();
    let value = confluent::frame(7, &cmd.to_avro_datum_as(SchemaVersion::LATEST).unwrap());
    let headers: Vec<(&str, Option<&[u8]>)> = vec![("jeap-cert", Some(b"\x05"))];
    let error = ErrorInfo::new(
        codes::MESSAGE_SIGNATURE_VALIDATION_ERROR,
        Temporality::Temporary,
        "Received message CreateAuditRecordCommand from jme-other which is not an allowed publisher. Rejecting message.",
    )
    .with_description("see https://example.invalid/jeap/signing")
    .with_cause(&NotAllowed);
    let record = FailedRecord::new(TOPIC, 0, 0)
        .with_value(Some(&value))
        .with_headers(&headers);
    let id = identity(2);
    let event = config.build_event(&record, &error, id.clone());
    // as above over "NotAllowed", "MESSAGE_SIGNATURE_VALIDATION_ERROR", computed by Java 17
    let hash = "80c549ec";
    out.push(Case {
        name: "command rejected by the handler",
        expected_event: json!({
            "identity": {"eventId": id.event_id, "idempotenceId": id.idempotence_id, "created": 1_764_748_800_125_i64},
            "type": {"name": "MessageProcessingFailedEvent", "version": "1.0.0"},
            "publisher": {"system": SYSTEM, "service": SERVICE},
            "references": {
                "message": {"type": "message", "topicName": TOPIC, "partition": "0", "offset": "0"},
                "errorType": {"type": "exception", "temporality": "TEMPORARY", "code": "MESSAGE_SIGNATURE_VALIDATION_ERROR"}
            },
            "payload": {
                "originalMessage": latin1(&value),
                "originalKey": null,
                "errorMessage": "Received message CreateAuditRecordCommand from jme-other which is not an allowed publisher. Rejecting message.",
                "errorDescription": {"string": "see https://example.invalid/jeap/signing"},
                "stackTrace": {"string": "MESSAGE_SIGNATURE_VALIDATION_ERROR: Received message CreateAuditRecordCommand from jme-other which is not an allowed publisher. Rejecting message.\n\
                    Caused by: NotAllowed: publisher jme-other is not allowed for CreateAuditRecordCommand\n"},
                "stackTraceHash": {"string": hash},
                "failedMessageMetadata": {META: {
                    "eventId": {"string": "c0ffee00-1111-4222-8333-444455556666"},
                    "idempotenceId": {"string": "JME-audit-READ-u1-2026-12-03T08:00:00Z"},
                    "created": {"long": 1_764_748_000_456_i64},
                    "system": {"string": "JME"},
                    "service": {"string": "jme-letter-service"},
                    "messageTypeName": {"string": "CreateAuditRecordCommand"},
                    "messageTypeVersion": {"string": "1.0.2"},
                    "headers": {"jeap-cert": "\u{5}"}
                }}
            },
            "processId": {"string": "process-42"},
            "domainEventVersion": "1.2.0"
        }),
        expected_key: json!({"key": "c0ffee00-1111-4222-8333-444455556666"}),
        event,
        value: Some(value),
        key: None,
    });

    // 3. a tombstone without headers: EMPTY_CONTENT, no key, no metadata, no cause
    let error = ErrorInfo::new("UNKNOWN_EXCEPTION", Temporality::Unknown, "no value");
    let record = FailedRecord::new(TOPIC, 11, 5);
    let id = identity(3);
    let event =
        config
            .clone()
            .with_stack_trace_hash(false)
            .build_event(&record, &error, id.clone());
    out.push(Case {
        name: "tombstone",
        expected_event: json!({
            "identity": {"eventId": id.event_id, "idempotenceId": id.idempotence_id, "created": 1_764_748_800_126_i64},
            "type": {"name": "MessageProcessingFailedEvent", "version": "1.0.0"},
            "publisher": {"system": SYSTEM, "service": SERVICE},
            "references": {
                "message": {"type": "message", "topicName": TOPIC, "partition": "11", "offset": "5"},
                "errorType": {"type": "exception", "temporality": "UNKNOWN", "code": "UNKNOWN_EXCEPTION"}
            },
            "payload": {
                "originalMessage": "EMPTY_CONTENT",
                "originalKey": null,
                "errorMessage": "no value",
                "errorDescription": null,
                "stackTrace": {"string": "UNKNOWN_EXCEPTION: no value\n"},
                "stackTraceHash": null,
                "failedMessageMetadata": null
            },
            "processId": null,
            "domainEventVersion": "1.2.0"
        }),
        expected_key: json!({"key": id.idempotence_id}),
        event,
        value: None,
        key: None,
    });
    out
}
