//! Emission of the Rust types.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::model::{Model, Schema, field_ident, variant_ident};
use crate::{Error, lit};
use audit_avro_model::Prim;

fn doc_attr(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "#[doc = {}]", lit(&format!(" {}", line.trim())));
    }
}

pub(crate) fn emit(m: &Model<'_>, out: &mut String) -> Result<(), Error> {
    for item in &m.items {
        match item {
            Ok(full) => {
                let s = m
                    .doc
                    .defs
                    .get(full)
                    .ok_or_else(|| Error::UnknownName(full.clone()))?;
                match s {
                    Schema::Record(_) => record(m, s, out)?,
                    Schema::Enum(_) => enumeration(m, s, out)?,
                    _ => {}
                }
            }
            Err(u) => union(m, *u, out)?,
        }
    }
    Ok(())
}

fn derives(eq: bool) -> &'static str {
    if eq {
        "#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]"
    } else {
        "#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]"
    }
}

fn record(m: &Model<'_>, s: &Schema, out: &mut String) -> Result<(), Error> {
    let Schema::Record(r) = s else {
        return Ok(());
    };
    let name = m.named_rust(s)?;
    let full = r.name.fullname();
    match &r.doc {
        Some(d) => doc_attr(out, d),
        None => doc_attr(out, &format!("Avro record `{full}`.")),
    }
    let eq = !m.has_float(s, &mut BTreeSet::new());
    let _ = writeln!(out, "{}", derives(eq));
    let _ = writeln!(out, "pub struct {name} {{");
    for f in &r.fields {
        match &f.doc {
            Some(d) => doc_attr(out, d),
            None => doc_attr(out, &format!("Avro field `{}`.", f.name)),
        }
        let id = field_ident(&f.name);
        if id.trim_start_matches("r#") != f.name {
            let _ = writeln!(out, "#[serde(rename = {})]", lit(&f.name));
        }
        if let (Schema::Prim(Prim::Bytes), Some(with)) = (&f.schema, &m.opts.bytes_with) {
            let _ = writeln!(out, "#[serde(with = {})]", lit(with));
        }
        let _ = writeln!(out, "pub {id}: {},", m.rust_type(&f.schema)?);
    }
    let _ = writeln!(out, "}}");
    Ok(())
}

fn enumeration(m: &Model<'_>, s: &Schema, out: &mut String) -> Result<(), Error> {
    let Schema::Enum(e) = s else {
        return Ok(());
    };
    let name = m.named_rust(s)?;
    let full = e.name.fullname();
    match &e.doc {
        Some(d) => doc_attr(out, d),
        None => doc_attr(out, &format!("Avro enum `{full}`.")),
    }
    if e.default.is_some() {
        let _ = writeln!(
            out,
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]"
        );
    } else {
        let _ = writeln!(
            out,
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]"
        );
    }
    let _ = writeln!(out, "pub enum {name} {{");
    for sym in &e.symbols {
        doc_attr(out, &format!("Symbol `{sym}`."));
        let v = variant_ident(sym);
        if v.trim_start_matches("r#") != sym {
            let _ = writeln!(out, "#[serde(rename = {})]", lit(sym));
        }
        if e.default.as_deref() == Some(sym.as_str()) {
            let _ = writeln!(out, "#[default]");
        }
        let _ = writeln!(out, "{v},");
    }
    let _ = writeln!(out, "}}");

    let _ = writeln!(out, "impl {name} {{");
    doc_attr(out, "The Avro symbols, in schema order.");
    let syms: Vec<String> = e.symbols.iter().map(|s| lit(s)).collect();
    let _ = writeln!(
        out,
        "pub const SYMBOLS: &'static [&'static str] = &[{}];",
        syms.join(", ")
    );
    doc_attr(out, "The Avro symbol of this value.");
    let _ = writeln!(out, "pub fn as_str(&self) -> &'static str {{ match self {{");
    for sym in &e.symbols {
        let _ = writeln!(out, "Self::{} => {},", variant_ident(sym), lit(sym));
    }
    let _ = writeln!(out, "}} }}");
    doc_attr(
        out,
        "The value of an Avro symbol, `None` for an unknown symbol.",
    );
    let _ = writeln!(
        out,
        "pub fn from_symbol(symbol: &str) -> Option<Self> {{ match symbol {{"
    );
    for sym in &e.symbols {
        let _ = writeln!(out, "{} => Some(Self::{}),", lit(sym), variant_ident(sym));
    }
    let _ = writeln!(out, "_ => None, }} }}");
    let _ = writeln!(out, "}}");
    let _ = writeln!(
        out,
        "impl std::fmt::Display for {name} {{ fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.write_str(self.as_str()) }} }}"
    );
    Ok(())
}

fn union(m: &Model<'_>, u: usize, out: &mut String) -> Result<(), Error> {
    let Some(def) = m.unions.get(u) else {
        return Ok(());
    };
    doc_attr(out, &format!("Avro union `[{}]`.", def.key.join(", ")));
    let eq = !def
        .variants
        .iter()
        .any(|(_, s)| m.has_float(s, &mut BTreeSet::new()));
    let _ = writeln!(out, "{}", derives(eq));
    let _ = writeln!(out, "pub enum {} {{", def.rust_name);
    for ((v, s), key) in def.variants.iter().zip(&def.key) {
        doc_attr(out, &format!("Branch `{key}`."));
        if let (Schema::Prim(Prim::Bytes), Some(with)) = (s, &m.opts.bytes_with) {
            let _ = writeln!(out, "#[serde(with = {})]", lit(with));
        }
        let _ = writeln!(out, "{v}({}),", m.rust_type(s)?);
    }
    let _ = writeln!(out, "}}");
    Ok(())
}
