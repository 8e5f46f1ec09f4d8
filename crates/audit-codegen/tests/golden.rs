// Test, benchmark and example arithmetic on small known counts: the cast lints guard library code.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_lossless
)]
//! Golden tests of the generator: committed schemas (`tests/golden/*.avsc`) with their expected
//! Rust output (`tests/golden/*.rs`). The expected output is also compiled here (the modules
//! below) and exercised against apache-avro. Refresh after a deliberate generator change with
//! `UPDATE_GOLDEN=1 cargo test -p audit-codegen --test golden` and review the diff.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(deprecated)] // apache_avro::{to_avro_datum, from_avro_datum} as the reference

use std::path::PathBuf;

use audit_codegen::{Options, WriterVersion, generate};

use audit_avro_runtime as rt;

#[allow(dead_code)]
mod union_reuse {
    include!("golden/union_reuse.rs");
}
#[allow(dead_code)]
mod nullable_enum {
    include!("golden/nullable_enum.rs");
}
#[allow(dead_code)]
mod null_not_first {
    include!("golden/null_not_first.rs");
}
#[allow(dead_code)]
mod clashing_names {
    include!("golden/clashing_names.rs");
}
#[allow(dead_code)]
mod keywords {
    include!("golden/keywords.rs");
}
#[allow(dead_code)]
mod resolution {
    include!("golden/resolution.rs");
}
#[allow(dead_code)]
mod views {
    include!("golden/views.rs");
}
#[allow(dead_code)]
mod custom_string {
    include!("golden/custom_string.rs");
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (case, writer versions) — every case's reader is `<case>.avsc`, writer version `<v>` is `<case>_v<v>.avsc`.
const CASES: &[(&str, &[&str])] = &[
    ("union_reuse", &[]),
    ("nullable_enum", &[]),
    ("null_not_first", &[]),
    ("clashing_names", &[]),
    ("keywords", &[]),
    ("resolution", &["1"]),
    ("views", &[]),
    ("custom_string", &["1"]),
];

fn options(case: &str) -> Options {
    let mut opts = Options {
        views: case == "views" || case == "custom_string",
        ..Options::default()
    };
    if case == "custom_string" {
        opts.string_type = "compact_str::CompactString".into();
    }
    if case == "union_reuse" {
        opts.union_names.push((
            vec!["golden.unions.Cat".into(), "golden.unions.Dog".into()],
            "Pet".into(),
        ));
    }
    opts
}

#[test]
fn generated_code_matches_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut stale = Vec::new();
    for (case, versions) in CASES {
        let reader = read(&format!("{case}.avsc"));
        let writer_texts: Vec<(String, String)> = versions
            .iter()
            .map(|v| (v.to_string(), read(&format!("{case}_v{v}.avsc"))))
            .collect();
        let writers: Vec<WriterVersion<'_>> = writer_texts
            .iter()
            .map(|(version, schema_json)| WriterVersion {
                version,
                schema_json,
            })
            .collect();
        let code =
            generate(&reader, &writers, &options(case)).unwrap_or_else(|e| panic!("{case}: {e}"));
        let path = dir().join(format!("{case}.rs"));
        if update {
            std::fs::write(&path, &code).expect("write golden file");
        }
        if std::fs::read_to_string(&path).unwrap_or_default() != code {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "generated code differs from {stale:?}; review, then refresh with \
         `UPDATE_GOLDEN=1 cargo test -p audit-codegen --test golden`"
    );
}

#[test]
fn unsupported_schemas_are_generator_errors() {
    let recursive = r#"{"type": "record", "name": "Node", "fields": [
        {"name": "next", "type": ["null", "Node"], "default": null}]}"#;
    let err = generate(recursive, &[], &Options::default()).unwrap_err();
    assert!(err.to_string().contains("recursive type Node"), "{err}");
    let not_record = r#"["null", "string"]"#;
    assert!(generate(not_record, &[], &Options::default()).is_err());
    let incompatible_writer = r#"{"type": "record", "name": "Keywords", "namespace": "golden.keywords",
        "fields": [{"name": "type", "type": "boolean"}]}"#;
    let err = generate(
        &read("keywords.avsc"),
        &[WriterVersion {
            version: "0",
            schema_json: incompatible_writer,
        }],
        &Options::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, audit_codegen::Error::Incompatible { .. }),
        "{err}"
    );
}

#[test]
fn schema_errors_are_the_models() {
    let undefined =
        r#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "Missing"}]}"#;
    let err = generate(undefined, &[], &Options::default()).unwrap_err();
    let audit_codegen::Error::Parse(source) = &err else {
        panic!("not a parse error: {err}");
    };
    assert_eq!(source.path(), "$.fields[0].type");
    assert!(std::error::Error::source(&err).is_some());
    let decimal = r#"{"type": "record", "name": "R", "fields": [{"name": "d",
        "type": {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}}]}"#;
    let err = generate(decimal, &[], &Options::default()).unwrap_err();
    assert!(matches!(err, audit_codegen::Error::Unsupported(_)), "{err}");
}

#[test]
fn writers_with_one_canonical_form_share_their_resolving_code() {
    let schema = |ty: &str, doc: &str| {
        format!(
            r#"{{"type": "record", "name": "T", "doc": "{doc}", "fields": [{{"name": "at",
                "type": {ty}}}]}}"#
        )
    };
    let millis = r#"{"type": "long", "logicalType": "timestamp-millis"}"#;
    let micros = r#"{"type": "long", "logicalType": "timestamp-micros"}"#;
    let reader = schema(millis, "reader");
    let texts = [
        schema(
            r#""long"}, {"name": "extra", "type": "int", "default": 0"#,
            "one",
        ),
        schema(millis, "two"),
        schema(millis, "three"),
        schema(micros, "four"),
    ];
    let writers: Vec<WriterVersion<'_>> = ["1", "2", "3", "4"]
        .iter()
        .zip(&texts)
        .map(|(version, schema_json)| WriterVersion {
            version,
            schema_json,
        })
        .collect();
    let code = generate(&reader, &writers, &Options::default()).unwrap();
    // 3 and 4 have 2's canonical form (docs and logical types stripped): they delegate to 2;
    // 1 has another layout (a field the reader skips) and its own code
    assert_eq!(code.matches("Self::avro_decode_v2(r)").count(), 2, "{code}");
    assert_eq!(code.matches("Self::avro_decode_v1(r)").count(), 0, "{code}");
    assert!(code.contains("fn avro_decode_v1("), "{code}");
}

// ---- the compiled golden code, against apache-avro ----

use std::collections::{BTreeMap, HashMap};

use apache_avro::Schema;
use apache_avro::types::Value;

fn schema(file: &str) -> Schema {
    Schema::parse_str(&read(file)).expect("golden schema parses")
}

fn rec(fields: Vec<(&str, Value)>) -> Value {
    Value::Record(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn string(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn null_at(i: u32) -> Value {
    Value::Union(i, Box::new(Value::Null))
}

fn branch(i: u32, v: Value) -> Value {
    Value::Union(i, Box::new(v))
}

fn apache(file: &str, v: Value) -> Vec<u8> {
    apache_avro::to_avro_datum(&schema(file), v).expect("apache-avro encodes")
}

#[test]
fn union_used_in_several_fields_is_one_type() {
    use union_reuse::*;
    let v = Envelope {
        first: Pet::Cat(Cat { lives: 9 }),
        second: Pet::Dog(Dog { good: true }),
        maybe: Some(Pet::Dog(Dog { good: false })),
        many: vec![Pet::Cat(Cat { lives: -1 }), Pet::Dog(Dog { good: true })],
        named: StringOrLong::Long(-5),
        by_key: BTreeMap::from([("a".to_owned(), StringOrLong::String("x".into()))]),
    };
    // one Rust type for every use of the union
    let _same_type: [&Pet; 3] = [&v.first, &v.second, v.maybe.as_ref().expect("set")];
    let mut out = Vec::new();
    v.avro_encode(&mut out);
    let cat = |n| rec(vec![("lives", Value::Int(n))]);
    let dog = |b| rec(vec![("good", Value::Boolean(b))]);
    let expected = apache(
        "union_reuse.avsc",
        rec(vec![
            ("first", branch(0, cat(9))),
            ("second", branch(1, dog(true))),
            ("maybe", branch(2, dog(false))),
            (
                "many",
                Value::Array(vec![branch(0, cat(-1)), branch(1, dog(true))]),
            ),
            ("named", branch(1, Value::Long(-5))),
            (
                "byKey",
                Value::Map(HashMap::from([("a".to_owned(), branch(0, string("x")))])),
            ),
        ]),
    );
    assert_eq!(out, expected);
    let mut r = rt::Reader::new(&out);
    assert_eq!(Envelope::avro_decode(&mut r).expect("decodes"), v);
    r.finish().expect("all consumed");
}

#[test]
fn nullable_enum_and_enum_default() {
    use nullable_enum::*;
    assert_eq!(Color::default(), Color::NotSet);
    assert_eq!(Color::from_symbol("NOT_SET"), Some(Color::NotSet));
    assert_eq!(Color::Green.to_string(), "GREEN");
    let v = Light {
        color: Some(Color::Green),
        fallback: Color::NotSet,
        history: vec![None, Some(Color::Red)],
        weight: Some(1.5),
    };
    let mut out = Vec::new();
    v.avro_encode(&mut out);
    let expected = apache(
        "nullable_enum.avsc",
        rec(vec![
            ("color", branch(1, Value::Enum(1, "GREEN".into()))),
            ("fallback", Value::Enum(2, "NOT_SET".into())),
            (
                "history",
                Value::Array(vec![null_at(0), branch(1, Value::Enum(0, "RED".into()))]),
            ),
            ("weight", branch(1, Value::Double(1.5))),
        ]),
    );
    assert_eq!(out, expected);
    let mut r = rt::Reader::new(&out);
    assert_eq!(Light::avro_decode(&mut r).expect("decodes"), v);
}

#[test]
fn null_branch_not_first() {
    use null_not_first::*;
    let at = chrono::DateTime::from_timestamp_millis(1_700_000_000_123).expect("in range");
    let a = Late {
        label: Some("x".into()),
        count: None,
        data: None,
        when: Some(at),
    };
    let b = Late {
        label: None,
        count: Some(LongOrString::String("s".into())),
        data: Some(vec![1, 2]),
        when: None,
    };
    for (v, avro) in [
        (
            &a,
            rec(vec![
                ("label", branch(0, string("x"))),
                ("count", null_at(1)),
                ("data", null_at(1)),
                ("when", branch(0, Value::TimestampMillis(1_700_000_000_123))),
            ]),
        ),
        (
            &b,
            rec(vec![
                ("label", null_at(1)),
                ("count", branch(2, string("s"))),
                ("data", branch(0, Value::Bytes(vec![1, 2]))),
                ("when", null_at(1)),
            ]),
        ),
    ] {
        let mut out = Vec::new();
        v.avro_encode(&mut out);
        assert_eq!(out, apache("null_not_first.avsc", avro));
        let mut r = rt::Reader::new(&out);
        assert_eq!(&Late::avro_decode(&mut r).expect("decodes"), v);
    }
}

#[test]
fn clashing_short_names_get_namespace_qualified_types() {
    use clashing_names::*;
    let v = Order {
        billing: GoldenBillingAddress {
            iban: "CH00".into(),
        },
        shipping: GoldenShippingAddress {
            street: "Main".into(),
            kind: GoldenShippingKind::Office,
        },
        either: GoldenBillingAddressOrGoldenShippingAddress::GoldenShippingAddress(
            GoldenShippingAddress {
                street: "Side".into(),
                kind: GoldenShippingKind::Home,
            },
        ),
        kind: GoldenShopKind::Store,
    };
    let mut out = Vec::new();
    v.avro_encode(&mut out);
    let expected = apache(
        "clashing_names.avsc",
        rec(vec![
            ("billing", rec(vec![("iban", string("CH00"))])),
            (
                "shipping",
                rec(vec![
                    ("street", string("Main")),
                    ("kind", Value::Enum(1, "OFFICE".into())),
                ]),
            ),
            (
                "either",
                branch(
                    1,
                    rec(vec![
                        ("street", string("Side")),
                        ("kind", Value::Enum(0, "HOME".into())),
                    ]),
                ),
            ),
            ("kind", Value::Enum(1, "STORE".into())),
        ]),
    );
    assert_eq!(out, expected);
    let mut r = rt::Reader::new(&out);
    assert_eq!(Order::avro_decode(&mut r).expect("decodes"), v);
}

#[test]
fn rust_keywords_as_field_names() {
    use keywords::*;
    let v = Keywords {
        r#type: "t".into(),
        r#fn: 3,
        self_: true,
        r#match: Some("m".into()),
        r#async: Mode::Self_,
        crate_name: 0.5,
        r#loop: [1, 2, 3, 4],
    };
    assert_eq!(Mode::MoveFast.as_str(), "move_fast");
    let mut out = Vec::new();
    v.avro_encode(&mut out);
    let expected = apache(
        "keywords.avsc",
        rec(vec![
            ("type", string("t")),
            ("fn", Value::Int(3)),
            ("self", Value::Boolean(true)),
            ("match", branch(1, string("m"))),
            ("async", Value::Enum(0, "SELF".into())),
            ("crateName", Value::Float(0.5)),
            ("loop", Value::Fixed(4, vec![1, 2, 3, 4])),
        ]),
    );
    assert_eq!(out, expected);
    let mut r = rt::Reader::new(&out);
    assert_eq!(Keywords::avro_decode(&mut r).expect("decodes"), v);
    // serde uses the Avro names
    let json = serde_json::to_value(&v).expect("serializes");
    for key in ["type", "fn", "self", "match", "async", "crateName", "loop"] {
        assert!(json.get(key).is_some(), "{key} in {json}");
    }
    assert_eq!(json["async"], "SELF");
}

fn v1_value(status: (u32, &str), level: (u32, &str), note: &str, removed: Vec<Value>) -> Value {
    rec(vec![
        ("id", Value::Int(7)),
        ("removed", Value::Array(removed)),
        ("status", Value::Enum(status.0, status.1.into())),
        ("level", Value::Enum(level.0, level.1.into())),
        ("note", string(note)),
        (
            "items",
            Value::Array(vec![
                branch(0, rec(vec![("data", string("blob"))])),
                branch(1, rec(vec![("body", string("text"))])),
            ]),
        ),
        (
            "tags",
            Value::Map(HashMap::from([("a".to_owned(), Value::Float(0.5))])),
        ),
    ])
}

#[test]
fn resolution_from_an_older_writer() {
    use resolution::*;
    let gone = rec(vec![
        ("x", branch(1, string("gone"))),
        ("y", Value::Double(1.0)),
    ]);
    let bytes = apache(
        "resolution_v1.avsc",
        v1_value((2, "ARCHIVED"), (1, "HIGH"), "n", vec![gone]),
    );
    let mut r = rt::Reader::new(&bytes);
    let got = Event::avro_decode_v1(&mut r).expect("resolves");
    r.finish().expect("all consumed");
    let expected = Event {
        id: 7,                   // int promoted to long
        status: Status::Unknown, // writer-only symbol -> reader default
        level: Level::High,
        note: Some("n".into()), // string -> ["null", string]
        items: vec![
            // branches matched by name, not position; string promoted to bytes
            TextOrBlob::Blob(Blob {
                data: b"blob".to_vec(),
            }),
            TextOrBlob::Text(Text {
                body: Some("text".into()),
            }),
        ],
        added: "fresh".into(), // reader-only field -> default
        tags: BTreeMap::from([("a".to_owned(), 0.5)]), // float promoted to double
    };
    assert_eq!(got, expected);

    // a writer-only symbol without reader default is an error naming the field
    let bytes = apache(
        "resolution_v1.avsc",
        v1_value((0, "OPEN"), (2, "EXTREME"), "n", vec![]),
    );
    let err = Event::avro_decode_v1(&mut rt::Reader::new(&bytes)).unwrap_err();
    assert_eq!(err.kind(), &rt::DecodeErrorKind::UnknownSymbol("EXTREME"));
    assert_eq!(err.path().to_string(), "level");
}

#[test]
fn encoding_into_an_older_writer_layout() {
    use resolution::*;
    let mut v = Event {
        id: 7,
        status: Status::Closed,
        level: Level::High,
        note: Some("n".into()),
        items: vec![
            TextOrBlob::Blob(Blob {
                data: b"blob".to_vec(),
            }),
            TextOrBlob::Text(Text {
                body: Some("text".into()),
            }),
        ],
        added: "dropped: the writer has no such field".into(),
        tags: BTreeMap::from([("a".to_owned(), 0.5)]),
    };
    let mut out = Vec::new();
    v.avro_encode_v1(&mut out).expect("representable");
    // the writer-only field gets its default
    assert_eq!(
        out,
        apache(
            "resolution_v1.avsc",
            v1_value((1, "CLOSED"), (1, "HIGH"), "n", vec![])
        )
    );

    let fails = |v: &Event| v.avro_encode_v1(&mut Vec::new()).unwrap_err();
    v.status = Status::Unknown;
    assert_eq!(fails(&v).path.to_string(), "status");
    v.status = Status::Open;
    v.note = None;
    assert_eq!(fails(&v).path.to_string(), "note");
    v.note = Some(String::new());
    v.items[1] = TextOrBlob::Text(Text { body: None });
    assert_eq!(fails(&v).path.to_string(), "items[1].body");
    v.items[1] = TextOrBlob::Blob(Blob { data: vec![0xff] });
    assert_eq!(fails(&v).path.to_string(), "items[1].data");
    v.items.clear();
    v.id = 1 << 40;
    assert_eq!(fails(&v).path.to_string(), "id");
    v.id = 1;
    v.tags.insert("b".into(), 0.1);
    assert_eq!(fails(&v).path.to_string(), "tags[\"b\"]");
}

#[test]
fn zero_copy_views_borrow_from_the_datum() {
    use views::*;
    let v = Doc {
        title: "t".into(),
        body: vec![1, 2, 3],
        plain: Plain { n: 5 },
        parts: vec![
            ParaOrPlain::Para(Para {
                text: Some("p".into()),
            }),
            ParaOrPlain::Plain(Plain { n: -1 }),
        ],
        meta: BTreeMap::from([("k".to_owned(), "v".to_owned())]),
        tag: Some(StringOrLong::String("s".into())),
        level: Level::High,
    };
    let mut out = Vec::new();
    v.avro_encode(&mut out);
    let mut r = rt::Reader::new(&out);
    let view = DocRef::avro_view(&mut r).expect("view decodes");
    r.finish().expect("all consumed");
    let range = out.as_ptr_range();
    assert!(
        range.contains(&view.title.as_ptr()),
        "title borrows from the datum"
    );
    assert!(
        range.contains(&view.body.as_ptr()),
        "body borrows from the datum"
    );
    assert_eq!(
        view.plain,
        Plain { n: 5 },
        "records without strings are used as they are"
    );
    assert_eq!(view.tag, Some(StringOrLongRef::String("s")));
    assert_eq!(
        view.parts[0],
        ParaOrPlainRef::Para(ParaRef { text: Some("p") })
    );
    assert_eq!(view.clone().into_owned(), v);
    let mut r = rt::Reader::new(&out[..out.len() - 1]);
    assert!(DocRef::avro_view(&mut r).is_err());
}

/// Map entries are charged with the map's B-tree nodes: with a validator that rejects the
/// input, decoding a map of 300 distinct entries stops within the input's size plus the slack
/// (charging only the entries, 48 bytes each, let the nodes grow to several times the bound).
#[test]
fn map_nodes_are_charged_against_the_heap_bound() {
    use compact_str::CompactString;
    use custom_string::*;
    fn reject(_: &[u8], _: usize) -> Result<(), rt::DecodeError> {
        Err(rt::DecodeError::new(rt::DecodeErrorKind::UnexpectedEof, 0))
    }
    let note = Note {
        title: "".into(),
        tags: vec![],
        meta: (0..300)
            .map(|i| {
                (
                    CompactString::from(format!("{i:03}")),
                    CompactString::default(),
                )
            })
            .collect(),
        nick: None,
        body: "".into(),
        lang: "".into(),
        counts: BTreeMap::new(),
    };
    let mut bytes = Vec::new();
    note.avro_encode(&mut bytes);
    // valid: decodes whatever it takes
    let mut r = rt::Reader::new(&bytes);
    assert_eq!(Note::avro_decode(&mut r).expect("decodes"), note);
    let mut failed = false;
    let info = allocation_counter::measure(|| {
        let mut r = rt::Reader::bounded(&bytes, reject, 0);
        failed = Note::avro_decode(&mut r).is_err();
    });
    assert!(failed, "the rejecting validator was never asked");
    let bound = bytes.len() + rt::ALLOC_SLACK + 512;
    let peak = usize::try_from(info.bytes_max).unwrap();
    assert!(
        peak <= bound,
        "{peak} bytes of heap for {} bytes of input",
        bytes.len()
    );
}

#[test]
fn custom_string_type_in_owned_types_views_and_resolution() {
    use compact_str::CompactString;
    use custom_string::*;
    let note = Note {
        title: "t".into(),
        tags: vec![
            "short".into(),
            CompactString::from("longer than the twenty-four inline bytes"),
        ],
        meta: BTreeMap::from([(CompactString::from("k"), CompactString::from("v"))]),
        nick: Some("n".into()),
        body: "b".into(),
        lang: "fr-CH".into(),
        counts: BTreeMap::from([(CompactString::from("x"), 2)]),
    };
    let mut ours = Vec::new();
    note.avro_encode(&mut ours);
    let map = |pairs: &[(&str, Value)]| {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    };
    let expected = apache(
        "custom_string.avsc",
        rec(vec![
            ("title", string("t")),
            (
                "tags",
                Value::Array(vec![
                    string("short"),
                    string("longer than the twenty-four inline bytes"),
                ]),
            ),
            ("meta", map(&[("k", string("v"))])),
            ("nick", branch(1, string("n"))),
            ("body", string("b")),
            ("lang", string("fr-CH")),
            ("counts", map(&[("x", Value::Long(2))])),
        ]),
    );
    assert_eq!(ours, expected);
    let mut r = rt::Reader::new(&ours);
    assert_eq!(Note::avro_decode(&mut r).expect("decodes"), note);
    let mut r = rt::Reader::new(&ours);
    let view = NoteRef::avro_view(&mut r).expect("views");
    assert_eq!(view.tags[1], "longer than the twenty-four inline bytes");
    assert_eq!(view.into_owned(), note);

    // older writer: bytes promoted to the custom string type, reader-only fields get defaults
    let old = apache(
        "custom_string_v1.avsc",
        rec(vec![
            ("title", string("t")),
            ("tags", Value::Array(vec![])),
            ("meta", map(&[])),
            ("nick", null_at(0)),
            ("body", Value::Bytes(b"from bytes".to_vec())),
        ]),
    );
    let mut r = rt::Reader::new(&old);
    let got = Note::avro_decode_v1(&mut r).expect("resolves");
    assert_eq!(got.body, "from bytes");
    assert_eq!(got.lang, "de-CH");
    assert_eq!(got.counts, BTreeMap::from([(CompactString::from("a"), 1)]));
    assert_eq!(got.nick, None);
}
