//! JSON rendering of a command, for CLI output and logs.
//!
//! Field names and enum symbols are the Avro ones; unions are tagged by branch name
//! (`{"AuditUser": {...}}`); timestamps are RFC 3339 strings; `bytes` go through [`bytes`]
//! (lossless: JSON documents stay readable JSON).
//!
//! ```
//! let text = r#"{"identity": {"id": "1", "idempotenceId": "i", "created": "2026-05-28T08:00:00Z"},
//!   "type": {"name": "CreateAuditRecordCommand", "version": "1.0.2", "variant": null},
//!   "publisher": {"system": "JME", "service": "jme-audit"}, "references": {},
//!   "payload": {"timestamp": "2026-05-28T08:00:00Z",
//!     "event": {"type": "CREATED", "context": null, "eventData": null},
//!     "trigger": {"AuditUser": {"id": "u1", "identityProvider": "idp"}},
//!     "auditedData": {"type": "Doc", "id": "7", "version": null, "objectData": [
//!       {"AuditObjectDataJSON": {"role": "NEW", "name": "n", "jsonAsUTF8": {"json": {"a": 1}}}}]}},
//!   "processId": null, "commandVersion": "1.3.0"}"#;
//! let cmd = audit_schema::json::from_json(text)?;
//! let datum = cmd.to_avro_datum();
//! let back = audit_schema::CreateAuditRecordCommand::from_avro_datum(&datum)?;
//! assert_eq!(audit_schema::json::to_json(&back), audit_schema::json::to_json(&cmd));
//! # Ok::<(), audit_schema::Error>(())
//! ```

use crate::{CreateAuditRecordCommand, Error};

/// The command as a JSON value.
#[must_use]
pub fn to_json(cmd: &CreateAuditRecordCommand) -> serde_json::Value {
    // serializing these types cannot fail (string keys only, no fallible custom serializers)
    serde_json::to_value(cmd).unwrap_or(serde_json::Value::Null)
}

/// The command as pretty-printed JSON text.
#[must_use]
pub fn to_json_string_pretty(cmd: &CreateAuditRecordCommand) -> String {
    serde_json::to_string_pretty(cmd).unwrap_or_default()
}

/// The command as compact JSON text.
#[must_use]
pub fn to_json_string(cmd: &CreateAuditRecordCommand) -> String {
    serde_json::to_string(cmd).unwrap_or_default()
}

/// Reads a command from JSON text in the format of [`to_json`].
///
/// # Errors
/// [`Error::Json`] when the text does not describe a command.
pub fn from_json(text: &str) -> Result<CreateAuditRecordCommand, Error> {
    Ok(serde_json::from_str(text)?)
}

/// Reads a command from a JSON value in the format of [`to_json`].
///
/// # Errors
/// [`Error::Json`] when the value does not describe a command.
pub fn from_json_value(value: &serde_json::Value) -> Result<CreateAuditRecordCommand, Error> {
    use serde::Deserialize as _;
    Ok(CreateAuditRecordCommand::deserialize(value)?)
}

/// serde `with`-module for Avro `bytes`, lossless:
/// `{"json": <value>}` when the bytes are UTF-8 JSON whose compact re-serialization is exactly
/// the same bytes, else `{"text": "..."}` when they are UTF-8, else `{"base64": "..."}`.
/// Reading accepts all three.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct S { #[serde(with = "audit_schema::json::bytes")] b: Vec<u8> }
///
/// for (bytes, json) in [
///     (&br#"{"a":[1,2]}"#[..], r#"{"b":{"json":{"a":[1,2]}}}"#),
///     (&br#"{"a": 1}"#[..], r#"{"b":{"text":"{\"a\": 1}"}}"#),
///     (&[0xff, 0x00][..], r#"{"b":{"base64":"/wA="}}"#),
/// ] {
///     let s = S { b: bytes.to_vec() };
///     assert_eq!(serde_json::to_string(&s)?, json);
///     assert_eq!(serde_json::from_str::<S>(json)?, s);
/// }
/// # Ok::<(), serde_json::Error>(())
/// ```
pub mod bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::ser::SerializeMap as _;
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    enum Repr {
        #[serde(rename = "json")]
        Json(serde_json::Value),
        #[serde(rename = "text")]
        Text(String),
        #[serde(rename = "base64")]
        Base64(String),
    }

    /// Serializes bytes as `{"json": ..}`, `{"text": ".."}` or `{"base64": ".."}`.
    ///
    /// # Errors
    /// Whatever the serializer reports.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        match std::str::from_utf8(bytes) {
            Ok(text) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) if serde_json::to_string(&v).is_ok_and(|c| c == text) => {
                    map.serialize_entry("json", &v)?;
                }
                _ => map.serialize_entry("text", text)?,
            },
            Err(_) => map.serialize_entry("base64", &STANDARD.encode(bytes))?,
        }
        map.end()
    }

    /// Reads any of the three forms back into the exact bytes.
    ///
    /// # Errors
    /// An unknown form or invalid base64.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Json(v) => serde_json::to_vec(&v).map_err(serde::de::Error::custom),
            Repr::Text(t) => Ok(t.into_bytes()),
            Repr::Base64(b) => STANDARD.decode(b).map_err(serde::de::Error::custom),
        }
    }
}
