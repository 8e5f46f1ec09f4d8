//! Parses schema text into the workspace's one schema model (`audit-avro-model`).

use crate::model::Model;

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

/// Parses and validates one schema into the model.
pub(crate) fn parse(text: &str) -> Result<Model, ParseError> {
    Model::parse(text).map_err(|e| ParseError(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NamedDef, Node, Prim};

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
