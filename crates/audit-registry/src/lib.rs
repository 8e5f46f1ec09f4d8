//! Confluent Schema Registry client for jEAP's `CreateAuditRecordCommand`, built on
//! [`schema_registry_converter`] 6.
//!
//! - [`RegistryClient`]: register-or-get, look-up, fetch by id, compatibility of a local schema
//!   against a subject's latest version, subjects and versions, subject compatibility levels;
//!   basic auth; TLS through the crate features `native-tls` or `rustls`.
//! - [`CommandEncoder`] / [`CommandDecoder`]: command <-> Confluent-framed bytes
//!   (magic byte 0, 4-byte big-endian schema id, Avro datum).
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
//! use audit_registry::{CommandDecoder, CommandEncoder, RegistryClient, RegistryConfig};
//! use audit_schema::SchemaVersion;
//! # use audit_schema::*;
//! # use chrono::{TimeZone, Utc};
//! # fn command() -> CreateAuditRecordCommand {
//! #     let t = Utc.timestamp_millis_opt(1_700_000_000_000).single().unwrap_or_default();
//! #     CreateAuditRecordCommand {
//! #         identity: AvroMessageIdentity { id: "i".into(), idempotence_id: "k".into(), created: t },
//! #         r#type: AvroMessageType { name: "CreateAuditRecordCommand".into(), version: "1.0.2".into(), variant: None },
//! #         publisher: AvroMessagePublisher { system: "s".into(), service: "svc".into() },
//! #         references: CreateAuditRecordCommandReferences {},
//! #         payload: CreateAuditRecordCommandPayload {
//! #             timestamp: t,
//! #             event: AuditEventDetails { r#type: AuditEventType::Read, context: None, event_data: None },
//! #             trigger: AuditTrigger::AuditUser(AuditUser { id: "u".into(), identity_provider: "idp".into() }),
//! #             audited_data: None,
//! #         },
//! #         process_id: None,
//! #         command_version: "1.0.2".into(),
//! #     }
//! # }
//! # #[allow(clippy::unwrap_used)]
//! # fn main() -> Result<(), audit_registry::Error> {
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // Nothing listens on this URL: with the id pinned, no registry call is ever made.
//! let config = RegistryConfig::new("http://127.0.0.1:9").pin_schema_id(SchemaVersion::LATEST, 7);
//! let client = RegistryClient::new(config)?;
//!
//! let encoder = CommandEncoder::new(client.clone(), "audit-topic");
//! assert_eq!(
//!     encoder.subject(),
//!     "audit-topic-ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand"
//! );
//! let bytes = encoder.encode(&command()).await?;
//! assert_eq!(bytes[..5], [0, 0, 0, 0, 7]);
//!
//! let decoded = CommandDecoder::new(client.clone()).decode(&bytes).await?;
//! assert_eq!(decoded, command());
//! assert_eq!(client.request_count(), 0);
//! # Ok(()) }) }
//! ```
//!
//! Against a live registry, drop the pin: the first `encode` registers the schema (or gets the
//! existing id) and caches it; the first `decode` of an id fetches the writer schema and caches
//! it.
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
//! With auto-registration on (the default) the encoder registers the schema under its subject,
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
//! # Measured gaps of rivven-schema 0.0.22 (the test registry) and how we design around them
//!
//! | behaviour of rivven-schema 0.0.22 | Confluent | what this crate does |
//! |---|---|---|
//! | no look-up endpoint `POST /subjects/{s}` (405) | look-up | [`RegistryClient::lookup`] falls back to scanning the subject's versions (same JSON first, else same Parsing Canonical Form); encoders use register-or-get, which answers the existing id |
//! | `POST /compatibility/subjects/{s}/versions` (the converter's `is_compatible_schema`) answers 404 | checks all versions | [`RegistryClient::check_compatibility`] asks `.../versions/latest` (works on both) |
//! | its compatibility checker rejects any logical type, even against the identical schema ("Incompatible types: writer=TimestampMillis, reader=TimestampMillis") | correct | the command is registered under compatibility `NONE` per subject (as jEAP does); live checks are tested with schemas without logical types |
//! | stores a re-serialized schema (keys sorted): `GET /schemas/ids/{id}` does not return the registered text | returns the registered text | writer schemas are matched by fingerprint, so known versions still take the fast path |
//! | registering a schema that already has an id (under another subject) into a non-empty subject returns the id but adds no version to that subject | adds a version | encoders are unaffected (the id is right); `versions`/`lookup` of that subject may not show it |
//! | `GET /subjects/{unknown}/versions` answers `200 []` | 404 (40401) | both mean "new subject" before the first registration |
//! | `GET /config/{s}` without a subject level answers the global level | 404 (40408) | [`RegistryClient::subject_compatibility`] reports what the server says |
//! | compatibility against an unknown subject answers `is_compatible: true` | 404 | reported as is |
//! | incompatible registration: HTTP 409 with `error_code` 409 | 40901 | [`Error::Http`] carries both |
//! | no authentication | basic auth | basic auth is verified on the wire in the tests |
//! | in memory: ids restart at 1 with every server start | persistent | tests use one shared server per run, private ones where they need exact ids |

mod client;
mod codec;
mod config;
mod error;

pub use client::{CompatibilityCheck, RegistryClient, SubjectVersion};
pub use codec::{CommandDecoder, CommandEncoder, Decoded};
pub use config::{COMMAND_FULL_NAME, CompatibilityLevel, RegistryConfig, SubjectStrategy};
pub use error::{BoxError, Error};
