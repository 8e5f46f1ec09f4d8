//! Parsing Canonical Forms and CRC-64-AVRO fingerprints of the three versions against Python's
//! `avro` 1.12 and `fastavro` (`scripts/python/fingerprints.py`), and single-object encoding
//! (`C3 01`, fingerprint little-endian, datum) against the header they derive.
//!
//! Neither Python library has a single-object reader or writer (fastavro 1.13 and avro 1.12 have
//! none), so the header is compared byte for byte and the datum behind it is decoded by both.
//!
//! Known deviation: Python `avro` 1.12's `canonical_form` keeps a logical type as
//! `{"type":"long"}` instead of the specification's `"long"`, so its `Schema.fingerprint()` of
//! our schemas is not Java's. The test pins exactly that difference and checks avro's CRC-64-AVRO
//! on the specification's form.

// Test code: a failed expectation is a panic with a message.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use audit_schema::canonical::{fingerprint, parsing_canonical_form};
use audit_schema::{CreateAuditRecordCommand, SchemaVersion, single_object};
use serde_json::Value;

use crate::interop::{avro_json, encode_as, run_python, sample_commands, schema_path};

fn python_fingerprints() -> Vec<(SchemaVersion, Value)> {
    let paths: Vec<String> = SchemaVersion::ALL
        .iter()
        .map(|v| schema_path(*v).to_string_lossy().into_owned())
        .collect();
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let out: Value = serde_json::from_str(&run_python("fingerprints.py", &args, ""))
        .unwrap_or_else(|e| panic!("fingerprints.py printed no JSON: {e}"));
    let files = out["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), SchemaVersion::ALL.len());
    SchemaVersion::ALL.iter().copied().zip(files).collect()
}

fn hex_u64(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    u64::from_str_radix(s, 16).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// `{"type":"long"}` -> `"long"` (and the other primitives): the one rule Python avro 1.12 skips.
fn strip_primitive_objects(form: &str) -> String {
    let mut out = form.to_owned();
    for p in [
        "null", "boolean", "int", "long", "float", "double", "bytes", "string",
    ] {
        out = out.replace(&format!(r#"{{"type":"{p}"}}"#), &format!(r#""{p}""#));
    }
    out
}

#[test]
fn canonical_forms_and_fingerprints_equal_python_avro_and_fastavro() {
    for (version, py) in python_fingerprints() {
        let v = version.as_str();
        let ours =
            parsing_canonical_form(version.schema_json()).unwrap_or_else(|e| panic!("{v}: {e}"));
        let fp = fingerprint(&ours);
        // What the crate embeds for the version.
        assert_eq!(version.canonical_form(), ours, "{v}");
        assert_eq!(version.fingerprint(), fp, "{v}");

        // fastavro follows the specification exactly.
        assert_eq!(
            py["fastavro"]["canonical_form"].as_str(),
            Some(ours.as_str()),
            "fastavro {v}"
        );
        assert_eq!(
            hex_u64(&py["fastavro"]["fingerprint"]),
            fp,
            "fastavro fingerprint {v}"
        );

        // avro: CRC-64-AVRO of the specification's form is ours; re-parsing that form is stable.
        assert_eq!(
            py["avro"]["spec_form_reparsed"].as_str(),
            Some(ours.as_str()),
            "avro {v}"
        );
        assert_eq!(
            hex_u64(&py["avro"]["spec_fingerprint"]),
            fp,
            "avro fingerprint {v}"
        );
        // ...and its own canonical form differs at most by keeping logical types as objects
        // (avro 1.12.2 does; should a later 1.12.x follow the specification, its own form and
        // fingerprint simply equal ours).
        let avro_form = py["avro"]["canonical_form"].as_str().unwrap_or_default();
        assert_eq!(strip_primitive_objects(avro_form), ours, "avro {v}");
        let avro_fp = hex_u64(&py["avro"]["fingerprint"]);
        assert_eq!(
            avro_fp == fp,
            avro_form == ours,
            "avro's fingerprint of its own form, {v}"
        );
        assert_eq!(avro_fp, fingerprint(avro_form), "avro's CRC-64-AVRO of {v}");

        assert_eq!(
            SchemaVersion::from_fingerprint(fp).map(SchemaVersion::canonical_form),
            Some(version.canonical_form())
        );
    }
}

/// 1.0.0 and 1.0.1 differ only in the enum default (`= UNKNOWN`), which the canonical form
/// strips: they are the same schema for parsing and share one fingerprint. 1.0.2 differs.
#[test]
fn versions_1_0_0_and_1_0_1_share_a_fingerprint() {
    assert_eq!(
        SchemaVersion::V1_0_0.canonical_form(),
        SchemaVersion::V1_0_1.canonical_form()
    );
    assert_eq!(
        SchemaVersion::V1_0_0.fingerprint(),
        SchemaVersion::V1_0_1.fingerprint()
    );
    assert_ne!(
        SchemaVersion::V1_0_1.fingerprint(),
        SchemaVersion::V1_0_2.fingerprint()
    );
    assert_eq!(SchemaVersion::V1_0_0.fingerprint(), 0x96c0_be70_dfab_ef5d);
    assert_eq!(SchemaVersion::V1_0_2.fingerprint(), 0x51b4_1087_a8ad_4612);
}

#[test]
fn single_object_bytes_match_python_and_round_trip() {
    let commands = sample_commands(12, true);
    for (version, py) in python_fingerprints() {
        let v = version.as_str();
        let mut header = Vec::new();
        single_object::write_header(version.fingerprint(), &mut header);
        for implementation in ["avro", "fastavro"] {
            let expected = hex::decode(
                py[implementation]["single_object_header"]
                    .as_str()
                    .unwrap_or_default(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                header, expected,
                "{implementation} single-object header of {v}"
            );
        }
        assert_eq!(header.len(), 10);
        assert_eq!(&header[..2], &[0xC3, 0x01]);
        assert_eq!(&header[2..], &version.fingerprint().to_le_bytes());

        // header + datum: unframe gives the fingerprint back, which names the writer schema, and
        // the datum behind it decodes here and in both Python libraries.
        let mut framed_all = Vec::new();
        for cmd in &commands {
            let mut framed = header.clone();
            framed.extend_from_slice(&encode_as(cmd, version));
            let (fp, datum) =
                single_object::unframe(&framed).unwrap_or_else(|e| panic!("{v}: {e}"));
            assert_eq!(fp, version.fingerprint());
            let writer = SchemaVersion::from_fingerprint(fp)
                .unwrap_or_else(|| panic!("unknown fingerprint {fp:016x}"));
            assert_eq!(writer.canonical_form(), version.canonical_form());
            let decoded = CreateAuditRecordCommand::from_avro_datum_as(datum, writer)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&decoded, cmd);
            framed_all.push(datum.to_vec());
        }
        let schema = schema_path(version).to_string_lossy().into_owned();
        let input: String = framed_all
            .iter()
            .map(|d| format!("{{\"hex\":\"{}\"}}\n", hex::encode(d)))
            .collect();
        for implementation in ["avro", "fastavro"] {
            let out = run_python(
                "interop.py",
                &["read", "--impl", implementation, "--schema", &schema],
                &input,
            );
            let got: Vec<Value> = out
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}")))
                .collect();
            let expected: Vec<Value> = commands
                .iter()
                .map(|c| avro_json(c, version).unwrap_or_default())
                .collect();
            assert_eq!(
                got, expected,
                "{implementation} reads the single-object payload of {v}"
            );
        }
    }
}

#[test]
fn single_object_unframe_rejects_bad_headers() {
    let mut good = Vec::new();
    single_object::write_header(SchemaVersion::LATEST.fingerprint(), &mut good);
    assert!(
        single_object::unframe(&good[..9]).is_err(),
        "truncated header"
    );
    assert!(single_object::unframe(&[]).is_err(), "empty");
    let mut wrong_magic = good.clone();
    wrong_magic[1] = 0x02;
    assert!(
        single_object::unframe(&wrong_magic).is_err(),
        "wrong version byte"
    );
    let mut confluent_like = good.clone();
    confluent_like[0] = 0x00;
    assert!(
        single_object::unframe(&confluent_like).is_err(),
        "Confluent magic is not single-object"
    );
}
