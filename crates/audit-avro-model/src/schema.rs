//! The schema tree: primitives, arrays, maps, unions and named types (records, enums, fixed)
//! kept in one table with their full names, namespaces and aliases. Logical types are reduced to
//! their underlying Avro type (what the wire format, the resolution rules and the Parsing
//! Canonical Form see).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde_json::{Map, Value};

/// The eight primitive types of Avro.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prim {
    /// `null`
    Null,
    /// `boolean`
    Boolean,
    /// `int`
    Int,
    /// `long`
    Long,
    /// `float`
    Float,
    /// `double`
    Double,
    /// `bytes`
    Bytes,
    /// `string`
    String,
}

impl Prim {
    /// All primitives.
    pub const ALL: [Prim; 8] = [
        Prim::Null,
        Prim::Boolean,
        Prim::Int,
        Prim::Long,
        Prim::Float,
        Prim::Double,
        Prim::Bytes,
        Prim::String,
    ];

    /// The type name (`"int"`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Prim::Null => "null",
            Prim::Boolean => "boolean",
            Prim::Int => "int",
            Prim::Long => "long",
            Prim::Float => "float",
            Prim::Double => "double",
            Prim::Bytes => "bytes",
            Prim::String => "string",
        }
    }

    /// The primitive called `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Prim> {
        Prim::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// One node of a schema tree; named types point into [`Schema::named`].
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A primitive (a logical type reduced to its underlying primitive).
    Prim(Prim),
    /// `{"type": "array", "items": ...}`
    Array(Box<Node>),
    /// `{"type": "map", "values": ...}`
    Map(Box<Node>),
    /// `[...]`
    Union(Vec<Node>),
    /// A record, enum or fixed: the index into [`Schema::named`].
    Named(usize),
}

/// A named type (record, enum or fixed).
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    /// `namespace.name`
    pub full_name: String,
    /// The unqualified name.
    pub name: String,
    /// The namespace, if any.
    pub namespace: Option<String>,
    /// Fully qualified aliases.
    pub aliases: Vec<String>,
    /// Declared with `"type": "error"` instead of `"record"`.
    pub error: bool,
    /// The `doc` string, if any (not part of the canonical form).
    pub doc: Option<String>,
    /// The definition.
    pub def: NamedDef,
}

/// The definition of a named type.
#[derive(Debug, Clone, PartialEq)]
pub enum NamedDef {
    /// A record's fields.
    Record(Vec<Field>),
    /// An enum.
    Enum {
        /// The symbols, in order.
        symbols: Vec<String>,
        /// The default symbol (read for unknown writer symbols).
        default: Option<String>,
    },
    /// A fixed.
    Fixed {
        /// The size in bytes.
        size: usize,
    },
}

impl NamedDef {
    /// `record`, `enum` or `fixed`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            NamedDef::Record(_) => "record",
            NamedDef::Enum { .. } => "enum",
            NamedDef::Fixed { .. } => "fixed",
        }
    }
}

/// A record field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The name.
    pub name: String,
    /// The field's aliases (plain names).
    pub aliases: Vec<String>,
    /// The field's type.
    pub node: Node,
    /// The default value, as written in the schema.
    pub default: Option<Value>,
    /// The `doc` string, if any (not part of the canonical form).
    pub doc: Option<String>,
}

/// The type kind of a node, as Java names `Schema.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A primitive.
    Prim(Prim),
    /// An array.
    Array,
    /// A map.
    Map,
    /// A union.
    Union,
    /// A record.
    Record,
    /// An enum.
    Enum,
    /// A fixed.
    Fixed,
}

/// A logical type (`"logicalType"`) on a valid underlying type. An unknown logical type, or one
/// on an underlying type it does not annotate, is ignored, as the specification asks (the node
/// is then its underlying type only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogicalType {
    /// `date` on `int`
    Date,
    /// `time-millis` on `int`
    TimeMillis,
    /// `time-micros` on `long`
    TimeMicros,
    /// `timestamp-millis` on `long`
    TimestampMillis,
    /// `timestamp-micros` on `long`
    TimestampMicros,
    /// `timestamp-nanos` on `long`
    TimestampNanos,
    /// `local-timestamp-millis` on `long`
    LocalTimestampMillis,
    /// `local-timestamp-micros` on `long`
    LocalTimestampMicros,
    /// `local-timestamp-nanos` on `long`
    LocalTimestampNanos,
    /// `uuid` on `string`
    Uuid,
    /// `uuid` on a `fixed` of size 16
    UuidFixed,
    /// `decimal` on `bytes` or `fixed`
    Decimal {
        /// digits in total (at least 1)
        precision: u64,
        /// digits after the point (at most `precision`)
        scale: u64,
    },
    /// `duration` on a `fixed` of size 12
    Duration,
}

impl LogicalType {
    /// The `logicalType` name (`"timestamp-millis"`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            LogicalType::Date => "date",
            LogicalType::TimeMillis => "time-millis",
            LogicalType::TimeMicros => "time-micros",
            LogicalType::TimestampMillis => "timestamp-millis",
            LogicalType::TimestampMicros => "timestamp-micros",
            LogicalType::TimestampNanos => "timestamp-nanos",
            LogicalType::LocalTimestampMillis => "local-timestamp-millis",
            LogicalType::LocalTimestampMicros => "local-timestamp-micros",
            LogicalType::LocalTimestampNanos => "local-timestamp-nanos",
            LogicalType::Uuid | LogicalType::UuidFixed => "uuid",
            LogicalType::Decimal { .. } => "decimal",
            LogicalType::Duration => "duration",
        }
    }

    /// The logical type `object` declares on a primitive `prim`, if it is valid there.
    fn on_prim(object: &Map<String, Value>, prim: Prim) -> Option<LogicalType> {
        let name = object.get("logicalType")?.as_str()?;
        Some(match (name, prim) {
            ("date", Prim::Int) => LogicalType::Date,
            ("time-millis", Prim::Int) => LogicalType::TimeMillis,
            ("time-micros", Prim::Long) => LogicalType::TimeMicros,
            ("timestamp-millis", Prim::Long) => LogicalType::TimestampMillis,
            ("timestamp-micros", Prim::Long) => LogicalType::TimestampMicros,
            ("timestamp-nanos", Prim::Long) => LogicalType::TimestampNanos,
            ("local-timestamp-millis", Prim::Long) => LogicalType::LocalTimestampMillis,
            ("local-timestamp-micros", Prim::Long) => LogicalType::LocalTimestampMicros,
            ("local-timestamp-nanos", Prim::Long) => LogicalType::LocalTimestampNanos,
            ("uuid", Prim::String) => LogicalType::Uuid,
            ("decimal", Prim::Bytes) => decimal(object, None)?,
            _ => return None,
        })
    }

    /// The logical type `object` declares on a fixed of `size` bytes, if it is valid there.
    fn on_fixed(object: &Map<String, Value>, size: usize) -> Option<LogicalType> {
        match object.get("logicalType")?.as_str()? {
            "uuid" if size == 16 => Some(LogicalType::UuidFixed),
            "duration" if size == 12 => Some(LogicalType::Duration),
            "decimal" => decimal(object, Some(size)),
            _ => None,
        }
    }
}

/// A valid `decimal` annotation (precision at least 1, scale at most precision, and on a fixed
/// a precision its size can hold).
fn decimal(object: &Map<String, Value>, fixed_size: Option<usize>) -> Option<LogicalType> {
    let precision = object.get("precision")?.as_u64()?;
    let scale = match object.get("scale") {
        None => 0,
        Some(s) => s.as_u64()?,
    };
    if precision == 0 || scale > precision {
        return None;
    }
    if let Some(size) = fixed_size {
        // floor(log10(2^(8*size-1) - 1)) digits fit into `size` bytes
        let bits = u32::try_from(size.checked_mul(8)?.checked_sub(1)?).ok()?;
        let digits = f64::from(bits) * std::f64::consts::LOG10_2;
        if f64::from(u32::try_from(precision).ok()?) > digits.floor() {
            return None;
        }
    }
    Some(LogicalType::Decimal { precision, scale })
}

/// A parsed schema: the root node and the table of named types, in order of definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The top-level type.
    pub root: Node,
    /// The named types in order of definition (pre-order, as written).
    pub named: Vec<Named>,
    /// The valid logical types, keyed by the JSON path of the schema object that declares them
    /// (`$.fields[0].type`, `$.fields[1].type[1]`; a fixed's at its definition). See
    /// [`Schema::logical_type`].
    pub logical_types: BTreeMap<String, LogicalType>,
}

impl Schema {
    /// Parses and validates the schema text `json`.
    ///
    /// Accepts what the specification allows (and what Java accepts): type names, objects,
    /// unions, `{"type": "Name"}` references, names resolved against the enclosing namespace,
    /// a short name of the null namespace used inside another namespace. Named types must be
    /// defined before they are referenced.
    ///
    /// # Errors
    ///
    /// [`SchemaError`] (with the JSON path of the problem) when the text is not JSON or not a
    /// valid Avro schema: unknown type, reference to an undefined name, a name defined twice, a
    /// missing or invalid attribute, invalid names or symbols, duplicate fields or symbols.
    pub fn parse(json: &str) -> Result<Schema, SchemaError> {
        let value: Value = serde_json::from_str(json).map_err(|e| SchemaError {
            path: String::new(),
            reason: "the schema is not valid JSON".to_owned(),
            source: Some(e),
        })?;
        Schema::from_value(&value)
    }

    /// Parses and validates an already decoded JSON schema (see [`Schema::parse`]).
    ///
    /// # Errors
    ///
    /// [`SchemaError`] when `value` is not a valid Avro schema.
    pub fn from_value(value: &Value) -> Result<Schema, SchemaError> {
        let mut parser = Parser::default();
        let root = parser.schema(value, "", "$")?;
        Ok(Schema {
            root,
            named: parser.named,
            logical_types: parser.logical_types,
        })
    }

    /// The logical type of the schema object at JSON path `path` (as [`SchemaError::path`]
    /// writes paths: `$` for the root, then `.fields[i].type`, `[i]` for a union branch,
    /// `.items`, `.values`). A named type's logical type sits at the path of its definition,
    /// which is the first place a pre-order walk of the tree meets it.
    #[must_use]
    pub fn logical_type(&self, path: &str) -> Option<LogicalType> {
        self.logical_types.get(path).copied()
    }

    /// The named type at `index` (`None` only for an index of another schema).
    #[must_use]
    pub fn named(&self, index: usize) -> Option<&Named> {
        self.named.get(index)
    }

    /// The named type called `full_name`.
    #[must_use]
    pub fn lookup(&self, full_name: &str) -> Option<(usize, &Named)> {
        self.named
            .iter()
            .enumerate()
            .find(|(_, n)| n.full_name == full_name)
    }

    /// The type kind of `node`.
    #[must_use]
    pub fn kind(&self, node: &Node) -> Kind {
        match node {
            Node::Prim(p) => Kind::Prim(*p),
            Node::Array(_) => Kind::Array,
            Node::Map(_) => Kind::Map,
            Node::Union(_) => Kind::Union,
            Node::Named(i) => match self.named(*i).map(|n| &n.def) {
                Some(NamedDef::Record(_)) | None => Kind::Record,
                Some(NamedDef::Enum { .. }) => Kind::Enum,
                Some(NamedDef::Fixed { .. }) => Kind::Fixed,
            },
        }
    }

    /// A short human-readable name of a node's type: `string`, `array`, `record AuditUser`.
    #[must_use]
    pub fn describe(&self, node: &Node) -> String {
        match node {
            Node::Prim(p) => p.as_str().to_owned(),
            Node::Array(_) => "array".to_owned(),
            Node::Map(_) => "map".to_owned(),
            Node::Union(branches) => {
                let parts: Vec<String> = branches.iter().map(|b| self.describe(b)).collect();
                format!("union [{}]", parts.join(", "))
            }
            Node::Named(i) => match self.named(*i) {
                Some(n) => format!("{} {}", n.def.kind(), n.name),
                None => "unknown".to_owned(),
            },
        }
    }
}

/// Why a schema text is not a valid Avro schema: invalid JSON or an invalid schema.
#[derive(Debug)]
pub struct SchemaError {
    path: String,
    reason: String,
    source: Option<serde_json::Error>,
}

impl SchemaError {
    fn at(path: &str, reason: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            reason: reason.into(),
            source: None,
        }
    }

    /// Where in the schema the problem is, as a JSON path (`$.fields[2].type`); empty when the
    /// text is not JSON at all.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "invalid Avro schema: {}", self.reason)
        } else {
            write!(f, "invalid Avro schema at {}: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for SchemaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[derive(Default)]
struct Parser {
    named: Vec<Named>,
    by_name: HashMap<String, usize>,
    logical_types: BTreeMap<String, LogicalType>,
}

impl Parser {
    fn schema(&mut self, schema: &Value, namespace: &str, path: &str) -> Result<Node, SchemaError> {
        match schema {
            Value::String(name) => self.reference(name, namespace, path),
            Value::Array(branches) => {
                let mut nodes = Vec::with_capacity(branches.len());
                for (i, branch) in branches.iter().enumerate() {
                    nodes.push(self.schema(branch, namespace, &format!("{path}[{i}]"))?);
                }
                Ok(Node::Union(nodes))
            }
            Value::Object(object) => self.object(object, namespace, path),
            Value::Null | Value::Bool(_) | Value::Number(_) => Err(SchemaError::at(
                path,
                "a schema must be a type name, an object or an array (union)",
            )),
        }
    }

    /// A type name: a primitive or a reference to a named type defined before.
    fn reference(&mut self, name: &str, namespace: &str, path: &str) -> Result<Node, SchemaError> {
        if let Some(p) = Prim::from_name(name) {
            return Ok(Node::Prim(p));
        }
        let full = resolve(name, namespace);
        if let Some(i) = self.by_name.get(&full) {
            return Ok(Node::Named(*i));
        }
        // A short name that is not defined in the enclosing namespace may still name a type in
        // the null namespace (what Java and Python accept as well).
        if !name.contains('.')
            && let Some(i) = self.by_name.get(name)
        {
            return Ok(Node::Named(*i));
        }
        Err(SchemaError::at(
            path,
            format!(
                "unknown type `{name}` (resolved as `{full}`; named types must be defined before use)"
            ),
        ))
    }

    fn object(
        &mut self,
        object: &Map<String, Value>,
        namespace: &str,
        path: &str,
    ) -> Result<Node, SchemaError> {
        let type_name = match object.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(_) => {
                return Err(SchemaError::at(
                    path,
                    "the `type` attribute of a schema object must be a string",
                ));
            }
            None => return Err(SchemaError::at(path, "missing `type` attribute")),
        };
        if let Some(p) = Prim::from_name(type_name) {
            // `{"type":"long","logicalType":...}` is a `long` on the wire
            if let Some(logical) = LogicalType::on_prim(object, p) {
                self.logical_types.insert(path.to_owned(), logical);
            }
            return Ok(Node::Prim(p));
        }
        match type_name {
            "record" | "error" => self.record(object, type_name == "error", namespace, path),
            "enum" => {
                let index = self.define(object, namespace, path)?;
                let symbols = match object.get("symbols") {
                    Some(Value::Array(symbols)) => symbols,
                    _ => return Err(SchemaError::at(path, "an enum needs a `symbols` array")),
                };
                let mut names = Vec::with_capacity(symbols.len());
                let mut seen = HashSet::new();
                for (i, symbol) in symbols.iter().enumerate() {
                    let symbol_path = format!("{path}.symbols[{i}]");
                    let Value::String(symbol) = symbol else {
                        return Err(SchemaError::at(&symbol_path, "a symbol must be a string"));
                    };
                    if !is_valid_name(symbol) {
                        return Err(SchemaError::at(
                            &symbol_path,
                            format!("`{symbol}` is not a valid Avro symbol"),
                        ));
                    }
                    if !seen.insert(symbol.as_str()) {
                        return Err(SchemaError::at(
                            &symbol_path,
                            format!("duplicate symbol `{symbol}`"),
                        ));
                    }
                    names.push(symbol.clone());
                }
                let default = match object.get("default") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(d)) if seen.contains(d.as_str()) => Some(d.clone()),
                    Some(_) => {
                        return Err(SchemaError::at(
                            &format!("{path}.default"),
                            "an enum default must be one of its symbols",
                        ));
                    }
                };
                self.set_def(
                    index,
                    NamedDef::Enum {
                        symbols: names,
                        default,
                    },
                );
                Ok(Node::Named(index))
            }
            "fixed" => {
                let index = self.define(object, namespace, path)?;
                let size = fixed_size(object.get("size"), path)?;
                if let Some(logical) = LogicalType::on_fixed(object, size) {
                    self.logical_types.insert(path.to_owned(), logical);
                }
                self.set_def(index, NamedDef::Fixed { size });
                Ok(Node::Named(index))
            }
            "array" => {
                let items = object
                    .get("items")
                    .ok_or_else(|| SchemaError::at(path, "an array needs `items`"))?;
                Ok(Node::Array(Box::new(self.schema(
                    items,
                    namespace,
                    &format!("{path}.items"),
                )?)))
            }
            "map" => {
                let values = object
                    .get("values")
                    .ok_or_else(|| SchemaError::at(path, "a map needs `values`"))?;
                Ok(Node::Map(Box::new(self.schema(
                    values,
                    namespace,
                    &format!("{path}.values"),
                )?)))
            }
            // `{"type": "SomeName"}`: a reference written as an object (Java accepts it).
            other => self.reference(other, namespace, &format!("{path}.type")),
        }
    }

    fn record(
        &mut self,
        object: &Map<String, Value>,
        error: bool,
        namespace: &str,
        path: &str,
    ) -> Result<Node, SchemaError> {
        // Defined before the fields are parsed, so recursive references resolve.
        let index = self.define(object, namespace, path)?;
        if let Some(n) = self.named.get_mut(index) {
            n.error = error;
        }
        let inner_namespace = self
            .named
            .get(index)
            .and_then(|n| n.namespace.clone())
            .unwrap_or_default();
        let fields = match object.get("fields") {
            Some(Value::Array(fields)) => fields,
            _ => return Err(SchemaError::at(path, "a record needs a `fields` array")),
        };
        let mut out = Vec::with_capacity(fields.len());
        let mut seen = HashSet::new();
        for (i, field) in fields.iter().enumerate() {
            let field_path = format!("{path}.fields[{i}]");
            let Value::Object(field) = field else {
                return Err(SchemaError::at(&field_path, "a field must be an object"));
            };
            let name = match field.get("name") {
                Some(Value::String(name)) if is_valid_name(name) => name,
                Some(Value::String(name)) => {
                    return Err(SchemaError::at(
                        &field_path,
                        format!("`{name}` is not a valid Avro field name"),
                    ));
                }
                _ => {
                    return Err(SchemaError::at(
                        &field_path,
                        "a field needs a string `name`",
                    ));
                }
            };
            if !seen.insert(name.as_str()) {
                return Err(SchemaError::at(
                    &field_path,
                    format!("duplicate field name `{name}`"),
                ));
            }
            let field_type = field
                .get("type")
                .ok_or_else(|| SchemaError::at(&field_path, "a field needs a `type`"))?;
            let node = self.schema(field_type, &inner_namespace, &format!("{field_path}.type"))?;
            out.push(Field {
                name: name.clone(),
                aliases: string_list(field.get("aliases"), &format!("{field_path}.aliases"))?,
                node,
                default: field.get("default").cloned(),
                doc: doc(field),
            });
        }
        self.set_def(index, NamedDef::Record(out));
        Ok(Node::Named(index))
    }

    fn set_def(&mut self, index: usize, def: NamedDef) {
        if let Some(n) = self.named.get_mut(index) {
            n.def = def;
        }
    }

    /// Resolves the full name of a named type being defined here and records it (with an empty
    /// definition that the caller fills in).
    fn define(
        &mut self,
        object: &Map<String, Value>,
        enclosing_namespace: &str,
        path: &str,
    ) -> Result<usize, SchemaError> {
        let name = match object.get("name") {
            Some(Value::String(name)) => name.as_str(),
            _ => return Err(SchemaError::at(path, "a named type needs a string `name`")),
        };
        let full = if name.contains('.') {
            name.to_owned()
        } else {
            let namespace = match object.get("namespace") {
                Some(Value::String(ns)) => ns.as_str(),
                Some(Value::Null) | None => enclosing_namespace,
                Some(_) => return Err(SchemaError::at(path, "`namespace` must be a string")),
            };
            resolve(name, namespace)
        };
        if !full.split('.').all(is_valid_name) {
            return Err(SchemaError::at(
                path,
                format!("`{full}` is not a valid Avro full name"),
            ));
        }
        let (namespace, short) = match full.rsplit_once('.') {
            Some((ns, short)) => (Some(ns.to_owned()), short.to_owned()),
            None => (None, full.clone()),
        };
        if namespace.is_none() && Prim::from_name(&short).is_some() {
            return Err(SchemaError::at(
                path,
                format!("a named type cannot be called `{full}`"),
            ));
        }
        if self.by_name.contains_key(&full) {
            return Err(SchemaError::at(
                path,
                format!("the name `{full}` is defined twice"),
            ));
        }
        // aliases are resolved against the type's own namespace
        let aliases = string_list(object.get("aliases"), &format!("{path}.aliases"))?
            .iter()
            .map(|a| resolve(a, namespace.as_deref().unwrap_or("")))
            .collect();
        let index = self.named.len();
        self.named.push(Named {
            full_name: full.clone(),
            name: short,
            namespace,
            aliases,
            error: false,
            doc: doc(object),
            def: NamedDef::Record(Vec::new()),
        });
        self.by_name.insert(full, index);
        Ok(index)
    }
}

/// The `doc` attribute when it is a string (anything else is ignored, as documentation).
fn doc(object: &Map<String, Value>) -> Option<String> {
    object.get("doc").and_then(Value::as_str).map(str::to_owned)
}

/// An optional array of strings (`aliases`).
fn string_list(value: Option<&Value>, path: &str) -> Result<Vec<String>, SchemaError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(SchemaError::at(path, "aliases must be strings")),
            })
            .collect(),
        Some(_) => Err(SchemaError::at(path, "aliases must be an array of strings")),
    }
}

/// The full name of `name` in `namespace` (a name with a dot already is a full name).
pub(crate) fn resolve(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`, the specification's rule for names and symbols.
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `size` of a fixed: a non-negative integer, possibly quoted (rule INTEGERS).
fn fixed_size(size: Option<&Value>, path: &str) -> Result<usize, SchemaError> {
    let invalid = || SchemaError::at(path, "a fixed needs a non-negative integer `size`");
    let n = match size {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(invalid)?,
        Some(Value::String(s)) => s.trim().parse::<u64>().map_err(|_| invalid())?,
        _ => return Err(invalid()),
    };
    usize::try_from(n).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_namespaces_aliases_and_logical_types() -> Result<(), SchemaError> {
        let s = Schema::parse(
            r#"{"type":"record","name":"R","namespace":"n","aliases":["Old","o.Other"],"fields":[
                {"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}},
                {"name":"d","type":{"type":"int","logicalType":"date"},"aliases":["day"]},
                {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"B"}},
                {"name":"self","type":["null","R"],"default":null}]}"#,
        )?;
        let r = s.named(0).ok_or_else(|| SchemaError::at("", "no R"))?;
        assert_eq!(r.full_name, "n.R");
        assert_eq!(r.name, "R");
        assert_eq!(r.namespace.as_deref(), Some("n"));
        assert_eq!(r.aliases, ["n.Old", "o.Other"]);
        let NamedDef::Record(fields) = &r.def else {
            return Err(SchemaError::at("", "not a record"));
        };
        let nodes: Vec<&Node> = fields.iter().map(|f| &f.node).collect();
        assert_eq!(
            nodes.get(..2).unwrap_or_default(),
            [&Node::Prim(Prim::Long), &Node::Prim(Prim::Int)]
        );
        assert_eq!(
            fields.get(1).map(|f| f.aliases.clone()),
            Some(vec!["day".to_owned()])
        );
        assert_eq!(
            s.lookup("n.E").map(|(_, e)| e.def.clone()),
            Some(NamedDef::Enum {
                symbols: vec!["A".into(), "B".into()],
                default: Some("B".into())
            })
        );
        assert_eq!(
            fields.get(3).map(|f| (&f.node, f.default.clone())),
            Some((
                &Node::Union(vec![Node::Prim(Prim::Null), Node::Named(0)]),
                Some(Value::Null)
            ))
        );
        assert_eq!(s.kind(&Node::Named(1)), Kind::Enum);
        assert_eq!(s.describe(&Node::Named(0)), "record R");
        Ok(())
    }

    #[test]
    fn an_enum_default_must_be_a_symbol() {
        let err = Schema::parse(r#"{"type":"enum","name":"E","symbols":["A"],"default":"Z"}"#)
            .err()
            .map(|e| e.path().to_owned());
        assert_eq!(err.as_deref(), Some("$.default"));
    }

    #[test]
    fn logical_types_are_kept_by_path_where_valid() -> Result<(), SchemaError> {
        let s = Schema::parse(
            r#"{"type":"record","name":"R","fields":[
                {"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}},
                {"name":"o","type":["null",{"type":"int","logicalType":"date"}]},
                {"name":"a","type":{"type":"array","items":{"type":"string","logicalType":"uuid"}}},
                {"name":"wrong","type":{"type":"string","logicalType":"timestamp-millis"}},
                {"name":"unknown","type":{"type":"long","logicalType":"epoch-days"}},
                {"name":"f","type":{"type":"fixed","name":"F","size":12,"logicalType":"duration"}},
                {"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":5}}]}"#,
        )?;
        let expected: BTreeMap<String, LogicalType> = [
            ("$.fields[0].type", LogicalType::TimestampMillis),
            ("$.fields[1].type[1]", LogicalType::Date),
            ("$.fields[2].type.items", LogicalType::Uuid),
            ("$.fields[5].type", LogicalType::Duration),
        ]
        .into_iter()
        .map(|(p, l)| (p.to_owned(), l))
        .collect();
        assert_eq!(s.logical_types, expected);
        assert_eq!(
            s.logical_type("$.fields[0].type"),
            Some(LogicalType::TimestampMillis)
        );
        assert_eq!(s.logical_type("$.fields[3].type"), None);
        Ok(())
    }

    #[test]
    fn doc_strings_of_named_types_and_fields() -> Result<(), SchemaError> {
        let s = Schema::parse(
            r#"{"type":"record","name":"R","doc":"a record","fields":[
                {"name":"e","doc":"a field","type":{"type":"enum","name":"E","doc":"an enum","symbols":["A"]}},
                {"name":"n","doc":7,"type":"int"}]}"#,
        )?;
        let docs: Vec<Option<&str>> = s.named.iter().map(|n| n.doc.as_deref()).collect();
        assert_eq!(docs, [Some("a record"), Some("an enum")]);
        let Some(NamedDef::Record(fields)) = s.named(0).map(|n| &n.def) else {
            return Err(SchemaError::at("", "not a record"));
        };
        let docs: Vec<Option<&str>> = fields.iter().map(|f| f.doc.as_deref()).collect();
        assert_eq!(docs, [Some("a field"), None]);
        Ok(())
    }
}
