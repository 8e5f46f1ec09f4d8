//! Acceptance 3: property tests over builder call sequences and blank required strings.

use audit_builder::{
    AuditCommandBuilder, AuditEventType, AuditObjectDataRole, AuditTrigger, AuditedObject, Error,
    Field, ObjectData,
};
use audit_schema::{AuditObjectData, CreateAuditRecordCommand};
use chrono::{DateTime, Utc};
use proptest::prelude::*;

/// Any string that is not blank (may contain spaces and any printable Unicode).
fn text() -> impl Strategy<Value = String> {
    "\\PC{1,12}".prop_filter("not blank", |s| !s.trim().is_empty())
}

/// Any string, blank or not.
fn any_text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

/// Empty or whitespace only.
fn blank() -> impl Strategy<Value = String> {
    "[ \t\n\r\u{a0}\u{2003}]{0,4}"
}

fn timestamp() -> impl Strategy<Value = DateTime<Utc>> {
    // years 0001..=9999, any nanosecond
    (-62_135_596_800_i64..253_402_300_799, 0_u32..1_000_000_000)
        .prop_map(|(secs, nanos)| DateTime::from_timestamp(secs, nanos).unwrap_or_default())
}

fn event_type() -> impl Strategy<Value = AuditEventType> {
    proptest::sample::select(AuditEventType::SYMBOLS)
        .prop_map(|symbol| AuditEventType::from_symbol(symbol).unwrap_or_default())
}

fn role() -> impl Strategy<Value = Option<AuditObjectDataRole>> {
    prop_oneof![
        Just(None),
        Just(Some(AuditObjectDataRole::New)),
        Just(Some(AuditObjectDataRole::Old))
    ]
}

fn object_data() -> impl Strategy<Value = ObjectData> {
    let kind = prop_oneof![
        (text(), any_text()).prop_map(|(n, v)| ObjectData::value(n, v)),
        text().prop_map(ObjectData::null_value),
        (text(), proptest::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(n, b)| ObjectData::json_bytes(n, b)),
        (text(), any_text()).prop_map(|(n, k)| ObjectData::json(n, &serde_json::json!({ "k": k }))),
        (text(), any_text()).prop_map(|(n, r)| ObjectData::s3(n, r)),
    ];
    (kind, role()).prop_map(|(entry, role)| match role {
        Some(role) => entry.role(role),
        None => entry,
    })
}

fn audited_object() -> impl Strategy<Value = AuditedObject> {
    (
        text(),
        text(),
        proptest::option::of(any_text()),
        proptest::collection::vec(object_data(), 0..5),
    )
        .prop_map(|(object_type, id, version, data)| {
            let object = AuditedObject::new(object_type, id);
            let object = match version {
                Some(version) => object.version(version),
                None => object,
            };
            data.into_iter().fold(object, AuditedObject::data)
        })
}

#[derive(Debug, Clone)]
enum TriggerOp {
    User(String, String),
    System(String, String, String),
}

#[derive(Debug, Clone)]
enum Op {
    EventType(AuditEventType),
    Context(String, Option<String>),
    EventData(String, String),
    Trigger(TriggerOp),
    Object(AuditedObject),
    Override(String),
    Variant(String),
}

fn trigger_op() -> impl Strategy<Value = TriggerOp> {
    prop_oneof![
        (text(), text()).prop_map(|(id, idp)| TriggerOp::User(id, idp)),
        (text(), text(), text()).prop_map(|(d, s, c)| TriggerOp::System(d, s, c)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        event_type().prop_map(Op::EventType),
        (text(), proptest::option::of(text())).prop_map(|(uc, pid)| Op::Context(uc, pid)),
        (text(), any_text()).prop_map(|(k, v)| Op::EventData(k, v)),
        trigger_op().prop_map(Op::Trigger),
        audited_object().prop_map(Op::Object),
        text().prop_map(Op::Override),
        any_text().prop_map(Op::Variant),
    ]
}

/// What the command must contain after applying the ops (the last value of each setter wins).
#[derive(Default)]
struct Expected {
    event_type: AuditEventType,
    context: Option<(String, Option<String>)>,
    event_data: Vec<(String, String)>,
    trigger: Option<TriggerOp>,
    object: Option<AuditedObject>,
    idempotence_override: Option<String>,
    variant: Option<String>,
    /// The builder's process id: given to it, or taken from the first context naming one.
    process_id: Option<String>,
}

fn apply(
    mut builder: AuditCommandBuilder,
    ops: &[Op],
    expected: &mut Expected,
) -> AuditCommandBuilder {
    for op in ops {
        builder = match op.clone() {
            Op::EventType(t) => {
                expected.event_type = t;
                builder.event_type(t)
            }
            Op::Context(use_case, pid) => {
                // valid sequences only: once the builder has a process id (given to it or taken
                // from the first context naming one), a context names that one or none
                let pid = match (&expected.process_id, pid) {
                    (Some(current), Some(_)) => Some(current.clone()),
                    (None, Some(named)) => {
                        expected.process_id = Some(named.clone());
                        Some(named)
                    }
                    (_, None) => None,
                };
                expected.context = Some((use_case.clone(), pid.clone()));
                match pid {
                    Some(pid) => builder.context_with_process_id(use_case, pid),
                    None => builder.context(use_case),
                }
            }
            Op::EventData(k, v) => {
                expected.event_data.push((k.clone(), v.clone()));
                builder.event_data(k, v)
            }
            Op::Trigger(trigger) => {
                expected.trigger = Some(trigger.clone());
                match trigger {
                    TriggerOp::User(id, idp) => builder.user(id, idp),
                    TriggerOp::System(d, s, c) => builder.system_component(d, s, c),
                }
            }
            Op::Object(object) => {
                expected.object = Some(object.clone());
                builder.audited_object(object)
            }
            Op::Override(id) => {
                expected.idempotence_override = Some(id.clone());
                builder.idempotence_id(id)
            }
            Op::Variant(v) => {
                expected.variant = Some(v.clone());
                builder.variant(v)
            }
        };
    }
    builder
}

fn check_one_trigger(
    command: &CreateAuditRecordCommand,
    expected: &TriggerOp,
) -> Result<String, TestCaseError> {
    match (&command.payload.trigger, expected) {
        (AuditTrigger::AuditUser(user), TriggerOp::User(id, idp)) => {
            prop_assert_eq!(&user.id, id);
            prop_assert_eq!(&user.identity_provider, idp);
            Ok(id.clone())
        }
        (AuditTrigger::AuditSystemComponent(c), TriggerOp::System(d, s, comp)) => {
            prop_assert_eq!(
                (
                    c.department.as_str(),
                    c.system.as_str(),
                    c.component.as_str()
                ),
                (d.as_str(), s.as_str(), comp.as_str())
            );
            Ok(comp.clone())
        }
        (actual, expected) => Err(TestCaseError::fail(format!(
            "trigger {actual:?}, expected {expected:?}"
        ))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn valid_call_sequences_build_round_tripping_commands(
        service in text(),
        system in text(),
        ts in timestamp(),
        builder_pid in proptest::option::of(text()),
        mut ops in proptest::collection::vec(op(), 0..12),
        trigger in trigger_op(),
        position in any::<prop::sample::Index>(),
    ) {
        // every valid sequence contains at least one trigger
        let at = position.index(ops.len() + 1);
        ops.insert(at, Op::Trigger(trigger));

        let mut builder = AuditCommandBuilder::new(service.clone(), system.clone(), ts);
        if let Some(pid) = &builder_pid {
            builder = builder.process_id(pid.clone());
        }
        let mut expected = Expected { process_id: builder_pid.clone(), ..Expected::default() };
        let builder = apply(builder, &ops, &mut expected);
        let command = builder.build().map_err(|e| TestCaseError::fail(e.to_string()))?;

        // encodes and decodes back equal
        let bytes = command.to_avro_datum();
        let decoded = CreateAuditRecordCommand::from_avro_datum(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&decoded, &command);

        // exactly one trigger: the last one set
        let trigger = expected.trigger.as_ref().ok_or_else(|| TestCaseError::fail("no trigger"))?;
        let trigger_key = check_one_trigger(&command, trigger)?;

        // the rest of the state
        prop_assert_eq!(&command.publisher.service, &service);
        prop_assert_eq!(&command.publisher.system, &system);
        prop_assert_eq!(command.payload.timestamp.timestamp_millis(), ts.timestamp_millis());
        prop_assert_eq!(command.payload.event.r#type, expected.event_type);
        let context = command.payload.event.context.as_ref().map(|c| (c.use_case.to_string(), c.process_id.as_deref().map(str::to_owned)));
        prop_assert_eq!(&context, &expected.context);
        prop_assert_eq!(command.process_id.as_deref(), expected.process_id.as_deref());
        let event_data: Option<Vec<(String, String)>> = command.payload.event.event_data.as_ref()
            .map(|d| d.iter().map(|e| (e.key.to_string(), e.value.to_string())).collect());
        let expected_data = if expected.event_data.is_empty() { None } else { Some(expected.event_data.clone()) };
        prop_assert_eq!(event_data, expected_data);
        match (&command.payload.audited_data, &expected.object) {
            (None, None) => {}
            (Some(actual), Some(object)) => {
                prop_assert_eq!(&actual.r#type, object.object_type());
                prop_assert_eq!(&actual.id, object.id());
                prop_assert_eq!(actual.version.as_deref(), object.object_version());
                let names: Vec<&str> = actual.object_data.iter().flatten().map(|d| match d {
                    AuditObjectData::AuditObjectDataValue(v) => v.name.as_str(),
                    AuditObjectData::AuditObjectDataJSON(j) => j.name.as_str(),
                    AuditObjectData::AuditObjectDataS3(s) => s.name.as_str(),
                }).collect();
                let expected_names: Vec<&str> = object.object_data().iter().map(ObjectData::name).collect();
                prop_assert_eq!(names, expected_names);
                prop_assert_eq!(actual.object_data.is_none(), object.object_data().is_empty());
            }
            (actual, expected) => return Err(TestCaseError::fail(format!("object {actual:?} vs {expected:?}"))),
        }
        prop_assert_eq!(command.r#type.variant.as_deref(), expected.variant.as_deref());
        let expected_idempotence = match &expected.idempotence_override {
            Some(id) => id.clone(),
            None => {
                // independent oracle: chrono's AutoSi prints the fraction in groups of 3 only when non-zero
                let formatted = ts.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
                format!("{system}-{service}-{}-{trigger_key}-{formatted}", expected.event_type.as_str())
            }
        };
        prop_assert_eq!(&command.identity.idempotence_id, &expected_idempotence);
        prop_assert_eq!(&command.command_version, "1.3.0");
        prop_assert_eq!(&command.r#type.name, "CreateAuditRecordCommand");
    }
}

/// A required input made blank in an otherwise valid builder.
#[derive(Debug, Clone, Copy)]
enum Target {
    Service,
    System,
    UserId,
    IdentityProvider,
    Department,
    ComponentSystem,
    Component,
    UseCase,
    EventDataKey,
    ObjectType,
    ObjectId,
    ObjectDataName,
    Override,
}

const TARGETS: &[Target] = &[
    Target::Service,
    Target::System,
    Target::UserId,
    Target::IdentityProvider,
    Target::Department,
    Target::ComponentSystem,
    Target::Component,
    Target::UseCase,
    Target::EventDataKey,
    Target::ObjectType,
    Target::ObjectId,
    Target::ObjectDataName,
    Target::Override,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_blank_required_string_yields_the_matching_error(
        target in proptest::sample::select(TARGETS),
        blank in blank(),
        ts in timestamp(),
        good in proptest::collection::vec(text(), 16),
        data_before in 0_usize..3,
        data_after in 0_usize..3,
    ) {
        let pick = |target_here: bool, i: usize| if target_here { blank.clone() } else { good[i].clone() };
        let is = |t: Target| std::mem::discriminant(&t) == std::mem::discriminant(&target);
        let mut builder = AuditCommandBuilder::new(pick(is(Target::Service), 0), pick(is(Target::System), 1), ts)
            .event_type(AuditEventType::Created);
        builder = match target {
            Target::Department | Target::ComponentSystem | Target::Component => builder.system_component(
                pick(is(Target::Department), 2),
                pick(is(Target::ComponentSystem), 3),
                pick(is(Target::Component), 4),
            ),
            _ => builder.user(pick(is(Target::UserId), 5), pick(is(Target::IdentityProvider), 6)),
        };
        builder = builder.context(pick(is(Target::UseCase), 7));
        for i in 0..data_before {
            builder = builder.event_data(good[8].clone(), format!("v{i}"));
        }
        if is(Target::EventDataKey) {
            builder = builder.event_data(blank.clone(), "v");
        }
        for i in 0..data_after {
            builder = builder.event_data(good[9].clone(), format!("w{i}"));
        }
        let mut object = AuditedObject::new(pick(is(Target::ObjectType), 10), pick(is(Target::ObjectId), 11));
        for i in 0..data_before {
            object = object.value(good[12].clone(), format!("v{i}"));
        }
        if is(Target::ObjectDataName) {
            object = object.s3(blank.clone(), "s3://x");
        }
        for _ in 0..data_after {
            object = object.json_bytes(good[13].clone(), b"{}".to_vec());
        }
        builder = builder.audited_object(object);
        if is(Target::Override) {
            builder = builder.idempotence_id(blank.clone());
        }
        let expected = match target {
            Target::Service => Field::ServiceName,
            Target::System => Field::SystemName,
            Target::UserId => Field::UserId,
            Target::IdentityProvider => Field::IdentityProvider,
            Target::Department => Field::Department,
            Target::ComponentSystem => Field::ComponentSystem,
            Target::Component => Field::Component,
            Target::UseCase => Field::UseCase,
            Target::EventDataKey => Field::EventDataKey { index: data_before },
            Target::ObjectType => Field::ObjectType,
            Target::ObjectId => Field::ObjectId,
            Target::ObjectDataName => Field::ObjectDataName { index: data_before },
            Target::Override => Field::IdempotenceId,
        };
        match builder.build() {
            Err(Error::Blank { field }) => prop_assert_eq!(field, expected),
            other => return Err(TestCaseError::fail(format!("expected Blank({expected:?}), got {other:?}"))),
        }
    }
}
