use audit_registry::{Error, RegistryClient, RegistryConfig};
use audit_schema::{SchemaVersion, confluent};
use audit_testkit::SchemaRegistry;

use crate::proxy::Proxy;
use crate::{command, decode, encode, unique_topic};

fn assert_unreachable(err: &Error, url: &str) {
    match err {
        Error::Unreachable { url: u, .. } => assert!(u.starts_with(url), "{u} vs {url}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(err.is_transient());
    assert!(
        err.to_string().contains(url),
        "the message names the URL: {err}"
    );
}

#[tokio::test]
async fn warm_caches_keep_working_while_the_registry_is_down() {
    let registry = SchemaRegistry::start().expect("private registry");
    let client = RegistryClient::new(RegistryConfig::new(registry.url())).expect("client");
    let topic = unique_topic("down");
    let warm = encode(&client, &topic, SchemaVersion::LATEST)
        .await
        .expect("warm-up encode");
    // The first look at the id is answered from the registration cache.
    assert_eq!(
        decode(&client, &warm).await.expect("warm-up decode").0,
        command()
    );
    let calls = client.request_count();

    let url = registry.url();
    drop(registry); // connection refused from now on

    for _ in 0..3 {
        let bytes = encode(&client, &topic, SchemaVersion::LATEST)
            .await
            .expect("encode while down");
        assert_eq!(bytes, warm);
        assert_eq!(
            decode(&client, &bytes).await.expect("decode while down").0,
            command()
        );
    }
    assert_eq!(
        client.request_count(),
        calls,
        "zero registry calls when warm"
    );

    // A fresh look-up fails with a typed error naming the URL.
    let err = encode(&client, &unique_topic("down-new"), SchemaVersion::LATEST)
        .await
        .expect_err("registry is down");
    assert_unreachable(&err, &url);
    let err = decode(&client, &confluent::frame(4242, &command().to_avro_datum()))
        .await
        .expect_err("unknown id while down");
    assert_unreachable(&err, &url);
}

#[tokio::test]
async fn pinned_ids_need_no_registry_at_all() {
    // Nothing listens here: the service starts and runs without the registry.
    let port = audit_testkit::free_port().expect("port");
    let url = format!("http://127.0.0.1:{port}");
    let client = RegistryClient::new(
        RegistryConfig::new(&url)
            .pin_schema_id(SchemaVersion::V1_0_2, 31)
            .pin_schema_id(SchemaVersion::V1_0_1, 30),
    )
    .expect("client starts while the registry is down");
    let bytes = encode(&client, "pinned", SchemaVersion::V1_0_2)
        .await
        .expect("encode");
    assert_eq!(&bytes[..5], &[0, 0, 0, 0, 31]);
    let old = encode(&client, "pinned", SchemaVersion::V1_0_1)
        .await
        .expect("encode 1.0.1");
    let (_, _, writer_version) = decode(&client, &old).await.expect("decode pinned 1.0.1");
    assert_eq!(writer_version, Some(SchemaVersion::V1_0_1));
    assert_eq!(decode(&client, &bytes).await.expect("decode").0, command());
    assert_eq!(client.request_count(), 0);

    // An id that is not pinned does need the registry: typed error, nothing cached.
    let err = decode(&client, &confluent::frame(99, &command().to_avro_datum()))
        .await
        .expect_err("registry down");
    assert_unreachable(&err, &url);
}

#[tokio::test]
async fn errors_are_never_cached() {
    let registry = SchemaRegistry::start().expect("private registry");
    let mut proxy = Proxy::start(registry.port()).await;
    let client = RegistryClient::new(RegistryConfig::new(proxy.url())).expect("client");
    let topic = unique_topic("no-cache");

    // HTTP error: id 1 does not exist yet in the fresh registry.
    let framed = confluent::frame(1, &command().to_avro_datum());
    let err = decode(&client, &framed).await.expect_err("unknown id");
    match &err {
        Error::Http {
            status,
            error_code,
            url,
            method,
            ..
        } => {
            assert_eq!(*status, 404);
            assert_eq!(*error_code, Some(40403));
            assert_eq!(*method, "GET");
            assert!(
                url.starts_with(&format!("{}/schemas/ids/1", proxy.url())),
                "{url}"
            );
        }
        other => panic!("expected Http, got {other:?}"),
    }
    assert_eq!(err.status(), Some(404));
    assert!(!err.is_transient());

    // Registry unreachable for the encoder.
    proxy.down().await;
    let err = encode(&client, &topic, SchemaVersion::LATEST)
        .await
        .expect_err("down");
    assert_unreachable(&err, &proxy.url());

    // Back up: the same calls now succeed (neither failure was cached).
    proxy.up().await;
    let bytes = encode(&client, &topic, SchemaVersion::LATEST)
        .await
        .expect("encode after recovery");
    assert_eq!(
        bytes[..5],
        [0, 0, 0, 0, 1],
        "a fresh rivven registry hands out id 1 first"
    );
    assert_eq!(bytes, framed, "same id, same datum");
    let fresh = RegistryClient::new(RegistryConfig::new(proxy.url())).expect("client");
    assert_eq!(decode(&fresh, &framed).await.expect("decode").0, command());
    assert_eq!(
        decode(&client, &framed)
            .await
            .expect("decode, formerly 404")
            .0,
        command()
    );
}

#[tokio::test]
async fn http_errors_name_url_and_status() {
    let registry = crate::shared_registry();
    let client = RegistryClient::new(RegistryConfig::new(registry.url())).expect("client");
    let err = client
        .subject_version("no-such-subject-at-all", Some(7))
        .await
        .expect_err("missing");
    assert_eq!(err.status(), Some(404), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("HTTP 404"), "{text}");
    assert!(
        text.contains(&format!(
            "{}/subjects/no-such-subject-at-all/versions/7",
            registry.url()
        )),
        "{text}"
    );

    let err = client
        .register("bad-schema-value", "not json")
        .await
        .expect_err("invalid schema");
    assert_eq!(err.status(), Some(422), "{err:?}");
    assert!(
        err.to_string()
            .contains("/subjects/bad-schema-value/versions"),
        "{err}"
    );
}
