//! Acceptance 2: exact default idempotence ids (`Instant.toString()` timestamps, both triggers).

use audit_builder::{AuditCommandBuilder, AuditEventType};

use crate::at;

fn user_id(nanos: u32) -> String {
    AuditCommandBuilder::new("SVC", "SYS", at(2026, 5, 28, 8, 0, 0, nanos))
        .event_type(AuditEventType::Created)
        .user("u1", "idp")
        .build()
        .unwrap()
        .identity
        .idempotence_id
        .to_string()
}

fn component_id(nanos: u32) -> String {
    AuditCommandBuilder::new("SVC", "SYS", at(2026, 5, 28, 8, 0, 0, nanos))
        .event_type(AuditEventType::Deleted)
        .system_component("DEP", "OTHER", "cleanup-job")
        .build()
        .unwrap()
        .identity
        .idempotence_id
        .to_string()
}

#[test]
fn user_trigger_no_fraction() {
    assert_eq!(user_id(0), "SYS-SVC-CREATED-u1-2026-05-28T08:00:00Z");
}

#[test]
fn user_trigger_three_digits() {
    assert_eq!(
        user_id(120_000_000),
        "SYS-SVC-CREATED-u1-2026-05-28T08:00:00.120Z"
    );
}

#[test]
fn user_trigger_six_digits() {
    assert_eq!(
        user_id(1_000),
        "SYS-SVC-CREATED-u1-2026-05-28T08:00:00.000001Z"
    );
}

#[test]
fn user_trigger_nine_digits() {
    assert_eq!(
        user_id(1),
        "SYS-SVC-CREATED-u1-2026-05-28T08:00:00.000000001Z"
    );
}

#[test]
fn system_trigger_no_fraction() {
    assert_eq!(
        component_id(0),
        "SYS-SVC-DELETED-cleanup-job-2026-05-28T08:00:00Z"
    );
}

#[test]
fn system_trigger_three_digits() {
    assert_eq!(
        component_id(7_000_000),
        "SYS-SVC-DELETED-cleanup-job-2026-05-28T08:00:00.007Z"
    );
}

#[test]
fn system_trigger_six_digits() {
    assert_eq!(
        component_id(123_456_000),
        "SYS-SVC-DELETED-cleanup-job-2026-05-28T08:00:00.123456Z"
    );
}

#[test]
fn system_trigger_nine_digits() {
    assert_eq!(
        component_id(100_000_001),
        "SYS-SVC-DELETED-cleanup-job-2026-05-28T08:00:00.100000001Z"
    );
}

#[test]
fn fraction_groups_round_up_to_the_next_group_of_three() {
    // Java pads to the next group: 0.1s is ".100", 0.1234s is ".123400", 0.1234567s is ".123456700".
    assert_eq!(
        user_id(100_000_000),
        "SYS-SVC-CREATED-u1-2026-05-28T08:00:00.100Z"
    );
    assert_eq!(
        user_id(123_400_000),
        "SYS-SVC-CREATED-u1-2026-05-28T08:00:00.123400Z"
    );
    assert_eq!(
        user_id(123_456_700),
        "SYS-SVC-CREATED-u1-2026-05-28T08:00:00.123456700Z"
    );
}

#[test]
fn system_comes_before_service() {
    let id = AuditCommandBuilder::new("the-service", "THE-SYSTEM", at(2026, 1, 2, 3, 4, 5, 0))
        .event_type(AuditEventType::Read)
        .user("alice", "idp")
        .build()
        .unwrap()
        .identity
        .idempotence_id;
    assert_eq!(id, "THE-SYSTEM-the-service-READ-alice-2026-01-02T03:04:05Z");
}

#[test]
fn event_type_symbol_at_build_time_is_used() {
    let builder =
        AuditCommandBuilder::new("SVC", "SYS", at(2026, 5, 28, 8, 0, 0, 0)).user("u1", "idp");
    let listed = builder
        .clone()
        .event_type(AuditEventType::Listed)
        .build()
        .unwrap();
    let disclosed = builder
        .event_type(AuditEventType::Disclosed)
        .build()
        .unwrap();
    assert_eq!(
        listed.identity.idempotence_id,
        "SYS-SVC-LISTED-u1-2026-05-28T08:00:00Z"
    );
    assert_eq!(
        disclosed.identity.idempotence_id,
        "SYS-SVC-DISCLOSED-u1-2026-05-28T08:00:00Z"
    );
}
