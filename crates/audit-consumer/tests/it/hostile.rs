//! Acceptance 4: malformed or hostile bytes give a typed error, never a panic.

use std::error::Error as _;

use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
use audit_consumer::{
    BoxError, Error, LocalVersions, SchemaVersion, Writer, WriterSchemaSource, decode,
};
use proptest::prelude::*;

use crate::{ID_1_0_0, ID_1_0_1, ID_1_0_2, record_value, t0, versions};

fn typical_value() -> Vec<u8> {
    let command = AuditCommandBuilder::new("svc", "SYS", t0())
        .event_type(AuditEventType::Modified)
        .context_with_process_id("uc", "p1")
        .event_data("a", "1")
        .event_data("b", "2")
        .user("u1", "idp")
        .audited_object(
            AuditedObject::new("Person", "42")
                .version("3")
                .value("name", "Alice")
                .null_value("nick")
                .json_bytes("doc", b"{}".to_vec())
                .s3("photo", "s3://x"),
        )
        .build()
        .unwrap();
    record_value(&command)
}

/// Every error must be one of the decode errors and render a message; sources are kept.
fn check_typed(error: &Error) {
    assert!(!error.to_string().is_empty());
    match error {
        Error::TruncatedHeader { .. }
        | Error::WrongMagicByte { .. }
        | Error::MalformedDatum { .. }
        | Error::IncompatibleWriterSchema { .. } => {
            assert!(error.source().is_some(), "{error:?} keeps its source")
        }
        Error::UnknownSchemaId { .. } => {}
        other => panic!("unexpected error kind for bytes: {other:?}"),
    }
}

#[test]
fn empty_value_is_a_truncated_header() {
    let error = decode(&[], &versions()).unwrap_err();
    assert!(
        matches!(error, Error::TruncatedHeader { len: 0, .. }),
        "{error:?}"
    );
    check_typed(&error);
}

#[test]
fn four_bytes_are_a_truncated_header() {
    let error = decode(&[0, 0, 0, 3], &versions()).unwrap_err();
    assert!(
        matches!(error, Error::TruncatedHeader { len: 4, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("5-byte"), "{error}");
}

#[test]
fn wrong_magic_byte() {
    let mut value = typical_value();
    value[0] = 0xC3; // the single-object marker, a common mix-up
    let error = decode(&value, &versions()).unwrap_err();
    assert!(
        matches!(error, Error::WrongMagicByte { found: 0xC3, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("0xc3"), "{error}");
    check_typed(&error);
}

#[test]
fn unknown_schema_id() {
    let value = audit_schema::confluent::frame(4711, &typical_value()[5..]);
    let error = decode(&value, &versions()).unwrap_err();
    assert!(
        matches!(error, Error::UnknownSchemaId { schema_id: 4711 }),
        "{error:?}"
    );
    assert!(error.to_string().contains("4711"), "{error}");
    assert!(matches!(
        decode(&typical_value(), &LocalVersions::new()),
        Err(Error::UnknownSchemaId { schema_id: 3 })
    ));
}

struct Unreachable;

impl WriterSchemaSource for Unreachable {
    fn writer_schema(&self, _schema_id: u32) -> Result<Option<Writer>, BoxError> {
        Err("registry unreachable: connection refused".into())
    }
}

#[test]
fn lookup_failure_keeps_the_source() {
    let error = decode(&typical_value(), &Unreachable).unwrap_err();
    assert!(
        matches!(error, Error::SchemaLookup { schema_id: 3, .. }),
        "{error:?}"
    );
    assert_eq!(
        error.source().map(ToString::to_string).as_deref(),
        Some("registry unreachable: connection refused")
    );
}

#[test]
fn truncated_datum_is_malformed_and_names_the_field() {
    let value = typical_value();
    let error = decode(&value[..value.len() - 3], &versions()).unwrap_err();
    assert!(matches!(error, Error::MalformedDatum { .. }), "{error:?}");
    let source = error.source().map(ToString::to_string).unwrap_or_default();
    assert!(source.contains("commandVersion"), "{source}");
}

#[test]
fn trailing_bytes_are_malformed() {
    let mut value = typical_value();
    value.push(0);
    assert!(matches!(
        decode(&value, &versions()),
        Err(Error::MalformedDatum { .. })
    ));
}

#[test]
fn huge_length_prefix_does_not_allocate_or_panic() {
    // header + identity.id with a length of i64::MAX / 2 (zig-zag varint of 0x7fff_ffff_ffff_fffe)
    let mut value = vec![0, 0, 0, 0, 3];
    value.extend_from_slice(&[0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    let error = decode(&value, &versions()).unwrap_err();
    assert!(matches!(error, Error::MalformedDatum { .. }), "{error:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Err(error) = decode(&bytes, &versions()) {
            check_typed(&error);
        }
    }

    #[test]
    fn arbitrary_datums_after_a_valid_header_never_panic(
        id in prop_oneof![Just(ID_1_0_0), Just(ID_1_0_1), Just(ID_1_0_2)],
        datum in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        if let Err(error) = decode(&audit_schema::confluent::frame(id, &datum), &versions()) {
            check_typed(&error);
        }
    }

    #[test]
    fn every_strict_prefix_of_a_valid_value_is_an_error(cut in 0_usize..10_000) {
        let value = typical_value();
        let cut = cut % value.len();
        let error = decode(&value[..cut], &versions());
        prop_assert!(error.is_err(), "prefix of {} bytes decoded", cut);
        if let Err(error) = error { check_typed(&error); }
    }

    #[test]
    fn corrupted_valid_values_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        writer in prop_oneof![Just(SchemaVersion::V1_0_0), Just(SchemaVersion::V1_0_1), Just(SchemaVersion::V1_0_2)],
    ) {
        let id = match writer { SchemaVersion::V1_0_0 => ID_1_0_0, SchemaVersion::V1_0_1 => ID_1_0_1, _ => ID_1_0_2 };
        let mut value = typical_value();
        value[1..5].copy_from_slice(&id.to_be_bytes());
        for (at, byte) in flips {
            let i = at.index(value.len());
            value[i] ^= byte;
        }
        if let Err(error) = decode(&value, &versions()) {
            check_typed(&error);
        }
    }
}

/// A registry-style source that parses the schema text it "fetched" for every id.
struct Fetched(String);

impl WriterSchemaSource for Fetched {
    fn writer_schema(&self, _schema_id: u32) -> Result<Option<Writer>, BoxError> {
        let schema = audit_consumer::WriterSchema::parse(&self.0)?;
        Ok(Some(Writer::Schema(std::sync::Arc::new(schema))))
    }
}

#[test]
fn incompatible_writer_schema_is_typed() {
    // commandVersion as an int: data written with it cannot be read as the reader's string
    let schema = SchemaVersion::V1_0_1.schema_json().replace(
        r#""name": "commandVersion",
      "type": "string""#,
        r#""name": "commandVersion",
      "type": "int""#,
    );
    assert_ne!(
        schema,
        SchemaVersion::V1_0_1.schema_json(),
        "the test schema must differ"
    );
    let error = decode(&audit_schema::confluent::frame(9, &[]), &Fetched(schema)).unwrap_err();
    assert!(
        matches!(error, Error::IncompatibleWriterSchema { schema_id: 9, .. }),
        "{error:?}"
    );
    assert!(error.source().is_some());
}

#[test]
fn invalid_writer_schema_text_is_a_lookup_failure() {
    let error = decode(&typical_value(), &Fetched("{not a schema".into())).unwrap_err();
    assert!(
        matches!(error, Error::SchemaLookup { schema_id: 3, .. }),
        "{error:?}"
    );
    assert!(error.source().is_some());
}

#[test]
fn malformed_datum_on_the_generic_path() {
    // a compatible writer that is none of the known versions: an extra enum symbol
    let schema =
        SchemaVersion::V1_0_1
            .schema_json()
            .replacen(r#""UNKNOWN""#, r#""UNKNOWN", "ARCHIVED""#, 1);
    assert_ne!(
        schema,
        SchemaVersion::V1_0_1.schema_json(),
        "the test schema must differ"
    );
    let source = Fetched(schema);
    let value = typical_value();
    // typical_value is a 1.0.2 datum; cut it short so the generic decoder runs out of input
    let error = decode(&value[..value.len() - 4], &source).unwrap_err();
    assert!(matches!(error, Error::MalformedDatum { .. }), "{error:?}");
    assert!(error.source().is_some());
}
