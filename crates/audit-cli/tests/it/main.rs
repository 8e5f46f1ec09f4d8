//! Integration tests of the `audit` binary: every command, good and bad input (`tail` against
//! a real Tansu broker and rivven-schema registry).

// Reading JSON reports indexes serde_json values (a missing key reads as null).
#![allow(clippy::indexing_slicing)]

mod codec;
mod help;
mod registry;
mod schema_check;
mod tail;
mod verify;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use audit_schema::*;
use chrono::{TimeZone, Utc};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The `audit` binary, run in the workspace root.
fn audit() -> Result<Command, Box<dyn std::error::Error>> {
    let mut cmd = Command::cargo_bin("audit")?;
    cmd.current_dir(workspace_root());
    cmd.env_remove("AUDIT_REGISTRY_URL");
    cmd.env_remove("AUDIT_BROKERS");
    Ok(cmd)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Asserts a clean failure: the exit code, the message on stderr, and no panic.
fn assert_fails(output: &std::process::Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    assert!(
        stderr.contains(needle),
        "expected {needle:?} in stderr: {stderr}"
    );
    assert!(stderr.contains("error: "), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

/// A command with every optional part filled, including a value-less `AuditObjectDataValue`
/// (only representable from schema 1.0.2 on) when `with_null_value`.
fn command(with_null_value: bool) -> CreateAuditRecordCommand {
    let t = Utc
        .timestamp_millis_opt(1_700_000_000_123)
        .single()
        .unwrap_or_default();
    let mut object_data = vec![
        AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
            role: Some(AuditObjectDataRole::New),
            name: "status".into(),
            value: Some("ACTIVE".into()),
        }),
        AuditObjectData::AuditObjectDataJSON(AuditObjectDataJSON {
            role: None,
            name: "doc".into(),
            json_as_utf8: br#"{"a":1}"#.to_vec(),
        }),
        AuditObjectData::AuditObjectDataS3(AuditObjectDataS3 {
            role: Some(AuditObjectDataRole::Old),
            name: "file".into(),
            object_reference: "s3://bucket/key".into(),
        }),
    ];
    if with_null_value {
        object_data.push(AuditObjectData::AuditObjectDataValue(
            AuditObjectDataValue {
                role: None,
                name: "cleared".into(),
                value: None,
            },
        ));
    }
    CreateAuditRecordCommand {
        identity: AvroMessageIdentity {
            id: "5f0c7a52-3b8e-4c1e-9a57-0c1d2e3f4a5b".into(),
            idempotence_id: "audit-42".into(),
            created: t,
        },
        r#type: AvroMessageType {
            name: "CreateAuditRecordCommand".into(),
            version: "1.0.2".into(),
            variant: None,
        },
        publisher: AvroMessagePublisher {
            system: "JME".into(),
            service: "jme-audit-service".into(),
        },
        references: CreateAuditRecordCommandReferences {},
        payload: CreateAuditRecordCommandPayload {
            timestamp: t,
            event: AuditEventDetails {
                r#type: AuditEventType::Modified,
                context: Some(AuditContext {
                    use_case: "update-customer".into(),
                    process_id: Some("p-1".into()),
                }),
                event_data: Some(vec![AuditEventDataElement {
                    key: "k".into(),
                    value: "v".into(),
                }]),
            },
            trigger: AuditTrigger::AuditUser(AuditUser {
                id: "user-1".into(),
                identity_provider: "keycloak".into(),
            }),
            audited_data: Some(AuditObject {
                r#type: "Customer".into(),
                id: "c-1".into(),
                version: Some("3".into()),
                object_data: Some(object_data),
            }),
        },
        process_id: Some("p-1".into()),
        command_version: "1.0.2".into(),
    }
}

/// Writes the JSON rendering of `cmd` to a file in `dir`.
fn json_file(dir: &Path, cmd: &CreateAuditRecordCommand) -> Result<PathBuf, std::io::Error> {
    let path = dir.join("command.json");
    std::fs::write(&path, json::to_json_string_pretty(cmd))?;
    Ok(path)
}
