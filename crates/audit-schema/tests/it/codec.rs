//! Codec properties: our bytes equal apache-avro's for the same datum, decode(encode(x)) == x,
//! also through every older writer version, and the generic writer-schema path.

#![allow(deprecated)] // apache_avro::{to_avro_datum, from_avro_datum} are the reference here

use apache_avro::Schema;
use apache_avro::types::Value;
use audit_schema::*;
use chrono::{DateTime, Utc};
use proptest::prelude::*;

/// Milliseconds between years 1 and 9999 (chrono's and Java's comfortable range).
const MIN_MS: i64 = -62_135_596_800_000;
const MAX_MS: i64 = 253_402_300_799_999;

fn text() -> impl Strategy<Value = CompactString> {
    prop_oneof![
        // up to and beyond CompactString's inline capacity (24 bytes)
        "[a-zA-Z0-9_. -]{0,30}",
        "\\PC{0,8}", // any printable unicode, up to 32 bytes
        Just(String::new()),
    ]
    .prop_map(CompactString::from)
}

fn opt_text() -> impl Strategy<Value = Option<CompactString>> {
    proptest::option::of(text())
}

fn timestamp() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        MIN_MS..=MAX_MS,
        -10_000i64..10_000,
        1_700_000_000_000i64..1_900_000_000_000
    ]
    .prop_map(|ms| DateTime::from_timestamp_millis(ms).unwrap_or_default())
}

fn role() -> impl Strategy<Value = Option<AuditObjectDataRole>> {
    proptest::option::of(prop_oneof![
        Just(AuditObjectDataRole::New),
        Just(AuditObjectDataRole::Old)
    ])
}

fn object_data() -> impl Strategy<Value = AuditObjectData> {
    prop_oneof![
        (role(), text(), opt_text()).prop_map(|(role, name, value)| {
            AuditObjectData::AuditObjectDataValue(AuditObjectDataValue { role, name, value })
        }),
        (
            role(),
            text(),
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..40),
                Just(br#"{"a":[1,2,{"b":null}],"c":"x"}"#.to_vec()),
            ]
        )
            .prop_map(|(role, name, json_as_utf8)| {
                AuditObjectData::AuditObjectDataJSON(AuditObjectDataJSON {
                    role,
                    name,
                    json_as_utf8,
                })
            }),
        (role(), text(), text()).prop_map(|(role, name, object_reference)| {
            AuditObjectData::AuditObjectDataS3(AuditObjectDataS3 {
                role,
                name,
                object_reference,
            })
        }),
    ]
}

fn event_type() -> impl Strategy<Value = AuditEventType> {
    proptest::sample::select(
        AuditEventType::SYMBOLS
            .iter()
            .filter_map(|s| AuditEventType::from_symbol(s))
            .collect::<Vec<_>>(),
    )
}

/// Random commands with every optional part exercised (absent, present, empty lists).
pub(crate) fn command() -> impl Strategy<Value = CreateAuditRecordCommand> {
    let identity = (text(), text(), timestamp()).prop_map(|(id, idempotence_id, created)| {
        AvroMessageIdentity {
            id,
            idempotence_id,
            created,
        }
    });
    let msg_type =
        (text(), text(), opt_text()).prop_map(|(name, version, variant)| AvroMessageType {
            name,
            version,
            variant,
        });
    let publisher =
        (text(), text()).prop_map(|(system, service)| AvroMessagePublisher { system, service });
    let context = proptest::option::of((text(), opt_text()).prop_map(|(use_case, process_id)| {
        AuditContext {
            use_case,
            process_id,
        }
    }));
    let event_data = proptest::option::of(proptest::collection::vec(
        (text(), text()).prop_map(|(key, value)| AuditEventDataElement { key, value }),
        0..5,
    ));
    let event = (event_type(), context, event_data).prop_map(|(r#type, context, event_data)| {
        AuditEventDetails {
            r#type,
            context,
            event_data,
        }
    });
    let trigger = prop_oneof![
        (text(), text()).prop_map(
            |(id, identity_provider)| AuditTrigger::AuditUser(AuditUser {
                id,
                identity_provider
            })
        ),
        (text(), text(), text()).prop_map(|(department, system, component)| {
            AuditTrigger::AuditSystemComponent(AuditSystemComponent {
                department,
                system,
                component,
            })
        }),
    ];
    let audited = proptest::option::of(
        (
            text(),
            text(),
            opt_text(),
            proptest::option::of(proptest::collection::vec(object_data(), 0..6)),
        )
            .prop_map(|(r#type, id, version, object_data)| AuditObject {
                r#type,
                id,
                version,
                object_data,
            }),
    );
    let payload = (timestamp(), event, trigger, audited).prop_map(
        |(timestamp, event, trigger, audited_data)| CreateAuditRecordCommandPayload {
            timestamp,
            event,
            trigger,
            audited_data,
        },
    );
    (identity, msg_type, publisher, payload, opt_text(), text()).prop_map(
        |(identity, r#type, publisher, payload, process_id, command_version)| {
            CreateAuditRecordCommand {
                identity,
                r#type,
                publisher,
                references: CreateAuditRecordCommandReferences {},
                payload,
                process_id,
                command_version,
            }
        },
    )
}

// ---- the apache-avro Value of a command (newest schema), built independently of our codec ----

fn rec(fields: Vec<(&str, Value)>) -> Value {
    Value::Record(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn opt<T>(v: &Option<T>, f: impl Fn(&T) -> Value) -> Value {
    match v {
        None => Value::Union(0, Box::new(Value::Null)),
        Some(x) => Value::Union(1, Box::new(f(x))),
    }
}

fn ts(t: &DateTime<Utc>) -> Value {
    Value::TimestampMillis(t.timestamp_millis())
}

fn role_value(r: &AuditObjectDataRole) -> Value {
    let i = AuditObjectDataRole::SYMBOLS
        .iter()
        .position(|s| *s == r.as_str())
        .unwrap_or(0);
    Value::Enum(i as u32, r.as_str().to_owned())
}

fn object_data_value(d: &AuditObjectData, version: SchemaVersion) -> Value {
    match d {
        AuditObjectData::AuditObjectDataValue(v) => Value::Union(
            0,
            Box::new(rec(vec![
                ("role", opt(&v.role, role_value)),
                ("name", s(&v.name)),
                (
                    "value",
                    if version < SchemaVersion::V1_0_2 {
                        // a plain string before 1.0.2 (callers skip null values there)
                        s(v.value.as_deref().unwrap_or_default())
                    } else {
                        opt(&v.value, |x| s(x))
                    },
                ),
            ])),
        ),
        AuditObjectData::AuditObjectDataJSON(v) => Value::Union(
            1,
            Box::new(rec(vec![
                ("role", opt(&v.role, role_value)),
                ("name", s(&v.name)),
                ("jsonAsUTF8", Value::Bytes(v.json_as_utf8.clone())),
            ])),
        ),
        AuditObjectData::AuditObjectDataS3(v) => Value::Union(
            2,
            Box::new(rec(vec![
                ("role", opt(&v.role, role_value)),
                ("name", s(&v.name)),
                ("objectReference", s(&v.object_reference)),
            ])),
        ),
    }
}

/// The apache-avro `Value` of `c` in the layout of schema `version`.
pub(crate) fn avro_value(c: &CreateAuditRecordCommand, version: SchemaVersion) -> Value {
    let p = &c.payload;
    let e = &p.event;
    let event_index = AuditEventType::SYMBOLS
        .iter()
        .position(|x| *x == e.r#type.as_str())
        .unwrap_or(0);
    rec(vec![
        (
            "identity",
            rec(vec![
                ("id", s(&c.identity.id)),
                ("idempotenceId", s(&c.identity.idempotence_id)),
                ("created", ts(&c.identity.created)),
            ]),
        ),
        (
            "type",
            rec(vec![
                ("name", s(&c.r#type.name)),
                ("version", s(&c.r#type.version)),
                ("variant", opt(&c.r#type.variant, |x| s(x))),
            ]),
        ),
        (
            "publisher",
            rec(vec![
                ("system", s(&c.publisher.system)),
                ("service", s(&c.publisher.service)),
            ]),
        ),
        ("references", rec(vec![])),
        (
            "payload",
            rec(vec![
                ("timestamp", ts(&p.timestamp)),
                (
                    "event",
                    rec(vec![
                        (
                            "type",
                            Value::Enum(event_index as u32, e.r#type.as_str().to_owned()),
                        ),
                        (
                            "context",
                            opt(&e.context, |x| {
                                rec(vec![
                                    ("useCase", s(&x.use_case)),
                                    ("processId", opt(&x.process_id, |y| s(y))),
                                ])
                            }),
                        ),
                        (
                            "eventData",
                            opt(&e.event_data, |items| {
                                Value::Array(
                                    items
                                        .iter()
                                        .map(|i| {
                                            rec(vec![("key", s(&i.key)), ("value", s(&i.value))])
                                        })
                                        .collect(),
                                )
                            }),
                        ),
                    ]),
                ),
                (
                    "trigger",
                    match &p.trigger {
                        AuditTrigger::AuditUser(u) => Value::Union(
                            0,
                            Box::new(rec(vec![
                                ("id", s(&u.id)),
                                ("identityProvider", s(&u.identity_provider)),
                            ])),
                        ),
                        AuditTrigger::AuditSystemComponent(u) => Value::Union(
                            1,
                            Box::new(rec(vec![
                                ("department", s(&u.department)),
                                ("system", s(&u.system)),
                                ("component", s(&u.component)),
                            ])),
                        ),
                    },
                ),
                (
                    "auditedData",
                    opt(&p.audited_data, |o| {
                        rec(vec![
                            ("type", s(&o.r#type)),
                            ("id", s(&o.id)),
                            ("version", opt(&o.version, |x| s(x))),
                            (
                                "objectData",
                                opt(&o.object_data, |items| {
                                    Value::Array(
                                        items
                                            .iter()
                                            .map(|d| object_data_value(d, version))
                                            .collect(),
                                    )
                                }),
                            ),
                        ])
                    }),
                ),
            ]),
        ),
        ("processId", opt(&c.process_id, |x| s(x))),
        ("commandVersion", s(&c.command_version)),
    ])
}

/// The apache-avro schema of a version (parsed once).
pub(crate) fn schema(v: SchemaVersion) -> &'static Schema {
    static SCHEMAS: std::sync::OnceLock<Vec<(SchemaVersion, Schema)>> = std::sync::OnceLock::new();
    let all = SCHEMAS.get_or_init(|| {
        SchemaVersion::ALL
            .iter()
            .map(|&v| {
                (
                    v,
                    Schema::parse_str(v.schema_json()).expect("built-in schema parses"),
                )
            })
            .collect()
    });
    all.iter()
        .find(|(x, _)| *x == v)
        .map(|(_, s)| s)
        .expect("known version")
}

/// A value with an `AuditObjectDataValue` whose value is null (not representable before 1.0.2).
fn has_null_value(c: &CreateAuditRecordCommand) -> Option<usize> {
    c.payload
        .audited_data
        .as_ref()?
        .object_data
        .as_ref()?
        .iter()
        .position(|d| matches!(d, AuditObjectData::AuditObjectDataValue(v) if v.value.is_none()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn bytes_equal_apache_avro_and_round_trip(cmd in command()) {
        let newest = schema(SchemaVersion::LATEST);
        let ours = cmd.to_avro_datum();
        let theirs = apache_avro::to_avro_datum(newest, avro_value(&cmd, SchemaVersion::LATEST)).expect("apache-avro encodes");
        prop_assert_eq!(&ours, &theirs);
        prop_assert_eq!(CreateAuditRecordCommand::from_avro_datum(&ours).expect("decodes"), cmd.clone());
        prop_assert_eq!(
            CreateAuditRecordCommandRef::from_avro_datum(&ours).expect("view decodes").into_owned(),
            cmd.clone()
        );
        let mut appended = vec![0xAB];
        cmd.encode_datum(&mut appended);
        prop_assert_eq!(appended.get(1..), Some(&ours[..]));
        // the generic path yields the same value
        let generic = WriterSchema::parse(SchemaVersion::LATEST.schema_json()).expect("parses");
        prop_assert_eq!(generic.decode(&ours).expect("decodes"), cmd);
    }

    #[test]
    fn older_writer_versions_round_trip_and_match_apache_avro(cmd in command()) {
        let expected = cmd.to_avro_datum();
        prop_assert_eq!(cmd.to_avro_datum_as(SchemaVersion::LATEST).ok(), Some(expected));
        for &v in SchemaVersion::ALL {
            match cmd.to_avro_datum_as(v) {
                Ok(bytes) => {
                    prop_assert!(v == SchemaVersion::LATEST || has_null_value(&cmd).is_none());
                    prop_assert_eq!(
                        CreateAuditRecordCommand::from_avro_datum_as(&bytes, v).expect("decodes"),
                        cmd.clone()
                    );
                    // apache-avro writes the same bytes for the datum in that version's layout
                    let theirs = apache_avro::to_avro_datum(schema(v), avro_value(&cmd, v))
                        .expect("apache-avro encodes");
                    prop_assert_eq!(&bytes, &theirs);
                    // (apache-avro's own resolution is not used as the oracle for decoding: 0.22
                    // resolves a union of records by value shape, not by name, and turns a
                    // 1.0.0 AuditObjectDataJSON into an AuditObjectDataValue)
                }
                Err(Error::NotRepresentable { version, path, .. }) => {
                    let i = has_null_value(&cmd);
                    prop_assert!(i.is_some(), "unexpected NotRepresentable at {}", path);
                    prop_assert_eq!(version, v);
                    prop_assert_eq!(
                        path,
                        format!("payload.auditedData.objectData[{}].value", i.unwrap_or(0))
                    );
                }
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }

    #[test]
    fn json_round_trips(cmd in command()) {
        let json = json::to_json(&cmd);
        prop_assert_eq!(json::from_json_value(&json).expect("reads back"), cmd.clone());
        let text = json::to_json_string_pretty(&cmd);
        prop_assert_eq!(json::from_json(&text).expect("reads back"), cmd);
    }
}

fn sample() -> CreateAuditRecordCommand {
    let at = DateTime::from_timestamp_millis(1_780_000_000_123).unwrap_or_default();
    CreateAuditRecordCommand {
        identity: AvroMessageIdentity {
            id: "id-1".into(),
            idempotence_id: "idem".into(),
            created: at,
        },
        r#type: AvroMessageType {
            name: "CreateAuditRecordCommand".into(),
            version: SCHEMA_VERSION.into(),
            variant: None,
        },
        publisher: AvroMessagePublisher {
            system: "JME".into(),
            service: "svc".into(),
        },
        references: CreateAuditRecordCommandReferences {},
        payload: CreateAuditRecordCommandPayload {
            timestamp: at,
            event: AuditEventDetails {
                r#type: AuditEventType::Modified,
                context: None,
                event_data: None,
            },
            trigger: AuditTrigger::AuditUser(AuditUser {
                id: "u".into(),
                identity_provider: "idp".into(),
            }),
            audited_data: Some(AuditObject {
                r#type: "Doc".into(),
                id: "1".into(),
                version: None,
                object_data: Some(vec![AuditObjectData::AuditObjectDataValue(
                    AuditObjectDataValue {
                        role: Some(AuditObjectDataRole::Old),
                        name: "n".into(),
                        value: Some("v".into()),
                    },
                )]),
            }),
        },
        process_id: None,
        command_version: "1.3.0".into(),
    }
}

#[test]
fn older_layout_differs_exactly_by_the_value_union_index() {
    let cmd = sample();
    let new = cmd.to_avro_datum();
    let old = cmd
        .to_avro_datum_as(SchemaVersion::V1_0_0)
        .expect("representable");
    assert_eq!(new.len(), old.len() + 1, "1.0.2 adds one union index byte");
    assert_eq!(
        cmd.to_avro_datum_as(SchemaVersion::V1_0_1)
            .expect("representable"),
        old
    );
    assert_eq!(
        cmd.to_avro_datum_as(SchemaVersion::V1_0_2).expect("newest"),
        new
    );
    // reading 1.0.0 bytes as if they were 1.0.2 is wrong: that is why the version matters
    assert_ne!(
        CreateAuditRecordCommand::from_avro_datum(&old).ok(),
        Some(cmd.clone())
    );
}

#[test]
fn null_value_is_not_representable_before_1_0_2() {
    let mut cmd = sample();
    if let Some(AuditObjectData::AuditObjectDataValue(v)) = cmd
        .payload
        .audited_data
        .as_mut()
        .and_then(|o| o.object_data.as_mut())
        .and_then(|d| d.first_mut())
    {
        v.value = None;
    }
    let err = cmd.to_avro_datum_as(SchemaVersion::V1_0_0).unwrap_err();
    assert!(
        matches!(&err, Error::NotRepresentable { version: SchemaVersion::V1_0_0, path, .. } if path == "payload.auditedData.objectData[0].value"),
        "{err}"
    );
    assert!(cmd.to_avro_datum_as(SchemaVersion::V1_0_2).is_ok());
}

/// A writer schema the build does not know: 1.0.2 plus a new enum symbol and a new field.
fn evolved_schema() -> String {
    SchemaVersion::LATEST
        .schema_json()
        .replacen(r#""DELETED","#, r#""DELETED", "ARCHIVED","#, 1)
        .replacen(
            r#""name": "useCase",
                          "type": "string"
                        },"#,
            r#""name": "useCase",
                          "type": "string"
                        },
                        {"name": "extra", "type": {"type": "array", "items": "long"}},"#,
            1,
        )
}

#[test]
fn generic_path_resolves_unknown_writer_schema() {
    let text = evolved_schema();
    assert_ne!(
        text,
        SchemaVersion::LATEST.schema_json(),
        "schema was evolved"
    );
    let writer_schema = Schema::parse_str(&text).expect("evolved schema parses");
    let writer = WriterSchema::parse(&text).expect("compatible");
    assert_eq!(writer.known_version(), None);

    let mut cmd = sample();
    cmd.payload.event.context = Some(AuditContext {
        use_case: "uc".into(),
        process_id: Some("p".into()),
    });
    let mut value = avro_value(&cmd, SchemaVersion::LATEST);
    // put the writer-only symbol and field into the value
    if let Value::Record(fields) = &mut value
        && let Some((_, Value::Record(payload))) = fields.iter_mut().find(|(n, _)| n == "payload")
        && let Some((_, Value::Record(event))) = payload.iter_mut().find(|(n, _)| n == "event")
    {
        for (name, v) in event.iter_mut() {
            if name == "type" {
                *v = Value::Enum(7, "ARCHIVED".into());
            }
            if name == "context"
                && let Value::Union(1, ctx) = v
                && let Value::Record(ctx) = ctx.as_mut()
            {
                ctx.insert(1, ("extra".into(), Value::Array(vec![Value::Long(5)])));
            }
        }
    }
    let datum =
        apache_avro::to_avro_datum(&writer_schema, value).expect("encodes with evolved schema");
    let decoded = writer.decode(&datum).expect("generic path decodes");
    let mut expected = cmd.clone();
    expected.payload.event.r#type = AuditEventType::Unknown;
    assert_eq!(decoded, expected);

    // trailing bytes are an error on the generic path too
    let mut longer = datum.clone();
    longer.push(0);
    assert!(matches!(
        writer.decode(&longer),
        Err(Error::Decode(e)) if *e.kind() == DecodeErrorKind::TrailingBytes(1)
    ));
}

#[test]
fn incompatible_writer_schema_is_rejected() {
    let text = SchemaVersion::LATEST.schema_json().replacen(
        r#""name": "commandVersion",
      "type": "string""#,
        r#""name": "commandVersion",
      "type": "long""#,
        1,
    );
    assert_ne!(text, SchemaVersion::LATEST.schema_json());
    assert!(matches!(
        WriterSchema::parse(&text),
        Err(Error::IncompatibleSchema { .. })
    ));
    assert!(matches!(
        WriterSchema::parse("{\"type\": \"nope\"}"),
        Err(Error::Canonical(_) | Error::InvalidSchema { .. })
    ));
}

#[test]
fn versions_and_fingerprints() {
    assert_eq!(SchemaVersion::LATEST.as_str(), SCHEMA_VERSION);
    assert_eq!(SchemaVersion::ALL.len(), 3);
    for &v in SchemaVersion::ALL {
        assert_eq!(SchemaVersion::parse(v.as_str()), Some(v));
        assert_eq!(
            canonical::parsing_canonical_form(v.schema_json()).expect("pcf"),
            v.canonical_form()
        );
        assert_eq!(canonical::fingerprint(v.canonical_form()), v.fingerprint());
        assert!(!v.canonical_form().contains("logicalType"));
        let known = SchemaVersion::from_fingerprint(v.fingerprint()).expect("known");
        assert_eq!(known.canonical_form(), v.canonical_form());
        assert_eq!(v.to_string(), v.as_str());
    }
    assert_eq!(SchemaVersion::parse("9.9.9"), None);
    assert_ne!(
        SchemaVersion::V1_0_1.fingerprint(),
        SchemaVersion::V1_0_2.fingerprint()
    );
}

#[test]
fn confluent_and_single_object_framing() {
    let datum = sample().to_avro_datum();
    let framed = confluent::frame(0x0102_0304, &datum);
    assert_eq!(framed.get(..5), Some(&[0u8, 1, 2, 3, 4][..]));
    let (id, rest) = confluent::unframe(&framed).expect("unframes");
    assert_eq!((id, rest), (0x0102_0304, &datum[..]));
    let mut bad = framed.clone();
    bad[0] = 1;
    assert!(matches!(
        confluent::unframe(&bad),
        Err(Error::WrongMagic { .. })
    ));
    assert!(matches!(
        confluent::unframe(&[0, 1]),
        Err(Error::FrameTooShort { len: 2, .. })
    ));

    let fp = SchemaVersion::LATEST.fingerprint();
    let so = single_object::frame(fp, &datum);
    assert_eq!(so.get(..2), Some(&[0xC3u8, 0x01][..]));
    assert_eq!(so.get(2..10), Some(&fp.to_le_bytes()[..]));
    assert_eq!(
        single_object::unframe(&so).expect("unframes"),
        (fp, &datum[..])
    );
    assert!(matches!(
        single_object::unframe(&[0xC3, 0x02, 0, 0, 0, 0, 0, 0, 0, 0]),
        Err(Error::WrongMagic { .. })
    ));
    assert!(matches!(
        single_object::unframe(&[0xC3]),
        Err(Error::FrameTooShort { .. })
    ));
}

#[test]
fn json_rendering_is_readable() {
    let mut cmd = sample();
    if let Some(o) = cmd.payload.audited_data.as_mut() {
        o.object_data = Some(vec![
            AuditObjectData::AuditObjectDataJSON(AuditObjectDataJSON {
                role: None,
                name: "doc".into(),
                json_as_utf8: br#"{"k":[1,true]}"#.to_vec(),
            }),
            AuditObjectData::AuditObjectDataJSON(AuditObjectDataJSON {
                role: None,
                name: "spaced".into(),
                json_as_utf8: br#"{"k": 1}"#.to_vec(),
            }),
            AuditObjectData::AuditObjectDataJSON(AuditObjectDataJSON {
                role: None,
                name: "binary".into(),
                json_as_utf8: vec![0xff, 0xfe],
            }),
        ]);
    }
    let j = json::to_json(&cmd);
    assert_eq!(j["payload"]["event"]["type"], "MODIFIED");
    assert_eq!(
        j["payload"]["trigger"]["AuditUser"]["identityProvider"],
        "idp"
    );
    assert_eq!(j["identity"]["created"], "2026-05-28T20:26:40.123Z");
    let data = &j["payload"]["auditedData"]["objectData"];
    assert_eq!(
        data[0]["AuditObjectDataJSON"]["jsonAsUTF8"]["json"]["k"][1],
        true
    );
    assert_eq!(
        data[1]["AuditObjectDataJSON"]["jsonAsUTF8"]["text"],
        r#"{"k": 1}"#
    );
    assert_eq!(
        data[2]["AuditObjectDataJSON"]["jsonAsUTF8"]["base64"],
        "//4="
    );
    assert_eq!(json::from_json_value(&j).expect("reads back"), cmd);
    assert!(matches!(json::from_json("{}"), Err(Error::Json(_))));
}

/// 1.0.0 plus one enum symbol: an unknown writer schema with the old `value` layout.
fn v1_0_0_with_extra_symbol() -> String {
    SchemaVersion::V1_0_0
        .schema_json()
        .replacen(r#""UNKNOWN""#, r#""UNKNOWN", "ARCHIVED""#, 1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// The generic path matches union branches by name (apache-avro 0.22's own resolution
    /// would turn an AuditObjectDataJSON written with 1.0.0 into an AuditObjectDataValue).
    #[test]
    fn generic_path_equals_generated_resolution(cmd in command()) {
        prop_assume!(has_null_value(&cmd).is_none());
        let text = v1_0_0_with_extra_symbol();
        let writer = WriterSchema::parse(&text).expect("compatible");
        prop_assert_eq!(writer.known_version(), None);
        let datum = apache_avro::to_avro_datum(
            &Schema::parse_str(&text).expect("parses"),
            avro_value(&cmd, SchemaVersion::V1_0_0),
        )
        .expect("apache-avro encodes");
        prop_assert_eq!(&datum, &cmd.to_avro_datum_as(SchemaVersion::V1_0_0).expect("representable"));
        prop_assert_eq!(writer.decode(&datum).expect("generic path decodes"), cmd);
    }
}
