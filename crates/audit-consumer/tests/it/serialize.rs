//! serde `Serialize` of the record (JSON output for tools and logs).

use audit_builder::{
    AuditCommandBuilder, AuditEventType, AuditObjectDataRole, AuditedObject, ObjectData,
};

use crate::{receive, t0};

#[test]
fn record_serializes_with_camel_case_names_and_symbols() {
    let command = AuditCommandBuilder::new("svc", "SYS", t0())
        .event_type(AuditEventType::Created)
        .context("uc")
        .event_data("k", "v")
        .system_component("DEP", "OTHER", "job")
        .audited_object(
            AuditedObject::new("Person", "42")
                .data(ObjectData::value("name", "Alice").role(AuditObjectDataRole::New))
                .null_value("nick")
                .s3("photo", "s3://x")
                .json_bytes("doc", br#"{"city":"Bern"}"#.to_vec())
                .json_bytes("text", b"not json".to_vec()),
        )
        .idempotence_id("idem-1")
        .build()
        .unwrap();
    let json = serde_json::to_value(receive(&command)).unwrap();

    assert_eq!(json["serviceName"], "svc");
    assert_eq!(json["systemName"], "SYS");
    assert_eq!(json["timestamp"], "2026-05-28T08:00:00Z");
    assert_eq!(json["event"]["eventType"], "CREATED");
    assert_eq!(json["event"]["context"]["useCase"], "uc");
    assert_eq!(
        json["event"]["eventData"],
        serde_json::json!([{"key": "k", "value": "v"}])
    );
    assert_eq!(
        json["trigger"],
        serde_json::json!({"systemComponent": {"department": "DEP", "system": "OTHER", "component": "job"}})
    );
    let data = &json["auditedObject"]["objectData"];
    assert_eq!(
        data[0],
        serde_json::json!({"name": "name", "role": "NEW", "kind": {"value": "Alice"}})
    );
    assert_eq!(
        data[1],
        serde_json::json!({"name": "nick", "role": null, "kind": {"value": null}})
    );
    assert_eq!(
        data[2]["kind"],
        serde_json::json!({"s3Reference": "s3://x"})
    );
    assert_eq!(json["metadata"]["idempotenceId"], "idem-1");
    assert_eq!(json["metadata"]["commandVersion"], "1.3.0");
    assert_eq!(json["metadata"]["typeVersion"], "1.0.2");
}

/// The JSON reads back into the same record (the audit service ingests it over HTTP).
#[test]
fn record_json_reads_back_into_the_same_record() {
    let command = AuditCommandBuilder::new("svc", "SYS", t0())
        .event_type(AuditEventType::Deleted)
        .context_with_process_id("uc", "proc-1")
        .event_data("k", "v")
        .user("u-1", "idp")
        .audited_object(
            AuditedObject::new("Person", "42")
                .version("7")
                .data(ObjectData::value("name", "Alice").role(AuditObjectDataRole::Old))
                .null_value("nick")
                .s3("photo", "s3://x")
                .json_bytes("doc", br#"{"city":"Bern"}"#.to_vec())
                .json_bytes("text", b"not json".to_vec())
                .json_bytes("raw", vec![0xff, 0x00, 0x80]),
        )
        .idempotence_id("idem-2")
        .build()
        .unwrap();
    let record = receive(&command);
    let json = serde_json::to_string(&record).unwrap();
    let back: audit_consumer::AuditRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, record);
}

/// Unknown fields are refused, so a misspelt field is an error, not a silently lost value.
#[test]
fn record_json_with_an_unknown_field_is_refused() {
    let command = AuditCommandBuilder::new("svc", "SYS", t0())
        .event_type(AuditEventType::Created)
        .system_component("DEP", "OTHER", "job")
        .idempotence_id("idem-3")
        .build()
        .unwrap();
    let mut json = serde_json::to_value(receive(&command)).unwrap();
    json["event"]["eventTyp"] = serde_json::json!("CREATED");
    let err = serde_json::from_value::<audit_consumer::AuditRecord>(json)
        .unwrap_err()
        .to_string();
    assert!(err.contains("eventTyp"), "{err}");
}
