//! Acceptance 1: the Java factory's behaviour list (builder -> Kafka bytes -> `AuditRecord`).

use audit_builder::{
    AuditCommandBuilder, AuditEventType, AuditObjectDataRole, AuditedObject, ObjectData,
};
use audit_consumer::{AuditRecord, ObjectDataKind, Trigger};
use chrono::DateTime;

use crate::{receive, t0};

fn builder() -> AuditCommandBuilder {
    AuditCommandBuilder::new("svc", "SYS", t0())
}

fn kinds(record: &AuditRecord) -> Vec<(String, Option<AuditObjectDataRole>, ObjectDataKind)> {
    record
        .audited_object()
        .unwrap()
        .object_data()
        .iter()
        .map(|d| (d.name().to_owned(), d.role(), d.kind().clone()))
        .collect()
}

#[test]
fn user_trigger() {
    let record = receive(
        &builder()
            .event_type(AuditEventType::Read)
            .user("u1", "idp")
            .build()
            .unwrap(),
    );
    match record.trigger() {
        Trigger::User(user) => assert_eq!((user.id(), user.identity_provider()), ("u1", "idp")),
        other => panic!("expected a user, got {other:?}"),
    }
    assert_eq!(record.service_name(), "svc");
    assert_eq!(record.system_name(), "SYS");
    assert_eq!(record.timestamp(), t0());
    assert_eq!(record.event().event_type(), AuditEventType::Read);
    assert_eq!(record.audited_object(), None);
}

#[test]
fn system_component_trigger() {
    let record = receive(
        &builder()
            .system_component("DEP", "OTHER", "job")
            .build()
            .unwrap(),
    );
    match record.trigger() {
        Trigger::SystemComponent(c) => assert_eq!(
            (c.department(), c.system(), c.component()),
            ("DEP", "OTHER", "job")
        ),
        other => panic!("expected a system component, got {other:?}"),
    }
}

#[test]
fn metadata_is_kept() {
    let created = DateTime::from_timestamp_millis(1_780_000_000_123).unwrap();
    let command = builder()
        .user("u1", "idp")
        .process_id("p1")
        .variant("v")
        .clock(move || created)
        .build()
        .unwrap();
    let record = receive(&command);
    let meta = record.metadata();
    assert_eq!(meta.message_id(), command.identity.id);
    assert_eq!(
        meta.idempotence_id(),
        "SYS-svc-UNKNOWN-u1-2026-05-28T08:00:00Z"
    );
    assert_eq!(meta.created(), created);
    assert_eq!(meta.type_name(), "CreateAuditRecordCommand");
    assert_eq!(meta.type_version(), "1.0.2");
    assert_eq!(meta.type_variant(), Some("v"));
    assert_eq!(meta.process_id(), Some("p1"));
    assert_eq!(meta.command_version(), "1.3.0");
}

#[test]
fn no_context() {
    let record = receive(&builder().user("u1", "idp").build().unwrap());
    assert_eq!(record.event().context(), None);
    assert_eq!(record.event().event_type(), AuditEventType::Unknown);
}

#[test]
fn context_without_process_id() {
    let record = receive(&builder().context("uc").user("u1", "idp").build().unwrap());
    let context = record.event().context().unwrap();
    assert_eq!((context.use_case(), context.process_id()), ("uc", None));
    assert_eq!(record.metadata().process_id(), None);
}

#[test]
fn context_with_process_id() {
    let record = receive(
        &builder()
            .context_with_process_id("uc", "p1")
            .user("u1", "idp")
            .build()
            .unwrap(),
    );
    let context = record.event().context().unwrap();
    assert_eq!(
        (context.use_case(), context.process_id()),
        ("uc", Some("p1"))
    );
    assert_eq!(record.metadata().process_id(), Some("p1"));
}

#[test]
fn event_data_in_order() {
    let record = receive(
        &builder()
            .event_data("b", "2")
            .event_data("a", "1")
            .event_data("b", "3")
            .user("u1", "idp")
            .build()
            .unwrap(),
    );
    let pairs: Vec<(&str, &str)> = record
        .event()
        .event_data()
        .iter()
        .map(|d| (d.key(), d.value()))
        .collect();
    assert_eq!(pairs, [("b", "2"), ("a", "1"), ("b", "3")]);
}

#[test]
fn no_event_data_is_an_empty_list() {
    let command = builder().user("u1", "idp").build().unwrap();
    assert_eq!(command.payload.event.event_data, None, "null on the wire");
    assert!(receive(&command).event().event_data().is_empty());
}

#[test]
fn audited_object_without_entries_gives_an_empty_list() {
    let command = builder()
        .user("u1", "idp")
        .audited_object(AuditedObject::new("Person", "42"))
        .build()
        .unwrap();
    assert_eq!(
        command.payload.audited_data.as_ref().unwrap().object_data,
        None,
        "null on the wire"
    );
    let record = receive(&command);
    let object = record.audited_object().unwrap();
    assert_eq!(
        (object.object_type(), object.id(), object.version()),
        ("Person", "42", None)
    );
    assert!(object.object_data().is_empty());
}

#[test]
fn audited_object_with_version() {
    let record = receive(
        &builder()
            .user("u1", "idp")
            .audited_object(AuditedObject::new("Person", "42").version("7"))
            .build()
            .unwrap(),
    );
    assert_eq!(record.audited_object().unwrap().version(), Some("7"));
}

#[test]
fn all_object_data_kinds_without_role() {
    let object = AuditedObject::new("Person", "42")
        .value("name", "Alice")
        .json_bytes("address", br#"{"city":"Bern"}"#.to_vec())
        .s3("photo", "s3://b/42.jpg");
    let record = receive(
        &builder()
            .user("u1", "idp")
            .audited_object(object)
            .build()
            .unwrap(),
    );
    assert_eq!(
        kinds(&record),
        vec![
            (
                "name".to_owned(),
                None,
                ObjectDataKind::Value(Some("Alice".into()))
            ),
            (
                "address".to_owned(),
                None,
                ObjectDataKind::Json(br#"{"city":"Bern"}"#.to_vec())
            ),
            (
                "photo".to_owned(),
                None,
                ObjectDataKind::S3Reference("s3://b/42.jpg".into())
            ),
        ]
    );
}

#[test]
fn all_object_data_kinds_with_role() {
    let object = AuditedObject::new("Person", "42")
        .data(ObjectData::value("name", "Alice").role(AuditObjectDataRole::New))
        .data(ObjectData::json_bytes("address", b"{}".to_vec()).role(AuditObjectDataRole::Old))
        .data(ObjectData::s3("photo", "s3://b/42.jpg").role(AuditObjectDataRole::New));
    let record = receive(
        &builder()
            .user("u1", "idp")
            .audited_object(object)
            .build()
            .unwrap(),
    );
    assert_eq!(
        kinds(&record),
        vec![
            (
                "name".to_owned(),
                Some(AuditObjectDataRole::New),
                ObjectDataKind::Value(Some("Alice".into()))
            ),
            (
                "address".to_owned(),
                Some(AuditObjectDataRole::Old),
                ObjectDataKind::Json(b"{}".to_vec())
            ),
            (
                "photo".to_owned(),
                Some(AuditObjectDataRole::New),
                ObjectDataKind::S3Reference("s3://b/42.jpg".into())
            ),
        ]
    );
}

#[test]
fn value_entry_without_value() {
    let object = AuditedObject::new("Person", "42")
        .null_value("nickname")
        .data(ObjectData::null_value("title").role(AuditObjectDataRole::Old));
    let record = receive(
        &builder()
            .user("u1", "idp")
            .audited_object(object)
            .build()
            .unwrap(),
    );
    assert_eq!(
        kinds(&record),
        vec![
            ("nickname".to_owned(), None, ObjectDataKind::Value(None)),
            (
                "title".to_owned(),
                Some(AuditObjectDataRole::Old),
                ObjectDataKind::Value(None)
            ),
        ]
    );
}

#[test]
fn json_entry_parses_into_a_value() {
    let value = serde_json::json!({"city": "Bern", "zip": 3003});
    let object = AuditedObject::new("Person", "42")
        .json("address", &value)
        .value("name", "Alice")
        .json_bytes("bad", b"{".to_vec());
    let record = receive(
        &builder()
            .user("u1", "idp")
            .audited_object(object)
            .build()
            .unwrap(),
    );
    let data = record.audited_object().unwrap().object_data();
    assert_eq!(data[0].json_value().unwrap(), Some(value));
    assert_eq!(data[1].json_value().unwrap(), None);
    match data[2].json_value() {
        Err(error @ audit_consumer::Error::InvalidJson { .. }) => {
            assert!(error.to_string().contains("\"bad\""), "{error}");
            assert!(std::error::Error::source(&error).is_some());
        }
        other => panic!("expected InvalidJson, got {other:?}"),
    }
}

#[test]
fn every_event_type_maps() {
    for &symbol in AuditEventType::SYMBOLS {
        let event_type = AuditEventType::from_symbol(symbol).unwrap();
        let record = receive(
            &builder()
                .event_type(event_type)
                .user("u1", "idp")
                .build()
                .unwrap(),
        );
        assert_eq!(record.event().event_type().as_str(), symbol);
        assert_eq!(record.event().event_type().to_string(), symbol);
    }
}

#[test]
fn try_from_the_generated_command_equals_decode() {
    let command = builder()
        .event_data("k", "v")
        .user("u1", "idp")
        .audited_object(AuditedObject::new("Person", "42").value("a", "b"))
        .build()
        .unwrap();
    assert_eq!(AuditRecord::from(command.clone()), receive(&command));
}
