//! The demo binary end to end on its embedded defaults (SQLite outbox, in-process mock cluster).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;

use assert_cmd::Command;

#[test]
fn demo_delivers_every_record_once_and_writes_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested").join("records.jsonl");
    let output = Command::cargo_bin("audit-demo")
        .unwrap()
        .args(["--count", "3000", "--out"])
        .arg(&out)
        .arg("--store")
        .arg(dir.path().join("audit.db"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("OK: sent == received == stored (3000)"),
        "{stdout}"
    );
    // the audit service stored every record and answers the query over HTTP
    assert!(
        stdout.contains("3000 records stored in")
            && stdout.contains("0 of them show a planted value"),
        "{stdout}"
    );
    assert!(
        stdout.contains("records about object Invoice/INV-42  3 (expected 3;"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Invoice/INV-42 v0") && stdout.contains("Invoice/INV-42 v2"),
        "{stdout}"
    );
    // every tenth command carries an e-mail address, an IBAN or a password: masked downstream
    assert!(
        stdout.contains("300 consumed records show ****MASKED****, 0 show a planted value"),
        "{stdout}"
    );

    let text = std::fs::read_to_string(&out).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3000);
    for planted in [
        "@customer-mail.example",
        "CH93 0076 2011 6238 5295 7",
        "CH9300762011623852957",
        "correct-horse-battery-staple",
    ] {
        assert!(!text.contains(planted), "{planted} reached the records");
    }
    let masked = text
        .lines()
        .filter(|l| l.contains("****MASKED****"))
        .count();
    assert_eq!(masked, 300, "the planted values are masked");
    // nested JSON: the password and the e-mail inside the document are masked, the rest kept
    let nested = records
        .iter()
        .find(|r| r["auditedObject"]["objectType"] == "Account")
        .unwrap();
    let profile = &nested["auditedObject"]["objectData"][0]["kind"]["json"]["json"];
    assert_eq!(profile["login"]["password"], "****MASKED****", "{profile}");
    assert_eq!(
        profile["login"]["recovery"][0], "****MASKED****",
        "{profile}"
    );
    assert_eq!(profile["active"], true, "{profile}");
    let ids: HashSet<&str> = records
        .iter()
        .map(|r| r["metadata"]["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3000, "each record written once");
    // varied shapes made it through: both trigger kinds, all eight event types, every object-data kind
    let triggers: HashSet<String> = records
        .iter()
        .map(|r| {
            r["trigger"]
                .as_object()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .clone()
        })
        .collect();
    assert_eq!(triggers.len(), 2, "{triggers:?}");
    let events: HashSet<&str> = records
        .iter()
        .map(|r| r["event"]["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(events.len(), 8, "{events:?}");
    let with_object = records
        .iter()
        .filter(|r| !r["auditedObject"].is_null())
        .count();
    assert!(with_object > 0 && with_object < 3000);
}

#[test]
fn demo_rejects_unknown_arguments() {
    let output = Command::cargo_bin("audit-demo")
        .unwrap()
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert!(!output.status.success());
}

#[test]
fn demo_through_the_non_blocking_publisher() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("records.jsonl");
    let output = Command::cargo_bin("audit-demo")
        .unwrap()
        .args(["--publisher", "--count", "2000", "--out"])
        .arg(&out)
        .arg("--store")
        .arg(dir.path().join("audit.db"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("AuditPublisher"), "{stdout}");
    assert!(
        stdout.contains("OK: sent == received == stored (2000)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("200 consumed records show ****MASKED****, 0 show a planted value"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let ids: HashSet<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["metadata"]["messageId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 2000);
}
