//! Schema documents, name resolution, Rust naming and the union registry.

use std::collections::{BTreeMap, BTreeSet};

use audit_avro_model::{Kind, LogicalType, NamedDef, Node, Prim};
use heck::{ToSnakeCase, ToUpperCamelCase};
use serde_json::Value as Json;

use crate::{Error, Options};

/// The generator's view of one schema node: the model's tree ([`audit_avro_model::Schema`])
/// with its logical types applied, each named type expanded where it is defined (the first
/// place a pre-order walk meets it) and a [`Schema::Ref`] everywhere after.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Schema {
    /// A primitive without a logical type (or with one the specification says to ignore).
    Prim(Prim),
    /// A primitive or fixed with a valid logical type (the generator supports those on
    /// primitives and reports the others as unsupported).
    Logical(LogicalType),
    Fixed(FixedSchema),
    Enum(EnumSchema),
    Record(RecordSchema),
    Array(ArraySchema),
    Map(MapSchema),
    Union(UnionSchema),
    /// A named type defined earlier.
    Ref {
        name: Name,
    },
}

/// The full and the unqualified name of a named type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Name {
    full: String,
    short: String,
}

impl Name {
    /// `namespace.name`
    pub fn fullname(&self) -> String {
        self.full.clone()
    }

    /// The unqualified name.
    pub fn name(&self) -> &str {
        &self.short
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordSchema {
    pub name: Name,
    pub doc: Option<String>,
    pub fields: Vec<RecordField>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordField {
    pub name: String,
    pub aliases: Vec<String>,
    pub schema: Schema,
    pub default: Option<Json>,
    pub doc: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EnumSchema {
    pub name: Name,
    pub doc: Option<String>,
    pub symbols: Vec<String>,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FixedSchema {
    pub name: Name,
    pub size: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArraySchema {
    pub items: Box<Schema>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MapSchema {
    pub types: Box<Schema>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UnionSchema {
    variants: Vec<Schema>,
}

impl UnionSchema {
    /// The branches in order.
    pub fn variants(&self) -> &[Schema] {
        &self.variants
    }
}

impl Schema {
    /// The primitive whose plain Rust value the generator uses for this node: a primitive's
    /// own, or the underlying `int`, `long` or `string` of a logical type without a Rust type
    /// of its own (all but `timestamp-millis` and `timestamp-micros`, which become
    /// `chrono::DateTime`, and the unsupported ones).
    pub fn plain(&self) -> Option<Prim> {
        match self {
            Schema::Prim(p) => Some(*p),
            Schema::Logical(LogicalType::Date | LogicalType::TimeMillis) => Some(Prim::Int),
            Schema::Logical(
                LogicalType::TimeMicros
                | LogicalType::TimestampNanos
                | LogicalType::LocalTimestampMillis
                | LogicalType::LocalTimestampMicros
                | LogicalType::LocalTimestampNanos,
            ) => Some(Prim::Long),
            Schema::Logical(LogicalType::Uuid) => Some(Prim::String),
            _ => None,
        }
    }

    /// The name of a named type (definition or reference).
    pub fn name(&self) -> Option<&Name> {
        match self {
            Schema::Record(RecordSchema { name, .. })
            | Schema::Enum(EnumSchema { name, .. })
            | Schema::Fixed(FixedSchema { name, .. })
            | Schema::Ref { name } => Some(name),
            _ => None,
        }
    }
}

/// One parsed schema with its named definitions.
pub(crate) struct Doc {
    pub root: Schema,
    /// full name -> definition (Record / Enum / Fixed)
    pub defs: BTreeMap<String, Schema>,
    /// full names in order of definition (pre-order)
    pub order: Vec<String>,
    /// The schema in the model (for its Parsing Canonical Form and logical types).
    pub model: audit_avro_model::Schema,
}

impl Doc {
    pub fn parse(json: &str) -> Result<Self, Error> {
        let model = audit_avro_model::Schema::parse(json).map_err(Error::Parse)?;
        let mut conv = Convert {
            model: &model,
            expanded: vec![false; model.named.len()],
            defs: BTreeMap::new(),
        };
        let root = conv.node(&model.root, "$")?;
        let defs = conv.defs;
        let order = model.named.iter().map(|n| n.full_name.clone()).collect();
        Ok(Doc {
            root,
            defs,
            order,
            model,
        })
    }

    /// The binary layout of the schema: the model's Parsing Canonical Form (logical types
    /// stripped: schema resolution works on the underlying types).
    pub fn layout_key(&self) -> String {
        self.model.canonical_form()
    }

    /// Follows a `Schema::Ref` to its definition.
    pub fn resolve<'a>(&'a self, s: &'a Schema) -> Result<&'a Schema, Error> {
        match s {
            Schema::Ref { name } => self
                .defs
                .get(&name.full)
                .ok_or_else(|| Error::UnknownName(name.fullname())),
            other => Ok(other),
        }
    }
}

/// Turns the model's tree into [`Schema`] values.
struct Convert<'m> {
    model: &'m audit_avro_model::Schema,
    /// named types already expanded at their definition
    expanded: Vec<bool>,
    defs: BTreeMap<String, Schema>,
}

impl Convert<'_> {
    /// `node` found at JSON path `path` (the model's paths, which key its logical types).
    fn node(&mut self, node: &Node, path: &str) -> Result<Schema, Error> {
        let logical = self.model.logical_type(path);
        Ok(match node {
            Node::Prim(p) => prim_schema(*p, logical),
            Node::Array(items) => Schema::Array(ArraySchema {
                items: Box::new(self.node(items, &format!("{path}.items"))?),
            }),
            Node::Map(values) => Schema::Map(MapSchema {
                types: Box::new(self.node(values, &format!("{path}.values"))?),
            }),
            Node::Union(branches) => Schema::Union(UnionSchema {
                variants: branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| self.node(b, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            }),
            Node::Named(i) => self.named(*i, path, logical)?,
        })
    }

    fn named(
        &mut self,
        index: usize,
        path: &str,
        logical: Option<LogicalType>,
    ) -> Result<Schema, Error> {
        let named = self
            .model
            .named(index)
            .ok_or_else(|| Error::UnknownName(format!("#{index}")))?;
        let name = Name {
            full: named.full_name.clone(),
            short: named.name.clone(),
        };
        match self.expanded.get_mut(index) {
            Some(done) if !*done => *done = true,
            _ => return Ok(Schema::Ref { name }),
        }
        let def = match &named.def {
            NamedDef::Record(fields) => Schema::Record(RecordSchema {
                name,
                doc: named.doc.clone(),
                fields: fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        Ok(RecordField {
                            name: f.name.clone(),
                            aliases: f.aliases.clone(),
                            schema: self.node(&f.node, &format!("{path}.fields[{i}].type"))?,
                            default: f.default.clone(),
                            doc: f.doc.clone(),
                        })
                    })
                    .collect::<Result<_, Error>>()?,
            }),
            NamedDef::Enum { symbols, default } => Schema::Enum(EnumSchema {
                name,
                doc: named.doc.clone(),
                symbols: symbols.clone(),
                default: default.clone(),
            }),
            NamedDef::Fixed { size } => match logical {
                Some(l) => Schema::Logical(l),
                None => Schema::Fixed(FixedSchema { name, size: *size }),
            },
        };
        self.defs.insert(named.full_name.clone(), def.clone());
        Ok(def)
    }
}

/// The node of primitive `p` annotated with `logical`.
fn prim_schema(p: Prim, logical: Option<LogicalType>) -> Schema {
    match logical {
        Some(l) => Schema::Logical(l),
        None => Schema::Prim(p),
    }
}

/// Full name of a named schema (definition or reference).
pub(crate) fn full_name(s: &Schema) -> Option<String> {
    s.name().map(|n| n.fullname())
}

/// Unqualified name of a named schema.
pub(crate) fn short_name(s: &Schema) -> Option<&str> {
    s.name().map(|n| n.name())
}

/// The physical (wire) kind of a schema, logical types reduced to their base type: the
/// model's [`Kind`].
pub(crate) type Phys = Kind;

/// The primitive of a primitive kind (`None` for the complex kinds).
pub(crate) fn prim(k: Phys) -> Option<Prim> {
    match k {
        Kind::Prim(p) => Some(p),
        _ => None,
    }
}

pub(crate) fn phys(s: &Schema) -> Result<Phys, Error> {
    Ok(match s {
        Schema::Logical(LogicalType::TimestampMillis | LogicalType::TimestampMicros) => {
            Phys::Prim(Prim::Long)
        }
        Schema::Fixed(_) => Phys::Fixed,
        Schema::Enum(_) => Phys::Enum,
        Schema::Record(_) => Phys::Record,
        Schema::Array(_) => Phys::Array,
        Schema::Map(_) => Phys::Map,
        Schema::Union(_) => Phys::Union,
        Schema::Ref { .. } => Phys::Record, // callers resolve refs first
        other => match other.plain() {
            Some(p) => Phys::Prim(p),
            None => return Err(Error::Unsupported(format!("{other:?}"))),
        },
    })
}

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Makes `name` a valid Rust identifier: keywords become raw identifiers (`r#type`), the ones
/// that cannot be raw (`self`, `Self`, `super`, `crate`) get a trailing underscore.
pub(crate) fn ident(name: &str) -> String {
    if matches!(name, "self" | "Self" | "super" | "crate" | "_") {
        format!("{name}_")
    } else if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name.to_owned()
    }
}

/// Rust field name of an Avro field name.
pub(crate) fn field_ident(avro: &str) -> String {
    ident(&avro.to_snake_case())
}

/// Rust variant name of an Avro enum symbol.
pub(crate) fn variant_ident(symbol: &str) -> String {
    ident(&symbol.to_upper_camel_case())
}

/// Identity of a union branch (for the union registry and overrides).
pub(crate) fn branch_key(s: &Schema) -> Result<String, Error> {
    Ok(match s {
        Schema::Record(_) | Schema::Enum(_) | Schema::Fixed(_) | Schema::Ref { .. } => {
            full_name(s).unwrap_or_default()
        }
        Schema::Array(a) => format!("array<{}>", branch_key(&a.items)?),
        Schema::Map(m) => format!("map<{}>", branch_key(&m.types)?),
        Schema::Prim(Prim::Null) => "null".into(),
        Schema::Prim(Prim::Boolean) => "boolean".into(),
        Schema::Prim(Prim::Int) => "int".into(),
        Schema::Prim(Prim::Long) => "long".into(),
        Schema::Prim(Prim::Float) => "float".into(),
        Schema::Prim(Prim::Double) => "double".into(),
        Schema::Prim(Prim::Bytes) => "bytes".into(),
        Schema::Prim(Prim::String) => "string".into(),
        Schema::Logical(LogicalType::Uuid) => "uuid".into(),
        Schema::Logical(LogicalType::Date) => "date".into(),
        Schema::Logical(LogicalType::TimeMillis) => "time-millis".into(),
        Schema::Logical(LogicalType::TimeMicros) => "time-micros".into(),
        Schema::Logical(LogicalType::TimestampMillis) => "timestamp-millis".into(),
        Schema::Logical(LogicalType::TimestampMicros) => "timestamp-micros".into(),
        other => return Err(Error::Unsupported(format!("{other:?} in a union"))),
    })
}

/// A Rust enum generated for a union with several non-null branches (or one, without null).
pub(crate) struct UnionDef {
    pub key: Vec<String>,
    pub rust_name: String,
    /// (variant name, branch schema) for every non-null branch, in union order
    pub variants: Vec<(String, Schema)>,
}

/// How a reader union maps to Rust.
pub(crate) enum Shape {
    /// `["null", T]` / `[T, "null"]`: `Option<T>`.
    Option {
        null_idx: usize,
        some_idx: usize,
        inner: Schema,
    },
    /// several branches: a generated enum (`Option<enum>` when `null_idx` is set).
    Enum {
        null_idx: Option<usize>,
        union: usize,
        /// avro branch index of each variant, in variant order
        branch_idx: Vec<usize>,
    },
}

/// Names, unions and Rust types of the reader schema.
pub(crate) struct Model<'o> {
    pub doc: Doc,
    pub opts: &'o Options,
    /// full name -> Rust type name
    pub rust_names: BTreeMap<String, String>,
    pub unions: Vec<UnionDef>,
    /// order of the type definitions: Ok(named full name) / Err(union index)
    pub items: Vec<Result<String, usize>>,
}

impl<'o> Model<'o> {
    pub fn new(doc: Doc, opts: &'o Options) -> Result<Self, Error> {
        // Rust names: short names, namespace-qualified where short names clash.
        let mut by_short: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for full in &doc.order {
            let short = full.rsplit('.').next().unwrap_or(full).to_owned();
            by_short.entry(short).or_default().push(full.clone());
        }
        let mut rust_names = BTreeMap::new();
        for (short, fulls) in &by_short {
            for full in fulls {
                let name = if fulls.len() > 1 {
                    ident(&full.replace('.', "_").to_upper_camel_case())
                } else {
                    ident(short)
                };
                rust_names.insert(full.clone(), name);
            }
        }
        let mut m = Model {
            doc,
            opts,
            rust_names,
            unions: Vec::new(),
            items: Vec::new(),
        };
        let root = m.doc.root.clone();
        reject_recursion(&m.doc, &root, &mut Vec::new())?;
        let mut seen = BTreeSet::new();
        m.discover(&root, &mut seen)?;
        let mut taken: BTreeSet<&str> = m.rust_names.values().map(String::as_str).collect();
        for u in &m.unions {
            if !taken.insert(u.rust_name.as_str()) {
                return Err(Error::NameClash(u.rust_name.clone()));
            }
        }
        Ok(m)
    }

    fn discover(&mut self, s: &Schema, seen: &mut BTreeSet<String>) -> Result<(), Error> {
        match s {
            Schema::Record(r) => {
                let full = r.name.fullname();
                if seen.insert(full.clone()) {
                    self.items.push(Ok(full));
                    let mut idents = BTreeSet::new();
                    for f in &r.fields {
                        if !idents.insert(field_ident(&f.name)) {
                            return Err(Error::NameClash(format!(
                                "field {} of {}",
                                f.name,
                                r.name.fullname()
                            )));
                        }
                        self.discover(&f.schema, seen)?;
                    }
                }
            }
            Schema::Enum(e) => {
                let full = e.name.fullname();
                if seen.insert(full.clone()) {
                    self.items.push(Ok(full.clone()));
                    let mut idents = BTreeSet::new();
                    for sym in &e.symbols {
                        if !idents.insert(variant_ident(sym)) {
                            return Err(Error::NameClash(format!("symbol {sym} of {full}")));
                        }
                    }
                }
            }
            Schema::Fixed(_) => {}
            Schema::Array(a) => self.discover(&a.items, seen)?,
            Schema::Map(m) => self.discover(&m.types, seen)?,
            Schema::Union(u) => {
                // definitions inside come first, so the union type follows its branch types
                for b in u.variants() {
                    self.discover(b, seen)?;
                }
                self.register_union(u)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn register_union(&mut self, u: &UnionSchema) -> Result<Option<usize>, Error> {
        let non_null: Vec<&Schema> = u
            .variants()
            .iter()
            .filter(|b| !matches!(b, Schema::Prim(Prim::Null)))
            .collect();
        let has_null = non_null.len() < u.variants().len();
        if non_null.is_empty() {
            return Err(Error::Unsupported("a union of only null".into()));
        }
        if has_null && non_null.len() == 1 {
            return Ok(None);
        }
        let key = non_null
            .iter()
            .map(|b| branch_key(b))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(i) = self.unions.iter().position(|d| d.key == key) {
            return Ok(Some(i));
        }
        let mut variants = Vec::new();
        for b in &non_null {
            variants.push((self.variant_name(b)?, (*b).clone()));
        }
        let rust_name = match self.opts.union_names.iter().find(|(k, _)| *k == key) {
            Some((_, n)) => n.clone(),
            None => variants
                .iter()
                .map(|(v, _)| v.trim_start_matches("r#").to_owned())
                .collect::<Vec<_>>()
                .join("Or"),
        };
        self.unions.push(UnionDef {
            key,
            rust_name,
            variants,
        });
        self.items.push(Err(self.unions.len() - 1));
        Ok(Some(self.unions.len() - 1))
    }

    fn variant_name(&self, b: &Schema) -> Result<String, Error> {
        Ok(match b {
            Schema::Record(_) | Schema::Enum(_) | Schema::Fixed(_) | Schema::Ref { .. } => {
                self.named_rust(b)?
            }
            Schema::Array(_) => "Array".into(),
            Schema::Map(_) => "Map".into(),
            other => branch_key(other)?.to_upper_camel_case(),
        })
    }

    /// Rust type name of a named schema (definition or reference).
    pub fn named_rust(&self, s: &Schema) -> Result<String, Error> {
        let full = full_name(s).unwrap_or_default();
        self.rust_names
            .get(&full)
            .cloned()
            .ok_or(Error::UnknownName(full))
    }

    pub fn union_index(&self, u: &UnionSchema) -> Option<usize> {
        let key: Vec<String> = u
            .variants()
            .iter()
            .filter(|b| !matches!(b, Schema::Prim(Prim::Null)))
            .filter_map(|b| branch_key(b).ok())
            .collect();
        self.unions.iter().position(|d| d.key == key)
    }

    pub fn shape(&self, u: &UnionSchema) -> Result<Shape, Error> {
        let vs = u.variants();
        let null_idx = vs
            .iter()
            .position(|b| matches!(b, Schema::Prim(Prim::Null)));
        let non_null: Vec<usize> = (0..vs.len()).filter(|i| Some(*i) != null_idx).collect();
        match (null_idx, non_null.as_slice()) {
            (Some(n), [i]) => Ok(Shape::Option {
                null_idx: n,
                some_idx: *i,
                inner: vs.get(*i).cloned().unwrap_or(Schema::Prim(Prim::Null)),
            }),
            _ => Ok(Shape::Enum {
                null_idx,
                union: self
                    .union_index(u)
                    .ok_or_else(|| Error::Unsupported("unregistered union".into()))?,
                branch_idx: non_null,
            }),
        }
    }

    /// The Rust type of Avro strings in the owned types ([`Options::string_type`]).
    pub fn string_type(&self) -> &str {
        &self.opts.string_type
    }

    /// The decoder call (on the reader `r`) of an owned string.
    pub fn read_string_call(&self) -> String {
        match self.string_type() {
            "String" => "r.read_string()".into(),
            ty => format!("r.read_owned_str().map({ty}::from)"),
        }
    }

    /// An expression turning the `&str` expression `e` into an owned string.
    pub fn own_str(&self, e: &str) -> String {
        match self.string_type() {
            "String" => format!("{e}.to_owned()"),
            ty => format!("{ty}::from({e})"),
        }
    }

    /// The Rust type of a (reader) schema.
    pub fn rust_type(&self, s: &Schema) -> Result<String, Error> {
        self.rust_type_v(s, false)
    }

    /// True when the zero-copy view of `s` borrows from the datum (strings, bytes, map keys).
    pub fn borrows(&self, s: &Schema) -> bool {
        match s {
            Schema::Prim(Prim::String)
            | Schema::Logical(LogicalType::Uuid)
            | Schema::Prim(Prim::Bytes)
            | Schema::Map(_) => true,
            Schema::Ref { .. } => self.doc.resolve(s).is_ok_and(|d| self.borrows(d)),
            Schema::Record(r) => r.fields.iter().any(|f| self.borrows(&f.schema)),
            Schema::Array(a) => self.borrows(&a.items),
            Schema::Union(u) => u.variants().iter().any(|b| self.borrows(b)),
            _ => false,
        }
    }

    /// The Rust type of a schema, as owned type or (`view`) as zero-copy view type.
    pub fn rust_type_v(&self, s: &Schema, view: bool) -> Result<String, Error> {
        if view {
            match s {
                Schema::Prim(Prim::String) | Schema::Logical(LogicalType::Uuid) => {
                    return Ok("&'a str".into());
                }
                Schema::Prim(Prim::Bytes) => return Ok("&'a [u8]".into()),
                Schema::Record(_) if self.borrows(s) => {
                    return Ok(format!("{}Ref<'a>", self.named_rust(s)?));
                }
                Schema::Map(m) => {
                    return Ok(format!(
                        "std::collections::BTreeMap<&'a str, {}>",
                        self.rust_type_v(&m.types, true)?
                    ));
                }
                _ => {}
            }
        }
        Ok(match s {
            Schema::Prim(Prim::Null) => "()".into(),
            Schema::Prim(Prim::Boolean) => "bool".into(),
            n if n.plain() == Some(Prim::Int) => "i32".into(),
            n if n.plain() == Some(Prim::Long) => "i64".into(),
            Schema::Logical(LogicalType::TimestampMillis | LogicalType::TimestampMicros) => {
                "chrono::DateTime<chrono::Utc>".into()
            }
            Schema::Prim(Prim::Float) => "f32".into(),
            Schema::Prim(Prim::Double) => "f64".into(),
            Schema::Prim(Prim::Bytes) => "Vec<u8>".into(),
            Schema::Prim(Prim::String) | Schema::Logical(LogicalType::Uuid) => {
                self.string_type().into()
            }
            Schema::Fixed(f) => format!("[u8; {}]", f.size),
            Schema::Record(_) | Schema::Enum(_) => self.named_rust(s)?,
            Schema::Ref { .. } => {
                let d = self.doc.resolve(s)?;
                self.rust_type_v(d, view)?
            }
            Schema::Array(a) => format!("Vec<{}>", self.rust_type_v(&a.items, view)?),
            Schema::Map(m) => format!(
                "std::collections::BTreeMap<{}, {}>",
                self.string_type(),
                self.rust_type(&m.types)?
            ),
            Schema::Union(u) => match self.shape(u)? {
                Shape::Option { inner, .. } => {
                    format!("Option<{}>", self.rust_type_v(&inner, view)?)
                }
                Shape::Enum {
                    null_idx, union, ..
                } => {
                    let name = self.union_type(union, view);
                    if null_idx.is_some() {
                        format!("Option<{name}>")
                    } else {
                        name
                    }
                }
            },
            other => return Err(Error::Unsupported(format!("{other:?}"))),
        })
    }

    /// The Rust type of union `union`: the owned enum, or its view enum when it borrows.
    pub fn union_type(&self, union: usize, view: bool) -> String {
        let Some(d) = self.unions.get(union) else {
            return String::new();
        };
        if view && d.variants.iter().any(|(_, b)| self.borrows(b)) {
            format!("{}Ref<'a>", d.rust_name)
        } else {
            d.rust_name.clone()
        }
    }

    /// The path of union `union`'s enum for constructing variants (no lifetime).
    pub fn union_path(&self, union: usize, view: bool) -> String {
        self.union_type(union, view)
            .trim_end_matches("<'a>")
            .to_owned()
    }

    /// True when the Rust type of `s` contains a float (so `Eq`/`Hash` cannot be derived).
    pub fn has_float(&self, s: &Schema, seen: &mut BTreeSet<String>) -> bool {
        match s {
            Schema::Prim(Prim::Float | Prim::Double) => true,
            Schema::Ref { .. } => match self.doc.resolve(s) {
                Ok(d) => self.has_float(d, seen),
                Err(_) => false,
            },
            Schema::Record(r) => {
                if !seen.insert(r.name.fullname()) {
                    return false;
                }
                r.fields.iter().any(|f| self.has_float(&f.schema, seen))
            }
            Schema::Array(a) => self.has_float(&a.items, seen),
            Schema::Map(m) => self.has_float(&m.types, seen),
            Schema::Union(u) => u.variants().iter().any(|b| self.has_float(b, seen)),
            _ => false,
        }
    }
}

/// Recursive types would need boxing and a decoder depth limit (stack use driven by the
/// input): the generator does not support them.
fn reject_recursion(doc: &Doc, s: &Schema, stack: &mut Vec<String>) -> Result<(), Error> {
    match s {
        Schema::Ref { .. } => {
            let d = doc.resolve(s)?;
            reject_recursion(doc, d, stack)
        }
        Schema::Record(r) => {
            let full = r.name.fullname();
            if stack.contains(&full) {
                return Err(Error::Unsupported(format!("recursive type {full}")));
            }
            stack.push(full);
            for f in &r.fields {
                reject_recursion(doc, &f.schema, stack)?;
            }
            stack.pop();
            Ok(())
        }
        Schema::Array(a) => reject_recursion(doc, &a.items, stack),
        Schema::Map(m) => reject_recursion(doc, &m.types, stack),
        Schema::Union(u) => u
            .variants()
            .iter()
            .try_for_each(|b| reject_recursion(doc, b, stack)),
        _ => Ok(()),
    }
}

/// Minimum number of bytes one value of `s` takes on the wire.
pub(crate) fn min_size(doc: &Doc, s: &Schema, stack: &mut Vec<String>) -> usize {
    match s {
        Schema::Prim(Prim::Null) => 0,
        Schema::Prim(Prim::Float) => 4,
        Schema::Prim(Prim::Double) => 8,
        Schema::Fixed(f) => f.size,
        Schema::Ref { .. } => match doc.resolve(s) {
            Ok(d) => min_size(doc, d, stack),
            Err(_) => 0,
        },
        Schema::Record(r) => {
            let full = r.name.fullname();
            if stack.contains(&full) {
                return 0;
            }
            stack.push(full);
            let n = r
                .fields
                .iter()
                .map(|f| min_size(doc, &f.schema, stack))
                .sum();
            stack.pop();
            n
        }
        Schema::Union(u) => {
            1 + u
                .variants()
                .iter()
                .map(|b| min_size(doc, b, stack))
                .min()
                .unwrap_or(0)
        }
        // boolean, int, long, enum index, string/bytes length, array/map terminator
        _ => 1,
    }
}
