//! User trigger from a token, system trigger from a consumed message, the factory.

use std::process::Command;

use audit_builder::{
    AuditCommandBuilder, AuditCommandFactory, AuditEventType, AuditTrigger, Error, Field,
    JeapMessage, JwtClaims, PublisherConfig, SERVICE_NAME_ENV, SYSTEM_NAME_ENV, TokenSubject,
};
use audit_schema::{AuditSystemComponent, AuditUser};

use crate::{assert_round_trip, at, t0};

struct OwnAuth {
    user: String,
}

impl TokenSubject for OwnAuth {
    fn subject(&self) -> &str {
        &self.user
    }
    fn issuer(&self) -> &str {
        "own-idp"
    }
}

#[test]
fn user_trigger_from_verified_jwt_claims() {
    let claims: JwtClaims = serde_json::from_str(
        r#"{"iss":"https://idp.example/realms/x","sub":"f81d4fae","aud":"app","exp":1}"#,
    )
    .unwrap();
    let command = AuditCommandBuilder::new("svc", "SYS", t0())
        .user_from_token(&claims)
        .build()
        .unwrap();
    assert_eq!(
        command.payload.trigger,
        AuditTrigger::AuditUser(AuditUser {
            id: "f81d4fae".into(),
            identity_provider: "https://idp.example/realms/x".into()
        })
    );
    assert_eq!(
        command.identity.idempotence_id,
        "SYS-svc-UNKNOWN-f81d4fae-2026-05-28T08:00:00Z"
    );
}

#[test]
fn user_trigger_from_own_token_type() {
    let auth = OwnAuth { user: "bob".into() };
    let command = AuditCommandBuilder::new("svc", "SYS", t0())
        .user_from_token(&auth)
        .build()
        .unwrap();
    assert_eq!(
        command.payload.trigger,
        AuditTrigger::AuditUser(AuditUser {
            id: "bob".into(),
            identity_provider: "own-idp".into()
        })
    );
}

fn consumed_message() -> audit_builder::CreateAuditRecordCommand {
    AuditCommandBuilder::new("upstream-service", "UPSTREAM", at(2026, 5, 27, 0, 0, 0, 0))
        .user("u0", "idp")
        .idempotence_id("upstream-key-1")
        .build()
        .unwrap()
}

#[test]
fn system_trigger_from_consumed_message() {
    let consumed = consumed_message();
    assert_eq!(consumed.publisher_system(), "UPSTREAM");
    assert_eq!(consumed.publisher_service(), "upstream-service");
    assert_eq!(JeapMessage::idempotence_id(&consumed), "upstream-key-1");

    let command = AuditCommandBuilder::new("svc", "SYS", t0())
        .event_type(AuditEventType::Read)
        .system_component_from_message("DEP", &consumed)
        .build()
        .unwrap();
    assert_eq!(
        command.payload.trigger,
        AuditTrigger::AuditSystemComponent(AuditSystemComponent {
            department: "DEP".into(),
            system: "UPSTREAM".into(),
            component: "upstream-service".into(),
        })
    );
    assert_eq!(command.identity.idempotence_id, "audit-upstream-key-1");
    assert_round_trip(&command);
}

#[test]
fn explicit_override_wins_over_message_idempotence_id() {
    let command = AuditCommandBuilder::new("svc", "SYS", t0())
        .idempotence_id("mine")
        .system_component_from_message("DEP", &consumed_message())
        .build()
        .unwrap();
    assert_eq!(command.identity.idempotence_id, "mine");
}

#[test]
fn explicit_override_after_the_message_trigger_wins() {
    let command = AuditCommandBuilder::new("svc", "SYS", t0())
        .system_component_from_message("DEP", &consumed_message())
        .idempotence_id("mine")
        .build()
        .unwrap();
    assert_eq!(command.identity.idempotence_id, "mine");
}

#[test]
fn message_trigger_validates_the_consumed_message() {
    let mut consumed = consumed_message();
    consumed.identity.idempotence_id = " ".into();
    let result = AuditCommandBuilder::new("svc", "SYS", t0())
        .system_component_from_message("DEP", &consumed)
        .build();
    assert!(
        matches!(
            result,
            Err(Error::Blank {
                field: Field::ConsumedIdempotenceId
            })
        ),
        "{result:?}"
    );
    let result = AuditCommandBuilder::new("svc", "SYS", t0())
        .system_component_from_message(" ", &consumed_message())
        .build();
    assert!(
        matches!(
            result,
            Err(Error::Blank {
                field: Field::Department
            })
        ),
        "{result:?}"
    );
    let mut consumed = consumed_message();
    consumed.publisher.service = "".into();
    let result = AuditCommandBuilder::new("svc", "SYS", t0())
        .system_component_from_message("DEP", &consumed)
        .build();
    assert!(
        matches!(
            result,
            Err(Error::Blank {
                field: Field::Component
            })
        ),
        "{result:?}"
    );
}

#[test]
fn factory_builders_carry_service_system_and_clock() {
    let created = at(2030, 1, 1, 0, 0, 0, 0);
    let factory = AuditCommandFactory::new("svc", "SYS")
        .unwrap()
        .with_clock(move || created);
    let command = factory.builder(t0()).user("u1", "idp").build().unwrap();
    assert_eq!(
        (
            command.publisher.service.as_str(),
            command.publisher.system.as_str()
        ),
        ("svc", "SYS")
    );
    assert_eq!(command.identity.created, created);
    assert_eq!(
        command.identity.idempotence_id,
        "SYS-svc-UNKNOWN-u1-2026-05-28T08:00:00Z"
    );

    let in_process = factory
        .builder_in_process(t0(), "p1")
        .context_with_process_id("uc", "p1")
        .user("u1", "idp");
    assert_eq!(
        in_process.build().unwrap().process_id.as_deref(),
        Some("p1")
    );
    let mismatch = factory
        .builder_in_process(t0(), "p1")
        .context_with_process_id("uc", "p2")
        .user("u1", "idp")
        .build();
    assert!(matches!(mismatch, Err(Error::ProcessIdMismatch { .. })));
    let from_message = factory
        .builder_from_message(t0(), "DEP", &consumed_message())
        .build()
        .unwrap();
    assert_eq!(from_message.identity.idempotence_id, "audit-upstream-key-1");
    assert_eq!(from_message.publisher.service, "svc");
}

#[test]
fn factory_rejects_blank_names() {
    assert!(matches!(
        AuditCommandFactory::new("", "SYS"),
        Err(Error::Blank {
            field: Field::ServiceName
        })
    ));
    assert!(matches!(
        AuditCommandFactory::new("svc", " "),
        Err(Error::Blank {
            field: Field::SystemName
        })
    ));
}

#[test]
fn factory_from_config() {
    let config: PublisherConfig =
        serde_json::from_str(r#"{"serviceName":"svc","systemName":"SYS"}"#).unwrap();
    let factory = AuditCommandFactory::from_config(&config).unwrap();
    assert_eq!(
        (factory.service_name(), factory.system_name()),
        ("svc", "SYS")
    );
}

/// Runs [`from_env_child`] in a child process of this test binary with the given environment.
fn run_child(vars: &[(&str, Option<&str>)], expect: &str) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([
        "conveniences::from_env_child",
        "--exact",
        "--ignored",
        "--test-threads=1",
    ]);
    command.env("AUDIT_BUILDER_TEST_EXPECT", expect);
    for (name, value) in vars {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child test did not run: {stdout}"
    );
}

#[test]
fn factory_from_env_reads_the_variables() {
    run_child(
        &[
            (SERVICE_NAME_ENV, Some("env-service")),
            (SYSTEM_NAME_ENV, Some("ENV-SYSTEM")),
        ],
        "ok",
    );
}

#[test]
fn factory_from_env_missing_variable_is_an_error() {
    run_child(
        &[
            (SERVICE_NAME_ENV, Some("env-service")),
            (SYSTEM_NAME_ENV, None),
        ],
        "missing-system",
    );
}

#[test]
fn factory_from_env_blank_variable_is_an_error() {
    run_child(
        &[
            (SERVICE_NAME_ENV, Some(" ")),
            (SYSTEM_NAME_ENV, Some("ENV-SYSTEM")),
        ],
        "blank-service",
    );
}

/// Child half of the `factory_from_env_*` tests: runs only in the child process they start.
#[test]
#[ignore = "started by the factory_from_env_* tests in a child process with the environment set"]
fn from_env_child() {
    let expect = std::env::var("AUDIT_BUILDER_TEST_EXPECT").unwrap();
    let result = AuditCommandFactory::from_env();
    match expect.as_str() {
        "ok" => {
            let factory = result.unwrap();
            assert_eq!(
                (factory.service_name(), factory.system_name()),
                ("env-service", "ENV-SYSTEM")
            );
        }
        "missing-system" => {
            assert!(
                matches!(&result, Err(Error::Environment { name, source: std::env::VarError::NotPresent }) if *name == SYSTEM_NAME_ENV),
                "{result:?}"
            );
            let message = result.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains("AUDIT_SYSTEM_NAME"), "{message}");
        }
        "blank-service" => {
            assert!(
                matches!(
                    result,
                    Err(Error::Blank {
                        field: Field::ServiceName
                    })
                ),
                "{result:?}"
            );
        }
        other => panic!("unknown expectation {other}"),
    }
}
