//! Rust code generator for Avro schemas (internal to the audit workspace).
//!
//! [`generate`] turns the newest (reader) schema plus the known older writer schemas into one
//! Rust source file with
//! - the types (records -> structs, enums -> enums with symbol helpers, one Rust enum per
//!   distinct union of several branches, `["null", T]` -> `Option<T>`),
//! - per type a binary encoder (`avro_encode`, appends to a `Vec<u8>`) and a decoder
//!   (`avro_decode`, over the runtime's bounded `Reader`),
//! - optionally ([`Options::views`]) zero-copy view types (`<Name>Ref<'a>`) whose decoder
//!   (`avro_view`) borrows strings and bytes from the datum, with `into_owned`,
//! - per writer version a resolving decoder (`avro_decode_<suffix>`, writer layout -> reader
//!   types, following the Avro resolution rules) and an encoder into the writer's layout
//!   (`avro_encode_<suffix>`, fails for values the writer schema cannot represent).
//!
//! The generated code calls the runtime crate `audit-avro-runtime` (bounded reader, zig-zag
//! varints, error types) at [`Options::runtime_path`]: the crate that includes the code depends
//! on it and names it there (`use audit_avro_runtime as rt;` for the default `crate::rt`).
//!
//! [`generate_family`] does the same for the versions a descriptor file lists and adds a
//! `SchemaVersion` enum (schema texts, canonical forms, fingerprints) and per-version dispatch.
//!
//! ```
//! let schema = r#"{"type": "record", "name": "Ping", "fields": [{"name": "type", "type": "string"}]}"#;
//! let code = audit_codegen::generate(schema, &[], &audit_codegen::Options::default())?;
//! assert!(code.contains("pub r#type: String"));
//! # Ok::<(), audit_codegen::Error>(())
//! ```

mod codec;
mod family;
mod model;
mod resolve;
mod types;
mod views;

pub use family::{Family, Generated, generate_family};
use model::{Doc, Model};

/// Generator options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rust names of unions, keyed by the full names (or primitive type names) of the union's
    /// non-null branches in order, e.g. `["ns.AuditUser", "ns.AuditSystemComponent"]`.
    pub union_names: Vec<(Vec<String>, String)>,
    /// Path of a serde `with`-module for `bytes` fields (e.g. `crate::json::bytes`).
    pub bytes_with: Option<String>,
    /// Path of the runtime crate `audit-avro-runtime` as seen from the generated code (default
    /// `crate::rt`).
    pub runtime_path: String,
    /// Also generate zero-copy view types (`<Name>Ref<'a>` with `avro_view` and `into_owned`)
    /// for the reader schema's types that contain strings, bytes or maps.
    pub views: bool,
    /// Rust type of Avro `string` values (and map keys) in the owned types: `String` (the
    /// default) or a path to another owned string type that derefs to `str`, implements
    /// `From<&str>`, has a `const fn const_new(&'static str)` (the empty value decoders start
    /// from) and, like `String`, `Clone`, `Debug`, `Eq`, `Ord`, `Hash` and serde's traits
    /// (e.g. `compact_str::CompactString`, which keeps strings of up to 24 bytes inline).
    pub string_type: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            union_names: Vec::new(),
            bytes_with: None,
            runtime_path: "crate::rt".into(),
            views: false,
            string_type: "String".into(),
        }
    }
}

/// A known writer schema version.
#[derive(Debug, Clone, Copy)]
pub struct WriterVersion<'a> {
    /// Version string, e.g. `1.0.1`; the generated functions get [`version_suffix`] of it.
    pub version: &'a str,
    /// The schema text.
    pub schema_json: &'a str,
}

/// Generator failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A schema does not parse.
    #[error("schema does not parse: {0}")]
    Parse(#[source] audit_avro_model::SchemaError),
    /// A schema construct the generator does not support.
    #[error("unsupported schema construct: {0}")]
    Unsupported(String),
    /// A reference to a name that is not defined.
    #[error("unknown named type {0}")]
    UnknownName(String),
    /// Two generated Rust names clash.
    #[error("generated Rust names clash: {0}")]
    NameClash(String),
    /// A default value does not fit its field's schema.
    #[error("bad default value at {path}: {reason}")]
    BadDefault {
        /// where
        path: String,
        /// why
        reason: String,
    },
    /// A writer version cannot be resolved against the reader schema.
    #[error("writer version {version} is incompatible with the reader schema at {path}: {reason}")]
    Incompatible {
        /// the writer version
        version: String,
        /// where
        path: String,
        /// why
        reason: String,
    },
    /// A schema family's descriptor is malformed (see [`generate_family`]).
    #[error("schema descriptor: {0}")]
    Descriptor(String),
    /// A descriptor or schema file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// the file
        path: std::path::PathBuf,
        /// the I/O error
        #[source]
        source: std::io::Error,
    },
    /// The generated code does not parse as Rust (a generator bug).
    #[error("generated code does not parse: {message}")]
    Syntax {
        /// the parser's message
        message: String,
        /// the unformatted code
        code: String,
    },
}

/// The suffix of the generated functions for a writer version: `1.0.1` -> `v1_0_1`.
pub fn version_suffix(version: &str) -> String {
    let mut s = String::from("v");
    s.extend(
        version
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
    );
    s
}

/// Generates the Rust source for `reader_json` (types and codecs) and the resolving codecs for
/// each of `writers`. The output is deterministic and formatted with prettyplease.
pub fn generate(
    reader_json: &str,
    writers: &[WriterVersion<'_>],
    opts: &Options,
) -> Result<String, Error> {
    let doc = Doc::parse(reader_json)?;
    let model = Model::new(doc, opts)?;
    if !matches!(model.doc.root, model::Schema::Record(_)) {
        return Err(Error::Unsupported(
            "the top-level schema must be a record".into(),
        ));
    }
    let mut code = String::new();
    types::emit(&model, &mut code)?;
    codec::emit(&model, &mut code)?;
    if opts.views {
        views::emit(&model, &mut code)?;
    }
    // Writers with the same Parsing Canonical Form have the same binary layout and resolve the
    // same way (writer defaults and logical types play no part in resolution), so a later one
    // delegates to the first instead of getting a second copy of the resolving code (1.0.0 and
    // 1.0.1 differ only in an enum default).
    let mut emitted: Vec<(String, &str)> = Vec::new();
    for w in writers {
        let wdoc = Doc::parse(w.schema_json)?;
        let key = wdoc.layout_key();
        match emitted.iter().find(|(k, _)| *k == key) {
            Some((_, first)) => emit_delegation(&model, w.version, first, &mut code)?,
            None => {
                resolve::emit(&model, &wdoc, w.version, &mut code)?;
                emitted.push((key, w.version));
            }
        }
    }
    let file = syn::parse_file(&code).map_err(|e| Error::Syntax {
        message: e.to_string(),
        code: code.clone(),
    })?;
    let header = "// @generated by audit-codegen. Do not edit.\n";
    Ok(format!("{header}{}", prettyplease::unparse(&file)))
}

/// The resolving codec of writer `version`, whose schema has the same canonical form as the
/// already generated writer `first`: the root's functions delegate to `first`'s.
fn emit_delegation(
    m: &Model<'_>,
    version: &str,
    first: &str,
    out: &mut String,
) -> Result<(), Error> {
    use std::fmt::Write as _;
    let root = m.named_rust(&m.doc.root)?;
    let rt = &m.opts.runtime_path;
    let (sfx, to) = (version_suffix(version), version_suffix(first));
    let _ = writeln!(
        out,
        "impl {root} {{ #[inline] pub(crate) fn avro_decode_{sfx}(r: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{ Self::avro_decode_{to}(r) }}
         #[inline] pub(crate) fn avro_encode_{sfx}(&self, out: &mut Vec<u8>) -> Result<(), {rt}::EncodeError> {{ self.avro_encode_{to}(out) }} }}"
    );
    Ok(())
}

/// A Rust string literal for `s`.
pub(crate) fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// The statement that appends the union/enum index `i`.
pub(crate) fn index_stmt(rt: &str, i: usize) -> String {
    if i < 64 {
        format!("out.push({}u8);", i * 2)
    } else {
        format!("{rt}::write_long(out, {i});")
    }
}

/// Formats Rust source with prettyplease (for build scripts that add their own items).
pub fn format_source(code: &str) -> Result<String, Error> {
    let file = syn::parse_file(code).map_err(|e| Error::Syntax {
        message: e.to_string(),
        code: code.to_owned(),
    })?;
    Ok(prettyplease::unparse(&file))
}
