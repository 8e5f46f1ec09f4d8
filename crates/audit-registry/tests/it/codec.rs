use audit_consumer::{AuditRecord, Error as DecodeError, decode_async};
use audit_registry::{RegistryClient, RegistryConfig};
use audit_schema::SchemaVersion;

use crate::{client, command, decode, encode, shared_registry, unique_topic};

#[tokio::test]
async fn encode_then_decode_through_the_registry() {
    let client = client();
    let topic = unique_topic("codec");
    let bytes = encode(&client, &topic, SchemaVersion::LATEST)
        .await
        .expect("encode");
    let id = client
        .schema_id(
            &client.command_subject(&topic),
            SchemaVersion::LATEST.schema_json(),
        )
        .await
        .expect("id");
    assert_eq!(bytes[0], 0, "Confluent magic byte");
    assert_eq!(u32::from_be_bytes(bytes[1..5].try_into().unwrap()), id);
    assert_eq!(&bytes[5..], command().to_avro_datum().as_slice());

    // Another client (a consumer service) is the consumer's writer-schema source: it fetches
    // the writer schema by id.
    let consumer =
        RegistryClient::new(RegistryConfig::new(shared_registry().url())).expect("client");
    let record = decode_async(&bytes, &consumer).await.expect("decode");
    assert_eq!(record, AuditRecord::from(command()));
    let (decoded, schema_id, writer_version) = decode(&consumer, &bytes).await.expect("decode");
    assert_eq!(decoded, command());
    assert_eq!(schema_id, id);
    assert_eq!(writer_version, Some(SchemaVersion::LATEST));
}

#[tokio::test]
async fn older_writer_versions_decode_into_the_newest_types() {
    let client = client();
    let topic = unique_topic("codec-old");
    let consumer =
        RegistryClient::new(RegistryConfig::new(shared_registry().url())).expect("client");
    for writer in [SchemaVersion::V1_0_0, SchemaVersion::V1_0_1] {
        let bytes = encode(&client, &topic, writer)
            .await
            .expect("encode old layout");
        let (decoded, _, writer_version) = decode(&consumer, &bytes).await.expect("decode");
        // 1.0.0 and 1.0.1 differ only in an enum default: same canonical form, same layout.
        assert_eq!(
            writer_version.map(SchemaVersion::fingerprint),
            Some(writer.fingerprint())
        );
        assert_eq!(decoded, command(), "{writer:?}");
        assert_eq!(
            decode_async(&bytes, &consumer).await.expect("decode"),
            AuditRecord::from(command())
        );
    }
}

#[tokio::test]
async fn an_id_the_registry_does_not_know_is_an_unknown_schema_id() {
    let bytes = audit_schema::confluent::frame(987_654, &command().to_avro_datum());
    let err = decode_async(&bytes, &client())
        .await
        .expect_err("unknown id");
    assert!(
        matches!(err, DecodeError::UnknownSchemaId { schema_id: 987_654 }),
        "{err:?}"
    );
}

#[tokio::test]
async fn garbage_is_a_typed_error() {
    let err = decode(&client(), &[1, 2, 3])
        .await
        .expect_err("not a frame");
    assert!(matches!(err, audit_registry::Error::Codec(_)), "{err:?}");
}
