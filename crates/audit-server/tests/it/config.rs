//! Configuration: defaults, file + environment, clear errors.

use audit_server::{Config, Error};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_are_an_sqlite_store_kept_forever() {
    let config = Config::load_from(None, env(&[("PATH", "/bin"), ("HOME", "/root")])).unwrap();
    assert_eq!(config.store_url, "sqlite://audit.db");
    assert_eq!(config.retention.days, None);
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config, Config::default());
}

#[test]
fn file_then_environment() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("server.toml");
    std::fs::write(
        &toml,
        "store_url = \"postgres://postgres@127.0.0.1/audit\"\n\
         [retention]\ndays = 30\n[ingest]\nmax_batch = 50\nqueue_capacity = 500\n\
         [auth]\naudience = \"audit-api\"\n",
    )
    .unwrap();
    let config = Config::load_from(
        Some(&toml),
        env(&[
            ("AUDIT_SERVER_MAX_BATCH", "70"),
            ("AUDIT_SERVER_LISTEN", "0.0.0.0:9000"),
        ]),
    )
    .unwrap();
    assert_eq!(config.store_url, "postgres://postgres@127.0.0.1/audit");
    assert_eq!(config.retention.days, Some(30));
    assert_eq!(config.ingest.max_batch, 70, "the environment wins");
    assert_eq!(config.ingest.queue_capacity, 500);
    assert_eq!(config.auth.audience, "audit-api");
    assert_eq!(config.listen.port(), 9000);
    assert_eq!(config.ingest.writers, 2);
    let config = Config::load_from(
        Some(&toml),
        env(&[("AUDIT_SERVER_RETENTION_DAYS", "forever")]),
    )
    .unwrap();
    assert_eq!(config.retention.days, None);

    let json = dir.path().join("server.json");
    std::fs::write(&json, r#"{"query": {"max_limit": 200}}"#).unwrap();
    assert_eq!(
        Config::load_from(Some(&json), env(&[]))
            .unwrap()
            .query
            .max_limit,
        200
    );
}

#[test]
fn bad_values_are_named() {
    let err = Config::load_from(None, env(&[("AUDIT_SERVER_MAX_BATCH", "lots")])).unwrap_err();
    assert!(matches!(err, Error::Env { .. }));
    let text = err.to_string();
    assert!(
        text.contains("AUDIT_SERVER_MAX_BATCH") && text.contains("lots"),
        "{text}"
    );

    let err = Config::load_from(None, env(&[("AUDIT_SERVER_LISTEN", "localhost")])).unwrap_err();
    assert!(
        err.to_string().contains("AUDIT_SERVER_LISTEN=`localhost`"),
        "{err}"
    );

    let err = Config::load_from(None, env(&[("AUDIT_SERVER_MAX_BACTH", "5")])).unwrap_err();
    assert!(err.to_string().contains("AUDIT_SERVER_MAX_BACTH"), "{err}");

    let err = Config::load_from(None, env(&[("AUDIT_SERVER_QUEUE_CAPACITY", "10")])).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ingest.queue_capacity") && text.contains("`10`"),
        "{text}"
    );

    let err = Config::load_from(None, env(&[("AUDIT_SERVER_WRITERS", "0")])).unwrap_err();
    assert!(err.to_string().contains("ingest.writers"), "{err}");

    let err = Config::load_from(None, env(&[("AUDIT_SERVER_RETENTION_DAYS", "0")])).unwrap_err();
    assert!(err.to_string().contains("retention.days"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[ingest]\nmax_bach = 3\n").unwrap();
    let err = Config::load_from(Some(&file), env(&[])).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("c.toml") && text.contains("max_bach"),
        "{text}"
    );
    std::fs::write(&file, "[ingest]\nmax_batch = \"three\"\n").unwrap();
    let text = Config::load_from(Some(&file), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(text.contains("max_batch"), "{text}");

    let err = Config::load_from(Some(&dir.path().join("missing.toml")), env(&[])).unwrap_err();
    assert!(matches!(err, Error::Read { .. }), "{err}");
}

#[tokio::test]
async fn bad_key_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("rsa.pem");
    std::fs::write(&key, "not a key").unwrap();
    let mut config = crate::support::config(Some(dir.path()));
    config.auth.rs256_public_key_files = vec![key];
    let err = audit_server::AuditServer::new(config).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("rsa.pem") && text.contains("RS256"), "{text}");
}

/// `Debug` of the configuration (what ends up in a log or a panic message) shows no secret.
#[test]
fn debug_output_shows_no_secret() {
    let mut config = Config {
        store_url: "postgres://audit:db-pass-123@db.example:5432/audit".into(),
        ..Config::default()
    };
    config.auth.hs256_secret = Some("hs-secret-456".into());
    let mut kafka = audit_server::KafkaConfig::new("broker:9092", ["audit"]);
    kafka.registry_url = Some("https://reg-user:reg-pass-789@registry.example".into());
    kafka
        .properties
        .insert("sasl.password".into(), "sasl-pass-000".into());
    kafka
        .properties
        .insert("security.protocol".into(), "sasl_ssl".into());
    config.kafka = Some(kafka);
    let shown = format!("{config:?}");
    for secret in [
        "db-pass-123",
        "hs-secret-456",
        "reg-pass-789",
        "sasl-pass-000",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    // the rest is shown
    for visible in [
        "postgres://audit:<redacted>@db.example:5432/audit",
        "sasl_ssl",
        "reg-user",
        "broker:9092",
    ] {
        assert!(shown.contains(visible), "{visible} missing in {shown}");
    }
}
