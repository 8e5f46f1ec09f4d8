//! `audit verify-signature`: a record signed like the relay signs it, against a chain file.

use audit_testkit::Pki;

use crate::{TestResult, assert_fails, audit, command};

/// A signed record on disk: value, value signature, the serial and the chain file.
struct Signed {
    dir: tempfile::TempDir,
    value: Vec<u8>,
    signature: Vec<u8>,
    serial: Vec<u8>,
    _pki: Pki,
}

impl Signed {
    fn new() -> Result<Self, Box<dyn std::error::Error>> {
        let pki = Pki::new()?;
        let ca = pki.ca("CLI Test Root")?;
        // the command's publisher.service is jme-audit-service
        let leaf = pki.leaf("jme-audit-service", &ca, "0x8001", 30)?;
        let signer =
            audit_signing::Signer::from_pem(&leaf.key_pem, &leaf.cert_pem, "jme-audit-service")?;
        let value = audit_schema::confluent::frame(7, &command(true).to_avro_datum());
        let signature = signer.sign_value(&value)?;
        let serial = signer.certificate_serial().to_vec();
        let dir = tempfile::tempdir()?;
        let mut chain = leaf.cert_pem.clone();
        chain.extend_from_slice(&ca.cert_pem);
        std::fs::write(dir.path().join("chain.pem"), chain)?;
        std::fs::write(dir.path().join("record.sign"), &signature)?;
        Ok(Self {
            dir,
            value,
            signature,
            serial,
            _pki: pki,
        })
    }

    fn write_value(&self, value: &[u8]) -> Result<String, std::io::Error> {
        let path = self.dir.path().join("record.bin");
        std::fs::write(&path, value)?;
        Ok(path.to_string_lossy().into_owned())
    }

    fn chain_arg(&self) -> String {
        format!(
            "jme-audit-service={}",
            self.dir.path().join("chain.pem").display()
        )
    }

    fn sign_arg(&self) -> String {
        format!(
            "jeap-sign=@{}",
            self.dir.path().join("record.sign").display()
        )
    }

    fn cert_arg(&self) -> String {
        format!("jeap-cert=hex:{}", hex::encode(&self.serial))
    }
}

#[test]
fn a_signed_record_verifies_and_a_flipped_byte_is_rejected_as_jeap_does() -> TestResult {
    let s = Signed::new()?;
    let value = s.write_value(&s.value)?;
    let out = audit()?
        .args(["verify-signature", &value, "--header", &s.sign_arg()])
        .args(["--header", &s.cert_arg(), "--chain", &s.chain_arg()])
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("message: CreateAuditRecordCommand published by jme-audit-service"));
    assert!(
        stdout.contains("value: accepted: verified (certificate CN=jme-audit-service)"),
        "{stdout}"
    );

    // one flipped bit in the payload: jEAP's invalid-signature outcome, permanent
    let mut flipped = s.value.clone();
    if let Some(last) = flipped.last_mut() {
        *last ^= 1;
    }
    let value = s.write_value(&flipped)?;
    let out = audit()?
        .args(["verify-signature", &value, "--header", &s.sign_arg()])
        .args(["--header", &s.cert_arg(), "--chain", &s.chain_arg()])
        .args(["--format", "json"])
        .output()?;
    assert_fails(&out, 1, "signature check failed: invalid_value_signature");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["parts"]["value"]["accepted"], false);
    assert_eq!(
        report["parts"]["value"]["outcome"],
        "invalid_value_signature"
    );
    assert_eq!(report["parts"]["value"]["temporality"], "PERMANENT");
    assert_eq!(
        report["parts"]["value"]["errorCode"],
        "MESSAGE_SIGNATURE_VALIDATION_ERROR"
    );
    assert_eq!(report["publisher"], "jme-audit-service");
    assert_ne!(s.signature.len(), 0);
    Ok(())
}

#[test]
fn unsigned_records_and_unknown_certificates() -> TestResult {
    let s = Signed::new()?;
    let value = s.write_value(&s.value)?;
    // strict by default: no headers is jEAP's strict-mode rejection
    let out = audit()?
        .args(["verify-signature", &value, "--chain", &s.chain_arg()])
        .output()?;
    assert_fails(&out, 1, "strict_mode_signature_missing");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("(PERMANENT, MESSAGE_SIGNATURE_VALIDATION_ERROR)")
    );
    let out = audit()?
        .args(["verify-signature", &value, "--allow-unsigned"])
        .output()?;
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("value: accepted: unsigned"));

    // a serial no configured chain has: temporary certificate error
    let out = audit()?
        .args(["verify-signature", &value, "--header", &s.sign_arg()])
        .args(["--header", "jeap-cert=hex:7fff", "--chain", &s.chain_arg()])
        .output()?;
    assert_fails(&out, 1, "certificate_not_found");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("(TEMPORARY, MESSAGE_CERTIFICATE_VALIDATION_ERROR)")
    );
    Ok(())
}

#[test]
fn bad_arguments_are_input_errors() -> TestResult {
    let s = Signed::new()?;
    let value = s.write_value(&s.value)?;
    let out = audit()?
        .args(["verify-signature", &value, "--header", "jeap-sign"])
        .output()?;
    assert_fails(&out, 2, "expected NAME=VALUE");
    let out = audit()?
        .args([
            "verify-signature",
            &value,
            "--chain",
            "svc=/nonexistent/chain.pem",
        ])
        .output()?;
    assert_fails(&out, 2, "certificate chain /nonexistent/chain.pem");
    let empty = s.dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificates here")?;
    let out = audit()?
        .args(["verify-signature", &value, "--chain"])
        .arg(format!("svc={}", empty.display()))
        .output()?;
    assert_fails(&out, 2, "no -----BEGIN CERTIFICATE----- block");
    Ok(())
}
