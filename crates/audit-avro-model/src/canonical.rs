//! Avro *Parsing Canonical Form* and the CRC-64-AVRO (Rabin) fingerprint, exactly as the
//! Avro specification defines them ("Schema Resolution" > "Parsing Canonical Form for Schemas"
//! and "Schema Fingerprints").
//!
//! Unlike apache-avro's `Schema::canonical_form`, logical types are removed (rule STRIP), so
//! the fingerprints equal the ones Java (`SchemaNormalization.parsingFingerprint64`), Python
//! `avro` and `fastavro` compute. The form is written from the parsed [`Schema`].
//!
//! ```
//! use audit_avro_model::canonical::{fingerprint, parsing_canonical_form};
//!
//! let pcf = parsing_canonical_form(r#"{"type": "long", "logicalType": "timestamp-millis"}"#)?;
//! assert_eq!(pcf, r#""long""#);
//! assert_eq!(fingerprint(&pcf), 0xd054_e144_93f4_1db7);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::schema::{NamedDef, Node, Schema, SchemaError};

/// Why a schema has no Parsing Canonical Form: invalid JSON or an invalid Avro schema.
pub type CanonicalError = SchemaError;

/// `EMPTY` of the CRC-64-AVRO fingerprint: the fingerprint of zero bytes.
pub const EMPTY_FINGERPRINT: u64 = 0xc15d_213a_a4d7_a795;

/// The 256-entry table of CRC-64-AVRO, built as in the specification.
const FP_TABLE: [u64; 256] = build_fp_table();

// Evaluated at compile time: an out-of-bounds index would be a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn build_fp_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut fp = i as u64;
        let mut j = 0;
        while j < 8 {
            fp = (fp >> 1) ^ (EMPTY_FINGERPRINT & 0u64.wrapping_sub(fp & 1));
            j += 1;
        }
        table[i] = fp;
        i += 1;
    }
    table
}

/// The 64-bit Rabin fingerprint (CRC-64-AVRO) of `canonical_form`, as used by Avro
/// single-object encoding and by `SchemaNormalization.parsingFingerprint64` in Java.
///
/// Pass the *Parsing Canonical Form* of a schema (see [`parsing_canonical_form`]), not the raw
/// schema text.
///
/// ```
/// use audit_avro_model::canonical::fingerprint;
///
/// assert_eq!(fingerprint(r#""int""#), 0x7275_d51a_3f39_5c8f);
/// ```
#[must_use]
pub fn fingerprint(canonical_form: &str) -> u64 {
    let mut fp = EMPTY_FINGERPRINT;
    for &b in canonical_form.as_bytes() {
        // The index is masked to 0..=255, so `get` always succeeds.
        let entry = FP_TABLE
            .get(((fp ^ u64::from(b)) & 0xff) as usize)
            .copied()
            .unwrap_or(0);
        fp = (fp >> 8) ^ entry;
    }
    fp
}

/// The Parsing Canonical Form of the Avro schema `schema_json`.
///
/// Applies the specification's transformations: PRIMITIVES (`{"type":"int"}` becomes `"int"`),
/// FULLNAMES (names resolved against the enclosing namespace; `namespace` attributes dropped),
/// STRIP (only `type`, `name`, `fields`, `symbols`, `items`, `values`, `size` kept; `logicalType`,
/// `default`, `doc`, `aliases`, `order`, ... removed), ORDER (`name`, `type`, `fields`, `symbols`,
/// `items`, `values`, `size`), STRINGS (escapes replaced by the characters), INTEGERS (`size`
/// without quotes or leading zeros) and WHITESPACE (none outside strings). A named type is written
/// in full where it is first defined and by its full name afterwards.
///
/// # Errors
///
/// [`CanonicalError`] when the text is not JSON or not a valid Avro schema (unknown type,
/// reference to an undefined name, a name defined twice, a missing or invalid attribute).
///
/// ```
/// use audit_avro_model::canonical::parsing_canonical_form;
///
/// let pcf = parsing_canonical_form(
///     r#"{"type": "record", "name": "R", "namespace": "a.b", "doc": "x",
///         "fields": [{"name": "f", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
///                    {"name": "g", "type": "E", "default": "A"}]}"#,
/// )?;
/// assert_eq!(
///     pcf,
///     r#"{"name":"a.b.R","type":"record","fields":[{"name":"f","type":{"name":"a.b.E","type":"enum","symbols":["A"]}},{"name":"g","type":"a.b.E"}]}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parsing_canonical_form(schema_json: &str) -> Result<String, CanonicalError> {
    Ok(Schema::parse(schema_json)?.canonical_form())
}

impl Schema {
    /// The Parsing Canonical Form of this schema (see [`parsing_canonical_form`]).
    #[must_use]
    pub fn canonical_form(&self) -> String {
        let mut w = Writer {
            schema: self,
            written: vec![false; self.named.len()],
            out: String::new(),
        };
        w.node(&self.root);
        w.out
    }

    /// The CRC-64-AVRO fingerprint of the Parsing Canonical Form.
    #[must_use]
    pub fn fingerprint(&self) -> u64 {
        fingerprint(&self.canonical_form())
    }
}

struct Writer<'s> {
    schema: &'s Schema,
    /// The named types written in full so far (later uses are by full name).
    written: Vec<bool>,
    out: String,
}

impl Writer<'_> {
    fn node(&mut self, node: &Node) {
        match node {
            Node::Prim(p) => push_string(&mut self.out, p.as_str()),
            Node::Array(items) => {
                self.out.push_str("{\"type\":\"array\",\"items\":");
                self.node(items);
                self.out.push('}');
            }
            Node::Map(values) => {
                self.out.push_str("{\"type\":\"map\",\"values\":");
                self.node(values);
                self.out.push('}');
            }
            Node::Union(branches) => {
                self.out.push('[');
                for (i, b) in branches.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.node(b);
                }
                self.out.push(']');
            }
            Node::Named(i) => self.named(*i),
        }
    }

    fn named(&mut self, index: usize) {
        let Some(named) = self.schema.named(index) else {
            return;
        };
        match self.written.get_mut(index) {
            Some(done) if !*done => *done = true,
            _ => return push_string(&mut self.out, &named.full_name),
        }
        self.out.push_str("{\"name\":");
        push_string(&mut self.out, &named.full_name);
        match &named.def {
            NamedDef::Record(fields) => {
                self.out.push_str(",\"type\":");
                push_string(&mut self.out, if named.error { "error" } else { "record" });
                self.out.push_str(",\"fields\":[");
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.out.push_str("{\"name\":");
                    push_string(&mut self.out, &f.name);
                    self.out.push_str(",\"type\":");
                    self.node(&f.node);
                    self.out.push('}');
                }
                self.out.push(']');
            }
            NamedDef::Enum { symbols, .. } => {
                self.out.push_str(",\"type\":\"enum\",\"symbols\":[");
                for (i, s) in symbols.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    push_string(&mut self.out, s);
                }
                self.out.push(']');
            }
            NamedDef::Fixed { size } => {
                self.out.push_str(",\"type\":\"fixed\",\"size\":");
                self.out.push_str(&size.to_string());
            }
        }
        self.out.push('}');
    }
}

/// Writes `s` as a JSON string literal: escapes become plain characters (rule STRINGS); only
/// `"`, `\` and control characters, which JSON cannot hold raw, stay escaped.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn pcf(s: &str) -> String {
        parsing_canonical_form(s).unwrap()
    }

    #[test]
    fn empty_fingerprint_and_table() {
        assert_eq!(fingerprint(""), EMPTY_FINGERPRINT);
        assert_eq!(FP_TABLE[0], 0);
    }

    /// Vectors from the Avro project's `share/test/data/schema-tests.txt` (canonical form and
    /// 64-bit Rabin fingerprint as a signed decimal).
    #[test]
    fn specification_test_vectors() {
        let vectors: &[(&str, &str, i64)] = &[
            (r#""null""#, r#""null""#, 7_195_948_357_588_979_594),
            (r#"{"type":"null"}"#, r#""null""#, 7_195_948_357_588_979_594),
            (r#""boolean""#, r#""boolean""#, -6_970_731_678_124_411_036),
            (r#""int""#, r#""int""#, 8_247_732_601_305_521_295),
            (r#""long""#, r#""long""#, -3_434_872_931_120_570_953),
            (r#""float""#, r#""float""#, 5_583_340_709_985_441_680),
            (r#""double""#, r#""double""#, -8_181_574_048_448_539_266),
            (r#""bytes""#, r#""bytes""#, 5_746_618_253_357_095_269),
            (r#""string""#, r#""string""#, -8_142_146_995_180_207_161),
            (r#"[  ]"#, r#"[]"#, -1_241_056_759_729_112_623),
            (r#"[ "int"  ]"#, r#"["int"]"#, -5_232_228_896_498_058_493),
            (
                r#"[ "int" , {"type":"boolean"} ]"#,
                r#"["int","boolean"]"#,
                5_392_556_393_470_105_090,
            ),
            (
                r#"{"fields":[], "type":"record", "name":"foo"}"#,
                r#"{"name":"foo","type":"record","fields":[]}"#,
                -4_824_392_279_771_201_922,
            ),
            (
                r#"{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}"#,
                r#"{"name":"x.y.foo","type":"record","fields":[]}"#,
                5_916_914_534_497_305_771,
            ),
            (
                r#"{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}"#,
                r#"{"name":"a.b.foo","type":"record","fields":[]}"#,
                -4_616_218_487_480_524_110,
            ),
            (
                r#"{"fields":[], "type":"record", "name":"foo", "doc":"Useful info"}"#,
                r#"{"name":"foo","type":"record","fields":[]}"#,
                -4_824_392_279_771_201_922,
            ),
            (
                r#"{"fields":[], "type":"record", "name":"foo", "aliases":["foo","bar"]}"#,
                r#"{"name":"foo","type":"record","fields":[]}"#,
                -4_824_392_279_771_201_922,
            ),
            (
                r#"{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}"#,
                r#"{"name":"foo","type":"record","fields":[]}"#,
                -4_824_392_279_771_201_922,
            ),
            (
                r#"{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record", "name":"foo"}"#,
                r#"{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}"#,
                7_843_277_075_252_814_651,
            ),
            (
                r#"{ "fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":true},
                  {"order":"descending","name":"f2","doc":"Hello","type":"int"}],
                  "type":"record", "name":"foo"}"#,
                r#"{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}"#,
                -4_860_222_112_080_293_046,
            ),
            (
                r#"{"type":"enum", "name":"foo", "symbols":["A1"]}"#,
                r#"{"name":"foo","type":"enum","symbols":["A1"]}"#,
                -6_342_190_197_741_309_591,
            ),
            (
                r#"{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}"#,
                r#"{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}"#,
                -4_448_647_247_586_288_245,
            ),
            (
                r#"{"name":"foo","type":"fixed","size":15}"#,
                r#"{"name":"foo","type":"fixed","size":15}"#,
                1_756_455_273_707_447_556,
            ),
            (
                r#"{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}"#,
                r#"{"name":"x.y.z.foo","type":"fixed","size":32}"#,
                -3_064_184_465_700_546_786,
            ),
            (
                r#"{ "items":{"type":"null"}, "type":"array"}"#,
                r#"{"type":"array","items":"null"}"#,
                -589_620_603_366_471_059,
            ),
            (
                r#"{ "values":"string", "type":"map"}"#,
                r#"{"type":"map","values":"string"}"#,
                -8_732_877_298_790_414_990,
            ),
            (
                r#"  {"name":"PigValue","type":"record",
                   "fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}"#,
                r#"{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}"#,
                -1_759_257_747_318_642_341,
            ),
        ];
        for (schema, expected_pcf, expected_fp) in vectors {
            let got = pcf(schema);
            assert_eq!(&got, expected_pcf, "canonical form of {schema}");
            assert_eq!(
                fingerprint(&got),
                u64::from_ne_bytes(expected_fp.to_ne_bytes()),
                "fingerprint of {got}"
            );
        }
    }

    #[test]
    fn int_fingerprint_is_the_documented_one() {
        assert_eq!(fingerprint(r#""int""#), 0x7275_d51a_3f39_5c8f);
    }

    #[test]
    fn logical_types_are_stripped() {
        assert_eq!(
            pcf(r#"{"type":"long","logicalType":"timestamp-millis"}"#),
            r#""long""#
        );
        assert_eq!(
            pcf(r#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#),
            r#""bytes""#
        );
        assert_eq!(
            pcf(r#"{"type":"fixed","name":"d","size":"016","logicalType":"duration"}"#),
            r#"{"name":"d","type":"fixed","size":16}"#
        );
    }

    #[test]
    fn names_resolve_against_the_enclosing_namespace() {
        let schema = r#"{"type":"record","name":"Outer","namespace":"a.b","fields":[
            {"name":"x","type":{"type":"record","name":"Inner","fields":[]}},
            {"name":"y","type":{"type":"record","name":"Other","namespace":"c","fields":[
                {"name":"z","type":{"type":"enum","name":"E","symbols":["S"]}},
                {"name":"w","type":"a.b.Inner"}]}},
            {"name":"v","type":["null","Inner","c.E"]},
            {"name":"u","type":{"type":"record","name":"Top","namespace":"","fields":[
                {"name":"t","type":{"type":"fixed","name":"F","size":1}}]}},
            {"name":"s","type":"Top"}]}"#;
        assert_eq!(
            pcf(schema),
            concat!(
                r#"{"name":"a.b.Outer","type":"record","fields":["#,
                r#"{"name":"x","type":{"name":"a.b.Inner","type":"record","fields":[]}},"#,
                r#"{"name":"y","type":{"name":"c.Other","type":"record","fields":["#,
                r#"{"name":"z","type":{"name":"c.E","type":"enum","symbols":["S"]}},"#,
                r#"{"name":"w","type":"a.b.Inner"}]}},"#,
                r#"{"name":"v","type":["null","a.b.Inner","c.E"]},"#,
                r#"{"name":"u","type":{"name":"Top","type":"record","fields":["#,
                r#"{"name":"t","type":{"name":"F","type":"fixed","size":1}}]}},"#,
                r#"{"name":"s","type":"Top"}]}"#
            )
        );
    }

    #[test]
    fn string_escapes_are_replaced() {
        assert_eq!(
            pcf(r#"{"type":"enum","name":"\u0045n","symbols":["\u0041"]}"#),
            r#"{"name":"En","type":"enum","symbols":["A"]}"#
        );
    }

    #[test]
    fn invalid_schemas_are_typed_errors() {
        let cases: &[(&str, &str)] = &[
            ("{", ""),
            ("42", "$"),
            (r#"{"type":"record","name":"R"}"#, "$"),
            (
                r#"{"type":"record","name":"R","fields":[{"name":"a"}]}"#,
                "$.fields[0]",
            ),
            (
                r#"{"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]}"#,
                "$.fields[0].type",
            ),
            (
                r#"["int",{"type":"enum","name":"E","symbols":["A","A"]}]"#,
                "$[1].symbols[1]",
            ),
            (
                r#"[{"type":"fixed","name":"F","size":1},{"type":"fixed","name":"F","size":2}]"#,
                "$[1]",
            ),
            (r#"{"type":"fixed","name":"F","size":-1}"#, "$"),
            (r#"{"type":"enum","name":"1E","symbols":[]}"#, "$"),
            (r#"{"type":"array"}"#, "$"),
            (r#"{"type":{"type":"int"}}"#, "$"),
        ];
        for (schema, path) in cases {
            let err = parsing_canonical_form(schema).expect_err(schema);
            assert_eq!(err.path(), *path, "{schema}: {err}");
            assert!(err.to_string().contains("invalid Avro schema"), "{err}");
        }
        let json_err = parsing_canonical_form("{").expect_err("not JSON");
        assert!(std::error::Error::source(&json_err).is_some());
    }

    #[test]
    fn avro_files_of_the_workspace() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../avro");
        for version in ["1.0.0", "1.0.1", "1.0.2"] {
            let text = std::fs::read_to_string(
                dir.join(format!("CreateAuditRecordCommand_v{version}.avsc")),
            )
            .unwrap();
            let form = pcf(&text);
            assert!(form.starts_with(
                r#"{"name":"ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand","type":"record","fields":[{"name":"identity","type":{"name":"ch.admin.bit.jeap.messaging.avro.AvroMessageIdentity""#
            ));
            assert!(!form.contains("logicalType"));
            assert!(!form.contains("default"));
            // Second use of the role enum is by full name.
            assert!(form.contains(
                r#"{"name":"role","type":["null","ch.admin.bit.jeap.audit.record.create.AuditObjectDataRole"]}"#
            ));
            // Idempotent: the canonical form of a canonical form is itself.
            assert_eq!(pcf(&form), form);
        }
    }
}
