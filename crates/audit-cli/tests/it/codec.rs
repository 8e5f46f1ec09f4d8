//! `audit encode` and `audit decode`.

use audit_schema::{CreateAuditRecordCommand, SchemaVersion, json};

use crate::{TestResult, assert_fails, audit, command, json_file};

fn decoded(stdout: &[u8]) -> Result<CreateAuditRecordCommand, Box<dyn std::error::Error>> {
    let value: serde_json::Value = serde_json::from_slice(stdout)?;
    Ok(json::from_json_value(&value)?)
}

#[test]
fn encode_writes_the_datum_and_decode_reads_it_back() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cmd = command(true);
    let input = json_file(tmp.path(), &cmd)?;
    let out = audit()?.arg("encode").arg(&input).output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, cmd.to_avro_datum());

    let bin = tmp.path().join("command.avro");
    std::fs::write(&bin, &out.stdout)?;
    let out = audit()?.arg("decode").arg(&bin).output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(decoded(&out.stdout)?, cmd);
    assert!(String::from_utf8_lossy(&out.stderr).contains("writer schema 1.0.2"));
    // the printed JSON is exactly the library's pretty rendering
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        json::to_json_string_pretty(&cmd)
    );
    Ok(())
}

#[test]
fn stdin_stdout_and_output_file() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cmd = command(true);
    let out_file = tmp.path().join("out.bin");
    let out = audit()?
        .args(["encode", "-", "--output"])
        .arg(&out_file)
        .write_stdin(json::to_json_string_pretty(&cmd))
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let bytes = std::fs::read(&out_file)?;
    assert_eq!(bytes, cmd.to_avro_datum());
    let out = audit()?.arg("decode").write_stdin(bytes).output()?;
    assert!(out.status.success());
    assert_eq!(decoded(&out.stdout)?, cmd);
    Ok(())
}

#[test]
fn confluent_framing_with_hex() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cmd = command(true);
    let input = json_file(tmp.path(), &cmd)?;
    let out = audit()?
        .arg("encode")
        .arg(&input)
        .args(["--framing", "confluent", "--schema-id", "7", "--hex"])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hex_text = String::from_utf8(out.stdout)?;
    let expected = audit_schema::confluent::frame(7, &cmd.to_avro_datum());
    assert_eq!(hex_text.trim(), hex::encode(&expected));
    assert!(hex_text.starts_with("0000000007"));

    // without a registry the id is unknown unless --writer-version is given
    let out = audit()?
        .args(["decode", "--framing", "confluent", "--hex", hex_text.trim()])
        .output()?;
    assert_fails(&out, 2, "schema id 7 is unknown");
    let out = audit()?
        .args([
            "decode",
            "--framing",
            "confluent",
            "--writer-version",
            "1.0.2",
            "--hex",
            hex_text.trim(),
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(decoded(&out.stdout)?, cmd);
    Ok(())
}

#[test]
fn single_object_framing_picks_the_version_by_fingerprint() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cmd = command(false);
    let input = json_file(tmp.path(), &cmd)?;
    for version in SchemaVersion::ALL {
        let out = audit()?
            .arg("encode")
            .arg(&input)
            .args([
                "--framing",
                "single-object",
                "--writer-version",
                version.as_str(),
            ])
            .output()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout.get(..2), Some(&[0xC3, 0x01][..]));
        assert_eq!(
            out.stdout.get(2..10),
            Some(&version.fingerprint().to_le_bytes()[..])
        );
        let out = audit()?
            .args(["decode", "--framing", "single-object"])
            .write_stdin(out.stdout)
            .output()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("writer schema "), "{stderr}");
        assert!(stderr.contains(version.as_str()), "{stderr}");
        assert_eq!(decoded(&out.stdout)?, cmd);
    }
    // unknown fingerprint
    let mut bytes = vec![0xC3, 0x01];
    bytes.extend_from_slice(&0x0123_4567_89ab_cdef_u64.to_le_bytes());
    bytes.extend_from_slice(&cmd.to_avro_datum());
    let out = audit()?
        .args(["decode", "--framing", "single-object"])
        .write_stdin(bytes)
        .output()?;
    assert_fails(
        &out,
        2,
        "fingerprint 0123456789abcdef is no known schema version",
    );
    Ok(())
}

#[test]
fn every_writer_version_round_trips_unframed() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cmd = command(false);
    let input = json_file(tmp.path(), &cmd)?;
    for version in SchemaVersion::ALL {
        let out = audit()?
            .arg("encode")
            .arg(&input)
            .args(["--writer-version", version.as_str(), "--hex"])
            .output()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let hex_text = String::from_utf8(out.stdout)?;
        assert_eq!(
            hex::decode(hex_text.trim())?,
            cmd.to_avro_datum_as(*version)?
        );
        let out = audit()?
            .args([
                "decode",
                "--writer-version",
                version.as_str(),
                "--hex",
                hex_text.trim(),
            ])
            .output()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(decoded(&out.stdout)?, cmd);
    }
    Ok(())
}

#[test]
fn bad_encode_input() -> TestResult {
    let out = audit()?.arg("encode").write_stdin("{not json").output()?;
    assert_fails(&out, 2, "the input is not valid JSON");
    assert!(out.stdout.is_empty());

    let out = audit()?
        .arg("encode")
        .write_stdin(r#"{"identity": 3}"#)
        .output()?;
    assert_fails(&out, 2, "the JSON is not a CreateAuditRecordCommand");

    let tmp = tempfile::tempdir()?;
    let input = json_file(tmp.path(), &command(true))?;
    let out = audit()?
        .arg("encode")
        .arg(&input)
        .args(["--framing", "confluent"])
        .output()?;
    assert_fails(&out, 2, "--schema-id");
    let out = audit()?
        .arg("encode")
        .arg(&input)
        .args(["--schema-id", "3"])
        .output()?;
    assert_fails(&out, 2, "--schema-id only applies");
    let out = audit()?
        .arg("encode")
        .arg(&input)
        .args(["--writer-version", "9.9.9"])
        .output()?;
    assert_fails(&out, 2, "unknown schema version \"9.9.9\"");
    // a value-less AuditObjectDataValue cannot be written with 1.0.0
    let out = audit()?
        .arg("encode")
        .arg(&input)
        .args(["--writer-version", "1.0.0"])
        .output()?;
    assert_fails(&out, 2, "cannot be written as schema 1.0.0");
    let out = audit()?
        .arg("encode")
        .arg(tmp.path().join("missing.json"))
        .output()?;
    assert_fails(&out, 3, "cannot read");
    Ok(())
}

#[test]
fn bad_decode_input() -> TestResult {
    let datum = command(true).to_avro_datum();
    let truncated = datum.get(..datum.len() / 2).ok_or("short datum")?.to_vec();
    let out = audit()?.arg("decode").write_stdin(truncated).output()?;
    assert_fails(
        &out,
        2,
        "not a CreateAuditRecordCommand written with schema 1.0.2",
    );
    assert!(out.stdout.is_empty());

    let out = audit()?.args(["decode", "--hex", "zz"]).output()?;
    assert_fails(&out, 2, "--hex is not valid hex");
    let out = audit()?
        .arg("decode")
        .write_stdin(Vec::<u8>::new())
        .output()?;
    assert_fails(&out, 2, "no input bytes");
    let out = audit()?
        .args(["decode", "--framing", "confluent", "--hex", "000000"])
        .output()?;
    assert_fails(&out, 2, "not in the Confluent wire format");
    let out = audit()?
        .args(["decode", "--framing", "single-object", "--hex", "c301aa"])
        .output()?;
    assert_fails(&out, 2, "not in Avro single-object encoding");
    // trailing garbage after a complete datum
    let mut long = datum.clone();
    long.push(0);
    let out = audit()?.arg("decode").write_stdin(long).output()?;
    assert_fails(&out, 2, "caused by:");
    // 1.0.2 bytes with a null value are not 1.0.0 bytes
    let out = audit()?
        .args(["decode", "--writer-version", "1.0.0"])
        .write_stdin(datum)
        .output()?;
    assert_fails(&out, 2, "written with schema 1.0.0");
    Ok(())
}

/// `audit decode --error-event`: a jEAP error-topic value (Confluent-framed
/// `MessageProcessingFailedEvent`) is printed with the failed command decoded when the failed
/// record holds one, and without it (but with the reason) when it does not.
#[test]
fn decode_error_event_shows_the_failed_command() -> TestResult {
    use audit_error_event::{
        ErrorEventConfig, ErrorInfo, EventIdentity, FailedRecord, RecordPart, Temporality,
    };
    let tmp = tempfile::tempdir()?;
    let config = ErrorEventConfig::new("JME", "jme-audit-consumer")?;
    let cmd = command(true);
    let value = audit_schema::confluent::frame(21, &cmd.to_avro_datum());
    let record = FailedRecord::new("audit", 2, 9).with_value(Some(&value));
    let error = ErrorInfo::new("HANDLER_FAILED", Temporality::Temporary, "db down");
    let event = config.build_event(&record, &error, EventIdentity::generate());
    let file = tmp.path().join("error.bin");
    std::fs::write(&file, event.framed_value(33))?;
    let out = audit()?
        .args(["decode", "--error-event", "--framing", "confluent"])
        .arg(&file)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("schema id 33"), "{stderr}");
    assert!(
        stderr.contains("failed command: schema id 21, read as version 1.0.2"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(v["failedCommand"]["command"], json::to_json(&cmd));
    assert_eq!(v["errorEvent"]["payload"]["errorMessage"], "db down");
    assert_eq!(
        v["errorEvent"]["references"]["errorType"]["temporality"],
        "TEMPORARY"
    );

    // a poison value: the event, no command; unframed input works too
    let poison = b"\x00\x00\x00\x00\x05\xff\xfe";
    let cause = std::io::Error::other("bad");
    let error = ErrorInfo::deserialization_failed(RecordPart::Value, &cause);
    let record = FailedRecord::new("audit", 0, 1).with_value(Some(poison));
    let event = config.build_event(&record, &error, EventIdentity::generate());
    let out = audit()?
        .args([
            "decode",
            "--error-event",
            "--hex",
            &hex::encode(event.value_datum()),
        ])
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("not a CreateAuditRecordCommand"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(v["failedCommand"], serde_json::Value::Null);
    assert_eq!(
        v["errorEvent"]["payload"]["originalMessage"],
        serde_json::json!({"base64": "AAAAAAX//g=="})
    );

    // a command is not an error event
    let out = audit()?
        .args([
            "decode",
            "--error-event",
            "--hex",
            &hex::encode(cmd.to_avro_datum()),
        ])
        .output()?;
    assert_fails(&out, 2, "not a MessageProcessingFailedEvent");
    Ok(())
}
