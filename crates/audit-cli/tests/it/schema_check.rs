//! `audit schema check`.

use std::path::Path;
use std::process::Command as StdCommand;

use serde_json::Value;

use crate::{TestResult, assert_fails, audit, workspace_root};

const DESCRIPTOR: &str = "CreateAuditRecordCommand.descriptor.json";

fn copy_avro(dst: &Path) -> Result<(), std::io::Error> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(workspace_root().join("avro"))? {
        let e = e?;
        std::fs::copy(e.path(), dst.join(e.file_name()))?;
    }
    Ok(())
}

fn set_mode(dir: &Path, index: usize, mode: Option<&str>) -> TestResult {
    let path = dir.join(DESCRIPTOR);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let entry = v
        .get_mut("versions")
        .and_then(|a| a.get_mut(index))
        .and_then(Value::as_object_mut)
        .ok_or("no such version entry")?;
    match mode {
        Some(m) => entry.insert("compatibilityMode".into(), Value::from(m)),
        None => entry.remove("compatibilityMode"),
    };
    std::fs::write(&path, serde_json::to_string_pretty(&v)?)?;
    Ok(())
}

#[test]
fn the_real_avro_dir_passes() -> TestResult {
    let out = audit()?
        .args(["schema", "check", "--dir", "avro"])
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1.0.1 against 1.0.0 (BACKWARD"), "{stdout}");
    assert!(stdout.contains("1.0.2 against 1.0.1 (BACKWARD"), "{stdout}");
    assert!(
        stdout.contains("OK: 2 compatibility checks passed"),
        "{stdout}"
    );
    // progress goes to stderr, -q silences it
    assert!(String::from_utf8_lossy(&out.stderr).contains("audit: "));
    let quiet = audit()?.args(["schema", "check", "-q"]).output()?;
    assert!(quiet.status.success());
    assert!(quiet.stderr.is_empty());
    Ok(())
}

#[test]
fn transitive_and_json() -> TestResult {
    let out = audit()?
        .args(["schema", "check", "--transitive", "--format", "json", "-q"])
        .output()?;
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["transitive"], Value::Bool(true));
    assert_eq!(report["checks"].as_array().map(Vec::len), Some(3));
    assert_eq!(report["findings"], Value::Array(Vec::new()));
    Ok(())
}

#[test]
fn forward_declared_1_0_2_fails_naming_the_field() -> TestResult {
    let tmp = tempfile::tempdir()?;
    copy_avro(tmp.path())?;
    set_mode(tmp.path(), 2, Some("FORWARD"))?;
    let out = audit()?
        .args(["schema", "check", "-q", "--dir"])
        .arg(tmp.path())
        .output()?;
    assert_fails(&out, 1, "failed with 1 finding(s)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("INCOMPATIBLE"), "{stdout}");
    assert!(stdout.contains("AuditObjectDataValue.value"), "{stdout}");
    assert!(
        stdout.contains("payload.auditedData.objectData[].value"),
        "{stdout}"
    );

    let out = audit()?
        .args(["schema", "check", "-q", "--format", "json", "--dir"])
        .arg(tmp.path())
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout)?;
    let finding = &report["findings"][0];
    assert_eq!(finding["kind"], "incompatible");
    assert_eq!(finding["direction"], "forward");
    assert_eq!(finding["reader"], "1.0.1");
    assert_eq!(finding["writer"], "1.0.2");
    assert!(finding.to_string().contains("AuditObjectDataValue.value"));
    Ok(())
}

#[test]
fn missing_mode_fails() -> TestResult {
    let tmp = tempfile::tempdir()?;
    copy_avro(tmp.path())?;
    set_mode(tmp.path(), 2, None)?;
    let out = audit()?
        .args(["schema", "check", "-q", "--dir"])
        .arg(tmp.path())
        .output()?;
    assert_fails(&out, 1, "finding");
    assert!(String::from_utf8_lossy(&out.stdout).contains("MISSING MODE"));
    Ok(())
}

fn git(dir: &Path, args: &[&str]) -> TestResult {
    let out = StdCommand::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
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

#[test]
fn against_a_revision() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let avro = tmp.path().join("avro");
    copy_avro(&avro)?;
    git(tmp.path(), &["init", "-q"])?;
    git(tmp.path(), &["add", "avro"])?;
    git(tmp.path(), &["commit", "-q", "-m", "published"])?;

    let ok = audit()?
        .current_dir(tmp.path())
        .args(["schema", "check", "-q", "--against", "HEAD"])
        .output()?;
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );

    let file = avro.join("CreateAuditRecordCommand_v1.0.0.avsc");
    let text = std::fs::read_to_string(&file)?;
    std::fs::write(&file, text.replacen("\"string\"", "\"bytes\"", 1))?;
    let out = audit()?
        .current_dir(tmp.path())
        .args(["schema", "check", "-q", "--against", "HEAD"])
        .output()?;
    assert_fails(&out, 1, "finding");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("IMMUTABILITY"), "{stdout}");
    assert!(
        stdout.contains("CreateAuditRecordCommand_v1.0.0.avsc"),
        "{stdout}"
    );

    let bad = audit()?
        .current_dir(tmp.path())
        .args(["schema", "check", "-q", "--against", "no-such-branch"])
        .output()?;
    assert_fails(&bad, 2, "caused by: `no-such-branch` is not a git revision");
    Ok(())
}

#[test]
fn bad_directories() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let out = audit()?
        .args(["schema", "check", "-q", "--dir"])
        .arg(tmp.path())
        .output()?;
    assert_fails(&out, 2, "no `*.descriptor.json`");
    std::fs::write(tmp.path().join("x.descriptor.json"), "{not json")?;
    let out = audit()?
        .args(["schema", "check", "-q", "--dir"])
        .arg(tmp.path())
        .output()?;
    assert_fails(&out, 2, "caused by:");
    let out = audit()?
        .args(["schema", "check", "-q", "--dir"])
        .arg(tmp.path().join("missing"))
        .output()?;
    assert_fails(&out, 3, "cannot read");
    Ok(())
}

/// `audit schema compat READER WRITER` agrees with `audit_compat::check_schemas` on every pair of
/// the compatibility corpus, in both directions: exit code 0 / 1, and the report text of
/// `check_pair` (the format of `schema check`). The corpus' Java verdicts are checked too.
#[test]
fn schema_compat_agrees_with_check_schemas_on_the_corpus() -> TestResult {
    let corpus = workspace_root().join("tests/compat-corpus");
    let mut cases: Vec<_> = std::fs::read_dir(&corpus)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("reader.avsc").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 50, "corpus found: {}", cases.len());
    let (mut compatible, mut incompatible) = (0, 0);
    for case in &cases {
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("expected.json"))?)?;
        for (reader, writer, key) in [
            ("reader.avsc", "writer.avsc", "reader_reads_writer"),
            ("writer.avsc", "reader.avsc", "writer_reads_reader"),
        ] {
            let (r, w) = (case.join(reader), case.join(writer));
            let verdict = audit_compat::check_schemas(
                &std::fs::read_to_string(&r)?,
                &std::fs::read_to_string(&w)?,
            )?;
            let out = audit()?
                .args(["schema", "compat"])
                .arg(&r)
                .arg(&w)
                .output()?;
            let stderr = String::from_utf8_lossy(&out.stderr);
            let code = if verdict.is_empty() { 0 } else { 1 };
            assert_eq!(
                out.status.code(),
                Some(code),
                "{}: {reader} reads {writer}: {stderr}",
                case.display()
            );
            let java = expected
                .get(key)
                .and_then(|v| v.get("verdict"))
                .and_then(Value::as_str);
            assert_eq!(
                java,
                Some(if code == 0 {
                    "COMPATIBLE"
                } else {
                    "INCOMPATIBLE"
                }),
                "{}: {key}",
                case.display()
            );
            let report = audit_compat::check_pair(&r, &w)?;
            assert_eq!(String::from_utf8_lossy(&out.stdout), report.to_string());
            if code == 0 {
                compatible += 1;
            } else {
                incompatible += 1;
                assert!(stderr.contains("cannot read data written with"), "{stderr}");
            }
        }
    }
    assert!(
        compatible > 0 && incompatible > 0,
        "{compatible} / {incompatible}"
    );
    Ok(())
}

/// A renamed record: the directory check's record-name rule does not apply to `schema compat`.
#[test]
fn schema_compat_judges_a_renamed_record_and_reports_bad_input() -> TestResult {
    let dir = tempfile::tempdir()?;
    let a = dir.path().join("a.avsc");
    let b = dir.path().join("b.avsc");
    std::fs::write(
        &a,
        r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}"#,
    )?;
    std::fs::write(
        &b,
        r#"{"type":"record","name":"B","aliases":["A"],"fields":[{"name":"x","type":"long"}]}"#,
    )?;
    let out = audit()?
        .args(["schema", "compat"])
        .arg(&b)
        .arg(&a)
        .output()?;
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK: 1 compatibility checks passed"));
    let json = audit()?
        .args(["schema", "compat", "--format", "json"])
        .arg(&a)
        .arg(&b)
        .output()?;
    let report: Value = serde_json::from_slice(&json.stdout)?;
    assert_eq!(json.status.code(), Some(1));
    assert!(
        report
            .get("findings")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty())
    );
    std::fs::write(&b, "{not json")?;
    let bad = audit()?
        .args(["schema", "compat"])
        .arg(&a)
        .arg(&b)
        .output()?;
    assert_fails(&bad, 2, "could not be judged");
    let missing = audit()?
        .args(["schema", "compat"])
        .arg(&a)
        .arg(dir.path().join("missing.avsc"))
        .output()?;
    assert_fails(&missing, 3, "could not be judged");
    Ok(())
}
