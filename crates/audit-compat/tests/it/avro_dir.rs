//! Checks of the real `avro/` directory and of edited copies of it.

use std::path::{Path, PathBuf};
use std::process::Command;

use audit_compat::{CheckOptions, Direction, Finding, Mode, check_dir};
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn avro_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../avro")
}

const DESCRIPTOR: &str = "CreateAuditRecordCommand.descriptor.json";

/// Copies `avro/` into `dst`.
fn copy_avro(dst: &Path) -> Result<(), std::io::Error> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(avro_dir())? {
        let e = e?;
        std::fs::copy(e.path(), dst.join(e.file_name()))?;
    }
    Ok(())
}

fn edit_descriptor(dir: &Path, f: impl FnOnce(&mut Value)) -> TestResult {
    let path = dir.join(DESCRIPTOR);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    f(&mut v);
    std::fs::write(&path, serde_json::to_string_pretty(&v)?)?;
    Ok(())
}

fn set_mode(dir: &Path, version_index: usize, mode: Option<&str>) -> TestResult {
    edit_descriptor(dir, |v| {
        if let Some(entry) = v["versions"]
            .get_mut(version_index)
            .and_then(Value::as_object_mut)
        {
            match mode {
                Some(m) => {
                    entry.insert("compatibilityMode".into(), Value::from(m));
                }
                None => {
                    entry.remove("compatibilityMode");
                }
            }
        }
    })
}

#[test]
fn real_history_passes() -> TestResult {
    let report = check_dir(avro_dir(), &CheckOptions::default())?;
    assert!(report.is_ok(), "{report}");
    let pairs: Vec<(String, String, Mode)> = report
        .checks
        .iter()
        .map(|c| (c.version.clone(), c.against.clone(), c.mode))
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("1.0.1".to_owned(), "1.0.0".to_owned(), Mode::Backward),
            ("1.0.2".to_owned(), "1.0.1".to_owned(), Mode::Backward),
        ]
    );
    assert!(
        report
            .to_string()
            .contains("OK: 2 compatibility checks passed")
    );
    Ok(())
}

#[test]
fn transitive_checks_every_earlier_version() -> TestResult {
    let report = check_dir(
        avro_dir(),
        &CheckOptions {
            transitive: true,
            ..CheckOptions::default()
        },
    )?;
    assert!(report.is_ok(), "{report}");
    let pairs: Vec<(&str, &str)> = report
        .checks
        .iter()
        .map(|c| (c.version.as_str(), c.against.as_str()))
        .collect();
    assert_eq!(
        pairs,
        vec![("1.0.1", "1.0.0"), ("1.0.2", "1.0.0"), ("1.0.2", "1.0.1")]
    );
    Ok(())
}

#[test]
fn transitive_catches_what_the_single_step_misses() -> TestResult {
    let tmp = tempfile::tempdir()?;
    copy_avro(tmp.path())?;
    // 1.0.3: same schema as 1.0.2, declared FORWARD. 1.0.2 reads it, 1.0.1 and 1.0.0 do not.
    std::fs::copy(
        tmp.path().join("CreateAuditRecordCommand_v1.0.2.avsc"),
        tmp.path().join("CreateAuditRecordCommand_v1.0.3.avsc"),
    )?;
    edit_descriptor(tmp.path(), |v| {
        if let Some(a) = v["versions"].as_array_mut() {
            a.push(serde_json::json!({"version": "1.0.3", "schema": "CreateAuditRecordCommand_v1.0.3.avsc", "compatibilityMode": "FORWARD"}));
        }
    })?;
    let single = check_dir(tmp.path(), &CheckOptions::default())?;
    assert!(single.is_ok(), "{single}");
    let transitive = check_dir(
        tmp.path(),
        &CheckOptions {
            transitive: true,
            ..CheckOptions::default()
        },
    )?;
    assert!(!transitive.is_ok());
    let against: Vec<&str> = transitive
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Incompatible {
                version, against, ..
            } if version == "1.0.3" => Some(against.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(against, vec!["1.0.0", "1.0.1"], "{transitive}");
    Ok(())
}

fn assert_forward_failure_names_value(report: &audit_compat::Report) {
    assert!(!report.is_ok());
    let forward: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| {
            matches!(f, Finding::Incompatible { direction: Direction::Forward, version, against, reader, writer, .. }
                if version == "1.0.2" && against == "1.0.1" && reader == "1.0.1" && writer == "1.0.2")
        })
        .collect();
    assert_eq!(forward.len(), 1, "{report}");
    let cause = report
        .incompatibilities()
        .map(|i| i.root_cause())
        .find(|c| c.field == "AuditObjectDataValue.value");
    let cause = cause.map(|c| {
        (
            c.path.as_str(),
            c.reader_type.as_str(),
            c.writer_type.as_str(),
        )
    });
    assert_eq!(
        cause,
        Some(("payload.auditedData.objectData[].value", "string", "null")),
        "{report}"
    );
    let text = report.to_string();
    assert!(text.contains("AuditObjectDataValue.value"), "{text}");
    assert!(
        text.contains("payload.auditedData.objectData[].value"),
        "{text}"
    );
    let json = serde_json::to_string(report).unwrap_or_default();
    assert!(
        json.contains("\"field\":\"AuditObjectDataValue.value\""),
        "{json}"
    );
    assert!(json.contains("\"direction\":\"forward\""), "{json}");
}

#[test]
fn v1_0_2_declared_forward_fails_naming_the_value_field() -> TestResult {
    let tmp = tempfile::tempdir()?;
    copy_avro(tmp.path())?;
    set_mode(tmp.path(), 2, Some("FORWARD"))?;
    let report = check_dir(tmp.path(), &CheckOptions::default())?;
    assert_forward_failure_names_value(&report);
    Ok(())
}

#[test]
fn v1_0_2_declared_full_fails_forward_only() -> TestResult {
    let tmp = tempfile::tempdir()?;
    copy_avro(tmp.path())?;
    set_mode(tmp.path(), 2, Some("FULL"))?;
    let report = check_dir(tmp.path(), &CheckOptions::default())?;
    assert_forward_failure_names_value(&report);
    let v102: Vec<(Direction, bool)> = report
        .checks
        .iter()
        .filter(|c| c.version == "1.0.2")
        .map(|c| (c.direction, c.compatible))
        .collect();
    assert_eq!(
        v102,
        vec![(Direction::Backward, true), (Direction::Forward, false)]
    );
    Ok(())
}

#[test]
fn a_missing_mode_fails() -> TestResult {
    let tmp = tempfile::tempdir()?;
    copy_avro(tmp.path())?;
    set_mode(tmp.path(), 1, None)?;
    let report = check_dir(tmp.path(), &CheckOptions::default())?;
    assert!(
        matches!(report.findings.as_slice(), [Finding::MissingMode { version, .. }] if version == "1.0.1"),
        "{report}"
    );
    // ... but the first version needs none
    let tmp = tempfile::tempdir()?;
    copy_avro(tmp.path())?;
    set_mode(tmp.path(), 0, None)?;
    assert!(check_dir(tmp.path(), &CheckOptions::default())?.is_ok());
    Ok(())
}

#[test]
fn descriptor_mistakes_are_findings() -> TestResult {
    let tmp = tempfile::tempdir()?;
    copy_avro(tmp.path())?;
    set_mode(tmp.path(), 1, Some("SIDEWAYS"))?;
    edit_descriptor(tmp.path(), |v| {
        v["versions"][2]["compatibleVersion"] = Value::from("0.9.0");
    })?;
    let report = check_dir(tmp.path(), &CheckOptions::default())?;
    let text = report.to_string();
    assert!(
        text.contains("unknown compatibilityMode `SIDEWAYS`"),
        "{text}"
    );
    assert!(
        text.contains("compatibleVersion 0.9.0 is not listed"),
        "{text}"
    );
    let transitive = check_dir(
        tmp.path(),
        &CheckOptions {
            transitive: true,
            ..CheckOptions::default()
        },
    )?;
    assert!(
        transitive
            .to_string()
            .contains("compatibleVersion 0.9.0 is not listed"),
        "{transitive}"
    );

    std::fs::remove_file(tmp.path().join("CreateAuditRecordCommand_v1.0.0.avsc"))?;
    std::fs::write(
        tmp.path().join("CreateAuditRecordCommand_v1.0.2.avsc"),
        "{\"type\": \"record\"",
    )?;
    let report = check_dir(tmp.path(), &CheckOptions::default())?;
    let schema_findings = report
        .findings
        .iter()
        .filter(|f| matches!(f, Finding::Schema { .. }))
        .count();
    assert_eq!(schema_findings, 2, "{report}");
    Ok(())
}

#[test]
fn declared_compatible_version_is_used() -> TestResult {
    let tmp = tempfile::tempdir()?;
    copy_avro(tmp.path())?;
    edit_descriptor(tmp.path(), |v| {
        v["versions"][2]["compatibleVersion"] = Value::from("1.0.0");
    })?;
    let report = check_dir(tmp.path(), &CheckOptions::default())?;
    assert!(report.is_ok(), "{report}");
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.version == "1.0.2" && c.against == "1.0.0")
    );
    assert!(
        !report
            .checks
            .iter()
            .any(|c| c.version == "1.0.2" && c.against == "1.0.1")
    );
    Ok(())
}

#[test]
fn bad_descriptor_and_empty_dir_are_errors() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let err = check_dir(tmp.path(), &CheckOptions::default());
    assert!(
        matches!(err, Err(audit_compat::Error::NoDescriptor { .. })),
        "{err:?}"
    );
    std::fs::write(tmp.path().join("X.descriptor.json"), "{\"versions\": 3}")?;
    let err = check_dir(tmp.path(), &CheckOptions::default());
    assert!(
        matches!(&err, Err(e @ audit_compat::Error::Descriptor { .. }) if e.is_input_error()),
        "{err:?}"
    );
    let err = check_dir(tmp.path().join("nope"), &CheckOptions::default());
    assert!(
        matches!(&err, Err(e @ audit_compat::Error::Io { .. }) if !e.is_input_error()),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn structure_rules_are_enforced() -> TestResult {
    let tmp = tempfile::tempdir()?;
    copy_avro(tmp.path())?;
    let path = tmp.path().join("CreateAuditRecordCommand_v1.0.2.avsc");
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    if let Some(fields) = schema["fields"].as_array_mut() {
        fields
            .push(serde_json::json!({"name": "extra", "type": ["string", "null"], "default": "x"}));
        if let Some(identity) = fields.first_mut() {
            identity["type"]["namespace"] = Value::from("com.example");
        }
    }
    std::fs::write(&path, serde_json::to_string_pretty(&schema)?)?;
    let report = check_dir(tmp.path(), &CheckOptions::default())?;
    let rules: Vec<&str> = report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Structure { rule, version, .. } if version == "1.0.2" => Some(rule.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        rules,
        vec!["command-fields", "base-namespace", "optional-field"],
        "{report}"
    );
    let skipped = check_dir(
        tmp.path(),
        &CheckOptions {
            skip_structure_rules: true,
            ..CheckOptions::default()
        },
    )?;
    assert!(
        !skipped
            .findings
            .iter()
            .any(|f| matches!(f, Finding::Structure { .. })),
        "{skipped}"
    );
    Ok(())
}

#[test]
fn expected_latest_is_compared() -> TestResult {
    let latest = std::fs::read_to_string(avro_dir().join("CreateAuditRecordCommand_v1.0.2.avsc"))?;
    let expected = |version: &str, json: &str| CheckOptions {
        expected_latest: Some(audit_compat::ExpectedLatest {
            record_name: "ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand".into(),
            version: version.into(),
            schema_json: json.into(),
        }),
        ..CheckOptions::default()
    };
    assert!(check_dir(avro_dir(), &expected("1.0.2", &latest))?.is_ok());
    let report = check_dir(avro_dir(), &expected("1.0.1", &latest))?;
    assert!(
        matches!(report.findings.as_slice(), [Finding::Generated { .. }]),
        "{report}"
    );
    let report = check_dir(avro_dir(), &expected("1.0.2", "\"string\""))?;
    assert!(
        matches!(report.findings.as_slice(), [Finding::Generated { .. }]),
        "{report}"
    );
    Ok(())
}

fn git(dir: &Path, args: &[&str]) -> TestResult {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

/// A temp git repo with `avro/` committed.
fn repo() -> Result<(tempfile::TempDir, PathBuf), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let avro = tmp.path().join("avro");
    copy_avro(&avro)?;
    git(tmp.path(), &["init", "-q"])?;
    git(tmp.path(), &["add", "avro"])?;
    git(tmp.path(), &["commit", "-q", "-m", "published"])?;
    Ok((tmp, avro))
}

fn against(rev: &str) -> CheckOptions {
    CheckOptions {
        against: Some(rev.to_owned()),
        ..CheckOptions::default()
    }
}

fn immutability_messages(report: &audit_compat::Report) -> Vec<String> {
    report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Immutability { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn unchanged_and_added_versions_pass_against() -> TestResult {
    let (_tmp, avro) = repo()?;
    assert!(check_dir(&avro, &against("HEAD"))?.is_ok());
    std::fs::copy(
        avro.join("CreateAuditRecordCommand_v1.0.2.avsc"),
        avro.join("CreateAuditRecordCommand_v1.0.3.avsc"),
    )?;
    edit_descriptor(&avro, |v| {
        if let Some(a) = v["versions"].as_array_mut() {
            a.push(serde_json::json!({"version": "1.0.3", "schema": "CreateAuditRecordCommand_v1.0.3.avsc", "compatibilityMode": "FULL"}));
        }
    })?;
    let report = check_dir(&avro, &against("HEAD"))?;
    assert!(report.is_ok(), "{report}");
    Ok(())
}

#[test]
fn a_modified_published_file_fails_against() -> TestResult {
    let (_tmp, avro) = repo()?;
    let path = avro.join("CreateAuditRecordCommand_v1.0.1.avsc");
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    schema["doc"] = Value::from("a harmless-looking edit");
    std::fs::write(&path, serde_json::to_string_pretty(&schema)?)?;
    let report = check_dir(&avro, &against("HEAD"))?;
    let messages = immutability_messages(&report);
    assert_eq!(messages.len(), 1, "{report}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("CreateAuditRecordCommand_v1.0.1.avsc") && m.contains("changed")),
        "{messages:?}"
    );
    Ok(())
}

#[test]
fn deleted_or_changed_entries_fail_against() -> TestResult {
    let (_tmp, avro) = repo()?;
    set_mode(&avro, 1, Some("FULL"))?;
    edit_descriptor(&avro, |v| {
        if let Some(a) = v["versions"].as_array_mut() {
            a.truncate(2);
        }
    })?;
    std::fs::remove_file(avro.join("CreateAuditRecordCommand_v1.0.2.avsc"))?;
    let report = check_dir(&avro, &against("HEAD"))?;
    let messages = immutability_messages(&report).join("\n");
    assert!(
        messages.contains("descriptor entry of published version 1.0.1 changed"),
        "{messages}"
    );
    assert!(
        messages.contains("version 1.0.2 was published at HEAD and has been removed"),
        "{messages}"
    );
    assert!(
        messages
            .contains("`CreateAuditRecordCommand_v1.0.2.avsc` (version 1.0.2) has been deleted"),
        "{messages}"
    );

    std::fs::remove_file(avro.join(DESCRIPTOR))?;
    std::fs::write(avro.join("Other.descriptor.json"), "{\"versions\": []}")?;
    let report = check_dir(&avro, &against("HEAD"))?;
    assert!(
        immutability_messages(&report)
            .join("\n")
            .contains(&format!("`{DESCRIPTOR}` was published")),
        "{report}"
    );
    Ok(())
}

#[test]
fn unknown_revision_is_an_input_error() -> TestResult {
    let (_tmp, avro) = repo()?;
    let err = check_dir(&avro, &against("no-such-rev"));
    assert!(
        matches!(&err, Err(e @ audit_compat::Error::GitRevision { .. }) if e.is_input_error()),
        "{err:?}"
    );
    let plain = tempfile::tempdir()?;
    copy_avro(plain.path())?;
    let err = check_dir(plain.path(), &against("HEAD"));
    assert!(
        matches!(err, Err(audit_compat::Error::Git { .. })),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn command_shape_rules() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let base = |name: &str| serde_json::json!({"type": "record", "name": name, "namespace": "ch.admin.bit.jeap.messaging.avro", "fields": []});
    let schema = serde_json::json!({
        "type": "record", "name": "DoSomething", "namespace": "com.example",
        "fields": [
            {"name": "identity", "type": base("AvroMessageIdentity")},
            {"name": "type", "type": ["null", base("AvroMessageType")], "default": null},
            {"name": "publisher", "type": base("AvroMessagePublisher")},
            {"name": "references", "type": {"type": "record", "name": "Refs", "fields": []}},
            {"name": "payload", "type": "string"},
            {"name": "processId", "type": "int"}
        ]
    });
    std::fs::write(tmp.path().join("v1.avsc"), schema.to_string())?;
    std::fs::write(
        tmp.path().join("DoSomething.descriptor.json"),
        r#"{"versions": [{"version": "1.0.0", "schema": "v1.avsc"}]}"#,
    )?;
    let report = check_dir(tmp.path(), &CheckOptions::default())?;
    let messages: Vec<String> = report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Structure { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect();
    let all = messages.join("\n");
    for expected in [
        "is not named `*Command`",
        "lacks the required field `commandVersion`",
        "`DoSomething.type` must be required, not a union",
        "`DoSomething.references` must be a record whose name ends with `References`",
        "`DoSomething.payload` must be a record whose name ends with `Payload`",
        "`DoSomething.processId` must be `string` or `[\"null\", \"string\"]`",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
    }
    assert_eq!(messages.len(), 6, "{all}");
    Ok(())
}
