//! Confluent Schema Registry client for jEAP's `CreateAuditRecordCommand`, built on
//! [`schema_registry_converter`] 6.
//!
//! - [`RegistryClient`]: register-or-get, look-up, fetch by id, compatibility of a local schema
//!   against a subject's latest version, subjects and versions, subject compatibility levels;
//!   basic auth; TLS through the crate features `native-tls` or `rustls`.
//! - The data path's seams ([`audit_schema::registry`]): the client is the producers'
//!   [`SchemaIdProvider`](audit_schema::registry::SchemaIdProvider) (`audit_outbox`'s
//!   `AuditSender::with_provider`: subject from the configured [`SubjectStrategy`], id
//!   register-or-get and cached) and the consumers'
//!   [`AsyncWriterSchemaSource`](audit_schema::registry::AsyncWriterSchemaSource)
//!   (`audit_consumer::AuditConsumer`, `decode_async`: writer schema fetched by id and cached).
//! - [`SubjectStrategy`]: `TopicRecordName` (default, jEAP's:
//!   `{topic}-ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand`), `TopicName`
//!   (`{topic}-value`), `RecordName`.
//!
//! The registered schema is always the raw `.avsc` text ([`audit_schema::SchemaVersion::schema_json`]),
//! never a re-serialization, so its fingerprint and id are the ones the Java side gets.
//!
//! # Quick start
//!
//! ```
//! use audit_registry::{RegistryClient, RegistryConfig};
//! use audit_schema::registry::{AsyncWriterSchemaSource, SchemaIdProvider, Writer};
//! use audit_schema::{SchemaVersion, confluent};
//! # #[allow(clippy::unwrap_used)]
//! # fn main() -> Result<(), audit_registry::BoxError> {
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // Nothing listens on this URL: with the id pinned, no registry call is ever made.
//! let config = RegistryConfig::new("http://127.0.0.1:9").pin_schema_id(SchemaVersion::LATEST, 7);
//! let client = RegistryClient::new(config)?;
//!
//! // Producer side (what `audit_outbox::sender::AuditSender::with_provider` asks):
//! let subject = SchemaIdProvider::command_subject(&client, "audit-topic");
//! assert_eq!(
//!     subject,
//!     "audit-topic-ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand"
//! );
//! let id = SchemaIdProvider::schema_id(&client, &subject, SchemaVersion::LATEST.schema_json()).await?;
//! assert_eq!(confluent::frame(id, b"datum")[..5], [0, 0, 0, 0, 7]);
//!
//! // Consumer side (what `audit_consumer::decode_async` and `AuditConsumer` ask):
//! let Some(Writer::Schema(writer)) = client.fetch_writer_schema(7).await? else {
//!     return Err("id 7 is pinned".into());
//! };
//! assert_eq!(writer.known_version(), Some(SchemaVersion::LATEST));
//! assert_eq!(client.request_count(), 0);
//! # Ok(()) }) }
//! ```
//!
//! Against a live registry, drop the pin: the first `schema_id` of a subject registers the
//! schema (or gets the existing id) and caches it; the first fetch of an id gets the writer
//! schema and caches it.
//!
//! # Caching and outages
//!
//! - [`RegistryClient::new`] makes no call: a service starts while the registry is down.
//! - Pinned ids ([`RegistryConfig::pin_schema_id`]) and warm caches make zero registry calls
//!   for encoding and decoding ([`RegistryClient::request_count`] shows it).
//! - Only successes are cached; a failure (registry down, HTTP error) is returned as a typed
//!   [`Error`] naming the method, the URL and the status, and the next call tries again.
//!   [`Error::is_transient`] tells retryable failures apart.
//!
//! # Registration behaviour (as jEAP)
//!
//! With auto-registration on (the default) the client registers the schema under its subject,
//! which returns the existing id when it is already there. Before the first registration of a
//! subject that does not exist yet, its compatibility is set to `NONE` (`PUT /config/{subject}`;
//! [`RegistryConfig::set_compatibility_none`] turns this off): the design-time check of `avro/`
//! is the gate, not the registry. With [`RegistryConfig::auto_register`]`(false)` nothing is
//! ever written: the schema is only looked up, and a missing one is
//! [`Error::NotRegistered`].
//!
//! # Where `schema_registry_converter` is used and where not
//!
//! Register (`post_schema`), fetch by id, subject/version fetch, subjects, versions and the
//! Confluent look-up go through the converter. It has no call for `PUT /config/{subject}`,
//! `GET /config/{subject}` and `POST /compatibility/subjects/{s}/versions/latest`; those use the
//! same `reqwest` version directly with the same auth, timeout and TLS settings.
//!
//! # Registries without every endpoint
//!
//! [`RegistryClient::lookup`] uses the Confluent look-up endpoint `POST /subjects/{s}`. For a
//! registry without it, [`RegistryConfig::lookup_by_version_scan`] (off by default) searches the
//! subject's versions instead. Compatibility checks ask
//! `POST /compatibility/subjects/{s}/versions/latest`, which every Confluent-API registry has.

mod client;
mod config;
mod error;

pub use client::{CompatibilityCheck, RegistryClient, SubjectVersion};
pub use config::{COMMAND_FULL_NAME, CompatibilityLevel, RegistryConfig, SubjectStrategy};
pub use error::{BoxError, Error};
