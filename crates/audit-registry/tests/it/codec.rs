use audit_registry::{CommandDecoder, CommandEncoder, RegistryClient, RegistryConfig};
use audit_schema::SchemaVersion;

use crate::{client, command, shared_registry, unique_topic};

#[tokio::test]
async fn encode_then_decode_through_the_registry() {
    let client = client();
    let topic = unique_topic("codec");
    let encoder = CommandEncoder::new(client.clone(), &topic);
    let bytes = encoder.encode(&command()).await.expect("encode");
    let id = encoder.schema_id().await.expect("id");
    assert_eq!(bytes[0], 0, "Confluent magic byte");
    assert_eq!(u32::from_be_bytes(bytes[1..5].try_into().unwrap()), id);
    assert_eq!(&bytes[5..], command().to_avro_datum().as_slice());

    // A decoder of another client (a consumer service) fetches the writer schema by id.
    let consumer =
        RegistryClient::new(RegistryConfig::new(shared_registry().url())).expect("client");
    let decoded = CommandDecoder::new(consumer.clone())
        .decode_with_info(&bytes)
        .await
        .expect("decode");
    assert_eq!(decoded.command, command());
    assert_eq!(decoded.schema_id, id);
    assert_eq!(decoded.writer_version, Some(SchemaVersion::LATEST));
}

#[tokio::test]
async fn older_writer_versions_decode_into_the_newest_types() {
    let client = client();
    let topic = unique_topic("codec-old");
    let consumer =
        RegistryClient::new(RegistryConfig::new(shared_registry().url())).expect("client");
    let decoder = CommandDecoder::new(consumer);
    for writer in [SchemaVersion::V1_0_0, SchemaVersion::V1_0_1] {
        let encoder = CommandEncoder::new(client.clone(), &topic).with_writer_version(writer);
        let bytes = encoder.encode(&command()).await.expect("encode old layout");
        let decoded = decoder.decode_with_info(&bytes).await.expect("decode");
        // 1.0.0 and 1.0.1 differ only in an enum default: same canonical form, same layout.
        assert_eq!(
            decoded.writer_version.map(SchemaVersion::fingerprint),
            Some(writer.fingerprint())
        );
        assert_eq!(decoded.command, command(), "{writer:?}");
    }
}

#[tokio::test]
async fn garbage_is_a_typed_error() {
    let decoder = CommandDecoder::new(client());
    let err = decoder.decode(&[1, 2, 3]).await.expect_err("not a frame");
    assert!(matches!(err, audit_registry::Error::Codec(_)), "{err:?}");
}
