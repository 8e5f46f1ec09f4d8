//! The crate's own view of a parsed schema: named types resolved into a table, logical types
//! reduced to their underlying Avro type (Java's `SchemaCompatibility` ignores logical types).

use serde_json::Value;

/// Primitive Avro types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prim {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
}

impl Prim {
    pub(crate) fn as_str(self) -> &'static str {
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
}

/// One node of a schema tree; named types point into [`Model::named`].
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Prim(Prim),
    Array(Box<Node>),
    Map(Box<Node>),
    Union(Vec<Node>),
    Named(usize),
}

/// A named type (record, enum or fixed).
#[derive(Debug, Clone)]
pub(crate) struct Named {
    pub(crate) full_name: String,
    pub(crate) name: String,
    pub(crate) namespace: Option<String>,
    /// Fully qualified aliases.
    pub(crate) aliases: Vec<String>,
    pub(crate) def: NamedDef,
}

/// The definition of a named type.
#[derive(Debug, Clone)]
pub(crate) enum NamedDef {
    Record(Vec<Field>),
    Enum {
        symbols: Vec<String>,
        default: Option<String>,
    },
    Fixed {
        size: usize,
    },
}

/// A record field.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) node: Node,
    pub(crate) default: Option<Value>,
}

/// A parsed schema.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) root: Node,
    pub(crate) named: Vec<Named>,
}

impl Model {
    /// The named type at `index` (indices come from this model, so they are always valid).
    pub(crate) fn named(&self, index: usize) -> Option<&Named> {
        self.named.get(index)
    }

    /// A short human-readable name of a node's type: `string`, `array`, `record AuditUser`.
    pub(crate) fn describe(&self, node: &Node) -> String {
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

    /// The Avro type kind of a node (`RECORD`, `STRING`, ...), as Java names `Schema.Type`.
    pub(crate) fn kind(&self, node: &Node) -> Kind {
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
}

impl NamedDef {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            NamedDef::Record(_) => "record",
            NamedDef::Enum { .. } => "enum",
            NamedDef::Fixed { .. } => "fixed",
        }
    }
}

/// Java's `Schema.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Prim(Prim),
    Array,
    Map,
    Union,
    Record,
    Enum,
    Fixed,
}
