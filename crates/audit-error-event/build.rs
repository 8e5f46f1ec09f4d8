//! Generates the Rust types and codecs of jEAP's `MessageProcessingFailedEvent` and its key
//! `MessageProcessingFailedMessageKey` from the vendored schemas in `avro/` (one family each,
//! described by `avro/<Record>.family.json`) with `audit_codegen::generate_family`.
//! Output: `$OUT_DIR/event.rs` and `$OUT_DIR/key.rs`.

#![allow(clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use audit_codegen::{Error, Family, Options};

fn main() {
    if let Err(e) = run() {
        panic!("audit-error-event build script: {e}");
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
    println!("cargo:rerun-if-changed=build.rs");
    let opts = Options {
        // `bytes` fields render through audit-schema's lossless JSON form ({"json"|"text"|"base64": ..})
        bytes_with: Some("audit_schema::json::bytes".into()),
        runtime_path: "crate::rt".into(),
        ..Options::default()
    };
    for (descriptor, out) in [
        ("MessageProcessingFailedEvent.family.json", "event.rs"),
        ("MessageProcessingFailedMessageKey.family.json", "key.rs"),
    ] {
        generate(&avro, descriptor, &opts, &out_dir.join(out))?;
    }
    Ok(())
}

fn generate(avro: &Path, descriptor: &str, opts: &Options, out: &Path) -> Result<(), String> {
    let family = Family {
        dir: avro,
        descriptor,
        include_dir: "/../../avro",
    };
    let generated = match audit_codegen::generate_family(&family, opts) {
        Ok(generated) => generated,
        Err(Error::Syntax { message, code }) => {
            let broken = out.with_extension("broken.rs");
            let _ = std::fs::write(&broken, code);
            return Err(format!(
                "generated code does not parse ({message}), see {}",
                broken.display()
            ));
        }
        Err(e) => return Err(format!("{descriptor}: {e}")),
    };
    for input in &generated.inputs {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    std::fs::write(out, generated.code).map_err(|e| e.to_string())
}
