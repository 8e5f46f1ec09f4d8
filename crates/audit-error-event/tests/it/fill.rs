//! How the event is filled, beyond the three cases of `cases.rs`: the command from older
//! writers, the explicit message, truncation, the hash's stability, header rules, the codec
//! round trip and the subjects.

use audit_error_event::{
    EVENT_SCHEMA_JSON, ErrorEventConfig, ErrorInfo, EventIdentity, FailedRecord, KEY_SCHEMA_JSON,
    MessageProcessingFailedEvent, MessageProcessingFailedMessageKey, RecordPart, Temporality,
    codes, decode_command, decode_framed_key, decode_framed_value, key_subject, stack_trace_hash,
    value_subject,
};
use audit_schema::{SchemaVersion, confluent};

use crate::cases::{
    DecodeFailure, NotAllowed, SERVICE, SYSTEM, TOPIC, UnionIndex, cases, command, identity,
};

fn config() -> ErrorEventConfig {
    ErrorEventConfig::new(SYSTEM, SERVICE).unwrap()
}

#[test]
fn every_case_round_trips_through_our_codec() {
    for case in cases() {
        let (id, event) = decode_framed_value(&case.event.framed_value(9)).unwrap();
        assert_eq!((id, &event), (9, &case.event.event), "{}", case.name);
        let (id, key) = decode_framed_key(&case.event.framed_key(10)).unwrap();
        assert_eq!((id, &key), (10, &case.event.key), "{}", case.name);
        assert_eq!(
            MessageProcessingFailedEvent::from_avro_datum(&case.event.value_datum()).unwrap(),
            case.event.event
        );
        assert_eq!(
            MessageProcessingFailedMessageKey::from_avro_datum(&case.event.key_datum()).unwrap(),
            case.event.key
        );
    }
}

#[test]
fn truncated_or_trailing_datums_are_typed_errors() {
    let case = cases().into_iter().next().unwrap();
    let datum = case.event.value_datum();
    for cut in [0, 1, datum.len() / 2, datum.len() - 1] {
        let err = MessageProcessingFailedEvent::from_avro_datum(&datum[..cut]).unwrap_err();
        assert!(
            matches!(err, audit_error_event::Error::Decode { .. }),
            "{cut}: {err}"
        );
    }
    let mut longer = datum.clone();
    longer.push(0);
    assert!(MessageProcessingFailedEvent::from_avro_datum(&longer).is_err());
    assert!(decode_framed_value(&datum[..3]).is_err());
}

#[test]
fn a_command_of_every_known_version_fills_the_metadata_and_the_key() {
    let cmd = command();
    for &version in SchemaVersion::ALL {
        let value = confluent::frame(3, &cmd.to_avro_datum_as(version).unwrap());
        let decoded = decode_command(&value).unwrap();
        assert_eq!(decoded.schema_id, 3);
        assert_eq!(decoded.command, cmd, "{version}");
        let record = FailedRecord::new(TOPIC, 1, 2).with_value(Some(&value));
        let error = ErrorInfo::new("E", Temporality::Permanent, "m");
        let out = config().build_event(&record, &error, identity(4));
        let meta = out.event.payload.failed_message_metadata.unwrap();
        assert_eq!(meta.event_id.as_deref(), Some(cmd.identity.id.as_str()));
        assert_eq!(meta.created, Some(cmd.identity.created));
        assert_eq!(meta.message_type_version.as_deref(), Some("1.0.2"));
        assert!(meta.headers.is_empty());
        assert_eq!(out.key.key, cmd.identity.id.as_str(), "{version}");
        assert_eq!(out.event.process_id.as_deref(), Some("process-42"));
    }
}

#[test]
fn an_explicit_message_wins_over_decoding_the_value() {
    let mut cmd = command();
    cmd.identity.id = "decoded-by-the-consumer".into();
    cmd.process_id = None;
    // the value is not decodable here (e.g. the consumer used a registry writer schema)
    let record = FailedRecord::new(TOPIC, 1, 2)
        .with_value(Some(b"\x00\x00\x00\x00\x01garbage"))
        .with_message(&cmd);
    let error = ErrorInfo::new("E", Temporality::Permanent, "m");
    let out = config().build_event(&record, &error, identity(5));
    assert_eq!(out.key.key, "decoded-by-the-consumer");
    let meta = out.event.payload.failed_message_metadata.unwrap();
    assert_eq!(meta.event_id.as_deref(), Some("decoded-by-the-consumer"));
    assert_eq!(out.event.process_id, None);
    assert_eq!(
        out.event.payload.original_message,
        b"\x00\x00\x00\x00\x01garbage"
    );
}

#[test]
fn an_unreadable_value_without_preserved_headers_has_no_metadata() {
    let headers: Vec<(&str, Option<&[u8]>)> =
        vec![("traceparent", Some(b"00-ab")), ("jeap-sign", None)];
    let record = FailedRecord::new(TOPIC, 1, 2)
        .with_value(Some(b"not a frame"))
        .with_headers(&headers);
    let cause = UnionIndex { index: 1 };
    let error = ErrorInfo::deserialization_failed(RecordPart::Key, &cause);
    let out = config().build_event(&record, &error, identity(6));
    assert_eq!(out.event.payload.failed_message_metadata, None);
    assert_eq!(out.event.payload.error_message, "Could not deserialize key");
    assert_eq!(out.key.key, identity(6).idempotence_id);
}

#[test]
fn the_preserved_header_list_is_configurable() {
    let headers: Vec<(&str, Option<&[u8]>)> =
        vec![("traceparent", Some(b"00-ab")), ("jeap-cert", Some(b"c"))];
    let record = FailedRecord::new(TOPIC, 1, 2).with_headers(&headers);
    let error = ErrorInfo::new("E", Temporality::Permanent, "m");
    let out = config()
        .with_preserved_headers(["traceparent"])
        .build_event(&record, &error, identity(7));
    let meta = out.event.payload.failed_message_metadata.unwrap();
    assert_eq!(
        meta.headers.into_iter().collect::<Vec<_>>(),
        vec![("traceparent".to_owned(), b"00-ab".to_vec())]
    );
}

#[test]
fn the_stack_trace_is_cut_to_the_limit_with_an_ellipsis() {
    let cause = DecodeFailure::Datum(UnionIndex { index: 9 });
    let error = ErrorInfo::deserialization_failed(RecordPart::Value, &cause);
    let record = FailedRecord::new(TOPIC, 1, 2);
    let full = config()
        .build_event(&record, &error, identity(8))
        .event
        .payload
        .stack_trace
        .unwrap();
    assert!(full.len() < 7000);
    for max in [0, 10, full.len() - 1] {
        let cut = config()
            .with_stack_trace_max_length(max)
            .build_event(&record, &error, identity(8))
            .event
            .payload;
        let text = cut.stack_trace.unwrap();
        assert_eq!(text, format!("{}...", &full[..max]), "{max}");
        // the hash is of the error, not of the truncated text
        assert_eq!(
            cut.stack_trace_hash.as_deref(),
            Some(stack_trace_hash(&error).as_str())
        );
    }
    let exact = config()
        .with_stack_trace_max_length(full.len())
        .build_event(&record, &error, identity(8));
    assert_eq!(
        exact.event.payload.stack_trace.as_deref(),
        Some(full.as_str())
    );
}

#[test]
fn the_hash_ignores_the_data_and_sees_the_kinds() {
    let a = &DecodeFailure::Datum(UnionIndex { index: 9 });
    let b = &DecodeFailure::Datum(UnionIndex { index: 1234 });
    fn hash(cause: &(dyn std::error::Error + 'static), code: &str) -> String {
        stack_trace_hash(
            &ErrorInfo::new(code, Temporality::Permanent, "message with data 17").with_cause(cause),
        )
    }
    assert_eq!(hash(a, "C"), hash(b, "C"));
    assert_ne!(hash(a, "C"), hash(a, "D"));
    assert_ne!(hash(a, "C"), hash(&NotAllowed, "C"));
    // the message plays no part
    let e1 = ErrorInfo::new("C", Temporality::Permanent, "offset 1").with_cause(a);
    let e2 = ErrorInfo::new("C", Temporality::Temporary, "offset 2").with_cause(a);
    assert_eq!(stack_trace_hash(&e1), stack_trace_hash(&e2));
    assert_eq!(hash(a, "C").len(), 8);
}

#[test]
fn the_publisher_must_not_be_blank() {
    assert!(matches!(
        ErrorEventConfig::new(" ", "svc"),
        Err(audit_error_event::Error::BlankPublisher { field: "system" })
    ));
    assert!(matches!(
        ErrorEventConfig::new("sys", ""),
        Err(audit_error_event::Error::BlankPublisher { field: "service" })
    ));
}

#[test]
fn generated_identities_are_fresh_uuids_in_milliseconds() {
    let (a, b) = (EventIdentity::generate(), EventIdentity::generate());
    assert_ne!(a.event_id, b.event_id);
    assert_ne!(a.event_id, a.idempotence_id);
    for id in [&a.event_id, &a.idempotence_id] {
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    }
    assert_eq!(a.created.timestamp_subsec_nanos() % 1_000_000, 0);
}

#[test]
fn subjects_and_schema_texts() {
    assert_eq!(
        value_subject("errors"),
        "errors-ch.admin.bit.jeap.messaging.avro.errorevent.MessageProcessingFailedEvent"
    );
    assert_eq!(
        key_subject("errors"),
        "errors-ch.admin.bit.jeap.messaging.avro.errorevent.MessageProcessingFailedMessageKey"
    );
    let event: serde_json::Value = serde_json::from_str(EVENT_SCHEMA_JSON).unwrap();
    let key: serde_json::Value = serde_json::from_str(KEY_SCHEMA_JSON).unwrap();
    for (schema, subject) in [(event, value_subject("t")), (key, key_subject("t"))] {
        let full = format!(
            "{}.{}",
            schema["namespace"].as_str().unwrap(),
            schema["name"].as_str().unwrap()
        );
        assert_eq!(subject, format!("t-{full}"));
    }
    assert_eq!(codes::DESERIALIZATION_FAILED, "DESERIALIZATION_FAILED");
}
