//! The sanitizer applied when the command is built.

use std::sync::Arc;

use audit_builder::{
    AuditCommandBuilder, AuditCommandFactory, AuditTrigger, AuditedObject,
    CreateAuditRecordCommand, Sanitizer,
};
use audit_sanitize::{Action, CHANGES_TOTAL, MASK, RuleConfig, SanitizerConfig, ValuePattern};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

use crate::at;

fn keyed(rules: Vec<RuleConfig>) -> Arc<Sanitizer> {
    let mut config = SanitizerConfig::default().pseudonym_key(*b"builder-test-key-builder-test-ke");
    config.rules = rules;
    Arc::new(Sanitizer::new(&config).unwrap())
}

fn builder() -> AuditCommandBuilder {
    AuditCommandBuilder::new("invoice-service", "BILLING", at(2026, 5, 28, 8, 0, 0, 120_000_000))
        .event_data("channel", "web")
        .event_data("sessionToken", "tok-123456")
        .event_data("note", "paid by 4111 1111 1111 1111")
        .user("alice@example.org", "https://idp.example")
        .audited_object(
            AuditedObject::new("Invoice", "INV-1")
                .value("status", "PAID")
                .json("debtor", &serde_json::json!({"name": "Alice", "accounts": [{"iban": "CH9300762011623852957"}]})),
        )
}

/// Without what differs between two builds of the same command: the message id and the
/// creation time (two builds may fall into different milliseconds).
fn without_ids(mut command: CreateAuditRecordCommand) -> CreateAuditRecordCommand {
    command.identity.id = "".into();
    command.identity.created = chrono::DateTime::UNIX_EPOCH;
    command
}

#[test]
fn built_commands_are_sanitized_and_the_rest_is_as_without_sanitizer() {
    let plain = builder().build().unwrap();
    let sanitizer = Arc::new(Sanitizer::with_defaults());
    let (command, report) = builder()
        .sanitizer(sanitizer.clone())
        .build_with_report()
        .unwrap();
    let data = command.payload.event.event_data.clone().unwrap();
    assert_eq!(data[0].value, "web");
    assert_eq!(data[1].value, MASK);
    assert_eq!(data[2].value, format!("paid by {MASK}"));
    assert_eq!(report.count("default-secret-keys"), 2); // sessionToken and the JSON member iban
    assert_eq!(report.count("default-payment-card"), 1);
    // the user id looks like an e-mail address: untouched without a user_id rule
    assert!(
        matches!(&command.payload.trigger, AuditTrigger::AuditUser(u) if u.id == "alice@example.org")
    );
    assert_eq!(
        command.identity.idempotence_id,
        plain.identity.idempotence_id
    );
    let mut expected = without_ids(plain.clone());
    expected.payload.event.event_data = command.payload.event.event_data.clone();
    expected.payload.audited_data = command.payload.audited_data.clone();
    assert_eq!(without_ids(command.clone()), expected);
    let datum = command.to_avro_datum();
    for leaked in ["tok-123456", "4111 1111 1111 1111", "CH9300762011623852957"] {
        assert!(
            !datum.windows(leaked.len()).any(|w| w == leaked.as_bytes()),
            "{leaked}"
        );
    }
    // the same through the factory
    let factory = AuditCommandFactory::new("invoice-service", "BILLING")
        .unwrap()
        .with_sanitizer(sanitizer);
    let from_factory = factory
        .builder(at(2026, 5, 28, 8, 0, 0, 0))
        .event_data("Cookie", "c=1")
        .user("u1", "idp")
        .build()
        .unwrap();
    assert_eq!(
        from_factory.payload.event.event_data.unwrap()[0].value,
        MASK
    );
    // without a sanitizer: an empty report
    let (_, report) = builder().build_with_report().unwrap();
    assert!(report.is_empty());
}

#[test]
fn a_pseudonymized_user_id_is_used_for_the_default_idempotence_id_and_nowhere_in_clear() {
    let sanitizer = keyed(vec![RuleConfig::user_id("user")]);
    let pseudonym = sanitizer.pseudonym("alice@example.org").unwrap();
    let command = builder().sanitizer(sanitizer.clone()).build().unwrap();
    assert!(matches!(&command.payload.trigger, AuditTrigger::AuditUser(u) if u.id == pseudonym));
    assert_eq!(
        command.identity.idempotence_id,
        format!("BILLING-invoice-service-UNKNOWN-{pseudonym}-2026-05-28T08:00:00.120Z")
    );
    let again = builder().sanitizer(sanitizer.clone()).build().unwrap();
    assert_eq!(
        again.identity.idempotence_id,
        command.identity.idempotence_id
    );
    let datum = command.to_avro_datum();
    assert!(!datum.windows(17).any(|w| w == b"alice@example.org"));
    // explicit and message-derived ids are never touched
    let explicit = builder()
        .sanitizer(sanitizer.clone())
        .idempotence_id("mine-1")
        .build()
        .unwrap();
    assert_eq!(explicit.identity.idempotence_id, "mine-1");
    let derived = builder()
        .sanitizer(sanitizer)
        .system_component_from_message("IT", &explicit)
        .user("alice@example.org", "idp")
        .build()
        .unwrap();
    assert_eq!(derived.identity.idempotence_id, "audit-mine-1");
}

#[test]
fn the_metric_counts_what_the_build_changed() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let sanitizer = keyed(vec![RuleConfig::value(
        "mail",
        ValuePattern::Email,
        Action::Pseudonymize,
    )]);
    let command = metrics::with_local_recorder(&recorder, || {
        builder()
            .event_data("contact", "bob@example.org")
            .sanitizer(sanitizer.clone())
            .build()
            .unwrap()
    });
    let contact = &command.payload.event.event_data.unwrap()[3];
    assert_eq!(
        Some(contact.value.to_string()),
        sanitizer.pseudonym("bob@example.org")
    );
    let counters: Vec<(String, u64)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == CHANGES_TOTAL)
        .map(|(key, _, _, value)| {
            let labels: Vec<String> = key
                .key()
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            let DebugValue::Counter(n) = value else {
                panic!("not a counter")
            };
            (labels.join(","), n)
        })
        .collect();
    assert!(
        counters.contains(&("rule=mail,action=pseudonymize".to_owned(), 1)),
        "{counters:?}"
    );
}
