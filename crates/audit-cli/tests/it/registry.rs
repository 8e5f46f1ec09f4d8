//! `audit registry ...` and `audit decode --registry` against a real rivven-schema server.

use audit_testkit::SchemaRegistry;

use crate::{TestResult, assert_fails, audit, command, json_file};

fn registry() -> Result<String, Box<dyn std::error::Error>> {
    Ok(SchemaRegistry::shared()?.url())
}

#[test]
fn register_subjects_check_and_decode_by_id() -> TestResult {
    let url = registry()?;
    let out = audit()?
        .args([
            "registry",
            "register",
            "--registry",
            &url,
            "--topic",
            "cli-audit",
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: u32 = String::from_utf8(out.stdout)?.trim().parse()?;
    let subject = "cli-audit-ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand";
    // register again: same id
    let again = audit()?
        .args([
            "registry",
            "register",
            "--registry",
            &url,
            "--subject",
            subject,
        ])
        .output()?;
    assert_eq!(String::from_utf8(again.stdout)?.trim(), id.to_string());

    let out = audit()?
        .args(["registry", "subjects", "--versions", "--registry", &url])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8(out.stdout)?;
    assert!(
        listing.lines().any(|l| l == format!("{subject}\t1")),
        "{listing}"
    );

    // the subject was created with compatibility NONE (as jEAP does), so any check passes
    let out = audit()?
        .args([
            "registry",
            "check",
            "--registry",
            &url,
            "--topic",
            "cli-audit",
            "--schema-version",
            "1.0.0",
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("compatible"));

    // encode with the registered id, decode by looking the id up
    let tmp = tempfile::tempdir()?;
    let cmd = command(true);
    let input = json_file(tmp.path(), &cmd)?;
    let framed = audit()?
        .arg("encode")
        .arg(&input)
        .args(["--framing", "confluent", "--schema-id", &id.to_string()])
        .output()?;
    assert!(framed.status.success());
    let out = audit()?
        .args(["decode", "--framing", "confluent", "--registry", &url])
        .write_stdin(framed.stdout.clone())
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(audit_schema::json::from_json_value(&value)?, cmd);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("writer schema id {id}")));

    // a wrong schema id: the registry answers 404
    let mut wrong = framed.stdout;
    if let Some(b) = wrong.get_mut(1..5) {
        b.copy_from_slice(&999_999u32.to_be_bytes());
    }
    let out = audit()?
        .args(["decode", "--framing", "confluent", "--registry", &url])
        .write_stdin(wrong)
        .output()?;
    assert_fails(&out, 2, "cannot get writer schema id 999999");
    assert!(String::from_utf8_lossy(&out.stderr).contains("404"));
    Ok(())
}

#[test]
fn check_against_a_missing_subject_is_an_input_error() -> TestResult {
    let url = registry()?;
    let out = audit()?
        .args([
            "registry",
            "check",
            "--registry",
            &url,
            "--subject",
            "no-such-subject-cli",
        ])
        .output()?;
    assert_fails(
        &out,
        2,
        "compatibility check of subject no-such-subject-cli failed",
    );
    Ok(())
}

#[test]
fn registry_down_is_a_service_error() -> TestResult {
    let port = audit_testkit::free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let out = audit()?
        .args(["registry", "subjects", "--registry", &url])
        .output()?;
    assert_fails(&out, 3, "listing subjects failed");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("caused by: schema registry unreachable")
    );
    let out = audit()?
        .args([
            "decode",
            "--framing",
            "confluent",
            "--registry",
            &url,
            "--hex",
            "000000000100",
        ])
        .output()?;
    assert_fails(&out, 3, "cannot get writer schema id 1");
    let out = audit()?
        .args(["registry", "subjects", "--registry", "localhost:8081"])
        .output()?;
    assert_fails(&out, 2, "bad registry settings");
    Ok(())
}

#[test]
fn bad_ca_certificates() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let out = audit()?
        .args([
            "registry",
            "subjects",
            "--registry",
            "https://127.0.0.1:9",
            "--ca-cert",
        ])
        .arg(tmp.path().join("missing.pem"))
        .output()?;
    assert_fails(&out, 3, "cannot read");
    let pem = tmp.path().join("bad.pem");
    std::fs::write(
        &pem,
        "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n",
    )?;
    let out = audit()?
        .args([
            "registry",
            "subjects",
            "--registry",
            "https://127.0.0.1:9",
            "--ca-cert",
        ])
        .arg(&pem)
        .output()?;
    assert_fails(&out, 2, "bad registry settings");
    Ok(())
}
