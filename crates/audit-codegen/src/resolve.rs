//! Emission of the resolving decoders (writer layout -> reader types) and the writer-layout
//! encoders (reader types -> writer layout), one set per known writer version.
//!
//! Where a writer type has the same layout as the reader type, the direct codec is reused;
//! only types whose layout differs (and the types containing them) get their own functions.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use audit_avro_model::zigzag::write_long;
use audit_avro_model::{LogicalType, Prim, promotion};
use serde_json::Value as Json;

use crate::codec::{self, Vars, match_arms};
use crate::model::{
    Doc, Model, Phys, RecordField, Schema, Shape, UnionSchema, branch_key, field_ident, min_size,
    phys, prim, variant_ident,
};
use crate::{Error, index_stmt, lit, version_suffix};

pub(crate) fn emit(m: &Model<'_>, w: &Doc, version: &str, out: &mut String) -> Result<(), Error> {
    let mut g = Gen {
        m,
        w,
        version,
        sfx: version_suffix(version),
        vars: Vars::default(),
        dec_queue: Vec::new(),
        dec_done: BTreeSet::new(),
        enc_queue: Vec::new(),
        enc_done: BTreeSet::new(),
    };
    let rt = &m.opts.runtime_path;
    let sfx = g.sfx.clone();
    let root = m.named_rust(&m.doc.root)?;
    let rfull = crate::model::full_name(&m.doc.root).unwrap_or_default();
    let wfull = crate::model::full_name(&w.root).unwrap_or_default();
    let (Schema::Record(rr), Schema::Record(wr)) = (&m.doc.root, &w.root) else {
        return Err(g.incompatible("<root>", "the top-level schemas must be records"));
    };
    if rr.name.name() != wr.name.name() {
        return Err(g.incompatible("<root>", "the top-level record names differ"));
    }
    if g.same(&w.root, &m.doc.root, &mut BTreeSet::new())? {
        let _ = writeln!(
            out,
            "impl {root} {{ #[inline] pub(crate) fn avro_decode_{sfx}(r: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{ Self::avro_decode(r) }}"
        );
        let _ = writeln!(
            out,
            "#[inline] pub(crate) fn avro_encode_{sfx}(&self, out: &mut Vec<u8>) -> Result<(), {rt}::EncodeError> {{ self.avro_encode(out); Ok(()) }} }}"
        );
        return Ok(());
    }
    g.dec_queue.push((rfull.clone(), wfull.clone()));
    g.enc_queue.push((rfull, wfull));
    while let Some((r, wn)) = g.dec_queue.pop() {
        if g.dec_done.insert(r.clone()) {
            let code = g.gen_dec(&r, &wn)?;
            out.push_str(&code);
        }
    }
    while let Some((r, wn)) = g.enc_queue.pop() {
        if g.enc_done.insert(r.clone()) {
            let code = g.gen_enc(&r, &wn)?;
            out.push_str(&code);
        }
    }
    Ok(())
}

struct Gen<'a, 'o> {
    m: &'a Model<'o>,
    w: &'a Doc,
    version: &'a str,
    sfx: String,
    vars: Vars,
    dec_queue: Vec<(String, String)>,
    dec_done: BTreeSet<String>,
    enc_queue: Vec<(String, String)>,
    enc_done: BTreeSet<String>,
}

/// Appends a length or index (never above `i64::MAX` in memory) as an Avro `long`.
fn write_len(out: &mut Vec<u8>, n: usize) {
    write_long(out, i64::try_from(n).unwrap_or(i64::MAX));
}

/// A JSON number as the Avro `float` default (the nearest `f32`, as Java's `floatValue`).
#[allow(clippy::cast_possible_truncation)] // rounding to f32 is the conversion asked for
fn float_default(d: f64) -> f32 {
    d as f32
}

fn find_field<'s>(fields: &'s [RecordField], name: &str) -> Option<(usize, &'s RecordField)> {
    fields
        .iter()
        .enumerate()
        .find(|(_, f)| f.name == name || f.aliases.iter().any(|a| a == name))
}

impl Gen<'_, '_> {
    fn rt(&self) -> &str {
        &self.m.opts.runtime_path
    }

    fn incompatible(&self, path: &str, reason: impl Into<String>) -> Error {
        Error::Incompatible {
            version: self.version.to_owned(),
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    /// Same wire layout and field/record names: the reader's direct decoder reads writer data.
    fn same(
        &self,
        ws: &Schema,
        rs: &Schema,
        assumed: &mut BTreeSet<(String, String)>,
    ) -> Result<bool, Error> {
        let ws = self.w.resolve(ws)?;
        let rs = self.m.doc.resolve(rs)?;
        let (pw, pr) = (phys(ws)?, phys(rs)?);
        if pw != pr {
            return Ok(false);
        }
        Ok(match (ws, rs) {
            (Schema::Record(a), Schema::Record(b)) => {
                let key = (a.name.fullname(), b.name.fullname());
                if a.name.name() != b.name.name() || a.fields.len() != b.fields.len() {
                    return Ok(false);
                }
                if !assumed.insert(key) {
                    return Ok(true);
                }
                for (fa, fb) in a.fields.iter().zip(&b.fields) {
                    if fa.name != fb.name || !self.same(&fa.schema, &fb.schema, assumed)? {
                        return Ok(false);
                    }
                }
                true
            }
            (Schema::Enum(a), Schema::Enum(b)) => {
                a.name.name() == b.name.name() && a.symbols == b.symbols
            }
            (Schema::Fixed(a), Schema::Fixed(b)) => {
                a.name.name() == b.name.name() && a.size == b.size
            }
            (Schema::Array(a), Schema::Array(b)) => self.same(&a.items, &b.items, assumed)?,
            (Schema::Map(a), Schema::Map(b)) => self.same(&a.types, &b.types, assumed)?,
            (Schema::Union(a), Schema::Union(b)) => {
                if a.variants().len() != b.variants().len() {
                    return Ok(false);
                }
                for (x, y) in a.variants().iter().zip(b.variants()) {
                    if !self.same(x, y, assumed)? {
                        return Ok(false);
                    }
                }
                true
            }
            _ => true,
        })
    }

    /// Writer branch `ws` and reader branch `rs` are the same type (named: same short name).
    fn exact(&self, ws: &Schema, rs: &Schema) -> Result<bool, Error> {
        let ws = self.w.resolve(ws)?;
        let rs = self.m.doc.resolve(rs)?;
        let (pw, pr) = (phys(ws)?, phys(rs)?);
        if pw != pr {
            return Ok(false);
        }
        Ok(match pw {
            Phys::Record | Phys::Enum | Phys::Fixed => {
                crate::model::short_name(ws) == crate::model::short_name(rs)
            }
            _ => true,
        })
    }

    /// Avro type promotion from writer `w` to reader `r`.
    fn promotable(w: Phys, r: Phys) -> bool {
        matches!((prim(w), prim(r)), (Some(w), Some(r)) if promotion::promotes(w, r))
    }

    fn promotes(&self, ws: &Schema, rs: &Schema) -> Result<bool, Error> {
        let ws = self.w.resolve(ws)?;
        let rs = self.m.doc.resolve(rs)?;
        Ok(Self::promotable(phys(ws)?, phys(rs)?))
    }

    /// The first reader branch matching writer type `ws` (exact first, then promotion).
    fn pick_reader_branch(&self, ws: &Schema, ru: &UnionSchema) -> Result<Option<usize>, Error> {
        for (j, rb) in ru.variants().iter().enumerate() {
            if self.exact(ws, rb)? {
                return Ok(Some(j));
            }
        }
        for (j, rb) in ru.variants().iter().enumerate() {
            if self.promotes(ws, rb)? {
                return Ok(Some(j));
            }
        }
        Ok(None)
    }

    /// Wraps the decoded value of reader branch `j` into the reader union's Rust type.
    fn wrap_reader(
        &mut self,
        ru: &UnionSchema,
        j: usize,
        ws: &Schema,
        wsfx: &str,
        path: &str,
    ) -> Result<String, Error> {
        let rb = ru
            .variants()
            .get(j)
            .ok_or_else(|| self.incompatible(path, "union branch"))?;
        if matches!(rb, Schema::Prim(Prim::Null)) {
            return Ok("None".into());
        }
        let inner = self.dec(ws, rb, wsfx, path)?;
        Ok(match self.m.shape(ru)? {
            Shape::Option { .. } => format!("Some({inner})"),
            Shape::Enum {
                null_idx,
                union,
                branch_idx,
            } => {
                let def = self
                    .m
                    .unions
                    .get(union)
                    .ok_or_else(|| self.incompatible(path, "union"))?;
                let pos = branch_idx.iter().position(|b| *b == j).unwrap_or(0);
                let vn = def
                    .variants
                    .get(pos)
                    .map(|v| v.0.clone())
                    .unwrap_or_default();
                let e = format!("{}::{vn}({inner})", def.rust_name);
                if null_idx.is_some() {
                    format!("Some({e})")
                } else {
                    e
                }
            }
        })
    }

    /// An expression reading a writer `ws` value into the reader type of `rs`.
    fn dec(&mut self, ws: &Schema, rs: &Schema, wsfx: &str, path: &str) -> Result<String, Error> {
        let ws = self.w.resolve(ws)?.clone();
        let rs = self.m.doc.resolve(rs)?.clone();
        if self.same(&ws, &rs, &mut BTreeSet::new())? {
            return codec::dec(self.m, &rs, wsfx, &self.vars);
        }
        let rt = self.rt().to_owned();
        let me = |call: &str| format!("{call}.map_err(|e| e{wsfx})?");
        let no_branch = |wb: &Schema| -> String {
            format!(
                "return Err(r.error({rt}::DecodeErrorKind::NoMatchingBranch({})){wsfx})",
                lit(&branch_key(wb).unwrap_or_default())
            )
        };
        match (&ws, &rs) {
            (_, Schema::Union(ru)) => {
                if let Schema::Union(wu) = &ws {
                    let mut arms = Vec::new();
                    for (i, wb) in wu.variants().iter().enumerate() {
                        let e = match self.pick_reader_branch(wb, ru)? {
                            Some(j) => self.wrap_reader(ru, j, wb, wsfx, path)?,
                            None => no_branch(wb),
                        };
                        arms.push((i, e));
                    }
                    let idx = me(&format!("r.read_union_index({})", wu.variants().len()));
                    Ok(match_arms(&idx, arms))
                } else {
                    match self.pick_reader_branch(&ws, ru)? {
                        Some(j) => self.wrap_reader(ru, j, &ws, wsfx, path),
                        None => {
                            Err(self
                                .incompatible(path, "no reader union branch for the writer type"))
                        }
                    }
                }
            }
            (Schema::Union(wu), _) => {
                let mut arms = Vec::new();
                for (i, wb) in wu.variants().iter().enumerate() {
                    let e = if self.exact(wb, &rs)? || self.promotes(wb, &rs)? {
                        self.dec(wb, &rs, wsfx, path)?
                    } else {
                        no_branch(wb)
                    };
                    arms.push((i, e));
                }
                let idx = me(&format!("r.read_union_index({})", wu.variants().len()));
                Ok(match_arms(&idx, arms))
            }
            (Schema::Record(a), Schema::Record(b)) if a.name.name() == b.name.name() => {
                self.dec_queue.push((b.name.fullname(), a.name.fullname()));
                Ok(me(&format!(
                    "{}::avro_decode_{}(r)",
                    self.m.named_rust(&rs)?,
                    self.sfx
                )))
            }
            (Schema::Enum(a), Schema::Enum(b)) if a.name.name() == b.name.name() => {
                self.dec_queue.push((b.name.fullname(), a.name.fullname()));
                Ok(me(&format!(
                    "{}::avro_decode_{}(r)",
                    self.m.named_rust(&rs)?,
                    self.sfx
                )))
            }
            (Schema::Array(a), Schema::Array(b)) => {
                let min = min_size(self.w, &a.items, &mut Vec::new());
                let acc = self.vars.next("a");
                let n = self.vars.next("n");
                let i = self.vars.next("i");
                let wi = format!(".index({i}){wsfx}");
                let item = self.dec(&a.items, &b.items, &wi, &format!("{path}[]"))?;
                Ok(format!(
                    "{{ let mut {acc} = Vec::new(); loop {{ let {n} = {}; if {n} == 0 {{ break; }} {res}; for _ in 0..{n} {{ let {i} = {acc}.len(); {acc}.push({item}); }} }} {acc} }}",
                    me(&format!("r.read_block_count({min}, {acc}.len())")),
                    res = me(&format!("r.reserve_items(&mut {acc}, {n})")),
                ))
            }
            (Schema::Map(a), Schema::Map(b)) => {
                let min = 1 + min_size(self.w, &a.types, &mut Vec::new());
                let acc = self.vars.next("a");
                let n = self.vars.next("n");
                let k = self.vars.next("k");
                let val = self.vars.next("v");
                let wk = format!(".key(&{k}){wsfx}");
                let item = self.dec(&a.types, &b.types, &wk, &format!("{path}{{}}"))?;
                Ok(format!(
                    "{{ let mut {acc} = std::collections::BTreeMap::new(); loop {{ let {n} = {}; if {n} == 0 {{ break; }} for _ in 0..{n} {{ let {k} = {}; let {val} = {item}; r.charge_entry({acc}.len(), &{k}, &{val}).map_err(|e| e{wsfx})?; {acc}.insert({k}, {val}); }} }} {acc} }}",
                    me(&format!("r.read_block_count({min}, {acc}.len())")),
                    me(&self.m.read_string_call()),
                ))
            }
            _ => {
                let (pw, pr) = (phys(&ws)?, phys(&rs)?);
                let ok_reader = matches!(
                    rs,
                    Schema::Prim(Prim::Long | Prim::Float)
                        | Schema::Prim(Prim::Double | Prim::Bytes)
                        | Schema::Prim(Prim::String)
                );
                if !ok_reader {
                    return Err(self.incompatible(path, format!("cannot read {pw:?} as {pr:?}")));
                }
                Ok(match (pw, pr) {
                    (Phys::Prim(Prim::Int), Phys::Prim(Prim::Long)) => {
                        format!("i64::from({})", me("r.read_int()"))
                    }
                    (Phys::Prim(Prim::Int), Phys::Prim(Prim::Float)) => {
                        format!("({} as f32)", me("r.read_int()"))
                    }
                    (Phys::Prim(Prim::Int), Phys::Prim(Prim::Double)) => {
                        format!("f64::from({})", me("r.read_int()"))
                    }
                    (Phys::Prim(Prim::Long), Phys::Prim(Prim::Float)) => {
                        format!("({} as f32)", me("r.read_long()"))
                    }
                    (Phys::Prim(Prim::Long), Phys::Prim(Prim::Double)) => {
                        format!("({} as f64)", me("r.read_long()"))
                    }
                    (Phys::Prim(Prim::Float), Phys::Prim(Prim::Double)) => {
                        format!("f64::from({})", me("r.read_float()"))
                    }
                    (Phys::Prim(Prim::String), Phys::Prim(Prim::Bytes)) => me("r.read_bytes()"),
                    (Phys::Prim(Prim::Bytes), Phys::Prim(Prim::String)) => {
                        me(&self.m.read_string_call())
                    }
                    _ => {
                        return Err(
                            self.incompatible(path, format!("cannot read {pw:?} as {pr:?}"))
                        );
                    }
                })
            }
        }
    }

    /// Statements skipping one writer `ws` value.
    fn skip(&self, ws: &Schema, wsfx: &str, stack: &mut Vec<String>) -> Result<String, Error> {
        let ws = self.w.resolve(ws)?;
        let me = |call: &str| format!("{call}.map_err(|e| e{wsfx})?;");
        Ok(match phys(ws)? {
            Phys::Prim(Prim::Null) => String::new(),
            Phys::Prim(Prim::Boolean) => me("r.skip(1)"),
            Phys::Prim(Prim::Int) | Phys::Prim(Prim::Long) | Phys::Enum => me("r.read_long()"),
            Phys::Prim(Prim::Float) => me("r.skip(4)"),
            Phys::Prim(Prim::Double) => me("r.skip(8)"),
            Phys::Prim(Prim::Bytes) | Phys::Prim(Prim::String) => me("r.skip_bytes()"),
            Phys::Fixed => match ws {
                Schema::Fixed(f) => me(&format!("r.skip({})", f.size)),
                _ => String::new(),
            },
            Phys::Array | Phys::Map => {
                let (items, min, key) = match ws {
                    Schema::Array(a) => {
                        (&*a.items, min_size(self.w, &a.items, &mut Vec::new()), "")
                    }
                    Schema::Map(mp) => (
                        &*mp.types,
                        1 + min_size(self.w, &mp.types, &mut Vec::new()),
                        "r.skip_bytes().map_err(|e| e{wsfx})?;",
                    ),
                    _ => return Ok(String::new()),
                };
                let c = self.vars.next("c");
                let n = self.vars.next("n");
                format!(
                    "{{ let mut {c} = 0usize; loop {{ let {n} = r.read_block_count({min}, {c}).map_err(|e| e{wsfx})?; if {n} == 0 {{ break; }} {c} += {n}; for _ in 0..{n} {{ {} {} }} }} }}",
                    key.replace("{wsfx}", wsfx),
                    self.skip(items, wsfx, stack)?
                )
            }
            Phys::Union => {
                let Schema::Union(u) = ws else {
                    return Ok(String::new());
                };
                let mut arms = Vec::new();
                for (i, b) in u.variants().iter().enumerate() {
                    arms.push((i, format!("{{ {} }}", self.skip(b, wsfx, stack)?)));
                }
                let idx = format!(
                    "r.read_union_index({}).map_err(|e| e{wsfx})?",
                    u.variants().len()
                );
                format!("{};", match_arms(&idx, arms))
            }
            Phys::Record => {
                let Schema::Record(rec) = ws else {
                    return Ok(String::new());
                };
                let full = rec.name.fullname();
                if stack.contains(&full) {
                    return Err(
                        self.incompatible(&full, "skipping a recursive record is not supported")
                    );
                }
                stack.push(full);
                let mut s = String::new();
                for f in &rec.fields {
                    s.push_str(&self.skip(&f.schema, wsfx, stack)?);
                }
                stack.pop();
                s
            }
        })
    }

    /// A Rust expression of the reader type of `rs` for the JSON default `d`.
    fn default_expr(&self, rs: &Schema, d: &Json, path: &str) -> Result<String, Error> {
        let rs = self.m.doc.resolve(rs)?;
        let bad = |reason: &str| Error::BadDefault {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        Ok(match rs {
            Schema::Prim(Prim::Null) => "()".into(),
            Schema::Prim(Prim::Boolean) => {
                d.as_bool().ok_or_else(|| bad("not a boolean"))?.to_string()
            }
            n if n.plain() == Some(Prim::Int) => {
                format!("{}i32", d.as_i64().ok_or_else(|| bad("not an int"))?)
            }
            n if n.plain() == Some(Prim::Long) => {
                format!("{}i64", d.as_i64().ok_or_else(|| bad("not a long"))?)
            }
            Schema::Logical(LogicalType::TimestampMillis) => format!(
                "chrono::DateTime::from_timestamp_millis({}).unwrap_or_default()",
                d.as_i64().ok_or_else(|| bad("not a long"))?
            ),
            Schema::Logical(LogicalType::TimestampMicros) => format!(
                "chrono::DateTime::from_timestamp_micros({}).unwrap_or_default()",
                d.as_i64().ok_or_else(|| bad("not a long"))?
            ),
            Schema::Prim(Prim::Float) => {
                format!("{:?}f32", d.as_f64().ok_or_else(|| bad("not a number"))?)
            }
            Schema::Prim(Prim::Double) => {
                format!("{:?}f64", d.as_f64().ok_or_else(|| bad("not a number"))?)
            }
            Schema::Prim(Prim::String) | Schema::Logical(LogicalType::Uuid) => {
                format!(
                    "{}::from({})",
                    self.m.string_type(),
                    lit(d.as_str().ok_or_else(|| bad("not a string"))?)
                )
            }
            Schema::Prim(Prim::Bytes) | Schema::Fixed(_) => {
                let s = d.as_str().ok_or_else(|| bad("not a string"))?;
                let bytes: Vec<String> = s
                    .chars()
                    .map(|c| format!("{}u8", u32::from(c) & 0xff))
                    .collect();
                if matches!(rs, Schema::Prim(Prim::Bytes)) {
                    format!("vec![{}]", bytes.join(", "))
                } else {
                    format!("[{}]", bytes.join(", "))
                }
            }
            Schema::Enum(e) => {
                let sym = d.as_str().ok_or_else(|| bad("not a symbol"))?;
                if !e.symbols.iter().any(|s| s == sym) {
                    return Err(bad("unknown symbol"));
                }
                format!("{}::{}", self.m.named_rust(rs)?, variant_ident(sym))
            }
            Schema::Array(a) => {
                let items = d.as_array().ok_or_else(|| bad("not an array"))?;
                if items.is_empty() {
                    "Vec::new()".into()
                } else {
                    let v = items
                        .iter()
                        .map(|x| self.default_expr(&a.items, x, path))
                        .collect::<Result<Vec<_>, _>>()?;
                    format!("vec![{}]", v.join(", "))
                }
            }
            Schema::Map(mp) => {
                let obj = d.as_object().ok_or_else(|| bad("not an object"))?;
                let v = obj
                    .iter()
                    .map(|(k, x)| {
                        Ok(format!(
                            "({}::from({}), {})",
                            self.m.string_type(),
                            lit(k),
                            self.default_expr(&mp.types, x, path)?
                        ))
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                format!("std::collections::BTreeMap::from([{}])", v.join(", "))
            }
            Schema::Record(rec) => {
                let obj = d.as_object().ok_or_else(|| bad("not an object"))?;
                let mut inits = Vec::new();
                for f in &rec.fields {
                    let v = obj
                        .get(&f.name)
                        .or(f.default.as_ref())
                        .ok_or_else(|| bad(&format!("field {} has no value", f.name)))?;
                    inits.push(format!(
                        "{}: {}",
                        field_ident(&f.name),
                        self.default_expr(&f.schema, v, path)?
                    ));
                }
                format!("{} {{ {} }}", self.m.named_rust(rs)?, inits.join(", "))
            }
            Schema::Union(u) => {
                let shape = self.m.shape(u)?;
                let has_null = u
                    .variants()
                    .iter()
                    .any(|b| matches!(b, Schema::Prim(Prim::Null)));
                if d.is_null() && has_null {
                    return Ok("None".into());
                }
                match shape {
                    Shape::Option { inner, .. } => {
                        format!("Some({})", self.default_expr(&inner, d, path)?)
                    }
                    Shape::Enum {
                        null_idx, union, ..
                    } => {
                        let def = self.m.unions.get(union).ok_or_else(|| bad("union"))?;
                        let (vn, bs) = def.variants.first().ok_or_else(|| bad("empty union"))?;
                        let e = format!(
                            "{}::{vn}({})",
                            def.rust_name,
                            self.default_expr(bs, d, path)?
                        );
                        if null_idx.is_some() {
                            format!("Some({e})")
                        } else {
                            e
                        }
                    }
                }
            }
            other => return Err(Error::Unsupported(format!("default for {other:?}"))),
        })
    }

    fn gen_dec(&mut self, rfull: &str, wfull: &str) -> Result<String, Error> {
        let rt = self.rt().to_owned();
        let rs = self
            .m
            .doc
            .defs
            .get(rfull)
            .cloned()
            .ok_or_else(|| Error::UnknownName(rfull.into()))?;
        let ws = self
            .w
            .defs
            .get(wfull)
            .cloned()
            .ok_or_else(|| Error::UnknownName(wfull.into()))?;
        let name = self.m.named_rust(&rs)?;
        let sfx = self.sfx.clone();
        let mut out = format!(
            "impl {name} {{ pub(crate) fn avro_decode_{sfx}(r: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{"
        );
        match (&ws, &rs) {
            (Schema::Record(wr), Schema::Record(rr)) => {
                if wr.fields.is_empty() {
                    out.push_str("let _ = r;");
                }
                // without writer-only fields to skip, one struct expression in writer order
                // builds the value in place (fields are evaluated in the order written)
                let in_place = wr
                    .fields
                    .iter()
                    .all(|wf| find_field(&rr.fields, &wf.name).is_some());
                let mut locals: Vec<Option<String>> = vec![None; rr.fields.len()];
                let mut inits = Vec::new();
                for wf in &wr.fields {
                    let wsfx = format!(".field({})", lit(&wf.name));
                    let path = format!("{rfull}.{}", wf.name);
                    match find_field(&rr.fields, &wf.name) {
                        Some((j, rf)) => {
                            let e = self.dec(&wf.schema, &rf.schema, &wsfx, &path)?;
                            if in_place {
                                inits.push(format!("{}: {e}", field_ident(&rf.name)));
                            } else {
                                let _ = write!(out, "let f{j} = {e};");
                            }
                            if let Some(slot) = locals.get_mut(j) {
                                *slot = Some(format!("f{j}"));
                            }
                        }
                        None => out.push_str(&self.skip(&wf.schema, &wsfx, &mut Vec::new())?),
                    }
                }
                for (rf, local) in rr.fields.iter().zip(&locals) {
                    let v = match local {
                        Some(_) if in_place => continue,
                        Some(l) => l.clone(),
                        None => {
                            let path = format!("{rfull}.{}", rf.name);
                            let d = rf.default.as_ref().ok_or_else(|| {
                                self.incompatible(
                                    &path,
                                    "reader field missing in the writer and without default",
                                )
                            })?;
                            self.default_expr(&rf.schema, d, &path)?
                        }
                    };
                    inits.push(format!("{}: {v}", field_ident(&rf.name)));
                }
                let _ = write!(out, "Ok(Self {{ {} }})", inits.join(", "));
            }
            (Schema::Enum(we), Schema::Enum(re)) => {
                let mut arms = Vec::new();
                let mut needs_start = false;
                for (i, sym) in we.symbols.iter().enumerate() {
                    let target = if re.symbols.contains(sym) {
                        Some(sym.clone())
                    } else {
                        re.default.clone()
                    };
                    let e = match target {
                        Some(t) => format!("Self::{}", variant_ident(&t)),
                        None => {
                            needs_start = true;
                            format!(
                                "return Err({rt}::DecodeError::new({rt}::DecodeErrorKind::UnknownSymbol({}), start))",
                                lit(sym)
                            )
                        }
                    };
                    arms.push((i, e));
                }
                if needs_start {
                    out.push_str("let start = r.pos();");
                }
                let idx = format!("r.read_enum_index({})?", we.symbols.len());
                let _ = write!(out, "Ok({})", match_arms(&idx, arms));
            }
            _ => return Err(self.incompatible(rfull, "named types of different kinds")),
        }
        out.push_str("} }\n");
        Ok(out)
    }

    /// Picks the writer branch for a reader branch value (exact first, then widening).
    fn pick_writer_branch(&self, rb: &Schema, wu: &UnionSchema) -> Result<Option<usize>, Error> {
        for (i, wb) in wu.variants().iter().enumerate() {
            if self.exact(wb, rb)? {
                return Ok(Some(i));
            }
        }
        let rp = phys(self.m.doc.resolve(rb)?)?;
        for (i, wb) in wu.variants().iter().enumerate() {
            let wp = phys(self.w.resolve(wb)?)?;
            if Self::enc_promotable(rp, wp) {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// Reader value kind `r` can be written as writer kind `w` without loss.
    fn enc_promotable(r: Phys, w: Phys) -> bool {
        matches!((prim(r), prim(w)), (Some(r), Some(w)) if promotion::promotes_losslessly(r, w))
    }

    /// Statements writing the reader value behind reference `v` (schema `rs`) in the writer
    /// layout `ws`; errors get `wsfx` appended.
    fn enc(
        &mut self,
        rs: &Schema,
        ws: &Schema,
        v: &str,
        wsfx: &str,
        path: &str,
    ) -> Result<String, Error> {
        let rs = self.m.doc.resolve(rs)?.clone();
        let ws = self.w.resolve(ws)?.clone();
        if self.same(&ws, &rs, &mut BTreeSet::new())? {
            return codec::enc(self.m, &rs, v, &self.vars);
        }
        let rt = self.rt().to_owned();
        let fail =
            |reason: &str| format!("return Err({rt}::EncodeError::new({}){wsfx});", lit(reason));
        match (&rs, &ws) {
            (Schema::Union(ru), _) => {
                let inner = self.vars.next("v");
                let mut arms = String::new();
                let branch_stmt = |g: &mut Self, rb: &Schema, x: &str| -> Result<String, Error> {
                    if let Schema::Union(wu) = &ws {
                        match g.pick_writer_branch(rb, wu)? {
                            Some(i) => {
                                let wb = wu
                                    .variants()
                                    .get(i)
                                    .cloned()
                                    .unwrap_or(Schema::Prim(Prim::Null));
                                Ok(format!(
                                    "{} {}",
                                    index_stmt(&rt, i),
                                    g.enc(rb, &wb, x, wsfx, path)?
                                ))
                            }
                            None => Ok(fail(&format!(
                                "the writer schema has no branch for {}",
                                branch_key(rb).unwrap_or_default()
                            ))),
                        }
                    } else if g.exact(&ws, rb)?
                        || Self::enc_promotable(phys(g.m.doc.resolve(rb)?)?, phys(&ws)?)
                    {
                        g.enc(rb, &ws, x, wsfx, path)
                    } else {
                        Ok(fail(&format!(
                            "the writer schema cannot represent {}",
                            branch_key(rb).unwrap_or_default()
                        )))
                    }
                };
                match self.m.shape(ru)? {
                    Shape::Option { inner: is, .. } => {
                        let none = branch_stmt(self, &Schema::Prim(Prim::Null), "")?;
                        let none = if none.starts_with("return") || matches!(ws, Schema::Union(_)) {
                            none
                        } else {
                            fail("null is not representable in the writer schema")
                        };
                        let some = branch_stmt(self, &is, &inner)?;
                        let some = if some.starts_with("return") {
                            format!("let _ = {inner}; {some}")
                        } else {
                            some
                        };
                        let _ = write!(arms, "None => {{ {none} }} Some({inner}) => {{ {some} }}");
                    }
                    Shape::Enum {
                        null_idx,
                        union,
                        branch_idx: _,
                    } => {
                        let def = self
                            .m
                            .unions
                            .get(union)
                            .ok_or_else(|| Error::Unsupported("union".into()))?;
                        if null_idx.is_some() {
                            let none = if matches!(ws, Schema::Union(_)) {
                                branch_stmt(self, &Schema::Prim(Prim::Null), "")?
                            } else {
                                fail("null is not representable in the writer schema")
                            };
                            let _ = write!(arms, "None => {{ {none} }}");
                        }
                        for (vn, bs) in &def.variants {
                            let pat = format!("{}::{vn}({inner})", def.rust_name);
                            let pat = if null_idx.is_some() {
                                format!("Some({pat})")
                            } else {
                                pat
                            };
                            let stmt = branch_stmt(self, bs, &inner)?;
                            let stmt = if stmt.starts_with("return") {
                                format!("let _ = {inner}; {stmt}")
                            } else {
                                stmt
                            };
                            let _ = write!(arms, "{pat} => {{ {stmt} }}");
                        }
                    }
                }
                Ok(format!("match {v} {{ {arms} }}"))
            }
            (_, Schema::Union(wu)) => match self.pick_writer_branch(&rs, wu)? {
                Some(i) => {
                    let wb = wu
                        .variants()
                        .get(i)
                        .cloned()
                        .unwrap_or(Schema::Prim(Prim::Null));
                    Ok(format!(
                        "{} {}",
                        index_stmt(&rt, i),
                        self.enc(&rs, &wb, v, wsfx, path)?
                    ))
                }
                None => Err(self.incompatible(path, "no writer union branch for the reader type")),
            },
            (Schema::Record(a), Schema::Record(b)) if a.name.name() == b.name.name() => {
                self.enc_queue.push((a.name.fullname(), b.name.fullname()));
                Ok(format!(
                    "{v}.avro_encode_{}(out).map_err(|e| e{wsfx})?;",
                    self.sfx
                ))
            }
            (Schema::Enum(a), Schema::Enum(b)) if a.name.name() == b.name.name() => {
                self.enc_queue.push((a.name.fullname(), b.name.fullname()));
                Ok(format!(
                    "{v}.avro_encode_{}(out).map_err(|e| e{wsfx})?;",
                    self.sfx
                ))
            }
            (Schema::Array(a), Schema::Array(b)) => {
                let i = self.vars.next("i");
                let item = self.vars.next("v");
                let wi = format!(".index({i}){wsfx}");
                let body = self.enc(&a.items, &b.items, &item, &wi, &format!("{path}[]"))?;
                Ok(format!(
                    "if !{v}.is_empty() {{ {rt}::write_len(out, {v}.len()); for ({i}, {item}) in {v}.iter().enumerate() {{ {body} }} }} out.push(0);"
                ))
            }
            (Schema::Map(a), Schema::Map(b)) => {
                let k = self.vars.next("k");
                let item = self.vars.next("v");
                let wk = format!(".key({k}){wsfx}");
                let body = self.enc(&a.types, &b.types, &item, &wk, &format!("{path}{{}}"))?;
                Ok(format!(
                    "if !{v}.is_empty() {{ {rt}::write_len(out, {v}.len()); for ({k}, {item}) in {v}.iter() {{ {rt}::write_str(out, {k}); {body} }} }} out.push(0);"
                ))
            }
            _ => Ok(match (phys(&rs)?, phys(&ws)?) {
                (Phys::Prim(Prim::Int), Phys::Prim(Prim::Long)) => {
                    format!("{rt}::write_long(out, i64::from(*{v}));")
                }
                (Phys::Prim(Prim::Int), Phys::Prim(Prim::Double)) => {
                    format!("out.extend_from_slice(&f64::from(*{v}).to_le_bytes());")
                }
                (Phys::Prim(Prim::Float), Phys::Prim(Prim::Double)) => {
                    format!("out.extend_from_slice(&f64::from(*{v}).to_le_bytes());")
                }
                (Phys::Prim(Prim::String), Phys::Prim(Prim::Bytes)) => {
                    format!("{rt}::write_bytes(out, {v}.as_bytes());")
                }
                // narrowing back into an older writer type: checked at run time
                (Phys::Prim(Prim::Long), Phys::Prim(Prim::Int))
                    if matches!(rs, Schema::Prim(Prim::Long)) =>
                {
                    format!(
                        "{rt}::write_int(out, i32::try_from(*{v}).map_err(|_| {rt}::EncodeError::new(\"value outside the writer's int range\"){wsfx})?);"
                    )
                }
                (Phys::Prim(Prim::Double), Phys::Prim(Prim::Float))
                    if matches!(rs, Schema::Prim(Prim::Double)) =>
                {
                    let x = self.vars.next("x");
                    format!(
                        "let {x} = *{v} as f32; if f64::from({x}).to_bits() != {v}.to_bits() && !{v}.is_nan() {{ return Err({rt}::EncodeError::new(\"value not exactly representable as the writer's float\"){wsfx}); }} out.extend_from_slice(&{x}.to_le_bytes());"
                    )
                }
                (Phys::Prim(Prim::Bytes), Phys::Prim(Prim::String))
                    if matches!(rs, Schema::Prim(Prim::Bytes)) =>
                {
                    format!(
                        "{rt}::write_str(out, std::str::from_utf8({v}).map_err(|_| {rt}::EncodeError::new(\"bytes are not UTF-8, the writer has a string\"){wsfx})?);"
                    )
                }
                (pr, pw) => {
                    return Err(self.incompatible(path, format!("cannot write {pr:?} as {pw:?}")));
                }
            }),
        }
    }

    /// The wire bytes of the JSON default `d` of writer schema `ws`.
    fn encode_default(
        &self,
        ws: &Schema,
        d: &Json,
        path: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let ws = self.w.resolve(ws)?;
        let bad = |reason: &str| Error::BadDefault {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        match ws {
            Schema::Union(u) => {
                // the default is for the first branch (or null when a null branch exists)
                let (i, b) = if d.is_null() {
                    u.variants()
                        .iter()
                        .enumerate()
                        .find(|(_, b)| matches!(b, Schema::Prim(Prim::Null)))
                        .ok_or_else(|| bad("null default without null branch"))?
                } else {
                    u.variants()
                        .iter()
                        .enumerate()
                        .find(|(_, b)| !matches!(b, Schema::Prim(Prim::Null)))
                        .ok_or_else(|| bad("empty union"))?
                };
                write_len(out, i);
                return self.encode_default(b, d, path, out);
            }
            Schema::Record(rec) => {
                let obj = d.as_object().ok_or_else(|| bad("not an object"))?;
                for f in &rec.fields {
                    let v = obj
                        .get(&f.name)
                        .or(f.default.as_ref())
                        .ok_or_else(|| bad("record field without value"))?;
                    self.encode_default(&f.schema, v, path, out)?;
                }
                return Ok(());
            }
            Schema::Enum(e) => {
                let sym = d.as_str().ok_or_else(|| bad("not a symbol"))?;
                let i = e
                    .symbols
                    .iter()
                    .position(|s| s == sym)
                    .ok_or_else(|| bad("unknown symbol"))?;
                write_len(out, i);
                return Ok(());
            }
            Schema::Array(a) => {
                let items = d.as_array().ok_or_else(|| bad("not an array"))?;
                if !items.is_empty() {
                    write_len(out, items.len());
                    for x in items {
                        self.encode_default(&a.items, x, path, out)?;
                    }
                }
                out.push(0);
                return Ok(());
            }
            Schema::Map(mp) => {
                let obj = d.as_object().ok_or_else(|| bad("not an object"))?;
                if !obj.is_empty() {
                    write_len(out, obj.len());
                    for (k, x) in obj {
                        write_len(out, k.len());
                        out.extend_from_slice(k.as_bytes());
                        self.encode_default(&mp.types, x, path, out)?;
                    }
                }
                out.push(0);
                return Ok(());
            }
            _ => {}
        }
        match phys(ws)? {
            Phys::Prim(Prim::Null) => {}
            Phys::Prim(Prim::Boolean) => {
                out.push(u8::from(d.as_bool().ok_or_else(|| bad("not a boolean"))?))
            }
            Phys::Prim(Prim::Int) | Phys::Prim(Prim::Long) => {
                write_long(out, d.as_i64().ok_or_else(|| bad("not an integer"))?)
            }
            Phys::Prim(Prim::Float) => out.extend_from_slice(
                &float_default(d.as_f64().ok_or_else(|| bad("not a number"))?).to_le_bytes(),
            ),
            Phys::Prim(Prim::Double) => {
                out.extend_from_slice(&d.as_f64().ok_or_else(|| bad("not a number"))?.to_le_bytes())
            }
            Phys::Prim(Prim::String) => {
                let s = d.as_str().ok_or_else(|| bad("not a string"))?;
                write_len(out, s.len());
                out.extend_from_slice(s.as_bytes());
            }
            Phys::Prim(Prim::Bytes) | Phys::Fixed => {
                let s = d.as_str().ok_or_else(|| bad("not a string"))?;
                let bytes: Vec<u8> = s.chars().map(|c| (u32::from(c) & 0xff) as u8).collect();
                if phys(ws)? == Phys::Prim(Prim::Bytes) {
                    write_len(out, bytes.len());
                }
                out.extend_from_slice(&bytes);
            }
            _ => return Err(bad("unsupported default")),
        }
        Ok(())
    }

    fn gen_enc(&mut self, rfull: &str, wfull: &str) -> Result<String, Error> {
        let rt = self.rt().to_owned();
        let rs = self
            .m
            .doc
            .defs
            .get(rfull)
            .cloned()
            .ok_or_else(|| Error::UnknownName(rfull.into()))?;
        let ws = self
            .w
            .defs
            .get(wfull)
            .cloned()
            .ok_or_else(|| Error::UnknownName(wfull.into()))?;
        let name = self.m.named_rust(&rs)?;
        let sfx = self.sfx.clone();
        let mut out = format!(
            "impl {name} {{ pub(crate) fn avro_encode_{sfx}(&self, out: &mut Vec<u8>) -> Result<(), {rt}::EncodeError> {{"
        );
        match (&ws, &rs) {
            (Schema::Record(wr), Schema::Record(rr)) => {
                if wr.fields.is_empty() {
                    out.push_str("let _ = out;");
                }
                for wf in &wr.fields {
                    let wsfx = format!(".field({})", lit(&wf.name));
                    let path = format!("{wfull}.{}", wf.name);
                    match find_field(&rr.fields, &wf.name) {
                        Some((_, rf)) => {
                            let v = self.vars.next("v");
                            let body = self.enc(&rf.schema, &wf.schema, &v, &wsfx, &path)?;
                            let _ = write!(
                                out,
                                "{{ let {v} = &self.{}; {body} }}",
                                field_ident(&rf.name)
                            );
                        }
                        None => {
                            let d = wf.default.as_ref().ok_or_else(|| {
                                self.incompatible(
                                    &path,
                                    "writer field missing in the reader and without default",
                                )
                            })?;
                            let mut bytes = Vec::new();
                            self.encode_default(&wf.schema, d, &path, &mut bytes)?;
                            if !bytes.is_empty() {
                                let b: Vec<String> = bytes.iter().map(u8::to_string).collect();
                                let _ = write!(out, "out.extend_from_slice(&[{}]);", b.join(", "));
                            }
                        }
                    }
                }
                out.push_str("Ok(())");
            }
            (Schema::Enum(we), Schema::Enum(re)) => {
                out.push_str("match self {");
                for sym in &re.symbols {
                    let stmt = match we.symbols.iter().position(|s| s == sym) {
                        Some(i) => index_stmt(&rt, i),
                        None => format!(
                            "return Err({rt}::EncodeError::new({}));",
                            lit(&format!("symbol {sym} is not in the writer schema"))
                        ),
                    };
                    let _ = write!(out, "Self::{} => {{ {stmt} }}", variant_ident(sym));
                }
                out.push_str("} Ok(())");
            }
            _ => return Err(self.incompatible(rfull, "named types of different kinds")),
        }
        out.push_str("} }\n");
        Ok(out)
    }
}
