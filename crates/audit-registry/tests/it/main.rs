//! Integration tests against a real rivven-schema 0.0.22 registry on loopback, started by
//! audit-testkit (one shared server per test run, private ones where a test stops it).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod auth;
mod codec;
mod compatibility;
mod outage;
mod proxy;
mod register;
#[cfg(any(feature = "rustls", feature = "native-tls"))]
mod tls;

use std::sync::atomic::{AtomicU32, Ordering};

use audit_registry::{RegistryClient, RegistryConfig};
use audit_schema::*;
use audit_testkit::SchemaRegistry;
use chrono::{TimeZone, Utc};

/// The registry shared by the tests of this binary.
pub fn shared_registry() -> &'static SchemaRegistry {
    SchemaRegistry::shared().expect("rivven-schema starts (scripts/ensure-rivven.sh)")
}

/// The configuration for rivven-schema at `url`: the defaults, plus the look-up by version
/// scan (rivven has no look-up endpoint; see `audit_testkit::SchemaRegistry`).
pub fn rivven_config(url: &str) -> RegistryConfig {
    RegistryConfig::new(url).lookup_by_version_scan(true)
}

/// A client for the shared registry with [`rivven_config`].
pub fn client() -> RegistryClient {
    RegistryClient::new(rivven_config(&shared_registry().url())).expect("client")
}

/// [`command`] framed as a producer frames it: the id of `writer` under the client's subject for
/// `topic` (register-or-get, cached), then the datum in `writer`'s layout.
pub async fn encode(
    client: &RegistryClient,
    topic: &str,
    writer: SchemaVersion,
) -> Result<Vec<u8>, audit_registry::Error> {
    let id = client
        .schema_id(&client.command_subject(topic), writer.schema_json())
        .await?;
    Ok(confluent::frame(id, &command().to_avro_datum_as(writer)?))
}

/// Reads a frame with the writer schema of its id (fetched by id, cached) into the newest types;
/// also returns the id and the known version the writer schema is.
pub async fn decode(
    client: &RegistryClient,
    bytes: &[u8],
) -> Result<(CreateAuditRecordCommand, u32, Option<SchemaVersion>), audit_registry::Error> {
    let (id, datum) = confluent::unframe(bytes)?;
    let writer = client.writer_schema(id).await?;
    Ok((writer.decode(datum)?, id, writer.known_version()))
}

/// A topic name no other test uses.
pub fn unique_topic(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// A command that every schema version can represent.
pub fn command() -> CreateAuditRecordCommand {
    let t = Utc
        .timestamp_millis_opt(1_700_000_123_456)
        .single()
        .expect("timestamp");
    CreateAuditRecordCommand {
        identity: AvroMessageIdentity {
            id: "0b0e7f5e-2c57-4f41-9d0e-5b1c6f1d2a10".into(),
            idempotence_id: "audit-registry-it-1".into(),
            created: t,
        },
        r#type: AvroMessageType {
            name: "CreateAuditRecordCommand".into(),
            version: "1.0.2".into(),
            variant: None,
        },
        publisher: AvroMessagePublisher {
            system: "jme".into(),
            service: "audit-registry-it".into(),
        },
        references: CreateAuditRecordCommandReferences {},
        payload: CreateAuditRecordCommandPayload {
            timestamp: t,
            event: AuditEventDetails {
                r#type: AuditEventType::Modified,
                context: Some(AuditContext {
                    use_case: "edit".into(),
                    process_id: None,
                }),
                event_data: Some(vec![AuditEventDataElement {
                    key: "k".into(),
                    value: "v".into(),
                }]),
            },
            trigger: AuditTrigger::AuditUser(AuditUser {
                id: "user-1".into(),
                identity_provider: "eiam".into(),
            }),
            audited_data: Some(AuditObject {
                r#type: "Document".into(),
                id: "doc-7".into(),
                version: Some("3".into()),
                object_data: Some(vec![AuditObjectData::AuditObjectDataValue(
                    AuditObjectDataValue {
                        role: Some(AuditObjectDataRole::New),
                        name: "title".into(),
                        value: Some("Hello".into()),
                    },
                )]),
            }),
        },
        process_id: Some("proc-1".into()),
        command_version: "1.0.2".into(),
    }
}

/// Record schemas WITHOUT logical types (rivven's own checker rejects any logical type).
pub const PLAIN_V1: &str = r#"{"type":"record","name":"Plain","namespace":"it.audit","fields":[{"name":"a","type":"string"}]}"#;
/// PLAIN_V1 plus a field without default: not BACKWARD compatible.
pub const PLAIN_V2_NO_DEFAULT: &str = r#"{"type":"record","name":"Plain","namespace":"it.audit","fields":[{"name":"a","type":"string"},{"name":"b","type":"int"}]}"#;
/// PLAIN_V1 plus a field with default: BACKWARD compatible.
pub const PLAIN_V2_DEFAULT: &str = r#"{"type":"record","name":"Plain","namespace":"it.audit","fields":[{"name":"a","type":"string"},{"name":"b","type":"int","default":0}]}"#;

/// Parsing Canonical Form fingerprint of a schema text.
pub fn fingerprint(schema: &str) -> u64 {
    canonical::fingerprint(&canonical::parsing_canonical_form(schema).expect("schema parses"))
}
