//! Emission of the direct (same-schema) binary encoders and decoders.

use std::cell::Cell;
use std::fmt::Write as _;

use crate::model::{Model, Schema, Shape, field_ident, min_size, variant_ident};
use crate::{Error, index_stmt, lit};
use audit_avro_model::{LogicalType, Prim};

/// Fresh local variable names.
#[derive(Default)]
pub(crate) struct Vars(Cell<usize>);

impl Vars {
    pub fn next(&self, prefix: &str) -> String {
        let n = self.0.get();
        self.0.set(n + 1);
        format!("{prefix}{n}")
    }
}

pub(crate) fn emit(m: &Model<'_>, out: &mut String) -> Result<(), Error> {
    let rt = &m.opts.runtime_path;
    for item in &m.items {
        let Ok(full) = item else { continue };
        let Some(s) = m.doc.defs.get(full) else {
            continue;
        };
        let name = m.named_rust(s)?;
        let vars = Vars::default();
        match s {
            Schema::Record(r) => {
                let _ = writeln!(out, "impl {name} {{");
                // encoder
                let _ = writeln!(
                    out,
                    "#[inline] pub(crate) fn avro_encode(&self, out: &mut Vec<u8>) {{"
                );
                if r.fields.is_empty() {
                    let _ = writeln!(out, "let _ = out;");
                }
                for f in &r.fields {
                    let v = vars.next("v");
                    let _ = writeln!(
                        out,
                        "{{ let {v} = &self.{}; {} }}",
                        field_ident(&f.name),
                        enc(m, &f.schema, &v, &vars)?
                    );
                }
                let _ = writeln!(out, "}}");
                // decoder: into a value built empty first, every field decoded in place (no
                // moves of decoded structs, which cost store-forwarding stalls)
                let mut empties = Vec::new();
                for f in &r.fields {
                    empties.push(format!(
                        "{}: {}",
                        field_ident(&f.name),
                        empty(m, &f.schema)?
                    ));
                }
                // a constant: copied from read-only data, never staged on the stack
                let _ = writeln!(
                    out,
                    "pub(crate) const AVRO_EMPTY: Self = Self {{ {} }};",
                    empties.join(", ")
                );
                let _ = writeln!(
                    out,
                    "#[inline] pub(crate) fn avro_decode(r: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{ let mut v = Self::AVRO_EMPTY; v.avro_decode_into(r)?; Ok(v) }}"
                );
                let _ = writeln!(
                    out,
                    "#[inline] pub(crate) fn avro_decode_into(&mut self, r: &mut {rt}::Reader<'_>) -> Result<(), {rt}::DecodeError> {{"
                );
                if r.fields.is_empty() {
                    let _ = writeln!(out, "let _ = r;");
                }
                for f in &r.fields {
                    let w = format!(".field({})", lit(&f.name));
                    let place = Place::field(&field_ident(&f.name));
                    let _ = writeln!(out, "{}", dec_into(m, &f.schema, &place, &w, &vars)?);
                }
                let _ = writeln!(out, "Ok(())");
                let _ = writeln!(out, "}}");
                let _ = writeln!(out, "}}");
            }
            Schema::Enum(e) => {
                let _ = writeln!(out, "impl {name} {{");
                let _ = writeln!(
                    out,
                    "#[inline] pub(crate) fn avro_encode(&self, out: &mut Vec<u8>) {{ match self {{"
                );
                for (i, sym) in e.symbols.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "Self::{} => {{ {} }}",
                        variant_ident(sym),
                        index_stmt(rt, i)
                    );
                }
                let _ = writeln!(out, "}} }}");
                let _ = writeln!(
                    out,
                    "#[inline] pub(crate) fn avro_decode(r: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{"
                );
                let n = e.symbols.len();
                if n == 1 {
                    let sym = e
                        .symbols
                        .first()
                        .map(|s| variant_ident(s))
                        .unwrap_or_default();
                    let _ = writeln!(out, "r.read_enum_index(1).map(|_| Self::{sym})");
                } else {
                    let _ = writeln!(out, "Ok(match r.read_enum_index({n})? {{");
                    for (i, sym) in e.symbols.iter().enumerate() {
                        let pat = if i + 1 == n {
                            "_".to_owned()
                        } else {
                            i.to_string()
                        };
                        let _ = writeln!(out, "{pat} => Self::{},", variant_ident(sym));
                    }
                    let _ = writeln!(out, "}})");
                }
                let _ = writeln!(out, "}}");
                let _ = writeln!(out, "}}");
            }
            _ => {}
        }
    }
    Ok(())
}

/// Statements appending the value behind the reference `v` (type `&T` of schema `s`).
pub(crate) fn enc(m: &Model<'_>, s: &Schema, v: &str, vars: &Vars) -> Result<String, Error> {
    let rt = &m.opts.runtime_path;
    Ok(match s {
        Schema::Prim(Prim::Null) if v.is_empty() => String::new(),
        Schema::Prim(Prim::Null) => format!("let _ = {v};"),
        Schema::Prim(Prim::Boolean) => format!("out.push(u8::from(*{v}));"),
        n if n.plain() == Some(Prim::Int) => format!("{rt}::write_int(out, *{v});"),
        n if n.plain() == Some(Prim::Long) => {
            format!("{rt}::write_long(out, *{v});")
        }
        Schema::Logical(LogicalType::TimestampMillis) => {
            format!("{rt}::write_timestamp_millis(out, {v});")
        }
        Schema::Logical(LogicalType::TimestampMicros) => {
            format!("{rt}::write_timestamp_micros(out, {v});")
        }
        Schema::Prim(Prim::Float | Prim::Double) => {
            format!("out.extend_from_slice(&{v}.to_le_bytes());")
        }
        Schema::Prim(Prim::Bytes) => format!("{rt}::write_bytes(out, {v});"),
        Schema::Prim(Prim::String) | Schema::Logical(LogicalType::Uuid) => {
            format!("{rt}::write_str(out, {v});")
        }
        Schema::Fixed(_) => format!("out.extend_from_slice({v});"),
        Schema::Record(_) | Schema::Enum(_) | Schema::Ref { .. } => {
            format!("{v}.avro_encode(out);")
        }
        Schema::Array(a) => {
            let item = vars.next("v");
            format!(
                "if !{v}.is_empty() {{ {rt}::write_len(out, {v}.len()); for {item} in {v}.iter() {{ {} }} }} out.push(0);",
                enc(m, &a.items, &item, vars)?
            )
        }
        Schema::Map(mp) => {
            let k = vars.next("k");
            let item = vars.next("v");
            format!(
                "if !{v}.is_empty() {{ {rt}::write_len(out, {v}.len()); for ({k}, {item}) in {v}.iter() {{ {rt}::write_str(out, {k}); {} }} }} out.push(0);",
                enc(m, &mp.types, &item, vars)?
            )
        }
        Schema::Union(u) => {
            let inner = vars.next("v");
            match m.shape(u)? {
                Shape::Option {
                    null_idx,
                    some_idx,
                    inner: is,
                } => format!(
                    "match {v} {{ None => {{ {} }} Some({inner}) => {{ {} {} }} }}",
                    index_stmt(rt, null_idx),
                    index_stmt(rt, some_idx),
                    enc(m, &is, &inner, vars)?
                ),
                Shape::Enum {
                    null_idx,
                    union,
                    branch_idx,
                } => {
                    let def = m
                        .unions
                        .get(union)
                        .ok_or_else(|| Error::Unsupported("union".into()))?;
                    let mut arms = String::new();
                    if let Some(n) = null_idx {
                        let _ = write!(arms, "None => {{ {} }}", index_stmt(rt, n));
                    }
                    for ((vn, bs), bi) in def.variants.iter().zip(&branch_idx) {
                        let pat = format!("{}::{vn}({inner})", def.rust_name);
                        let pat = if null_idx.is_some() {
                            format!("Some({pat})")
                        } else {
                            pat
                        };
                        let _ = write!(
                            arms,
                            "{pat} => {{ {} {} }}",
                            index_stmt(rt, *bi),
                            enc(m, bs, &inner, vars)?
                        );
                    }
                    format!("match {v} {{ {arms} }}")
                }
            }
        }
        other => return Err(Error::Unsupported(format!("{other:?}"))),
    })
}

/// Where [`dec_into`] decodes to: a field of `self`, or a `&mut` binding.
pub(crate) struct Place {
    /// receiver of a method call (`self.f` / `x`)
    recv: String,
    /// target of an assignment (`self.f` / `*x`)
    lhs: String,
    /// a `&mut` to it (`&mut self.f` / `x`)
    mut_ref: String,
}

impl Place {
    fn field(ident: &str) -> Self {
        let p = format!("self.{ident}");
        Self {
            recv: p.clone(),
            lhs: p.clone(),
            mut_ref: format!("&mut {p}"),
        }
    }

    fn binding(var: &str) -> Self {
        Self {
            recv: var.to_owned(),
            lhs: format!("*{var}"),
            mut_ref: var.to_owned(),
        }
    }
}

/// True when decoding `s` in place saves moves: records, arrays and unions holding either.
fn in_place(m: &Model<'_>, s: &Schema) -> bool {
    match s {
        Schema::Record(_) | Schema::Array(_) => true,
        Schema::Ref { .. } => matches!(m.doc.resolve(s), Ok(Schema::Record(_))),
        Schema::Union(u) => u.variants().iter().any(|b| in_place(m, b)),
        _ => false,
    }
}

/// A constant expression of the "empty" value of `s` that a value is decoded into in place:
/// empty strings, bytes and collections, zeros, the epoch, `None`, the first enum symbol, the
/// first branch of a union without null. (A custom string type needs a `const fn const_new`.)
pub(crate) fn empty(m: &Model<'_>, s: &Schema) -> Result<String, Error> {
    Ok(match s {
        Schema::Prim(Prim::Null) => "()".into(),
        Schema::Prim(Prim::Boolean) => "false".into(),
        Schema::Prim(Prim::Float | Prim::Double) => "0.0".into(),
        Schema::Logical(LogicalType::TimestampMillis | LogicalType::TimestampMicros) => {
            "chrono::DateTime::<chrono::Utc>::UNIX_EPOCH".into()
        }
        Schema::Fixed(f) => format!("[0u8; {}]", f.size),
        Schema::Record(_) => format!("{}::AVRO_EMPTY", m.named_rust(s)?),
        Schema::Enum(e) => format!(
            "{}::{}",
            m.named_rust(s)?,
            e.symbols
                .first()
                .map(|x| variant_ident(x))
                .unwrap_or_default()
        ),
        Schema::Ref { .. } => empty(m, m.doc.resolve(s)?)?,
        Schema::Union(u) => match m.shape(u)? {
            Shape::Option { .. }
            | Shape::Enum {
                null_idx: Some(_), ..
            } => "None".into(),
            Shape::Enum { union, .. } => {
                let def = m
                    .unions
                    .get(union)
                    .ok_or_else(|| Error::Unsupported("union".into()))?;
                let (vn, bs) = def
                    .variants
                    .first()
                    .ok_or_else(|| Error::Unsupported("union without branches".into()))?;
                format!("{}::{vn}({})", m.union_path(union, false), empty(m, bs)?)
            }
        },
        n if matches!(n.plain(), Some(Prim::Int | Prim::Long)) => "0".into(),
        Schema::Prim(Prim::String) | Schema::Logical(LogicalType::Uuid) => match m.string_type() {
            "String" => "String::new()".into(),
            ty => format!("{ty}::const_new(\"\")"),
        },
        Schema::Map(_) => "std::collections::BTreeMap::new()".into(),
        // bytes, arrays
        _ => "Vec::new()".into(),
    })
}

/// Statements decoding one value of `s` from `r` into `place` (which holds [`empty`]'s value):
/// records, arrays and unions of them in place, everything else by assignment.
pub(crate) fn dec_into(
    m: &Model<'_>,
    s: &Schema,
    place: &Place,
    w: &str,
    vars: &Vars,
) -> Result<String, Error> {
    let me = |call: &str| format!("{call}.map_err(|e| e{w})?");
    if !in_place(m, s) {
        return Ok(format!("{} = {};", place.lhs, dec(m, s, w, vars)?));
    }
    Ok(match s {
        Schema::Record(_) | Schema::Ref { .. } => {
            format!("{};", me(&format!("{}.avro_decode_into(r)", place.recv)))
        }
        Schema::Array(a) => {
            let min = min_size(&m.doc, &a.items, &mut Vec::new());
            let acc = vars.next("a");
            let n = vars.next("n");
            let i = vars.next("i");
            let x = vars.next("x");
            let wi = format!(".index({i}){w}");
            format!(
                "{{ let {acc} = {}; loop {{ let {n} = {}; if {n} == 0 {{ break; }} {}; for _ in 0..{n} {{ let {i} = {acc}.len(); {acc}.push(const {{ {} }}); if let Some({x}) = {acc}.last_mut() {{ {} }} }} }} }}",
                place.mut_ref,
                me(&format!("r.read_block_count({min}, {acc}.len())")),
                me(&format!("r.reserve_items({acc}, {n})")),
                empty(m, &a.items)?,
                dec_into(m, &a.items, &Place::binding(&x), &wi, vars)?
            )
        }
        Schema::Union(u) => {
            let n = u.variants().len();
            let idx = me(&format!("r.read_union_index({n})"));
            let mut arms: Vec<(usize, String)> = Vec::new();
            match m.shape(u)? {
                Shape::Option {
                    null_idx,
                    some_idx,
                    inner,
                } => {
                    let x = vars.next("x");
                    arms.push((null_idx, format!("{{ {} = None; }}", place.lhs)));
                    arms.push((
                        some_idx,
                        format!(
                            "{{ let {x} = {}.insert(const {{ {} }}); {} }}",
                            place.recv,
                            empty(m, &inner)?,
                            dec_into(m, &inner, &Place::binding(&x), w, vars)?
                        ),
                    ));
                }
                Shape::Enum {
                    null_idx,
                    union,
                    branch_idx,
                } => {
                    let def = m
                        .unions
                        .get(union)
                        .ok_or_else(|| Error::Unsupported("union".into()))?;
                    if let Some(ni) = null_idx {
                        arms.push((ni, format!("{{ {} = None; }}", place.lhs)));
                    }
                    let path = m.union_path(union, false);
                    for ((vn, bs), bi) in def.variants.iter().zip(&branch_idx) {
                        let x = vars.next("x");
                        let (value, pat) = if null_idx.is_some() {
                            (
                                format!("Some({path}::{vn}({}))", empty(m, bs)?),
                                format!("Some({path}::{vn}({x}))"),
                            )
                        } else {
                            (
                                format!("{path}::{vn}({})", empty(m, bs)?),
                                format!("{path}::{vn}({x})"),
                            )
                        };
                        arms.push((
                            *bi,
                            format!(
                                "{{ {} = const {{ {value} }}; if let {pat} = &mut {} {{ {} }} }}",
                                place.lhs,
                                place.lhs,
                                dec_into(m, bs, &Place::binding(&x), w, vars)?
                            ),
                        ));
                    }
                }
            }
            format!("{};", match_arms(&idx, arms))
        }
        _ => format!("{} = {};", place.lhs, dec(m, s, w, vars)?),
    })
}

/// An expression decoding one value of `s` from `r`; errors get the suffix `w` (e.g.
/// `.field("x")`) appended.
pub(crate) fn dec(m: &Model<'_>, s: &Schema, w: &str, vars: &Vars) -> Result<String, Error> {
    dec_v(m, s, w, vars, false)
}

/// Like [`dec`]; with `view`, the expression builds the zero-copy view type.
pub(crate) fn dec_v(
    m: &Model<'_>,
    s: &Schema,
    w: &str,
    vars: &Vars,
    view: bool,
) -> Result<String, Error> {
    let dec = |m: &Model<'_>, s: &Schema, w: &str, vars: &Vars| dec_v(m, s, w, vars, view);
    let me = |call: &str| format!("{call}.map_err(|e| e{w})?");
    Ok(match s {
        Schema::Prim(Prim::Null) => "()".into(),
        Schema::Prim(Prim::Boolean) => me("r.read_boolean()"),
        n if n.plain() == Some(Prim::Int) => me("r.read_int()"),
        n if n.plain() == Some(Prim::Long) => me("r.read_long()"),
        Schema::Logical(LogicalType::TimestampMillis) => me("r.read_timestamp_millis()"),
        Schema::Logical(LogicalType::TimestampMicros) => me("r.read_timestamp_micros()"),
        Schema::Prim(Prim::Float) => me("r.read_float()"),
        Schema::Prim(Prim::Double) => me("r.read_double()"),
        Schema::Prim(Prim::Bytes) if view => me("r.read_bytes_ref()"),
        Schema::Prim(Prim::String) | Schema::Logical(LogicalType::Uuid) if view => {
            me("r.read_str()")
        }
        Schema::Prim(Prim::Bytes) => me("r.read_bytes()"),
        Schema::Prim(Prim::String) | Schema::Logical(LogicalType::Uuid) => {
            me(&m.read_string_call())
        }
        Schema::Fixed(f) => me(&format!("r.read_fixed::<{}>()", f.size)),
        Schema::Record(_) | Schema::Enum(_) | Schema::Ref { .. } => {
            if view && m.borrows(s) {
                me(&format!("{}Ref::avro_view(r)", m.rust_type(s)?))
            } else {
                me(&format!("{}::avro_decode(r)", m.rust_type(s)?))
            }
        }
        Schema::Array(a) => {
            let min = min_size(&m.doc, &a.items, &mut Vec::new());
            let acc = vars.next("a");
            let n = vars.next("n");
            let i = vars.next("i");
            let wi = format!(".index({i}){w}");
            format!(
                "{{ let mut {acc} = Vec::new(); loop {{ let {n} = {}; if {n} == 0 {{ break; }} {res}; for _ in 0..{n} {{ let {i} = {acc}.len(); {acc}.push({}); }} }} {acc} }}",
                me(&format!("r.read_block_count({min}, {acc}.len())")),
                dec(m, &a.items, &wi, vars)?,
                res = me(&format!("r.reserve_items(&mut {acc}, {n})")),
            )
        }
        Schema::Map(mp) => {
            let min = 1 + min_size(&m.doc, &mp.types, &mut Vec::new());
            let acc = vars.next("a");
            let n = vars.next("n");
            let k = vars.next("k");
            let val = vars.next("v");
            let wk = if view {
                format!(".key({k}){w}")
            } else {
                format!(".key(&{k}){w}")
            };
            format!(
                "{{ let mut {acc} = std::collections::BTreeMap::new(); loop {{ let {n} = {}; if {n} == 0 {{ break; }} for _ in 0..{n} {{ let {k} = {}; let {val} = {}; r.charge_entry({acc}.len(), &{k}, &{val}).map_err(|e| e{w})?; {acc}.insert({k}, {val}); }} }} {acc} }}",
                me(&format!("r.read_block_count({min}, {acc}.len())")),
                me(&if view {
                    "r.read_str()".to_owned()
                } else {
                    m.read_string_call()
                }),
                dec(m, &mp.types, &wk, vars)?
            )
        }
        Schema::Union(u) => {
            let n = u.variants().len();
            let idx = me(&format!("r.read_union_index({n})"));
            let mut arms: Vec<(usize, String)> = Vec::new();
            match m.shape(u)? {
                Shape::Option {
                    null_idx,
                    some_idx,
                    inner,
                } => {
                    arms.push((null_idx, "None".into()));
                    arms.push((some_idx, format!("Some({})", dec(m, &inner, w, vars)?)));
                }
                Shape::Enum {
                    null_idx,
                    union,
                    branch_idx,
                } => {
                    let def = m
                        .unions
                        .get(union)
                        .ok_or_else(|| Error::Unsupported("union".into()))?;
                    if let Some(ni) = null_idx {
                        arms.push((ni, "None".into()));
                    }
                    let path = m.union_path(union, view);
                    for ((vn, bs), bi) in def.variants.iter().zip(&branch_idx) {
                        let e = format!("{path}::{vn}({})", dec(m, bs, w, vars)?);
                        let e = if null_idx.is_some() {
                            format!("Some({e})")
                        } else {
                            e
                        };
                        arms.push((*bi, e));
                    }
                }
            }
            match_arms(&idx, arms)
        }
        other => return Err(Error::Unsupported(format!("{other:?}"))),
    })
}

/// `match <scrutinee> { 0 => a, 1 => b, _ => last }` over arms sorted by index; a single arm
/// becomes a block that evaluates the scrutinee for its errors.
pub(crate) fn match_arms(scrutinee: &str, mut arms: Vec<(usize, String)>) -> String {
    arms.sort_by_key(|(i, _)| *i);
    let n = arms.len();
    if n == 1 {
        let e = arms.pop().map(|(_, e)| e).unwrap_or_default();
        return format!("{{ let _ = {scrutinee}; {e} }}");
    }
    let mut s = format!("match {scrutinee} {{");
    for (k, (i, e)) in arms.into_iter().enumerate() {
        if k + 1 == n {
            let _ = write!(s, "_ => {e},");
        } else {
            let _ = write!(s, "{i} => {e},");
        }
    }
    s.push('}');
    s
}
