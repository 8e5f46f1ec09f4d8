//! Reader/writer compatibility with the semantics of Apache Avro Java's
//! `SchemaCompatibility.checkReaderWriterCompatibility` (which Confluent's registry uses).
//!
//! The rules, in Java's order:
//! * same type: primitives are compatible; arrays compare `items`, maps compare `values`;
//!   fixed: name (see below) and size; enum: name, and every writer symbol must be in the reader
//!   unless the reader enum has a default; record: name, then every *reader* field must be found
//!   in the writer (by name or by one of the reader field's aliases) and be compatible, or have a
//!   default; writer union vs reader union: every writer branch must be readable by the reader union.
//! * different types: a writer union is compatible when every branch is; then the promotions
//!   int -> long/float/double, long -> float/double, float -> double, string <-> bytes; a reader
//!   union is compatible when at least one branch is compatible with the writer; all else is a
//!   type mismatch.
//! * names (`schemaNameEquals`): the unqualified names are equal, or the writer's full name is one
//!   of the reader's (fully qualified) aliases.
//! * recursion: a (reader, writer) pair of named types is memoized; a pair met again while it is
//!   being checked counts as compatible ("compatible unless proven incompatible").
//!
//! Logical types are ignored, as in Java (the model reduces them to their underlying type).
//! Where Java only says "reader union lacking writer type", the report also carries the reasons
//! found in the closest reader branch (`causes`), so the offending field is named.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::model::{Field, Kind, Model, NamedDef, Node};

/// The kind of an incompatibility, named after Java's `SchemaIncompatibilityType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum IncompatibilityKind {
    /// Record, enum or fixed names differ and no reader alias matches.
    NameMismatch,
    /// Fixed sizes differ.
    FixedSizeMismatch,
    /// The writer enum has symbols the reader lacks, and the reader enum has no default.
    MissingEnumSymbols,
    /// A reader field is missing in the writer record and has no default.
    ReaderFieldMissingDefaultValue,
    /// The types cannot be resolved (and no promotion applies).
    TypeMismatch,
    /// No reader union branch can read a writer type.
    MissingUnionBranch,
    /// A reader field matches more than one writer field through its aliases
    /// (Java throws `AvroRuntimeException` here).
    AmbiguousFieldAlias,
}

impl IncompatibilityKind {
    /// Java's name, e.g. `MISSING_UNION_BRANCH` (as in the JSON report).
    pub fn as_str(self) -> &'static str {
        match self {
            IncompatibilityKind::NameMismatch => "NAME_MISMATCH",
            IncompatibilityKind::FixedSizeMismatch => "FIXED_SIZE_MISMATCH",
            IncompatibilityKind::MissingEnumSymbols => "MISSING_ENUM_SYMBOLS",
            IncompatibilityKind::ReaderFieldMissingDefaultValue => {
                "READER_FIELD_MISSING_DEFAULT_VALUE"
            }
            IncompatibilityKind::TypeMismatch => "TYPE_MISMATCH",
            IncompatibilityKind::MissingUnionBranch => "MISSING_UNION_BRANCH",
            IncompatibilityKind::AmbiguousFieldAlias => "AMBIGUOUS_FIELD_ALIAS",
        }
    }
}

impl std::fmt::Display for IncompatibilityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason why a reader schema cannot read data written with a writer schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Incompatibility {
    /// What kind of incompatibility.
    pub kind: IncompatibilityKind,
    /// The innermost record field: `RecordName.fieldName` (empty at the top level).
    pub field: String,
    /// The data path from the root: `payload.auditedData.objectData[].value`
    /// (`[]` array items, `{}` map values; union branches are transparent).
    pub path: String,
    /// The location in Java's notation, a JSON pointer into the reader schema
    /// (e.g. `/fields/4/type/fields/3/type`).
    pub location: String,
    /// The reader type at this place.
    pub reader_type: String,
    /// The writer type at this place.
    pub writer_type: String,
    /// Human-readable explanation.
    pub message: String,
    /// For union mismatches: why the closest reader branch could not read the writer type.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Incompatibility>,
}

impl Incompatibility {
    /// The deepest cause (following the first cause), or `self`.
    pub fn root_cause(&self) -> &Incompatibility {
        let mut cur = self;
        while let Some(next) = cur.causes.first() {
            cur = next;
        }
        cur
    }
}

impl std::fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "(root)"
        } else {
            &self.path
        };
        if self.field.is_empty() {
            write!(f, "{path}: {}", self.message)?;
        } else {
            write!(f, "{} ({path}): {}", self.field, self.message)?;
        }
        for c in &self.causes {
            write!(f, "; because {c}")?;
        }
        Ok(())
    }
}

/// Checks whether `reader` can read everything written with `writer`; empty means compatible.
pub(crate) fn check(reader: &Model, writer: &Model) -> Vec<Incompatibility> {
    let mut c = Checker {
        reader,
        writer,
        memo: HashMap::new(),
        path: Vec::new(),
        fields: Vec::new(),
        loc: Vec::new(),
    };
    c.get(&reader.root, &writer.root)
}

struct Checker<'a> {
    reader: &'a Model,
    writer: &'a Model,
    /// `None` = in progress.
    memo: HashMap<(usize, usize), Option<Vec<Incompatibility>>>,
    path: Vec<String>,
    fields: Vec<String>,
    loc: Vec<String>,
}

fn kind_name(k: Kind) -> String {
    match k {
        Kind::Prim(p) => p.as_str().to_uppercase(),
        Kind::Array => "ARRAY".into(),
        Kind::Map => "MAP".into(),
        Kind::Union => "UNION".into(),
        Kind::Record => "RECORD".into(),
        Kind::Enum => "ENUM".into(),
        Kind::Fixed => "FIXED".into(),
    }
}

impl Checker<'_> {
    fn path_string(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            if seg.starts_with('[') || seg.starts_with('{') || out.is_empty() {
                out.push_str(seg);
            } else {
                out.push('.');
                out.push_str(seg);
            }
        }
        out
    }

    fn incompat(
        &self,
        kind: IncompatibilityKind,
        r: &Node,
        w: &Node,
        message: String,
        causes: Vec<Incompatibility>,
    ) -> Incompatibility {
        let mut location = String::new();
        for l in &self.loc {
            location.push('/');
            location.push_str(l);
        }
        Incompatibility {
            kind,
            field: self.fields.last().cloned().unwrap_or_default(),
            path: self.path_string(),
            location: if location.is_empty() {
                "/".into()
            } else {
                location
            },
            reader_type: self.reader.describe(r),
            writer_type: self.writer.describe(w),
            message,
            causes,
        }
    }

    fn get(&mut self, r: &Node, w: &Node) -> Vec<Incompatibility> {
        if let (Node::Named(ri), Node::Named(wi)) = (r, w) {
            let key = (*ri, *wi);
            return match self.memo.get(&key) {
                Some(None) => Vec::new(),
                Some(Some(done)) => done.clone(),
                None => {
                    self.memo.insert(key, None);
                    let res = self.calculate(r, w);
                    self.memo.insert(key, Some(res.clone()));
                    res
                }
            };
        }
        self.calculate(r, w)
    }

    fn with_loc<T>(&mut self, seg: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.loc.push(seg.to_owned());
        let out = f(self);
        self.loc.pop();
        out
    }

    fn calculate(&mut self, r: &Node, w: &Node) -> Vec<Incompatibility> {
        let kr = self.reader.kind(r);
        let kw = self.writer.kind(w);
        if kr == kw {
            return match (r, w) {
                (Node::Prim(_), Node::Prim(_)) => Vec::new(),
                (Node::Array(ri), Node::Array(wi)) => self.with_loc("items", |c| {
                    c.path.push("[]".into());
                    let res = c.get(ri, wi);
                    c.path.pop();
                    res
                }),
                (Node::Map(ri), Node::Map(wi)) => self.with_loc("values", |c| {
                    c.path.push("{}".into());
                    let res = c.get(ri, wi);
                    c.path.pop();
                    res
                }),
                (Node::Union(_), Node::Union(wb)) => {
                    let mut out = Vec::new();
                    for (i, b) in wb.iter().enumerate() {
                        let res = self.with_loc(&i.to_string(), |c| c.get(r, b));
                        if !res.is_empty() {
                            let causes = unwrap_union_causes(res);
                            let msg = format!(
                                "reader union lacking writer type: {} (writer union branch {i}, {})",
                                kind_name(self.writer.kind(b)),
                                self.writer.describe(b)
                            );
                            out.push(self.with_loc(&i.to_string(), |c| {
                                c.incompat(
                                    IncompatibilityKind::MissingUnionBranch,
                                    r,
                                    b,
                                    msg,
                                    causes,
                                )
                            }));
                        }
                    }
                    out
                }
                (Node::Named(ri), Node::Named(wi)) => self.named(r, w, *ri, *wi),
                _ => vec![self.type_mismatch(r, w)],
            };
        }
        if let Node::Union(wb) = w {
            let mut out = Vec::new();
            for (i, b) in wb.iter().enumerate() {
                out.extend(self.with_loc(&i.to_string(), |c| c.get(r, b)));
            }
            return out;
        }
        let promoted = matches!(
            (kr, kw),
            (Kind::Prim(r), Kind::Prim(w)) if audit_avro_model::promotion::promotes(w, r)
        );
        if promoted {
            return Vec::new();
        }
        if let Node::Union(rb) = r {
            let mut tried = Vec::with_capacity(rb.len());
            for b in rb {
                let res = self.get(b, w);
                if res.is_empty() {
                    return Vec::new();
                }
                tried.push((b, res));
            }
            let causes = self.closest_branch(&tried, w).unwrap_or_default();
            let msg = format!(
                "reader union lacking writer type: {} ({})",
                kind_name(kw),
                self.writer.describe(w)
            );
            return vec![self.incompat(
                IncompatibilityKind::MissingUnionBranch,
                r,
                w,
                msg,
                unwrap_union_causes(causes),
            )];
        }
        vec![self.type_mismatch(r, w)]
    }

    /// The reasons of the reader branch closest to the writer type: same kind and (for named
    /// types) a matching name, else the first branch of the same kind.
    fn closest_branch(
        &self,
        tried: &[(&Node, Vec<Incompatibility>)],
        w: &Node,
    ) -> Option<Vec<Incompatibility>> {
        let kw = self.writer.kind(w);
        let same_name = |b: &Node| match (b, w) {
            (Node::Named(ri), Node::Named(wi)) => {
                match (self.reader.named(*ri), self.writer.named(*wi)) {
                    (Some(rn), Some(wn)) => {
                        rn.name == wn.name || rn.aliases.contains(&wn.full_name)
                    }
                    _ => false,
                }
            }
            _ => true,
        };
        tried
            .iter()
            .find(|(b, _)| self.reader.kind(b) == kw && same_name(b))
            .or_else(|| tried.iter().find(|(b, _)| self.reader.kind(b) == kw))
            .map(|(_, res)| res.clone())
    }

    fn type_mismatch(&self, r: &Node, w: &Node) -> Incompatibility {
        let msg = format!(
            "reader type {} is not compatible with writer type {}",
            self.reader.describe(r),
            self.writer.describe(w)
        );
        self.incompat(IncompatibilityKind::TypeMismatch, r, w, msg, Vec::new())
    }

    fn named(&mut self, r: &Node, w: &Node, ri: usize, wi: usize) -> Vec<Incompatibility> {
        let (Some(rn), Some(wn)) = (self.reader.named(ri), self.writer.named(wi)) else {
            return vec![self.type_mismatch(r, w)];
        };
        let mut out = Vec::new();
        // checkSchemaNames
        if rn.name != wn.name && !rn.aliases.contains(&wn.full_name) {
            let msg = format!(
                "name mismatch: reader {} `{}` cannot read writer {} `{}` (expected: {}; no reader alias matches)",
                rn.def.kind(),
                rn.full_name,
                wn.def.kind(),
                wn.full_name,
                wn.full_name
            );
            out.push(self.with_loc("name", |c| {
                c.incompat(IncompatibilityKind::NameMismatch, r, w, msg, Vec::new())
            }));
        }
        match (&rn.def, &wn.def) {
            (NamedDef::Fixed { size: rs }, NamedDef::Fixed { size: ws }) => {
                if rs != ws {
                    let msg = format!(
                        "fixed `{}` size mismatch: expected: {ws}, found: {rs}",
                        rn.name
                    );
                    out.push(self.with_loc("size", |c| {
                        c.incompat(
                            IncompatibilityKind::FixedSizeMismatch,
                            r,
                            w,
                            msg,
                            Vec::new(),
                        )
                    }));
                }
            }
            (
                NamedDef::Enum {
                    symbols: rsyms,
                    default,
                },
                NamedDef::Enum { symbols: wsyms, .. },
            ) => {
                let missing: BTreeSet<&String> =
                    wsyms.iter().filter(|s| !rsyms.contains(s)).collect();
                let has_default = default.as_ref().is_some_and(|d| rsyms.contains(d));
                if !missing.is_empty() && !has_default {
                    let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                    let msg = format!(
                        "enum `{}`: writer symbols missing in reader and the reader has no default: [{}]",
                        rn.name,
                        list.join(", ")
                    );
                    out.push(self.with_loc("symbols", |c| {
                        c.incompat(
                            IncompatibilityKind::MissingEnumSymbols,
                            r,
                            w,
                            msg,
                            Vec::new(),
                        )
                    }));
                }
            }
            (NamedDef::Record(rf), NamedDef::Record(wf)) => {
                let rname = rn.name.clone();
                out.extend(self.with_loc("fields", |c| c.record_fields(&rname, rf, wf, r, w)));
            }
            _ => out.push(self.type_mismatch(r, w)),
        }
        out
    }

    fn record_fields(
        &mut self,
        rname: &str,
        rf: &[Field],
        wf: &[Field],
        r: &Node,
        w: &Node,
    ) -> Vec<Incompatibility> {
        let mut out = Vec::new();
        for (pos, field) in rf.iter().enumerate() {
            self.loc.push(pos.to_string());
            self.fields.push(format!("{rname}.{}", field.name));
            self.path.push(field.name.clone());
            let matches: Vec<&Field> = wf
                .iter()
                .filter(|f| f.name == field.name || field.aliases.contains(&f.name))
                .collect();
            match matches.as_slice() {
                [] => {
                    let enum_default = match &field.node {
                        Node::Named(i) => matches!(
                            self.reader.named(*i).map(|n| &n.def),
                            Some(NamedDef::Enum {
                                default: Some(_),
                                ..
                            })
                        ),
                        _ => false,
                    };
                    if field.default.is_none() && enum_default {
                        // Java compares the enum with the writer record here: a type mismatch.
                        let res = self.with_loc("type", |c| c.get(&field.node, w));
                        out.extend(res);
                    } else if field.default.is_none() {
                        let msg = format!(
                            "reader field `{}` has no default value and is missing in the writer record",
                            field.name
                        );
                        out.push(self.incompat(
                            IncompatibilityKind::ReaderFieldMissingDefaultValue,
                            r,
                            w,
                            msg,
                            Vec::new(),
                        ));
                    }
                }
                [one] => {
                    let res = self.with_loc("type", |c| c.get(&field.node, &one.node));
                    out.extend(res);
                }
                many => {
                    let names: Vec<&str> = many.iter().map(|f| f.name.as_str()).collect();
                    let msg = format!(
                        "reader field `{}` matches several writer fields through its aliases: {}",
                        field.name,
                        names.join(", ")
                    );
                    out.push(self.incompat(
                        IncompatibilityKind::AmbiguousFieldAlias,
                        r,
                        w,
                        msg,
                        Vec::new(),
                    ));
                }
            }
            self.path.pop();
            self.fields.pop();
            self.loc.pop();
        }
        out
    }
}

/// A union mismatch nested in a union mismatch says nothing new: keep the deeper reasons.
fn unwrap_union_causes(res: Vec<Incompatibility>) -> Vec<Incompatibility> {
    match res.as_slice() {
        [only]
            if only.kind == IncompatibilityKind::MissingUnionBranch && !only.causes.is_empty() =>
        {
            only.causes.clone()
        }
        _ => res,
    }
}
