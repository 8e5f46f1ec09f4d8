//! Zero-copy view types (`<Name>Ref<'a>`): strings and bytes borrow from the datum, so a
//! decode allocates only for arrays and maps. Generated for the types that borrow anything;
//! the others are used as they are.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::Error;
use crate::codec::{Vars, dec_v};
use crate::model::{Model, Schema, Shape, field_ident};
use audit_avro_model::{LogicalType, Prim};

pub(crate) fn emit(m: &Model<'_>, out: &mut String) -> Result<(), Error> {
    let rt = &m.opts.runtime_path;
    for item in &m.items {
        match item {
            Ok(full) => {
                let Some(s @ Schema::Record(r)) = m.doc.defs.get(full) else {
                    continue;
                };
                if !m.borrows(s) {
                    continue;
                }
                let name = m.named_rust(s)?;
                let eq = if m.has_float(s, &mut BTreeSet::new()) {
                    ""
                } else {
                    ", Eq"
                };
                let _ = writeln!(
                    out,
                    "#[doc = \" Zero-copy view of [`{name}`]: strings and bytes borrow from the datum.\"]"
                );
                let _ = writeln!(out, "#[derive(Debug, Clone, PartialEq{eq})]");
                let _ = writeln!(out, "pub struct {name}Ref<'a> {{");
                for f in &r.fields {
                    let _ = writeln!(out, "#[doc = \" Avro field `{}`.\"]", f.name);
                    let _ = writeln!(
                        out,
                        "pub {}: {},",
                        field_ident(&f.name),
                        m.rust_type_v(&f.schema, true)?
                    );
                }
                let _ = writeln!(out, "}}");
                let vars = Vars::default();
                // The root's view has a single caller (the crate's decode entry point): inlined
                // there, it is built in the caller's result instead of being returned and copied
                // (a memcpy of the whole view, ~10 % of a minimal decode). Left to the `#[inline]`
                // hint, LLVM stopped inlining it after unrelated changes elsewhere in the crate.
                let inline = if name == m.named_rust(&m.doc.root)? {
                    "#[inline(always)]"
                } else {
                    "#[inline]"
                };
                let _ = writeln!(out, "impl<'a> {name}Ref<'a> {{");
                let _ = writeln!(
                    out,
                    "{inline} pub(crate) fn avro_view(r: &mut {rt}::Reader<'a>) -> Result<Self, {rt}::DecodeError> {{"
                );
                let mut inits = Vec::new();
                for f in &r.fields {
                    let w = format!(".field({})", crate::lit(&f.name));
                    inits.push(format!(
                        "{}: {}",
                        field_ident(&f.name),
                        dec_v(m, &f.schema, &w, &vars, true)?
                    ));
                }
                let _ = writeln!(out, "Ok(Self {{ {} }})", inits.join(", "));
                let _ = writeln!(out, "}}");
                let _ = writeln!(
                    out,
                    "#[doc = \" Copies the view into the owned [`{name}`].\"]"
                );
                let _ = writeln!(out, "pub fn into_owned(self) -> {name} {{ {name} {{");
                for f in &r.fields {
                    let id = field_ident(&f.name);
                    let _ = writeln!(
                        out,
                        "{id}: {},",
                        own(m, &f.schema, &format!("self.{id}"), &vars)?
                    );
                }
                let _ = writeln!(out, "}} }}");
                let _ = writeln!(out, "}}");
            }
            Err(u) => {
                let Some(def) = m.unions.get(*u) else {
                    continue;
                };
                if !def.variants.iter().any(|(_, b)| m.borrows(b)) {
                    continue;
                }
                let name = &def.rust_name;
                let eq = if def
                    .variants
                    .iter()
                    .any(|(_, b)| m.has_float(b, &mut BTreeSet::new()))
                {
                    ""
                } else {
                    ", Eq"
                };
                let _ = writeln!(
                    out,
                    "#[doc = \" Zero-copy view of [`{name}`].\"]\n#[derive(Debug, Clone, PartialEq{eq})]\npub enum {name}Ref<'a> {{"
                );
                for (v, b) in &def.variants {
                    let _ = writeln!(
                        out,
                        "#[doc = \" View of [`{name}::{v}`].\"]\n{v}({}),",
                        m.rust_type_v(b, true)?
                    );
                }
                let _ = writeln!(out, "}}");
                let vars = Vars::default();
                let _ = writeln!(
                    out,
                    "impl<'a> {name}Ref<'a> {{ #[doc = \" Copies the view into the owned [`{name}`].\"]\npub fn into_owned(self) -> {name} {{ match self {{"
                );
                for (v, b) in &def.variants {
                    let _ = writeln!(
                        out,
                        "Self::{v}(x) => {name}::{v}({}),",
                        own(m, b, "x", &vars)?
                    );
                }
                let _ = writeln!(out, "}} }} }}");
            }
        }
    }
    Ok(())
}

/// `|x| body` as a closure, or just the function path `f` when `body` is `f(x)` (clippy's
/// `redundant_closure`).
fn closure(x: &str, body: &str) -> String {
    match body.strip_suffix(&format!("({x})")) {
        Some(f)
            if !f.is_empty()
                && f.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == ':') =>
        {
            f.to_owned()
        }
        _ => format!("|{x}| {body}"),
    }
}

/// An expression turning the (moved) view value `e` of schema `s` into the owned value.
fn own(m: &Model<'_>, s: &Schema, e: &str, vars: &Vars) -> Result<String, Error> {
    if !m.borrows(s) {
        return Ok(e.to_owned());
    }
    Ok(match s {
        Schema::Prim(Prim::String) | Schema::Logical(LogicalType::Uuid) => m.own_str(e),
        Schema::Prim(Prim::Bytes) => format!("{e}.to_vec()"),
        Schema::Ref { .. } => own(m, m.doc.resolve(s)?, e, vars)?,
        Schema::Record(_) => format!("{e}.into_owned()"),
        Schema::Array(a) => {
            let x = vars.next("x");
            format!(
                "{e}.into_iter().map({}).collect()",
                closure(&x, &own(m, &a.items, &x, vars)?)
            )
        }
        Schema::Map(mp) => {
            let k = vars.next("k");
            let x = vars.next("x");
            format!(
                "{e}.into_iter().map(|({k}, {x})| ({}, {})).collect()",
                m.own_str(&k),
                own(m, &mp.types, &x, vars)?
            )
        }
        Schema::Union(u) => match m.shape(u)? {
            Shape::Option { inner, .. } => {
                let x = vars.next("x");
                format!("{e}.map({})", closure(&x, &own(m, &inner, &x, vars)?))
            }
            Shape::Enum { null_idx, .. } => {
                let x = vars.next("x");
                if null_idx.is_some() {
                    format!("{e}.map(|{x}| {x}.into_owned())")
                } else {
                    format!("{e}.into_owned()")
                }
            }
        },
        _ => e.to_owned(),
    })
}
