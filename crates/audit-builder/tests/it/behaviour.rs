//! Acceptance 1: the Java builder's behaviour list, one named test each.

use audit_builder::{
    AuditCommandBuilder, AuditEventType, AuditObjectDataRole, AuditTrigger, AuditedObject,
    COMMAND_VERSION, Error, ObjectData, TYPE_NAME,
};
use audit_schema::{
    AuditObjectData, AuditObjectDataJSON, AuditObjectDataS3, AuditObjectDataValue,
    AuditSystemComponent, AuditUser, CreateAuditRecordCommandReferences, SCHEMA_VERSION,
};
use chrono::{DateTime, Utc};

use crate::{assert_round_trip, at, t0};

fn builder() -> AuditCommandBuilder {
    AuditCommandBuilder::new("svc", "SYS", t0())
}

fn user(id: &str, idp: &str) -> AuditTrigger {
    AuditTrigger::AuditUser(AuditUser {
        id: id.into(),
        identity_provider: idp.into(),
    })
}

#[test]
fn minimal_user_triggered_build() {
    let created = at(2026, 5, 28, 9, 30, 0, 0);
    let command = builder()
        .user("u1", "idp")
        .clock(move || created)
        .build()
        .unwrap();

    assert_eq!(command.publisher.service, "svc");
    assert_eq!(command.publisher.system, "SYS");
    assert_eq!(command.payload.timestamp, t0());
    assert_eq!(command.payload.trigger, user("u1", "idp"));
    assert_eq!(command.payload.event.r#type, AuditEventType::Unknown);
    assert_eq!(command.payload.event.context, None);
    assert_eq!(command.payload.event.event_data, None);
    assert_eq!(command.payload.audited_data, None);
    assert_eq!(command.process_id, None);
    assert_eq!(command.identity.created, created);
    assert_eq!(
        command.identity.idempotence_id,
        "SYS-svc-UNKNOWN-u1-2026-05-28T08:00:00Z"
    );
    assert_round_trip(&command);
}

#[test]
fn minimal_system_triggered_build() {
    let command = builder()
        .system_component("DEP", "OTHER", "job")
        .build()
        .unwrap();

    assert_eq!(
        command.payload.trigger,
        AuditTrigger::AuditSystemComponent(AuditSystemComponent {
            department: "DEP".into(),
            system: "OTHER".into(),
            component: "job".into(),
        })
    );
    assert_eq!(
        command.identity.idempotence_id,
        "SYS-svc-UNKNOWN-job-2026-05-28T08:00:00Z"
    );
    assert_round_trip(&command);
}

#[test]
fn envelope_is_filled_like_jeap() {
    let command = builder().user("u1", "idp").build().unwrap();

    let id = uuid::Uuid::parse_str(&command.identity.id).unwrap();
    assert_eq!(id.get_version_num(), 4);
    assert_eq!(
        command.identity.id,
        id.hyphenated().to_string(),
        "lower-case hyphenated UUID"
    );
    assert_eq!(command.r#type.name, "CreateAuditRecordCommand");
    assert_eq!(command.r#type.name, TYPE_NAME);
    assert_eq!(command.r#type.version, SCHEMA_VERSION);
    assert_eq!(command.r#type.version, "1.0.2");
    assert_eq!(command.r#type.variant, None);
    assert_eq!(command.references, CreateAuditRecordCommandReferences {});
    assert_eq!(command.command_version, "1.3.0");
    assert_eq!(command.command_version, COMMAND_VERSION);
}

#[test]
fn each_build_gets_a_fresh_message_id() {
    let b = builder().user("u1", "idp");
    let first = b.build().unwrap();
    let second = b.build().unwrap();
    assert_ne!(first.identity.id, second.identity.id);
    assert_eq!(
        first.identity.idempotence_id,
        second.identity.idempotence_id
    );
}

#[test]
fn created_comes_from_the_system_clock_by_default() {
    let before = Utc::now();
    let command = builder().user("u1", "idp").build().unwrap();
    let after = Utc::now();
    let floor = DateTime::from_timestamp_millis(before.timestamp_millis()).unwrap();
    assert!(floor <= command.identity.created && command.identity.created <= after);
}

#[test]
fn timestamps_are_truncated_to_milliseconds() {
    let action = at(2026, 5, 28, 8, 0, 0, 123_456_789);
    let created = at(2026, 5, 28, 9, 0, 0, 999_999_999);
    let command = AuditCommandBuilder::new("svc", "SYS", action)
        .user("u1", "idp")
        .clock(move || created)
        .build()
        .unwrap();

    assert_eq!(
        command.payload.timestamp,
        at(2026, 5, 28, 8, 0, 0, 123_000_000)
    );
    assert_eq!(
        command.identity.created,
        at(2026, 5, 28, 9, 0, 0, 999_000_000)
    );
    // the idempotence id keeps the full precision of the action timestamp
    assert_eq!(
        command.identity.idempotence_id,
        "SYS-svc-UNKNOWN-u1-2026-05-28T08:00:00.123456789Z"
    );
    assert_round_trip(&command);
}

#[test]
fn event_type_defaults_to_unknown() {
    let command = builder().user("u1", "idp").build().unwrap();
    assert_eq!(command.payload.event.r#type, AuditEventType::Unknown);
}

#[test]
fn every_event_type_is_carried() {
    for &symbol in AuditEventType::SYMBOLS {
        let event_type = AuditEventType::from_symbol(symbol).unwrap();
        let command = builder()
            .event_type(event_type)
            .user("u1", "idp")
            .build()
            .unwrap();
        assert_eq!(command.payload.event.r#type, event_type);
        assert_eq!(
            command.identity.idempotence_id,
            format!("SYS-svc-{symbol}-u1-2026-05-28T08:00:00Z")
        );
        assert_round_trip(&command);
    }
}

#[test]
fn context_without_process_id() {
    let command = builder().context("uc").user("u1", "idp").build().unwrap();
    let context = command.payload.event.context.clone().unwrap();
    assert_eq!(context.use_case, "uc");
    assert_eq!(context.process_id, None);
    assert_eq!(command.process_id, None);
    assert_round_trip(&command);
}

#[test]
fn context_with_process_id_becomes_the_command_process_id() {
    let command = builder()
        .context_with_process_id("uc", "p1")
        .user("u1", "idp")
        .build()
        .unwrap();
    let context = command.payload.event.context.clone().unwrap();
    assert_eq!(context.use_case, "uc");
    assert_eq!(context.process_id.as_deref(), Some("p1"));
    assert_eq!(command.process_id.as_deref(), Some("p1"));
    assert_round_trip(&command);
}

#[test]
fn process_id_on_builder_without_context() {
    let command = builder()
        .process_id("p1")
        .user("u1", "idp")
        .build()
        .unwrap();
    assert_eq!(command.process_id.as_deref(), Some("p1"));
    assert_eq!(command.payload.event.context, None);
    assert_round_trip(&command);
}

#[test]
fn process_id_on_builder_and_matching_context() {
    let command = builder()
        .process_id("p1")
        .context_with_process_id("uc", "p1")
        .user("u1", "idp")
        .build()
        .unwrap();
    assert_eq!(command.process_id.as_deref(), Some("p1"));
    assert_eq!(
        command
            .payload
            .event
            .context
            .as_ref()
            .and_then(|c| c.process_id.as_deref()),
        Some("p1")
    );
    assert_round_trip(&command);
}

#[test]
fn process_id_mismatch_is_an_error() {
    let result = builder()
        .process_id("p1")
        .context_with_process_id("uc", "p2")
        .user("u1", "idp")
        .build();
    match result {
        Err(error @ Error::ProcessIdMismatch { .. }) => {
            let Error::ProcessIdMismatch { builder, context } = &error else {
                unreachable!()
            };
            assert_eq!((builder.as_str(), context.as_str()), ("p1", "p2"));
            assert!(
                error.to_string().contains("processId"),
                "message names the field: {error}"
            );
        }
        other => panic!("expected a process id mismatch, got {other:?}"),
    }
}

#[test]
fn event_data_order_is_kept() {
    let command = builder()
        .event_data("b", "2")
        .event_data("a", "1")
        .event_data("b", "3")
        .event_data("empty", "")
        .user("u1", "idp")
        .build()
        .unwrap();
    let pairs: Vec<(String, String)> = command
        .payload
        .event
        .event_data
        .clone()
        .unwrap()
        .into_iter()
        .map(|e| (e.key.to_string(), e.value.to_string()))
        .collect();
    let expected = [("b", "2"), ("a", "1"), ("b", "3"), ("empty", "")];
    assert_eq!(pairs, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
    assert_round_trip(&command);
}

#[test]
fn no_event_data_is_null_on_the_wire() {
    let command = builder().user("u1", "idp").build().unwrap();
    assert_eq!(command.payload.event.event_data, None);
    let bytes = assert_round_trip(&command);
    // An empty array would encode differently (union branch 1 + block count 0).
    let mut with_empty = command.clone();
    with_empty.payload.event.event_data = Some(Vec::new());
    assert_ne!(with_empty.to_avro_datum(), bytes);
}

#[test]
fn missing_trigger_is_an_error() {
    let result = builder().event_type(AuditEventType::Read).build();
    assert!(matches!(result, Err(Error::MissingTrigger)), "{result:?}");
    assert!(
        Error::MissingTrigger
            .to_string()
            .contains("payload.trigger")
    );
}

#[test]
fn trigger_replacement_user_then_system() {
    let command = builder()
        .user("u1", "idp")
        .system_component("DEP", "OTHER", "job")
        .build()
        .unwrap();
    assert!(
        matches!(command.payload.trigger, AuditTrigger::AuditSystemComponent(ref c) if c.component == "job")
    );
    assert_eq!(
        command.identity.idempotence_id,
        "SYS-svc-UNKNOWN-job-2026-05-28T08:00:00Z"
    );
}

#[test]
fn trigger_replacement_system_then_user() {
    let command = builder()
        .system_component("DEP", "OTHER", "job")
        .user("u2", "idp2")
        .build()
        .unwrap();
    assert_eq!(command.payload.trigger, user("u2", "idp2"));
    assert_eq!(
        command.identity.idempotence_id,
        "SYS-svc-UNKNOWN-u2-2026-05-28T08:00:00Z"
    );
}

#[test]
fn trigger_replacement_last_user_wins() {
    let command = builder()
        .user("u1", "idp")
        .user("u2", "idp2")
        .build()
        .unwrap();
    assert_eq!(command.payload.trigger, user("u2", "idp2"));
}

#[test]
fn audited_object_without_version_and_entries() {
    let command = builder()
        .user("u1", "idp")
        .audited_object(AuditedObject::new("Person", "42"))
        .build()
        .unwrap();
    let object = command.payload.audited_data.clone().unwrap();
    assert_eq!(
        (object.r#type.as_str(), object.id.as_str()),
        ("Person", "42")
    );
    assert_eq!(object.version, None);
    assert_eq!(
        object.object_data, None,
        "no entries is null on the wire, not an empty array"
    );
    assert_round_trip(&command);
}

#[test]
fn audited_object_with_version_without_entries() {
    let command = builder()
        .user("u1", "idp")
        .audited_object(AuditedObject::new("Person", "42").version("7"))
        .build()
        .unwrap();
    let object = command.payload.audited_data.clone().unwrap();
    assert_eq!(object.version.as_deref(), Some("7"));
    assert_eq!(object.object_data, None);
    assert_round_trip(&command);
}

#[test]
fn audited_object_with_version_and_entries() {
    let command = builder()
        .user("u1", "idp")
        .audited_object(
            AuditedObject::new("Person", "42")
                .version("7")
                .value("name", "Alice")
                .value("age", "33"),
        )
        .build()
        .unwrap();
    let object = command.payload.audited_data.clone().unwrap();
    assert_eq!(object.version.as_deref(), Some("7"));
    assert_eq!(
        object.object_data,
        Some(vec![
            AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
                role: None,
                name: "name".into(),
                value: Some("Alice".into()),
            }),
            AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
                role: None,
                name: "age".into(),
                value: Some("33".into()),
            }),
        ])
    );
    assert_round_trip(&command);
}

#[test]
fn audited_object_replacement_last_wins() {
    let command = builder()
        .user("u1", "idp")
        .audited_object(AuditedObject::new("Person", "1").value("a", "b"))
        .audited_object(AuditedObject::new("Person", "2"))
        .build()
        .unwrap();
    let object = command.payload.audited_data.unwrap();
    assert_eq!((object.id.as_str(), object.object_data), ("2", None));
}

fn all_kinds(role: Option<AuditObjectDataRole>) -> (AuditedObject, Vec<AuditObjectData>) {
    let with_role = |entry: ObjectData| match role {
        Some(role) => entry.role(role),
        None => entry,
    };
    let object = AuditedObject::new("Person", "42")
        .data(with_role(ObjectData::value("name", "Alice")))
        .data(with_role(ObjectData::json_bytes(
            "address",
            br#"{"city":"Bern"}"#.to_vec(),
        )))
        .data(with_role(ObjectData::s3("photo", "s3://bucket/42.jpg")));
    let expected = vec![
        AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
            role,
            name: "name".into(),
            value: Some("Alice".into()),
        }),
        AuditObjectData::AuditObjectDataJSON(AuditObjectDataJSON {
            role,
            name: "address".into(),
            json_as_utf8: br#"{"city":"Bern"}"#.to_vec(),
        }),
        AuditObjectData::AuditObjectDataS3(AuditObjectDataS3 {
            role,
            name: "photo".into(),
            object_reference: "s3://bucket/42.jpg".into(),
        }),
    ];
    (object, expected)
}

#[test]
fn all_object_data_kinds_without_role() {
    let (object, expected) = all_kinds(None);
    let command = builder()
        .user("u1", "idp")
        .audited_object(object)
        .build()
        .unwrap();
    assert_eq!(
        command
            .payload
            .audited_data
            .as_ref()
            .and_then(|o| o.object_data.clone()),
        Some(expected)
    );
    assert_round_trip(&command);
}

#[test]
fn all_object_data_kinds_with_role_new() {
    let (object, expected) = all_kinds(Some(AuditObjectDataRole::New));
    let command = builder()
        .user("u1", "idp")
        .audited_object(object)
        .build()
        .unwrap();
    assert_eq!(
        command
            .payload
            .audited_data
            .as_ref()
            .and_then(|o| o.object_data.clone()),
        Some(expected)
    );
    assert_round_trip(&command);
}

#[test]
fn all_object_data_kinds_with_role_old() {
    let (object, expected) = all_kinds(Some(AuditObjectDataRole::Old));
    let command = builder()
        .user("u1", "idp")
        .audited_object(object)
        .build()
        .unwrap();
    assert_eq!(
        command
            .payload
            .audited_data
            .as_ref()
            .and_then(|o| o.object_data.clone()),
        Some(expected)
    );
    assert_round_trip(&command);
}

#[test]
fn null_value_entry() {
    let object = AuditedObject::new("Person", "42")
        .null_value("nickname")
        .data(ObjectData::optional_value("title", None).role(AuditObjectDataRole::Old))
        .data(
            ObjectData::optional_value("title", Some("Dr".into())).role(AuditObjectDataRole::New),
        );
    let command = builder()
        .user("u1", "idp")
        .audited_object(object)
        .build()
        .unwrap();
    assert_eq!(
        command
            .payload
            .audited_data
            .as_ref()
            .and_then(|o| o.object_data.clone()),
        Some(vec![
            AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
                role: None,
                name: "nickname".into(),
                value: None,
            }),
            AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
                role: Some(AuditObjectDataRole::Old),
                name: "title".into(),
                value: None,
            }),
            AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
                role: Some(AuditObjectDataRole::New),
                name: "title".into(),
                value: Some("Dr".into()),
            }),
        ])
    );
    assert_round_trip(&command);
}

#[test]
fn json_entry_from_serde_value_is_compact_utf8_in_key_order() {
    let value = serde_json::json!({"z": 1, "a": [true, null, "é"], "m": {"x": 1.5}});
    let object = AuditedObject::new("Person", "42").json("doc", &value);
    let command = builder()
        .user("u1", "idp")
        .audited_object(object)
        .build()
        .unwrap();
    let entry = command
        .payload
        .audited_data
        .as_ref()
        .and_then(|o| o.object_data.clone())
        .unwrap();
    match entry.as_slice() {
        [AuditObjectData::AuditObjectDataJSON(json)] => {
            assert_eq!(json.name, "doc");
            assert_eq!(
                json.json_as_utf8,
                r#"{"z":1,"a":[true,null,"é"],"m":{"x":1.5}}"#.as_bytes()
            );
        }
        other => panic!("expected one JSON entry, got {other:?}"),
    }
    assert_round_trip(&command);
}

#[test]
fn idempotence_id_override() {
    let command = builder()
        .user("u1", "idp")
        .idempotence_id("custom-1")
        .build()
        .unwrap();
    assert_eq!(command.identity.idempotence_id, "custom-1");
    assert_round_trip(&command);
}

#[test]
fn blank_idempotence_id_override_rejected() {
    for blank in ["", " ", "\t\n"] {
        let result = builder().user("u1", "idp").idempotence_id(blank).build();
        assert!(
            matches!(
                result,
                Err(Error::Blank {
                    field: audit_builder::Field::IdempotenceId
                })
            ),
            "{blank:?}: {result:?}"
        );
    }
}

#[test]
fn variant_is_carried() {
    let command = builder().user("u1", "idp").variant("v2").build().unwrap();
    assert_eq!(command.r#type.variant.as_deref(), Some("v2"));
    assert_round_trip(&command);
}

#[test]
fn builder_reuse_does_not_change_an_already_built_command() {
    let base = builder()
        .event_type(AuditEventType::Created)
        .event_data("k1", "v1")
        .user("u1", "idp")
        .audited_object(AuditedObject::new("Person", "42").value("name", "Alice"));
    let first = base.build().unwrap();
    let snapshot = first.clone();

    let changed = base
        .event_type(AuditEventType::Deleted)
        .event_data("k2", "v2")
        .system_component("DEP", "OTHER", "job")
        .audited_object(AuditedObject::new("Person", "43"))
        .process_id("p9")
        .variant("x");
    let second = changed.build().unwrap();

    assert_eq!(first, snapshot, "the first command is untouched");
    assert_eq!(first.payload.event.r#type, AuditEventType::Created);
    assert_eq!(
        first.payload.event.event_data.as_ref().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        second.payload.event.event_data.as_ref().map(Vec::len),
        Some(2)
    );
    assert_eq!(second.payload.event.r#type, AuditEventType::Deleted);
    assert_ne!(
        first.identity.idempotence_id,
        second.identity.idempotence_id
    );
}
