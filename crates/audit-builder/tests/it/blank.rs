//! Every blank required string is rejected with an error naming the field.

use audit_builder::{AuditCommandBuilder, AuditedObject, Error, Field, JwtClaims};

use crate::t0;

fn expect_blank(result: Result<audit_builder::CreateAuditRecordCommand, Error>, field: Field) {
    match result {
        Err(Error::Blank { field: actual }) => {
            assert_eq!(actual, field);
            let message = Error::Blank { field: actual }.to_string();
            assert!(message.contains(&field.path()), "{message}");
            assert!(message.contains(field.description()), "{message}");
        }
        other => panic!("expected Blank({field:?}), got {other:?}"),
    }
}

fn ok() -> AuditCommandBuilder {
    AuditCommandBuilder::new("svc", "SYS", t0()).user("u1", "idp")
}

#[test]
fn blank_service_name() {
    for blank in ["", "   "] {
        expect_blank(
            AuditCommandBuilder::new(blank, "SYS", t0())
                .user("u1", "idp")
                .build(),
            Field::ServiceName,
        );
    }
}

#[test]
fn blank_system_name() {
    expect_blank(
        AuditCommandBuilder::new("svc", " \t", t0())
            .user("u1", "idp")
            .build(),
        Field::SystemName,
    );
}

#[test]
fn blank_user_id() {
    expect_blank(ok().user("", "idp").build(), Field::UserId);
}

#[test]
fn blank_identity_provider() {
    expect_blank(ok().user("u1", " ").build(), Field::IdentityProvider);
}

#[test]
fn blank_token_subject_and_issuer() {
    let claims = JwtClaims {
        sub: " ".into(),
        iss: "idp".into(),
    };
    expect_blank(ok().user_from_token(&claims).build(), Field::UserId);
    let claims = JwtClaims {
        sub: "u1".into(),
        iss: String::new(),
    };
    expect_blank(
        ok().user_from_token(&claims).build(),
        Field::IdentityProvider,
    );
}

#[test]
fn blank_department() {
    expect_blank(
        ok().system_component("", "S", "c").build(),
        Field::Department,
    );
}

#[test]
fn blank_component_system() {
    expect_blank(
        ok().system_component("D", "\n", "c").build(),
        Field::ComponentSystem,
    );
}

#[test]
fn blank_component() {
    expect_blank(
        ok().system_component("D", "S", "").build(),
        Field::Component,
    );
}

#[test]
fn blank_use_case() {
    expect_blank(ok().context(" ").build(), Field::UseCase);
    expect_blank(
        ok().context_with_process_id("", "p1").build(),
        Field::UseCase,
    );
}

#[test]
fn blank_event_data_key_names_its_position() {
    expect_blank(
        ok().event_data("a", "1").event_data(" ", "2").build(),
        Field::EventDataKey { index: 1 },
    );
}

#[test]
fn blank_object_type() {
    expect_blank(
        ok().audited_object(AuditedObject::new("", "42")).build(),
        Field::ObjectType,
    );
}

#[test]
fn blank_object_id() {
    expect_blank(
        ok().audited_object(AuditedObject::new("Person", " "))
            .build(),
        Field::ObjectId,
    );
}

#[test]
fn blank_object_data_name_names_its_position() {
    let object = AuditedObject::new("Person", "42")
        .value("a", "1")
        .s3("b", "s3://x")
        .json_bytes("", b"{}".to_vec());
    expect_blank(
        ok().audited_object(object).build(),
        Field::ObjectDataName { index: 2 },
    );
}

#[test]
fn blank_idempotence_override() {
    expect_blank(ok().idempotence_id("  ").build(), Field::IdempotenceId);
}

#[test]
fn empty_values_are_allowed_where_not_required() {
    let command = ok()
        .event_data("k", "")
        .audited_object(
            AuditedObject::new("Person", "42")
                .version("")
                .value("name", "")
                .s3("s", ""),
        )
        .variant("")
        .build()
        .unwrap();
    crate::assert_round_trip(&command);
}
