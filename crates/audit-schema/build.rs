//! Generates the Rust types and codecs of `CreateAuditRecordCommand` from `avro/` (the newest
//! version is the reader; every version in the descriptor is a known writer) and the
//! `SchemaVersion` enum, with `audit_codegen::generate_family`. Output: `$OUT_DIR/generated.rs`.

#![allow(clippy::panic, missing_docs)]

use std::path::PathBuf;

use audit_codegen::{Error, Family, Options};

const NS: &str = "ch.admin.bit.jeap.audit.record.create";

fn main() {
    if let Err(e) = run() {
        panic!("audit-schema build script: {e}");
    }
}

fn run() -> Result<(), String> {
    let env = |k: &str| {
        std::env::var(k)
            .map(PathBuf::from)
            .map_err(|e| format!("{k}: {e}"))
    };
    let (manifest, out_dir) = (env("CARGO_MANIFEST_DIR")?, env("OUT_DIR")?);
    let avro = manifest.join("../../avro");
    println!("cargo:rerun-if-changed={}", avro.display());
    println!("cargo:rerun-if-changed=build.rs");
    let union = |branches: &[&str], name: &str| {
        let full = branches.iter().map(|b| format!("{NS}.{b}")).collect();
        (full, name.to_owned())
    };
    let opts = Options {
        union_names: vec![
            union(&["AuditUser", "AuditSystemComponent"], "AuditTrigger"),
            union(
                &[
                    "AuditObjectDataValue",
                    "AuditObjectDataJSON",
                    "AuditObjectDataS3",
                ],
                "AuditObjectData",
            ),
        ],
        bytes_with: Some("crate::json::bytes".into()),
        runtime_path: "crate::rt".into(),
        views: true,
        // strings of up to 24 bytes (most of a command's) live inline: decoding a typical
        // command allocates a handful of times instead of once per string
        string_type: "compact_str::CompactString".into(),
    };
    let family = Family {
        dir: &avro,
        descriptor: "CreateAuditRecordCommand.descriptor.json",
        include_dir: "/../../avro",
    };
    let generated = match audit_codegen::generate_family(&family, &opts) {
        Ok(generated) => generated,
        Err(Error::Syntax { message, code }) => {
            let broken = out_dir.join("generated_broken.rs");
            let _ = std::fs::write(&broken, code);
            return Err(format!(
                "generated code does not parse ({message}), see {}",
                broken.display()
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    for input in &generated.inputs {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    std::fs::write(out_dir.join("generated.rs"), generated.code).map_err(|e| e.to_string())
}
