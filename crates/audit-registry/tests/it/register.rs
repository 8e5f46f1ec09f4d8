use audit_registry::{
    COMMAND_FULL_NAME, CompatibilityLevel, Error, RegistryClient, RegistryConfig, SubjectStrategy,
};
use audit_schema::SchemaVersion;
use audit_testkit::SchemaRegistry;

use crate::{client, fingerprint, rivven_config, shared_registry, unique_topic};

#[tokio::test]
async fn register_is_register_or_get_and_fetch_returns_the_schema() {
    let client = client();
    let subject = client.command_subject(&unique_topic("reg"));
    let schema = SchemaVersion::V1_0_0.schema_json();
    // A new subject needs compatibility NONE first: rivven's checker rejects logical types.
    client
        .set_compatibility(&subject, CompatibilityLevel::None)
        .await
        .expect("set NONE");
    let id = client.register(&subject, schema).await.expect("register");
    let again = client
        .register(&subject, schema)
        .await
        .expect("register again");
    assert_eq!(id, again, "registering the same schema gives the same id");

    let fetched = RegistryClient::new(RegistryConfig::new(shared_registry().url()))
        .expect("fresh client")
        .schema_by_id(id)
        .await
        .expect("fetch by id");
    // rivven stores a re-serialized schema: equal in Parsing Canonical Form, not byte-equal.
    assert_eq!(fingerprint(&fetched), SchemaVersion::V1_0_0.fingerprint());

    let latest = client
        .subject_version(&subject, None)
        .await
        .expect("latest");
    assert_eq!((latest.id, latest.version), (id, 1));
    assert_eq!(latest.subject, subject);
    let first = client
        .subject_version(&subject, Some(1))
        .await
        .expect("version 1");
    assert_eq!(first, latest);
}

/// A private, empty registry: subject versions are exact only there, because rivven-schema
/// adds no version to a non-empty subject for a schema already registered under another one.
fn private_registry() -> (SchemaRegistry, RegistryClient) {
    let registry = SchemaRegistry::start().expect("private registry");
    let client = RegistryClient::new(rivven_config(&registry.url())).expect("client");
    (registry, client)
}

#[tokio::test]
async fn auto_registration_sets_none_once_and_registers_every_version() {
    let (_registry, client) = private_registry();
    let topic = unique_topic("auto");
    let subject = client.command_subject(&topic);
    assert_eq!(
        subject,
        format!("{topic}-{COMMAND_FULL_NAME}"),
        "TopicRecordName is the default"
    );
    let mut ids = Vec::new();
    for version in SchemaVersion::ALL {
        ids.push(
            client
                .schema_id(&subject, version.schema_json())
                .await
                .unwrap_or_else(|e| panic!("{version:?}: {e}")),
        );
    }
    assert_eq!(
        client
            .subject_compatibility(&subject)
            .await
            .expect("config"),
        Some(CompatibilityLevel::None)
    );
    assert_eq!(
        ids,
        vec![1, 2, 3],
        "a fresh registry numbers the three schemas 1, 2, 3"
    );
    let versions = client.versions(&subject).await.expect("versions");
    assert_eq!(versions, vec![1, 2, 3]);
    assert!(
        client
            .subjects()
            .await
            .expect("subjects")
            .contains(&subject)
    );

    // Warm: the same answers without a single call.
    let calls = client.request_count();
    for (version, id) in SchemaVersion::ALL.iter().zip(&ids) {
        assert_eq!(
            client
                .schema_id(&subject, version.schema_json())
                .await
                .expect("warm"),
            *id
        );
    }
    assert_eq!(client.request_count(), calls);
}

#[tokio::test]
async fn without_set_none_the_subject_keeps_the_registry_default() {
    let client = RegistryClient::new(
        RegistryConfig::new(shared_registry().url()).set_compatibility_none(false),
    )
    .expect("client");
    let subject = client.command_subject(&unique_topic("keep-default"));
    client
        .schema_id(&subject, SchemaVersion::LATEST.schema_json())
        .await
        .expect("first version registers under the default level");
    let level = client
        .subject_compatibility(&subject)
        .await
        .expect("config");
    assert_ne!(level, Some(CompatibilityLevel::None));
}

#[tokio::test]
async fn lookup_finds_registered_schemas_only() {
    let (_registry, client) = private_registry();
    let subject = client.command_subject(&unique_topic("lookup"));
    assert_eq!(
        client
            .lookup(&subject, SchemaVersion::V1_0_1.schema_json())
            .await
            .expect("lookup on a missing subject"),
        None
    );
    client
        .set_compatibility(&subject, CompatibilityLevel::None)
        .await
        .expect("NONE");
    let id1 = client
        .register(&subject, SchemaVersion::V1_0_1.schema_json())
        .await
        .expect("register 1.0.1");
    let id2 = client
        .register(&subject, SchemaVersion::V1_0_2.schema_json())
        .await
        .expect("register 1.0.2");
    assert_ne!(id1, id2);

    let found = client
        .lookup(&subject, SchemaVersion::V1_0_1.schema_json())
        .await
        .expect("lookup")
        .expect("1.0.1 is registered");
    assert_eq!((found.id, found.version), (id1, 1));
    // 1.0.0 has the Parsing Canonical Form of 1.0.1 (only an enum default differs): found.
    let same_form = client
        .lookup(&subject, SchemaVersion::V1_0_0.schema_json())
        .await
        .expect("lookup 1.0.0")
        .expect("same canonical form as 1.0.1");
    assert_eq!(same_form.id, id1);
    assert_eq!(
        client
            .lookup(&subject, crate::PLAIN_V1)
            .await
            .expect("lookup of another schema"),
        None
    );
}

#[tokio::test]
async fn without_the_version_scan_a_missing_look_up_endpoint_is_an_error() {
    let (registry, _) = private_registry();
    let client = RegistryClient::new(RegistryConfig::new(registry.url())).expect("client");
    let subject = client.command_subject(&unique_topic("no-scan"));
    let err = client
        .lookup(&subject, SchemaVersion::LATEST.schema_json())
        .await
        .expect_err("rivven has no POST /subjects/{s}");
    assert!(
        matches!(
            err,
            Error::Http {
                method: "POST",
                status: 405,
                error_code: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(client.request_count(), 1, "no version was fetched");
    let reader = RegistryClient::new(RegistryConfig::new(registry.url()).auto_register(false))
        .expect("client");
    assert!(matches!(
        reader
            .schema_id(&subject, SchemaVersion::LATEST.schema_json())
            .await,
        Err(Error::Http { status: 405, .. })
    ));
}

#[tokio::test]
async fn auto_registration_off_never_writes() {
    let url = shared_registry().url();
    let reader = RegistryClient::new(rivven_config(&url).auto_register(false)).expect("client");
    let subject = reader.command_subject(&unique_topic("no-auto"));
    let err = reader
        .schema_id(&subject, SchemaVersion::LATEST.schema_json())
        .await
        .expect_err("not registered");
    match &err {
        Error::NotRegistered {
            subject: s,
            url: u,
            fingerprint,
        } => {
            assert_eq!(s, &subject);
            assert_eq!(u, &url);
            assert_eq!(*fingerprint, SchemaVersion::LATEST.fingerprint());
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(
        !reader
            .subjects()
            .await
            .expect("subjects")
            .contains(&subject),
        "nothing registered"
    );
    assert_eq!(
        reader
            .subject_compatibility(&subject)
            .await
            .expect("config"),
        reader_default(&reader).await
    );

    // Once someone registers it, the look-up finds the same id.
    let writer = client();
    let id = writer
        .schema_id(&subject, SchemaVersion::LATEST.schema_json())
        .await
        .expect("register");
    assert_eq!(
        reader
            .schema_id(&subject, SchemaVersion::LATEST.schema_json())
            .await
            .expect("found"),
        id
    );
}

/// The level a subject without its own setting reports (rivven: the global default).
async fn reader_default(client: &RegistryClient) -> Option<CompatibilityLevel> {
    client
        .subject_compatibility(&unique_topic("never-configured"))
        .await
        .expect("config of an unknown subject")
}

#[tokio::test]
async fn subject_strategies_name_the_subjects() {
    let topic = unique_topic("strategies");
    for (strategy, expected) in [
        (SubjectStrategy::TopicName, format!("{topic}-value")),
        (SubjectStrategy::RecordName, COMMAND_FULL_NAME.to_owned()),
        (
            SubjectStrategy::TopicRecordName,
            format!("{topic}-{COMMAND_FULL_NAME}"),
        ),
    ] {
        let client = RegistryClient::new(
            RegistryConfig::new(shared_registry().url()).subject_strategy(strategy),
        )
        .expect("client");
        assert_eq!(client.command_subject(&topic), expected);
        let id = client
            .schema_id(&expected, SchemaVersion::LATEST.schema_json())
            .await
            .expect("registered");
        let latest = client
            .subject_version(&expected, None)
            .await
            .expect("latest");
        assert_eq!(latest.id, id, "{strategy}");
    }
}
