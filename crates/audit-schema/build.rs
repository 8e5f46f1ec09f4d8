//! Generates the Rust types and codecs of `CreateAuditRecordCommand` from `avro/` (the newest
//! version is the reader; every version in the descriptor is a known writer) and the
//! `SchemaVersion` enum with raw schema texts, Parsing Canonical Forms and CRC-64-AVRO
//! fingerprints. Output: `$OUT_DIR/generated.rs` and `$OUT_DIR/runtime.rs`.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use audit_avro_model::canonical;
use audit_codegen::{Options, WriterVersion, version_suffix};

const DESCRIPTOR: &str = "CreateAuditRecordCommand.descriptor.json";
const NS: &str = "ch.admin.bit.jeap.audit.record.create";

fn main() {
    if let Err(e) = run() {
        panic!("audit-schema build script: {e}");
    }
}

fn read(path: &Path) -> Result<String, String> {
    println!("cargo:rerun-if-changed={}", path.display());
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let avro = manifest.join("../../avro");
    println!("cargo:rerun-if-changed={}", avro.display());
    println!("cargo:rerun-if-changed=build.rs");

    let descriptor: serde_json::Value =
        serde_json::from_str(&read(&avro.join(DESCRIPTOR))?).map_err(|e| e.to_string())?;
    let record_name = descriptor["recordName"]
        .as_str()
        .ok_or("descriptor: recordName missing")?;
    let root = record_name.rsplit('.').next().unwrap_or(record_name);
    let versions = descriptor["versions"]
        .as_array()
        .ok_or("descriptor: versions missing")?;
    let mut known: Vec<(String, String, String)> = Vec::new(); // (version, file, json)
    for v in versions {
        let version = v["version"].as_str().ok_or("descriptor: version missing")?;
        let file = v["schema"].as_str().ok_or("descriptor: schema missing")?;
        let json = read(&avro.join(file))?;
        known.push((version.to_owned(), file.to_owned(), json));
    }
    let (latest, _, reader_json) = known.last().ok_or("descriptor lists no version")?;

    let opts = Options {
        union_names: vec![
            (
                vec![
                    format!("{NS}.AuditUser"),
                    format!("{NS}.AuditSystemComponent"),
                ],
                "AuditTrigger".into(),
            ),
            (
                vec![
                    format!("{NS}.AuditObjectDataValue"),
                    format!("{NS}.AuditObjectDataJSON"),
                    format!("{NS}.AuditObjectDataS3"),
                ],
                "AuditObjectData".into(),
            ),
        ],
        bytes_with: Some("crate::json::bytes".into()),
        runtime_path: "crate::rt".into(),
        views: true,
        // strings of up to 24 bytes (most of a command's) live inline: decoding a typical
        // command allocates a handful of times instead of once per string
        string_type: "compact_str::CompactString".into(),
    };
    let writers: Vec<WriterVersion<'_>> = known
        .iter()
        .map(|(version, _, json)| WriterVersion {
            version,
            schema_json: json,
        })
        .collect();
    let mut code = match audit_codegen::generate(reader_json, &writers, &opts) {
        Ok(code) => code,
        Err(audit_codegen::Error::Syntax { message, code }) => {
            let broken = out_dir.join("generated_broken.rs");
            let _ = std::fs::write(&broken, code);
            return Err(format!(
                "generated code does not parse ({message}), see {}",
                broken.display()
            ));
        }
        Err(e) => return Err(e.to_string()),
    };

    // SchemaVersion
    let mut v = String::new();
    let variant = |ver: &str| version_suffix(ver).to_uppercase();
    let _ = writeln!(
        v,
        "/// The version of the schema the generated types come from."
    );
    let _ = writeln!(v, "pub const SCHEMA_VERSION: &str = {latest:?};");
    let _ = writeln!(
        v,
        "/// The known versions of the `{record_name}` schema (from `avro/{DESCRIPTOR}`)."
    );
    let _ = writeln!(
        v,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]"
    );
    let _ = writeln!(v, "pub enum SchemaVersion {{");
    for (ver, file, _) in &known {
        let _ = writeln!(v, "/// Version `{ver}` (`avro/{file}`).\n{},", variant(ver));
    }
    let _ = writeln!(v, "}}");
    let all: Vec<String> = known
        .iter()
        .map(|(ver, _, _)| format!("Self::{}", variant(ver)))
        .collect();
    let _ = writeln!(v, "impl SchemaVersion {{");
    let _ = writeln!(
        v,
        "/// All known versions, oldest first.\npub const ALL: &'static [SchemaVersion] = &[{}];",
        all.join(", ")
    );
    let _ = writeln!(
        v,
        "/// The newest version (the one the types come from).\npub const LATEST: SchemaVersion = Self::{};",
        variant(latest)
    );
    let arms = |f: &dyn Fn(&(String, String, String)) -> String| -> String {
        known
            .iter()
            .map(|k| format!("Self::{} => {},", variant(&k.0), f(k)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let _ = writeln!(
        v,
        "/// The version string, e.g. `\"{latest}\"`.\npub const fn as_str(self) -> &'static str {{ match self {{ {} }} }}",
        arms(&|k| format!("{:?}", k.0))
    );
    let parse_arms: Vec<String> = known
        .iter()
        .map(|k| format!("{:?} => Some(Self::{}),", k.0, variant(&k.0)))
        .collect();
    let _ = writeln!(
        v,
        "/// The version for a version string.\npub fn parse(s: &str) -> Option<SchemaVersion> {{ match s {{ {} _ => None }} }}",
        parse_arms.join("\n")
    );
    let _ = writeln!(
        v,
        "/// The raw `.avsc` text of this version (register this text, never a re-serialization).\npub const fn schema_json(self) -> &'static str {{ match self {{ {} }} }}",
        arms(&|k| format!(
            "include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../../avro/{}\"))",
            k.1
        ))
    );
    let mut canon = Vec::new();
    for (ver, _, json) in &known {
        let pcf = canonical::parsing_canonical_form(json).map_err(|e| format!("{ver}: {e}"))?;
        let fp = canonical::fingerprint(&pcf);
        canon.push((ver.clone(), pcf, fp));
    }
    let canon_arms = |f: &dyn Fn(&(String, String, u64)) -> String| -> String {
        canon
            .iter()
            .map(|k| format!("Self::{} => {},", variant(&k.0), f(k)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let _ = writeln!(
        v,
        "/// The Parsing Canonical Form of this version (logical types removed, as the specification says).\npub const fn canonical_form(self) -> &'static str {{ match self {{ {} }} }}",
        canon_arms(&|k| format!("{:?}", k.1))
    );
    let _ = writeln!(
        v,
        "/// The CRC-64-AVRO (Rabin) fingerprint of the Parsing Canonical Form.\npub const fn fingerprint(self) -> u64 {{ match self {{ {} }} }}",
        canon_arms(&|k| format!("{:#018x}", k.2))
    );
    // versions that differ only in what the canonical form strips (e.g. an enum default) share
    // a fingerprint: they are wire-identical, so the newest of them is returned
    let mut fp_seen = std::collections::BTreeSet::new();
    let fp_arms: Vec<String> = canon
        .iter()
        .rev()
        .filter(|k| fp_seen.insert(k.2))
        .map(|k| format!("{:#018x} => Some(Self::{}),", k.2, variant(&k.0)))
        .collect();
    let _ = writeln!(
        v,
        "/// The version whose fingerprint is `fp` (the newest one when several versions share a\n/// fingerprint: they differ only in what the Parsing Canonical Form strips, such as an enum default,\n/// and are identical on the wire).\npub const fn from_fingerprint(fp: u64) -> Option<SchemaVersion> {{ match fp {{ {} _ => None }} }}",
        fp_arms.join("\n")
    );
    let _ = writeln!(v, "}}");
    let _ = writeln!(
        v,
        "impl std::fmt::Display for SchemaVersion {{ fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.write_str(self.as_str()) }} }}"
    );
    // dispatch to the generated per-version codecs
    let _ = writeln!(v, "impl {root} {{");
    let _ = writeln!(
        v,
        "pub(crate) fn avro_decode_as(r: &mut crate::rt::Reader<'_>, version: SchemaVersion) -> Result<Self, crate::rt::DecodeError> {{ match version {{ {} }} }}",
        known
            .iter()
            .map(|k| format!(
                "SchemaVersion::{} => Self::avro_decode_{}(r),",
                variant(&k.0),
                version_suffix(&k.0)
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let _ = writeln!(
        v,
        "pub(crate) fn avro_encode_as(&self, out: &mut Vec<u8>, version: SchemaVersion) -> Result<(), crate::rt::EncodeError> {{ match version {{ {} }} }}",
        known
            .iter()
            .map(|k| format!(
                "SchemaVersion::{} => self.avro_encode_{}(out),",
                variant(&k.0),
                version_suffix(&k.0)
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let _ = writeln!(v, "}}");
    code.push_str(&audit_codegen::format_source(&v).map_err(|e| e.to_string())?);

    std::fs::write(out_dir.join("generated.rs"), code).map_err(|e| e.to_string())?;
    std::fs::write(out_dir.join("runtime.rs"), audit_codegen::RUNTIME_SOURCE)
        .map_err(|e| e.to_string())?;
    Ok(())
}
