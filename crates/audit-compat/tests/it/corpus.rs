//! Runs every pair of `tests/compat-corpus` in both directions and compares the verdict and the
//! incompatibility kinds with `expected.json` (derived from Java's `SchemaCompatibility` rules,
//! see `tests/compat-corpus/README.md`).

use std::path::PathBuf;

use serde_json::Value;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/compat-corpus")
}

fn kinds(list: &[audit_compat::Incompatibility]) -> Vec<String> {
    list.iter()
        .map(|i| {
            let json = serde_json::to_value(i.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            assert_eq!(json, i.kind.as_str(), "JSON and Display names agree");
            json
        })
        .collect()
}

#[test]
fn every_pair_matches_the_expected_java_verdicts() -> Result<(), Box<dyn std::error::Error>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus_dir())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 40, "corpus has only {} pairs", dirs.len());
    let mut failures = Vec::new();
    for dir in &dirs {
        let reader = std::fs::read_to_string(dir.join("reader.avsc"))?;
        let writer = std::fs::read_to_string(dir.join("writer.avsc"))?;
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json"))?)?;
        for (key, r, w) in [
            ("reader_reads_writer", &reader, &writer),
            ("writer_reads_reader", &writer, &reader),
        ] {
            let exp = &expected[key];
            let verdict = exp["verdict"].as_str().unwrap_or("missing");
            let exp_kinds: Vec<String> = exp["kinds"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let got = audit_compat::check_schemas(r, w)?;
            let got_verdict = if got.is_empty() {
                "COMPATIBLE"
            } else {
                "INCOMPATIBLE"
            };
            if got_verdict != verdict || (verdict == "INCOMPATIBLE" && kinds(&got) != exp_kinds) {
                failures.push(format!(
                    "{} {key}: expected {verdict} {exp_kinds:?}, got {got_verdict} {:?}: {}",
                    dir.display(),
                    kinds(&got),
                    got.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" | ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

fn pair(name: &str) -> Result<(String, String), std::io::Error> {
    let dir = corpus_dir().join(name);
    Ok((
        std::fs::read_to_string(dir.join("reader.avsc"))?,
        std::fs::read_to_string(dir.join("writer.avsc"))?,
    ))
}

#[test]
fn paths_name_the_offending_field() -> Result<(), Box<dyn std::error::Error>> {
    let (reader, writer) = pair("46-nested-field-added-without-default")?;
    let got = audit_compat::check_schemas(&reader, &writer)?;
    let first = got.first().ok_or("expected an incompatibility")?;
    assert_eq!(first.field, "Inner.b");
    assert_eq!(first.path, "inner.b");
    assert_eq!(first.location, "/fields/0/type/fields/1");

    let (reader, writer) = pair("57-union-record-branch-field-nullable")?;
    let got = audit_compat::check_schemas(&reader, &writer)?;
    let first = got.first().ok_or("expected an incompatibility")?;
    assert_eq!(
        first.kind,
        audit_compat::IncompatibilityKind::MissingUnionBranch
    );
    let cause = first.root_cause();
    assert_eq!(cause.field, "A.x");
    assert_eq!(cause.path, "v.x");
    assert_eq!(cause.kind, audit_compat::IncompatibilityKind::TypeMismatch);
    Ok(())
}

#[test]
fn invalid_schema_text_is_a_typed_error() {
    let err = audit_compat::check_schemas("{\"type\":\"nope\"}", "\"int\"");
    assert!(
        matches!(
            err,
            Err(audit_compat::Error::InvalidSchema { role: "reader", .. })
        ),
        "{err:?}"
    );
    let err = audit_compat::check_schemas("\"int\"", "not json");
    assert!(
        matches!(
            err,
            Err(audit_compat::Error::InvalidSchema { role: "writer", .. })
        ),
        "{err:?}"
    );
}
