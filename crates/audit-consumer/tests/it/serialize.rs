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
