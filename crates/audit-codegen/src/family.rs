//! A schema family: the versions listed in a descriptor file (`<Record>.descriptor.json`, with
//! `recordName` and `versions: [{version, schema}]`, oldest first). The newest version is the
//! reader; every version is a known writer. Besides the types and codecs of [`crate::generate`],
//! the family gets a `SchemaVersion` enum with the raw schema texts, Parsing Canonical Forms and
//! CRC-64-AVRO fingerprints, and per-version dispatch on the root type.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use audit_avro_model::canonical;

use crate::{Error, Options, WriterVersion, version_suffix};

/// Where the generated code finds the schema files and what the family's root is called.
#[derive(Debug, Clone)]
pub struct Family<'a> {
    /// Directory of the descriptor and the `.avsc` files.
    pub dir: &'a Path,
    /// File name of the descriptor in [`Family::dir`].
    pub descriptor: &'a str,
    /// The directory as the generated code's `include_str!` sees it, relative to the including
    /// crate's `CARGO_MANIFEST_DIR` (e.g. `/../../avro`).
    pub include_dir: &'a str,
}

/// The generated source of a family and the files it was made from (for
/// `cargo:rerun-if-changed`).
#[derive(Debug, Clone)]
pub struct Generated {
    /// Formatted Rust source.
    pub code: String,
    /// The descriptor and every schema file read.
    pub inputs: Vec<PathBuf>,
}

struct Version {
    version: String,
    file: String,
    json: String,
}

fn read(path: &Path, inputs: &mut Vec<PathBuf>) -> Result<String, Error> {
    inputs.push(path.to_path_buf());
    std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

fn descriptor_error(reason: impl Into<String>) -> Error {
    Error::Descriptor(reason.into())
}

/// Generates the types, codecs, `SchemaVersion` and per-version dispatch of `family`.
pub fn generate_family(family: &Family<'_>, opts: &Options) -> Result<Generated, Error> {
    let mut inputs = Vec::new();
    let descriptor_path = family.dir.join(family.descriptor);
    let descriptor: serde_json::Value = serde_json::from_str(&read(&descriptor_path, &mut inputs)?)
        .map_err(|e| descriptor_error(format!("{}: {e}", descriptor_path.display())))?;
    let record_name = descriptor
        .get("recordName")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| descriptor_error("recordName missing"))?;
    let root = record_name.rsplit('.').next().unwrap_or(record_name);
    let mut known = Vec::new();
    for v in descriptor
        .get("versions")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| descriptor_error("versions missing"))?
    {
        let version = v
            .get("version")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| descriptor_error("a version without `version`"))?;
        let file = v
            .get("schema")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| descriptor_error(format!("version {version} without `schema`")))?;
        let json = read(&family.dir.join(file), &mut inputs)?;
        known.push(Version {
            version: version.to_owned(),
            file: file.to_owned(),
            json,
        });
    }
    let latest = known
        .last()
        .ok_or_else(|| descriptor_error("no version listed"))?;
    let writers: Vec<WriterVersion<'_>> = known
        .iter()
        .map(|k| WriterVersion {
            version: &k.version,
            schema_json: &k.json,
        })
        .collect();
    let mut code = crate::generate(&latest.json, &writers, opts)?;
    let versions = versions_source(&known, record_name, root, family, opts)?;
    code.push_str(&crate::format_source(&versions)?);
    Ok(Generated { code, inputs })
}

fn versions_source(
    known: &[Version],
    record_name: &str,
    root: &str,
    family: &Family<'_>,
    opts: &Options,
) -> Result<String, Error> {
    let Some(latest) = known.last() else {
        return Err(descriptor_error("no version listed"));
    };
    let latest_v = &latest.version;
    let rt = &opts.runtime_path;
    let descriptor = family.descriptor;
    let variant = |ver: &str| version_suffix(ver).to_uppercase();
    let arms = |f: &dyn Fn(&Version) -> String| -> String {
        known
            .iter()
            .map(|k| format!("Self::{} => {},", variant(&k.version), f(k)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut canon = Vec::new();
    for k in known {
        let pcf = canonical::parsing_canonical_form(&k.json).map_err(|e| {
            descriptor_error(format!("version {}: no canonical form: {e}", k.version))
        })?;
        let fp = canonical::fingerprint(&pcf);
        canon.push((k.version.as_str(), pcf, fp));
    }
    let canon_arms = |f: &dyn Fn(&(&str, String, u64)) -> String| -> String {
        canon
            .iter()
            .map(|k| format!("Self::{} => {},", variant(k.0), f(k)))
            .collect::<Vec<_>>()
            .join("\n")
    };

    let mut v = String::new();
    let _ = writeln!(
        v,
        "/// The version of the schema the generated types come from."
    );
    let _ = writeln!(v, "pub const SCHEMA_VERSION: &str = {latest_v:?};");
    let _ = writeln!(
        v,
        "/// The known versions of the `{record_name}` schema (from `avro/{descriptor}`)."
    );
    let _ = writeln!(
        v,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]"
    );
    let _ = writeln!(v, "pub enum SchemaVersion {{");
    for k in known {
        let _ = writeln!(
            v,
            "/// Version `{}` (`avro/{}`).\n{},",
            k.version,
            k.file,
            variant(&k.version)
        );
    }
    let _ = writeln!(v, "}}");
    let all: Vec<String> = known
        .iter()
        .map(|k| format!("Self::{}", variant(&k.version)))
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
        variant(latest_v)
    );
    let _ = writeln!(
        v,
        "/// The version string, e.g. `\"{latest_v}\"`.\npub const fn as_str(self) -> &'static str {{ match self {{ {} }} }}",
        arms(&|k| format!("{:?}", k.version))
    );
    let parse_arms: Vec<String> = known
        .iter()
        .map(|k| format!("{:?} => Some(Self::{}),", k.version, variant(&k.version)))
        .collect();
    let _ = writeln!(
        v,
        "/// The version for a version string.\npub fn parse(s: &str) -> Option<SchemaVersion> {{ match s {{ {} _ => None }} }}",
        parse_arms.join("\n")
    );
    let include_dir = family.include_dir;
    let _ = writeln!(
        v,
        "/// The raw `.avsc` text of this version (register this text, never a re-serialization).\npub const fn schema_json(self) -> &'static str {{ match self {{ {} }} }}",
        arms(&|k| format!(
            "include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"{include_dir}/{}\"))",
            k.file
        ))
    );
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
    let mut fp_seen = BTreeSet::new();
    let fp_arms: Vec<String> = canon
        .iter()
        .rev()
        .filter(|k| fp_seen.insert(k.2))
        .map(|k| format!("{:#018x} => Some(Self::{}),", k.2, variant(k.0)))
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
    let dispatch = |f: &dyn Fn(&str) -> String| -> String {
        known
            .iter()
            .map(|k| {
                format!(
                    "SchemaVersion::{} => {},",
                    variant(&k.version),
                    f(&version_suffix(&k.version))
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let _ = writeln!(v, "impl {root} {{");
    let _ = writeln!(
        v,
        "pub(crate) fn avro_decode_as(r: &mut {rt}::Reader<'_>, version: SchemaVersion) -> Result<Self, {rt}::DecodeError> {{ match version {{ {} }} }}",
        dispatch(&|sfx| format!("Self::avro_decode_{sfx}(r)"))
    );
    let _ = writeln!(
        v,
        "pub(crate) fn avro_encode_as(&self, out: &mut Vec<u8>, version: SchemaVersion) -> Result<(), {rt}::EncodeError> {{ match version {{ {} }} }}",
        dispatch(&|sfx| format!("self.avro_encode_{sfx}(out)"))
    );
    let _ = writeln!(v, "}}");
    Ok(v)
}
