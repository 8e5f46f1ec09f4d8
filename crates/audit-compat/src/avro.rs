//! The only module that talks to `apache-avro`: parse schema text and turn it into [`Model`].

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::{InnerDecimalSchema, Name, UuidSchema};

use crate::model::{Field, Model, Named, NamedDef, Node, Prim};

/// Why a schema text could not be turned into a [`Model`].
#[derive(Debug)]
pub(crate) struct ParseError(pub(crate) Box<dyn std::error::Error + Send + Sync + 'static>);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("reference to undefined named type `{0}`")]
struct UndefinedName(String);

/// Parses one schema (`apache_avro::Schema::parse_str`) into the crate's model.
pub(crate) fn parse(text: &str) -> Result<Model, ParseError> {
    let schema = Schema::parse_str(text).map_err(|e| ParseError(Box::new(e)))?;
    let mut conv = Converter::default();
    let root = conv.node(&schema).map_err(|e| ParseError(Box::new(e)))?;
    Ok(Model {
        root,
        named: conv.named,
    })
}

#[derive(Default)]
struct Converter {
    named: Vec<Named>,
    by_name: HashMap<String, usize>,
}

fn full(name: &Name) -> String {
    name.fullname(None)
}

impl Converter {
    fn register(
        &mut self,
        name: &Name,
        aliases: Option<&Vec<apache_avro::schema::Alias>>,
        def: NamedDef,
    ) -> usize {
        let full_name = full(name);
        if let Some(i) = self.by_name.get(&full_name) {
            return *i;
        }
        let index = self.named.len();
        self.named.push(Named {
            full_name: full_name.clone(),
            name: name.name().to_owned(),
            namespace: name.namespace().map(str::to_owned),
            aliases: aliases
                .map(|a| a.iter().map(|a| a.fullname(None)).collect())
                .unwrap_or_default(),
            def,
        });
        self.by_name.insert(full_name, index);
        index
    }

    fn fixed(&mut self, f: &apache_avro::schema::FixedSchema) -> Node {
        Node::Named(self.register(
            &f.name,
            f.aliases.as_ref(),
            NamedDef::Fixed { size: f.size },
        ))
    }

    fn node(&mut self, schema: &Schema) -> Result<Node, UndefinedName> {
        Ok(match schema {
            Schema::Null => Node::Prim(Prim::Null),
            Schema::Boolean => Node::Prim(Prim::Boolean),
            Schema::Int | Schema::Date | Schema::TimeMillis => Node::Prim(Prim::Int),
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => Node::Prim(Prim::Long),
            Schema::Float => Node::Prim(Prim::Float),
            Schema::Double => Node::Prim(Prim::Double),
            Schema::Bytes | Schema::BigDecimal => Node::Prim(Prim::Bytes),
            Schema::String => Node::Prim(Prim::String),
            Schema::Uuid(u) => match u {
                UuidSchema::String => Node::Prim(Prim::String),
                UuidSchema::Bytes => Node::Prim(Prim::Bytes),
                UuidSchema::Fixed(f) => self.fixed(f),
            },
            Schema::Decimal(d) => match &d.inner {
                InnerDecimalSchema::Bytes => Node::Prim(Prim::Bytes),
                InnerDecimalSchema::Fixed(f) => self.fixed(f),
            },
            Schema::Duration(f) | Schema::Fixed(f) => self.fixed(f),
            Schema::Array(a) => Node::Array(Box::new(self.node(&a.items)?)),
            Schema::Map(m) => Node::Map(Box::new(self.node(&m.types)?)),
            Schema::Union(u) => Node::Union(
                u.variants()
                    .iter()
                    .map(|v| self.node(v))
                    .collect::<Result<_, _>>()?,
            ),
            Schema::Enum(e) => Node::Named(self.register(
                &e.name,
                e.aliases.as_ref(),
                NamedDef::Enum {
                    symbols: e.symbols.clone(),
                    default: e.default.clone(),
                },
            )),
            Schema::Record(r) => {
                // Register first (with no fields) so recursive references resolve.
                let index =
                    self.register(&r.name, r.aliases.as_ref(), NamedDef::Record(Vec::new()));
                let mut fields = Vec::with_capacity(r.fields.len());
                for f in &r.fields {
                    fields.push(Field {
                        name: f.name.clone(),
                        aliases: f.aliases.clone(),
                        node: self.node(&f.schema)?,
                        default: f.default.clone(),
                    });
                }
                if let Some(named) = self.named.get_mut(index) {
                    named.def = NamedDef::Record(fields);
                }
                Node::Named(index)
            }
            Schema::Ref { name } => {
                let full_name = full(name);
                match self.by_name.get(&full_name) {
                    Some(i) => Node::Named(*i),
                    None => return Err(UndefinedName(full_name)),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_types_reduce_to_underlying_types() -> Result<(), ParseError> {
        let m = parse(
            r#"{"type":"record","name":"R","namespace":"n","aliases":["Old","o.Other"],"fields":[
                {"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}},
                {"name":"d","type":{"type":"int","logicalType":"date"}},
                {"name":"self","type":["null","R"],"default":null}]}"#,
        )?;
        let named = m
            .named(0)
            .ok_or_else(|| ParseError("no named type".into()))?;
        assert_eq!(named.full_name, "n.R");
        assert_eq!(
            named.aliases,
            vec!["n.Old".to_owned(), "o.Other".to_owned()]
        );
        let NamedDef::Record(fields) = &named.def else {
            return Err(ParseError("not a record".into()));
        };
        assert!(matches!(
            fields.first().map(|f| &f.node),
            Some(Node::Prim(Prim::Long))
        ));
        assert!(matches!(
            fields.get(1).map(|f| &f.node),
            Some(Node::Prim(Prim::Int))
        ));
        assert!(
            matches!(fields.get(2).map(|f| &f.node), Some(Node::Union(b)) if matches!(b.get(1), Some(Node::Named(0))))
        );
        assert_eq!(
            fields.get(2).and_then(|f| f.default.clone()),
            Some(serde_json::Value::Null)
        );
        Ok(())
    }
}

/// Proves where apache-avro 0.22's own `schema_compatibility` disagrees with Java (and so with
/// this crate) on the corpus: it answers `Partial` where Java says incompatible (we count that as
/// incompatible here), ignores enum and record aliases, gives a false incompatibility for a named
/// type referenced in one schema and defined inline in the other, and does not notice an
/// ambiguous field alias. Every other pair agrees.
#[cfg(test)]
mod upstream_differences {
    use std::path::Path;

    use apache_avro::Schema;
    use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn upstream_verdict(reader: &Schema, writer: &Schema) -> &'static str {
        match SchemaCompatibility::can_read(writer, reader) {
            Ok(Compatibility::Full) => "COMPATIBLE",
            Ok(Compatibility::Partial) | Err(_) => "INCOMPATIBLE",
        }
    }

    #[test]
    fn upstream_disagrees_exactly_on_the_documented_gaps() -> TestResult {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/compat-corpus");
        let mut dirs = Vec::new();
        for e in std::fs::read_dir(dir)? {
            let path = e?.path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
        dirs.sort();
        let mut differ = Vec::new();
        for d in &dirs {
            let rtext = std::fs::read_to_string(d.join("reader.avsc"))?;
            let wtext = std::fs::read_to_string(d.join("writer.avsc"))?;
            let expected: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(d.join("expected.json"))?)?;
            let r = Schema::parse_str(&rtext)?;
            let w = Schema::parse_str(&wtext)?;
            let name = d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for (key, reader, writer) in [
                ("reader_reads_writer", &r, &w),
                ("writer_reads_reader", &w, &r),
            ] {
                let java = expected
                    .get(key)
                    .and_then(|e| e.get("verdict"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("missing");
                if upstream_verdict(reader, writer) != java {
                    differ.push(format!("{name} {key}"));
                }
            }
        }
        assert_eq!(
            differ,
            vec![
                "22-enum-renamed-with-alias reader_reads_writer",
                "33-record-renamed-with-alias reader_reads_writer",
                "39-field-alias-ambiguous reader_reads_writer",
                "40-named-ref-vs-inline-swapped reader_reads_writer",
                "40-named-ref-vs-inline-swapped writer_reads_reader",
                "41-named-ref-vs-inline-promotion reader_reads_writer",
                "58-union-record-branch-renamed-with-alias reader_reads_writer",
            ]
        );
        Ok(())
    }
}
