//! Sanitizer for the Avro `CreateAuditRecordCommand`: masks, drops or pseudonymizes sensitive
//! event data and object data before a command leaves the service.
//!
//! Rules (from code or a serde [`SanitizerConfig`]) match
//! * **key names**: event-data keys, object-data names and member names inside JSON object data
//!   (any depth, objects and arrays); case-insensitive globs over normalized names (`_`, `-`, `.`
//!   and spaces ignored, `*` for any run): `*api_key*` matches `X-Api-Key`;
//! * **JSON pointers** into JSON object data (RFC 6901, `*` for any member or index);
//! * **value patterns** inside values ([`ValuePattern`]): e-mail addresses, payment card numbers
//!   (Luhn), Swiss AHV numbers `756.xxxx.xxxx.xx` (EAN-13 check digit), IBANs (mod 97);
//! * the **user id** of a user trigger (pseudonymize only).
//!
//! Actions ([`Action`]): `mask` ([`MASK`], `****MASKED****`), `drop` the entry (or JSON member /
//! element), `pseudonymize` with HMAC-SHA-256 under a key of the service
//! ([`Sanitizer::pseudonym`]: `pseud:` + 32 hex digits; stable across records, not reversible
//! without the key). Rules are tried in order; the first one that matches a value decides (key
//! and pointer rules before value patterns). The default rules ([`default_rules`]) mask secret
//! key names ([`DEFAULT_SECRET_KEYS`]) and the four value patterns.
//!
//! [`Sanitizer::sanitize`] returns a [`SanitizeReport`] (counts per rule, never values) and
//! increments the `metrics` counter [`CHANGES_TOTAL`] (`audit_sanitizer_changes_total{rule,action}`).
//! The envelope (with the idempotence id) is never touched. `audit_builder` applies a sanitizer
//! when a command is built (`AuditCommandBuilder::sanitizer`, `AuditCommandFactory::with_sanitizer`).
//!
//! JSON member names are matched by key rules, not searched for value patterns. A JSON document is
//! parsed only when a cheap pre-scan of its bytes finds something a rule would change (or a
//! pointer rule applies to it); unchanged documents keep their bytes.
//!
//! The secret key names are kept separate from `audit_support::is_secret`: that list names Kafka
//! client properties (`jaas`, `ssl.key.pem`, `keystore`), this one business data keys (`cookie`,
//! `authorization`, `iban`), matched after normalization.
//!
//! # Quick start
//!
//! ```
//! use audit_sanitize::{Action, MASK, RuleConfig, Sanitizer, SanitizerConfig, ValuePattern};
//! use audit_schema::{AuditEventDataElement, AuditObjectData, AuditObjectDataJSON, AuditTrigger};
//! # fn command() -> audit_schema::CreateAuditRecordCommand {
//! #     use audit_schema::*;
//! #     let at = chrono::DateTime::from_timestamp_millis(1_779_955_200_120).unwrap();
//! #     CreateAuditRecordCommand {
//! #         identity: AvroMessageIdentity { id: "id-1".into(), idempotence_id: "idem-1".into(), created: at },
//! #         r#type: AvroMessageType { name: "CreateAuditRecordCommand".into(), version: "1.0.2".into(), variant: None },
//! #         publisher: AvroMessagePublisher { system: "BILLING".into(), service: "invoice-service".into() },
//! #         references: CreateAuditRecordCommandReferences {},
//! #         payload: CreateAuditRecordCommandPayload {
//! #             timestamp: at,
//! #             event: AuditEventDetails { r#type: AuditEventType::Modified, context: None, event_data: None },
//! #             trigger: AuditTrigger::AuditUser(AuditUser { id: "u1".into(), identity_provider: "idp".into() }),
//! #             audited_data: Some(AuditObject { r#type: "Invoice".into(), id: "INV-1".into(), version: None, object_data: None }),
//! #         },
//! #         process_id: None,
//! #         command_version: "1.3.0".into(),
//! #     }
//! # }
//!
//! let config = SanitizerConfig::default()
//!     .pseudonym_key(*b"0123456789abcdef0123456789abcdef")
//!     .rule(RuleConfig::value("email", ValuePattern::Email, Action::Pseudonymize))
//!     .rule(RuleConfig::user_id("user"));
//! let sanitizer = Sanitizer::new(&config)?;
//!
//! let mut command = command();
//! command.payload.event.event_data = Some(vec![
//!     AuditEventDataElement { key: "Authorization".into(), value: "Bearer eyJhbGciOi".into() },
//!     AuditEventDataElement { key: "contact".into(), value: "Alice <alice@example.org>".into() },
//! ]);
//! command.payload.audited_data.as_mut().unwrap().object_data = Some(vec![
//!     AuditObjectData::AuditObjectDataJSON(AuditObjectDataJSON {
//!         role: None,
//!         name: "payment".into(),
//!         json_as_utf8: br#"{"debtor":{"iban":"CH93 0076 2011 6238 5295 7"},"amount":12.5}"#.to_vec(),
//!     }),
//! ]);
//!
//! let report = sanitizer.sanitize(&mut command);
//!
//! let data = command.payload.event.event_data.as_ref().unwrap();
//! assert_eq!(data[0].value, MASK);
//! let pseudonym = sanitizer.pseudonym("alice@example.org").unwrap();
//! assert_eq!(data[1].value, format!("Alice <{pseudonym}>"));
//! let AuditObjectData::AuditObjectDataJSON(json) =
//!     &command.payload.audited_data.as_ref().unwrap().object_data.as_ref().unwrap()[0] else { panic!() };
//! assert_eq!(json.json_as_utf8, br#"{"debtor":{"iban":"****MASKED****"},"amount":12.5}"#);
//! let AuditTrigger::AuditUser(user) = &command.payload.trigger else { panic!() };
//! assert_eq!(Some(user.id.to_string()), sanitizer.pseudonym("u1"));
//! assert_eq!(command.identity.idempotence_id, "idem-1"); // never touched
//!
//! assert_eq!(report.count("default-secret-keys"), 2); // Authorization and the JSON member iban
//! assert_eq!(report.count("email"), 1);
//! assert_eq!(report.count("user"), 1);
//! # Ok::<(), audit_sanitize::Error>(())
//! ```

mod config;
mod error;
mod json;
mod key;
mod patterns;
mod report;
mod sanitizer;

pub use config::{
    Action, DEFAULT_SECRET_KEYS, PseudonymKey, RuleConfig, SanitizerConfig, default_rules,
};
pub use error::Error;
pub use patterns::ValuePattern;
pub use report::{RuleChanges, SanitizeReport};
pub use sanitizer::{CHANGES_TOTAL, MASK, PSEUDONYM_PREFIX, Sanitizer};

#[doc(hidden)]
pub mod __private {
    //! Internals exposed for this crate's tests and benches only; not a stable API.
    /// Whether the pre-scan of a JSON document finds anything the walk could change.
    #[must_use]
    pub fn json_prescan_hits(sanitizer: &crate::Sanitizer, doc: &[u8]) -> bool {
        crate::json::prescan(sanitizer, doc, &mut Vec::new()).is_some()
    }
}
