//! jEAP's builder semantics in every call order (context, process id, idempotence id).
//!
//! One test per row of the table in the builder's docs, then a property test that runs random call
//! sequences through our builder and through [`JeapBuilder`], a model of jEAP's imperative
//! `CreateAuditRecordCommandBuilder` (with `AvroMessageBuilder` / `AvroCommandBuilder` and the
//! factory's `createWithSystemTriggerFromMessage`) written after the Java source, and requires the
//! same outcome: the same command fields, or the same error.

use audit_builder::{
    AuditCommandBuilder, AuditCommandFactory, AuditEventType, AuditTrigger, Error, Field,
};
use audit_schema::CreateAuditRecordCommand;
use chrono::{DateTime, Utc};
use proptest::prelude::*;

use crate::t0;

fn user_builder() -> AuditCommandBuilder {
    AuditCommandBuilder::new("svc", "SYS", t0()).user("u1", "idp")
}

fn context_of(command: &CreateAuditRecordCommand) -> Option<(&str, Option<&str>)> {
    command
        .payload
        .event
        .context
        .as_ref()
        .map(|c| (c.use_case.as_str(), c.process_id.as_deref()))
}

/// Row 1: builder with processId `p-1`, then `setContext("uc")`: processId `p-1`, context `{uc, null}`.
#[test]
fn row1_process_id_then_one_argument_context_keeps_the_process_id() {
    let command = user_builder()
        .process_id("p-1")
        .context("uc")
        .build()
        .unwrap();
    assert_eq!(command.process_id.as_deref(), Some("p-1"));
    assert_eq!(context_of(&command), Some(("uc", None)));

    // the same through the factory (jEAP: createCommandBuilder(.., processId))
    let factory = AuditCommandFactory::new("svc", "SYS").unwrap();
    let command = factory
        .builder_in_process(t0(), "p-1")
        .context("uc")
        .user("u1", "idp")
        .build()
        .unwrap();
    assert_eq!(command.process_id.as_deref(), Some("p-1"));
    assert_eq!(context_of(&command), Some(("uc", None)));
}

/// Row 2: `setContext("uc1","p-1")`, then `setContext("uc2","p-2")`: an error.
#[test]
fn row2_two_contexts_with_different_process_ids_conflict() {
    let result = user_builder()
        .context_with_process_id("uc1", "p-1")
        .context_with_process_id("uc2", "p-2")
        .build();
    match result {
        Err(Error::ProcessIdMismatch { builder, context }) => {
            assert_eq!((builder.as_str(), context.as_str()), ("p-1", "p-2"));
        }
        other => panic!("expected a process id mismatch, got {other:?}"),
    }
    // the same process id twice is fine
    let command = user_builder()
        .context_with_process_id("uc1", "p-1")
        .context_with_process_id("uc2", "p-1")
        .build()
        .unwrap();
    assert_eq!(command.process_id.as_deref(), Some("p-1"));
    assert_eq!(context_of(&command), Some(("uc2", Some("p-1"))));
}

/// Row 3: `setContext("uc1","p-1")`, then `setContext("uc2")`: processId `p-1`, context `{uc2, null}`.
#[test]
fn row3_one_argument_context_after_a_process_id_context_keeps_the_process_id() {
    let command = user_builder()
        .context_with_process_id("uc1", "p-1")
        .context("uc2")
        .build()
        .unwrap();
    assert_eq!(command.process_id.as_deref(), Some("p-1"));
    assert_eq!(context_of(&command), Some(("uc2", None)));
}

/// Row 4: message-triggered factory (explicit `audit-<consumed id>`), then `setTriggerUser(..)`:
/// the id stays.
#[test]
fn row4_message_triggered_id_survives_a_later_user_trigger() {
    let consumed = AuditCommandBuilder::new("upstream", "UP", t0())
        .user("u0", "idp")
        .idempotence_id("msg-17")
        .build()
        .unwrap();
    let factory = AuditCommandFactory::new("svc", "SYS").unwrap();
    let command = factory
        .builder_from_message(t0(), "IT", &consumed)
        .user("u1", "idp")
        .build()
        .unwrap();
    assert_eq!(command.identity.idempotence_id, "audit-msg-17");
    assert!(matches!(&command.payload.trigger, AuditTrigger::AuditUser(u) if u.id == "u1"));

    // and through the builder's own setter, also with a system trigger replacing it
    let command = AuditCommandBuilder::new("svc", "SYS", t0())
        .system_component_from_message("IT", &consumed)
        .system_component("IT", "SYS", "batch")
        .build()
        .unwrap();
    assert_eq!(command.identity.idempotence_id, "audit-msg-17");
}

/// A process id given after a context that names another one is the same conflict (jEAP can
/// only pass it to the constructor; our setter keeps jEAP's invariant).
#[test]
fn process_id_after_a_context_naming_another_one_conflicts() {
    let result = user_builder()
        .context_with_process_id("uc", "p-1")
        .process_id("p-2")
        .build();
    assert!(
        matches!(&result, Err(Error::ProcessIdMismatch { builder, context }) if builder == "p-2" && context == "p-1"),
        "{result:?}"
    );
    let command = user_builder()
        .context_with_process_id("uc", "p-1")
        .process_id("p-1")
        .build()
        .unwrap();
    assert_eq!(command.process_id.as_deref(), Some("p-1"));
}

/// The first conflict is reported, also when later calls would be fine (jEAP throws at the call).
#[test]
fn a_conflict_is_not_healed_by_later_calls() {
    let result = user_builder()
        .process_id("p-1")
        .context_with_process_id("uc", "p-2")
        .context("uc2")
        .context_with_process_id("uc3", "p-1")
        .build();
    assert!(
        matches!(&result, Err(Error::ProcessIdMismatch { builder, context }) if builder == "p-1" && context == "p-2"),
        "{result:?}"
    );
}

/// `idempotenceId(blank)` throws at the call: a valid id set afterwards does not heal the builder,
/// and the failure comes before a later process-id conflict (and before `build`'s own checks).
#[test]
fn a_blank_idempotence_id_fails_the_builder_even_if_a_valid_one_follows() {
    for blank in ["", " ", "\t\n", "\u{1c}\u{1f}"] {
        let result = user_builder()
            .idempotence_id(blank)
            .idempotence_id("key-1")
            .build();
        assert!(
            matches!(
                result,
                Err(Error::Blank {
                    field: Field::IdempotenceId
                })
            ),
            "{blank:?}: {result:?}"
        );
    }
    let result = AuditCommandBuilder::new("svc", "SYS", t0())
        .process_id("p-1")
        .idempotence_id(" ")
        .context_with_process_id("uc", "p-2")
        .build();
    assert!(
        matches!(
            result,
            Err(Error::Blank {
                field: Field::IdempotenceId
            })
        ),
        "{result:?}"
    );
    let result = user_builder()
        .process_id("p-1")
        .context_with_process_id("uc", "p-2")
        .idempotence_id(" ")
        .build();
    assert!(
        matches!(result, Err(Error::ProcessIdMismatch { .. })),
        "{result:?}"
    );
    // a blank id is not taken: an explicit id set before it is what jEAP's builder keeps, but
    // the chain has failed; a valid explicit id replaces an earlier valid one
    let command = user_builder()
        .idempotence_id("key-1")
        .idempotence_id("key-2")
        .build()
        .unwrap();
    assert_eq!(command.identity.idempotence_id, "key-2");
}

/// Deliberate difference: blank is the union of Unicode `White_Space` and Java's
/// `Character.isWhitespace`, so a no-break space alone (jEAP: not blank) is rejected here too.
#[test]
fn a_no_break_space_idempotence_id_is_rejected_unlike_jeap() {
    assert!(!java_is_blank("\u{a0}"));
    assert!(java_is_blank("\u{1c}"));
    let result = user_builder().idempotence_id("\u{a0}").build();
    assert!(
        matches!(
            result,
            Err(Error::Blank {
                field: Field::IdempotenceId
            })
        ),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// A model of jEAP's imperative builder, after the Java source.

/// What the Java builder throws.
#[derive(Debug, Clone, PartialEq, Eq)]
enum JeapError {
    /// `IllegalArgumentException("processId on command and processId on AuditContext must match")`
    /// from `setContext(useCase, processId)`: (the builder's process id, the context's).
    ProcessIdsMustMatch(String, String),
    /// `IllegalStateException("Either user or system trigger must be set")` from `build()`.
    NoTrigger,
    /// `AvroMessageBuilderException.propertyValue("identity.idempotenceId", ..)` from
    /// `idempotenceId(blank)`.
    BlankIdempotenceId,
}

/// The command fields the sequences can influence.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    process_id: Option<String>,
    context: Option<(String, Option<String>)>,
    event_type: AuditEventType,
    event_data: Option<Vec<(String, String)>>,
    trigger: Trigger,
    idempotence_id: String,
    service: String,
    system: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Trigger {
    User(String, String),
    System(String, String, String),
}

/// `CreateAuditRecordCommandBuilder`'s fields (and `AvroMessageBuilder.idempotenceId`).
#[derive(Debug, Clone)]
struct JeapBuilder {
    service_name: String,
    system_name: String,
    process_id: Option<String>,
    timestamp: DateTime<Utc>,
    event_type: AuditEventType,
    context: Option<(String, Option<String>)>,
    event_data: Option<Vec<(String, String)>>,
    user: Option<(String, String)>,
    system_component: Option<(String, String, String)>,
    idempotence_id: Option<String>,
}

impl JeapBuilder {
    /// `createCommandBuilder(serviceName, systemName, timestamp, processId)`.
    fn create_command_builder(
        service_name: &str,
        system_name: &str,
        timestamp: DateTime<Utc>,
        process_id: Option<&str>,
    ) -> Self {
        Self {
            service_name: service_name.to_owned(),
            system_name: system_name.to_owned(),
            process_id: process_id.map(str::to_owned),
            timestamp,
            event_type: AuditEventType::Unknown,
            context: None,
            event_data: None,
            user: None,
            system_component: None,
            idempotence_id: None,
        }
    }

    /// The factory's `createWithSystemTriggerFromMessage(serviceName, systemName, department, timestamp, message)`.
    fn create_with_system_trigger_from_message(
        service_name: &str,
        system_name: &str,
        department: &str,
        timestamp: DateTime<Utc>,
        message: &Message,
    ) -> Self {
        let mut builder = Self::create_command_builder(service_name, system_name, timestamp, None);
        builder.set_trigger_system(department, &message.system, &message.service);
        // "audit-" + id is never blank: this call cannot throw
        let _ = builder.idempotence_id(&format!("audit-{}", message.idempotence_id));
        builder
    }

    fn set_event_type(&mut self, event_type: AuditEventType) {
        self.event_type = event_type;
    }

    /// `setContext(useCase)`: never touches the process id.
    fn set_context(&mut self, use_case: &str) {
        self.context = Some((use_case.to_owned(), None));
    }

    /// `setContext(useCase, processId)`: sets the context, then throws on a different process id,
    /// else takes the process id.
    fn set_context_with_process_id(
        &mut self,
        use_case: &str,
        process_id: &str,
    ) -> Result<(), JeapError> {
        self.context = Some((use_case.to_owned(), Some(process_id.to_owned())));
        if let Some(own) = &self.process_id
            && own != process_id
        {
            return Err(JeapError::ProcessIdsMustMatch(
                own.clone(),
                process_id.to_owned(),
            ));
        }
        self.process_id = Some(process_id.to_owned());
        Ok(())
    }

    /// `addEventData(key, value)`.
    fn add_event_data(&mut self, key: &str, value: &str) {
        self.event_data
            .get_or_insert_with(Vec::new)
            .push((key.to_owned(), value.to_owned()));
    }

    /// `setTriggerUser(userId, identityProvider)`.
    fn set_trigger_user(&mut self, id: &str, identity_provider: &str) {
        self.user = Some((id.to_owned(), identity_provider.to_owned()));
        self.system_component = None;
    }

    /// `setTriggerSystem(department, system, component)`.
    fn set_trigger_system(&mut self, department: &str, system: &str, component: &str) {
        self.system_component = Some((
            department.to_owned(),
            system.to_owned(),
            component.to_owned(),
        ));
        self.user = None;
    }

    /// `AvroMessageBuilder.idempotenceId(id)`: throws on a blank id (before taking it).
    fn idempotence_id(&mut self, id: &str) -> Result<(), JeapError> {
        if java_is_blank(id) {
            return Err(JeapError::BlankIdempotenceId);
        }
        self.idempotence_id = Some(id.to_owned());
        Ok(())
    }

    /// `build()`: event details, trigger (or throw), idempotence id if none yet, process id.
    fn build(&mut self) -> Result<Outcome, JeapError> {
        let event_data = self.event_data.clone().filter(|d| !d.is_empty());
        let trigger = if let Some((id, idp)) = &self.user {
            Trigger::User(id.clone(), idp.clone())
        } else if let Some((d, s, c)) = &self.system_component {
            Trigger::System(d.clone(), s.clone(), c.clone())
        } else {
            return Err(JeapError::NoTrigger);
        };
        if self.idempotence_id.is_none() {
            let id = self.create_idempotence_id();
            self.idempotence_id(&id)?;
        }
        Ok(Outcome {
            process_id: self.process_id.clone(),
            context: self.context.clone(),
            event_type: self.event_type,
            event_data,
            trigger,
            idempotence_id: self.idempotence_id.clone().unwrap_or_default(),
            service: self.service_name.clone(),
            system: self.system_name.clone(),
        })
    }

    /// `String.format("%s-%s-%s-%s-%s", systemName, serviceName, eventType.name(), triggerInfo, timestamp)`
    /// with `Instant.toString()` (printed here by chrono, independently of the builder's printer).
    fn create_idempotence_id(&self) -> String {
        let trigger_info = match (&self.user, &self.system_component) {
            (Some((id, _)), _) => id.clone(),
            (None, Some((_, _, component))) => component.clone(),
            (None, None) => String::new(),
        };
        let instant = self
            .timestamp
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        format!(
            "{}-{}-{}-{}-{}",
            self.system_name,
            self.service_name,
            self.event_type.as_str(),
            trigger_info,
            instant
        )
    }
}

/// `AvroMessageBuilder.isBlank`: empty, or every char `Character.isWhitespace` (Unicode space
/// separators except the no-break ones, and U+0009..U+000D, U+001C..U+001F).
fn java_is_blank(value: &str) -> bool {
    value.chars().all(|c| {
        matches!(c, '\u{9}'..='\u{d}' | '\u{1c}'..='\u{1f}')
            || (c.is_whitespace()
                && !matches!(c, '\u{85}' | '\u{a0}' | '\u{2007}' | '\u{202f}')
                && !c.is_control())
    })
}

/// A consumed jEAP message (its publisher and idempotence id).
#[derive(Debug, Clone)]
struct Message {
    system: String,
    service: String,
    idempotence_id: String,
}

impl audit_builder::JeapMessage for Message {
    fn publisher_system(&self) -> &str {
        &self.system
    }
    fn publisher_service(&self) -> &str {
        &self.service
    }
    fn idempotence_id(&self) -> &str {
        &self.idempotence_id
    }
}

/// How the builder is made.
#[derive(Debug, Clone)]
enum Start {
    /// `createCommandBuilder(service, system, timestamp)` / `AuditCommandBuilder::new`.
    Plain,
    /// `createCommandBuilder(.., processId)` / `AuditCommandFactory::builder_in_process`.
    InProcess(String),
    /// `createWithSystemTriggerFromMessage` / `AuditCommandFactory::builder_from_message`.
    FromMessage(String, Message),
}

/// One setter call, named as in Java.
#[derive(Debug, Clone)]
enum Call {
    SetEventType(AuditEventType),
    SetContext(String),
    SetContextWithProcessId(String, String),
    AddEventData(String, String),
    SetTriggerUser(String, String),
    SetTriggerSystem(String, String, String),
    IdempotenceId(String),
}

/// Short names from a small alphabet, so that process ids and use cases collide often.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec!["p-1", "p-2", "p-3", "uc", "u1", "x y"])
            .prop_map(str::to_owned),
        "[a-z0-9-]{1,6}",
    ]
}

/// Idempotence ids: usually a name, sometimes blank in jEAP's sense (the ids both sides reject;
/// the no-break spaces only Rust rejects are a documented deliberate difference, tested apart).
fn idempotence_id() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => name(),
        1 => proptest::sample::select(vec!["", " ", "\t\n", "\u{1c}", "\u{2003}"]).prop_map(str::to_owned),
    ]
}

fn process_id() -> impl Strategy<Value = String> {
    proptest::sample::select(vec!["p-1", "p-2", "p-3"]).prop_map(str::to_owned)
}

fn event_type() -> impl Strategy<Value = AuditEventType> {
    proptest::sample::select(AuditEventType::SYMBOLS)
        .prop_map(|symbol| AuditEventType::from_symbol(symbol).unwrap_or_default())
}

fn start() -> impl Strategy<Value = Start> {
    prop_oneof![
        Just(Start::Plain),
        process_id().prop_map(Start::InProcess),
        (name(), name(), name(), name()).prop_map(|(department, system, service, id)| {
            Start::FromMessage(
                department,
                Message {
                    system,
                    service,
                    idempotence_id: id,
                },
            )
        }),
    ]
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        event_type().prop_map(Call::SetEventType),
        name().prop_map(Call::SetContext),
        (name(), process_id()).prop_map(|(uc, p)| Call::SetContextWithProcessId(uc, p)),
        (name(), name()).prop_map(|(k, v)| Call::AddEventData(k, v)),
        (name(), name()).prop_map(|(id, idp)| Call::SetTriggerUser(id, idp)),
        (name(), name(), name()).prop_map(|(d, s, c)| Call::SetTriggerSystem(d, s, c)),
        idempotence_id().prop_map(Call::IdempotenceId),
    ]
}

/// Runs the sequence through the model: the first exception ends it, as in Java.
fn run_model(
    timestamp: DateTime<Utc>,
    start: &Start,
    calls: &[Call],
) -> Result<Outcome, JeapError> {
    let mut builder = match start {
        Start::Plain => JeapBuilder::create_command_builder("svc", "SYS", timestamp, None),
        Start::InProcess(p) => {
            JeapBuilder::create_command_builder("svc", "SYS", timestamp, Some(p))
        }
        Start::FromMessage(department, message) => {
            JeapBuilder::create_with_system_trigger_from_message(
                "svc", "SYS", department, timestamp, message,
            )
        }
    };
    for call in calls {
        match call {
            Call::SetEventType(t) => builder.set_event_type(*t),
            Call::SetContext(uc) => builder.set_context(uc),
            Call::SetContextWithProcessId(uc, p) => builder.set_context_with_process_id(uc, p)?,
            Call::AddEventData(k, v) => builder.add_event_data(k, v),
            Call::SetTriggerUser(id, idp) => builder.set_trigger_user(id, idp),
            Call::SetTriggerSystem(d, s, c) => builder.set_trigger_system(d, s, c),
            Call::IdempotenceId(id) => builder.idempotence_id(id)?,
        }
    }
    builder.build()
}

/// Runs the sequence through our builder and reads the outcome back from the command.
fn run_ours(timestamp: DateTime<Utc>, start: &Start, calls: &[Call]) -> Result<Outcome, JeapError> {
    let factory = AuditCommandFactory::new("svc", "SYS").map_err(|_| JeapError::NoTrigger)?;
    let mut builder = match start {
        Start::Plain => factory.builder(timestamp),
        Start::InProcess(p) => factory.builder_in_process(timestamp, p.as_str()),
        Start::FromMessage(department, message) => {
            factory.builder_from_message(timestamp, department.as_str(), message)
        }
    };
    for call in calls {
        builder = match call.clone() {
            Call::SetEventType(t) => builder.event_type(t),
            Call::SetContext(uc) => builder.context(uc),
            Call::SetContextWithProcessId(uc, p) => builder.context_with_process_id(uc, p),
            Call::AddEventData(k, v) => builder.event_data(k, v),
            Call::SetTriggerUser(id, idp) => builder.user(id, idp),
            Call::SetTriggerSystem(d, s, c) => builder.system_component(d, s, c),
            Call::IdempotenceId(id) => builder.idempotence_id(id),
        };
    }
    match builder.build() {
        Ok(command) => Ok(outcome_of(&command)),
        Err(Error::ProcessIdMismatch { builder, context }) => {
            Err(JeapError::ProcessIdsMustMatch(builder, context))
        }
        Err(Error::MissingTrigger) => Err(JeapError::NoTrigger),
        Err(Error::Blank {
            field: Field::IdempotenceId,
        }) => Err(JeapError::BlankIdempotenceId),
        Err(other) => panic!("an error jEAP does not raise for these inputs: {other:?}"),
    }
}

fn outcome_of(command: &CreateAuditRecordCommand) -> Outcome {
    let trigger = match &command.payload.trigger {
        AuditTrigger::AuditUser(u) => {
            Trigger::User(u.id.to_string(), u.identity_provider.to_string())
        }
        AuditTrigger::AuditSystemComponent(c) => Trigger::System(
            c.department.to_string(),
            c.system.to_string(),
            c.component.to_string(),
        ),
    };
    Outcome {
        process_id: command.process_id.as_deref().map(str::to_owned),
        context: context_of(command).map(|(uc, p)| (uc.to_owned(), p.map(str::to_owned))),
        event_type: command.payload.event.r#type,
        event_data: command.payload.event.event_data.as_ref().map(|d| {
            d.iter()
                .map(|e| (e.key.to_string(), e.value.to_string()))
                .collect()
        }),
        trigger,
        idempotence_id: command.identity.idempotence_id.to_string(),
        service: command.publisher.service.to_string(),
        system: command.publisher.system.to_string(),
    }
}

fn timestamp() -> impl Strategy<Value = DateTime<Utc>> {
    (
        -62_135_596_800_i64..253_402_300_799,
        prop_oneof![Just(0_u32), Just(120_000_000), 0_u32..1_000_000_000],
    )
        .prop_map(|(secs, nanos)| DateTime::from_timestamp(secs, nanos).unwrap_or_default())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn random_call_sequences_agree_with_jeaps_builder(
        ts in timestamp(),
        start in start(),
        calls in proptest::collection::vec(call(), 0..10),
    ) {
        let jeap = run_model(ts, &start, &calls);
        let ours = run_ours(ts, &start, &calls);
        prop_assert_eq!(ours, jeap, "start {:?}, calls {:?}", start, calls);
    }
}
