//! The `.avsc` files in `avro/` against the official Avro IDL of jEAP's message type registry
//! (`<repo>/../shared/reference/jeap-message-type-registry`): same Parsing Canonical Form, and
//! the same defaults and logical types (which the canonical form strips), for every version.
//! The IDL is compiled with the `avdl` crate; the canonical form is ours (`audit_schema::canonical`).

// Test code: a failed expectation is a panic with a message.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use audit_schema::SchemaVersion;
use audit_schema::canonical::{fingerprint, parsing_canonical_form};
use serde_json::{Map, Value, json};

const RECORD: &str = "CreateAuditRecordCommand";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The official IDL: `$AUDIT_REFERENCE_DIR`, else `shared/reference/...` beside the clone or beside
/// any of its parent folders, else the workplace's `/work/shared/reference/...`.
fn reference_dir() -> PathBuf {
    const SUB: &str = "shared/reference/jeap-message-type-registry";
    let mut candidates: Vec<PathBuf> = std::env::var_os("AUDIT_REFERENCE_DIR")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    let root = repo_root().canonicalize().unwrap_or_else(|_| repo_root());
    candidates.extend(root.ancestors().skip(1).map(|dir| dir.join(SUB)));
    candidates.push(Path::new("/work").join(SUB));
    match candidates
        .iter()
        .find(|dir| dir.join("MessagingBaseTypes.avdl").is_file())
    {
        Some(dir) => dir.clone(),
        None => panic!(
            "the official IDL is missing: looked in {candidates:?} (set AUDIT_REFERENCE_DIR or put \
             the `shared/` folder beside the clone)"
        ),
    }
}

fn avsc_text(version: SchemaVersion) -> String {
    let path = repo_root().join(format!("avro/{RECORD}_v{}.avsc", version.as_str()));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The self-contained schema of the command, as `avdl` derives it from the IDL of `version`.
fn schema_from_idl(version: SchemaVersion) -> Value {
    let dir = reference_dir();
    let file = dir.join(format!("{RECORD}_v{}.avdl", version.as_str()));
    let output = avdl::Idl2Schemata::new()
        .import_dir(&dir)
        .extract(&file)
        .unwrap_or_else(|e| panic!("avdl cannot compile {}: {e:?}", file.display()));
    output
        .schemas
        .into_iter()
        .find(|s| s.name == RECORD)
        .unwrap_or_else(|| panic!("{} declares no record {RECORD}", file.display()))
        .schema
}

#[test]
fn every_version_has_an_idl_reference() {
    let dir = reference_dir();
    for version in SchemaVersion::ALL {
        let file = dir.join(format!("{RECORD}_v{}.avdl", version.as_str()));
        assert!(file.is_file(), "no IDL for {}", version.as_str());
    }
    assert_eq!(
        SchemaVersion::ALL.len(),
        3,
        "update the IDL comparison for new versions"
    );
}

#[test]
fn avsc_files_parse_with_apache_avro() {
    for &version in SchemaVersion::ALL {
        let schema = apache_avro::Schema::parse_str(&avsc_text(version))
            .unwrap_or_else(|e| panic!("apache-avro rejects {}: {e}", version.as_str()));
        let apache_avro::Schema::Record(record) = schema else {
            panic!("{} is not a record schema", version.as_str());
        };
        assert_eq!(
            record.name.fullname(None),
            "ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand"
        );
    }
}

#[test]
fn canonical_form_equals_the_one_derived_from_the_idl() {
    for &version in SchemaVersion::ALL {
        let from_idl = parsing_canonical_form(&schema_from_idl(version).to_string())
            .unwrap_or_else(|e| panic!("IDL {}: {e}", version.as_str()));
        let from_avsc = parsing_canonical_form(&avsc_text(version))
            .unwrap_or_else(|e| panic!("avsc {}: {e}", version.as_str()));
        assert_eq!(
            from_avsc,
            from_idl,
            "canonical form of {}",
            version.as_str()
        );
        // What the crate embeds is the same canonical form and fingerprint.
        assert_eq!(version.canonical_form(), from_idl, "{}", version.as_str());
        assert_eq!(
            version.fingerprint(),
            fingerprint(&from_idl),
            "{}",
            version.as_str()
        );
    }
}

/// The canonical form drops defaults and logical types; the wire contract needs them too.
#[test]
fn defaults_and_logical_types_equal_the_idl() {
    for &version in SchemaVersion::ALL {
        let avsc: Value =
            serde_json::from_str(&avsc_text(version)).unwrap_or_else(|e| panic!("{e}"));
        let from_avsc = semantic(&avsc, "", &mut Vec::new());
        let from_idl = semantic(&schema_from_idl(version), "", &mut Vec::new());
        assert_eq!(
            serde_json::to_string_pretty(&from_avsc).unwrap_or_default(),
            serde_json::to_string_pretty(&from_idl).unwrap_or_default(),
            "defaults / logical types of {}",
            version.as_str()
        );
    }
}

/// The comparison itself sees a changed default, a missing logical type and a renamed symbol.
#[test]
fn semantic_comparison_detects_differences() {
    let base: Value =
        serde_json::from_str(&avsc_text(SchemaVersion::LATEST)).unwrap_or_else(|e| panic!("{e}"));
    let reference = semantic(&base, "", &mut Vec::new());
    let text = base.to_string();
    for (from, to) in [
        (r#""default":"UNKNOWN""#, r#""default":"DELETED""#),
        (r#","logicalType":"timestamp-millis""#, ""),
        (r#""LISTED""#, r#""LISTING""#),
        (
            r#"["null","string"],"default":null"#,
            r#"["string","null"],"default":"x""#,
        ),
    ] {
        assert!(text.contains(from), "test input lacks {from}");
        let changed: Value =
            serde_json::from_str(&text.replacen(from, to, 1)).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(
            semantic(&changed, "", &mut Vec::new()),
            reference,
            "{from} -> {to}"
        );
    }
}

/// A normalized view of a schema that keeps what matters on the wire and for resolution: full
/// names, field order, types, union branch order, symbols, enum defaults, field defaults and
/// logical types (docs, aliases and attribute order are ignored; named types print once).
fn semantic(schema: &Value, namespace: &str, defined: &mut Vec<String>) -> Value {
    match schema {
        Value::String(name) => {
            let full = full_name(name, namespace);
            if defined.contains(&full) {
                json!({ "ref": full })
            } else {
                json!(name)
            }
        }
        Value::Array(branches) => Value::Array(
            branches
                .iter()
                .map(|b| semantic(b, namespace, defined))
                .collect(),
        ),
        Value::Object(o) => {
            let kind = o.get("type").and_then(Value::as_str).unwrap_or_default();
            let mut out = Map::new();
            out.insert("type".into(), json!(kind));
            match kind {
                "record" | "enum" | "fixed" => {
                    let name = o.get("name").and_then(Value::as_str).unwrap_or_default();
                    let ns = o
                        .get("namespace")
                        .and_then(Value::as_str)
                        .unwrap_or(namespace);
                    let full = full_name(name, ns);
                    defined.push(full.clone());
                    out.insert("name".into(), json!(full));
                    let inner_ns = full.rsplit_once('.').map_or("", |(n, _)| n).to_owned();
                    for key in ["symbols", "default", "size"] {
                        if let Some(v) = o.get(key) {
                            out.insert(key.into(), v.clone());
                        }
                    }
                    if let Some(Value::Array(fields)) = o.get("fields") {
                        let fields = fields
                            .iter()
                            .map(|f| {
                                json!({
                                    "name": f.get("name"),
                                    "type": semantic(f.get("type").unwrap_or(&Value::Null), &inner_ns, defined),
                                    "default": f.get("default").cloned().unwrap_or(json!("<none>")),
                                })
                            })
                            .collect();
                        out.insert("fields".into(), Value::Array(fields));
                    }
                }
                "array" => {
                    out.insert(
                        "items".into(),
                        semantic(o.get("items").unwrap_or(&Value::Null), namespace, defined),
                    );
                }
                "map" => {
                    out.insert(
                        "values".into(),
                        semantic(o.get("values").unwrap_or(&Value::Null), namespace, defined),
                    );
                }
                _ => {
                    if let Some(l) = o.get("logicalType") {
                        out.insert("logicalType".into(), l.clone());
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    }
}
