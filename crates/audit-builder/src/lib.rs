//! jEAP-exact building of the Avro `CreateAuditRecordCommand`.
//!
//! [`AuditCommandBuilder`] follows the rules of jEAP's Java builder: event type `UNKNOWN` by
//! default, exactly one trigger (user or system component, the last one set wins), a context whose
//! process id must agree with the builder's, ordered event data, an audited object whose object
//! data travels inside the [`AuditedObject`] value (so it can never be dropped), and an envelope
//! filled like jEAP does (UUID v4 id, `created`, type name and schema version, publisher,
//! `commandVersion` `1.3.0`, and the default idempotence id
//! `{system}-{service}-{EVENT_TYPE}-{user id | component}-{timestamp}` with the timestamp printed
//! like Java's `Instant.toString()`). Every rule violation is an [`Error`], never a panic.
//!
//! A [`Sanitizer`] (crate `audit_sanitize`) set on the builder or the factory masks, drops or
//! pseudonymizes sensitive event data and object data when the command is built
//! ([`AuditCommandBuilder::sanitizer`], [`AuditCommandBuilder::build_with_report`]).
//!
//! [`AuditCommandFactory`] holds the service and system names (from code, a [`PublisherConfig`]
//! or the environment variables `AUDIT_SERVICE_NAME` / `AUDIT_SYSTEM_NAME`) so call sites only
//! pass the timestamp.
//!
//! # Quick start
//!
//! ```
//! use audit_builder::{AuditCommandFactory, AuditEventType, AuditObjectDataRole, AuditedObject, JwtClaims, ObjectData};
//! use chrono::{TimeZone, Utc};
//!
//! let audit = AuditCommandFactory::new("invoice-service", "BILLING")?;
//! let claims = JwtClaims { sub: "u1".into(), iss: "https://idp.example".into() };
//! let at = Utc.timestamp_opt(1_779_955_200, 120_000_000).unwrap(); // 2026-05-28T08:00:00.120Z
//!
//! let command = audit
//!     .builder(at)
//!     .event_type(AuditEventType::Modified)
//!     .context_with_process_id("pay-invoice", "process-7")
//!     .event_data("channel", "web")
//!     .user_from_token(&claims)
//!     .audited_object(
//!         AuditedObject::new("Invoice", "INV-1")
//!             .version("2")
//!             .data(ObjectData::value("status", "PAID").role(AuditObjectDataRole::New))
//!             .data(ObjectData::value("status", "OPEN").role(AuditObjectDataRole::Old))
//!             .json("amount", &serde_json::json!({"value": 12.5, "currency": "CHF"})),
//!     )
//!     .build()?;
//!
//! assert_eq!(
//!     command.identity.idempotence_id,
//!     "BILLING-invoice-service-MODIFIED-u1-2026-05-28T08:00:00.120Z"
//! );
//! assert_eq!(command.process_id.as_deref(), Some("process-7"));
//! let bytes = command.to_avro_datum(); // Avro binary, newest schema
//! assert!(!bytes.is_empty());
//! # Ok::<(), audit_builder::Error>(())
//! ```

mod builder;
mod clock;
mod error;
mod factory;
mod instant;
mod object;
mod trigger;

pub use audit_schema::{
    AuditEventType, AuditObjectDataRole, AuditTrigger, CreateAuditRecordCommand,
};
pub use builder::{AuditCommandBuilder, COMMAND_VERSION, TYPE_NAME};
pub use clock::{Clock, SystemClock};
pub use error::{Error, Field};
pub use factory::{AuditCommandFactory, PublisherConfig, SERVICE_NAME_ENV, SYSTEM_NAME_ENV};
pub use object::{AuditedObject, ObjectData};
pub use trigger::{JeapMessage, JwtClaims, TokenSubject};

/// The sanitizer a builder can apply ([`AuditCommandBuilder::sanitizer`]), from `audit_sanitize`.
pub use audit_sanitize::{SanitizeReport, Sanitizer};
