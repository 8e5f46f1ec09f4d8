//! JSON rendering of an error event, for the CLI and logs: Avro field names, timestamps as RFC
//! 3339 strings, every `bytes` value (the original message and key, the preserved headers) in
//! audit-schema's lossless form (`{"json": ..}`, `{"text": ".."}` or `{"base64": ".."}`), and the
//! failed record's value decoded as a `CreateAuditRecordCommand` when it is one.

use serde_json::{Map, Value, json};

use crate::{MessageProcessingFailedEvent, decode_command};

fn bytes_json(bytes: &[u8]) -> Value {
    audit_schema::json::bytes::serialize(bytes, serde_json::value::Serializer)
        .unwrap_or(Value::Null)
}

/// The event as JSON (see the module docs).
#[must_use]
pub fn to_json(event: &MessageProcessingFailedEvent) -> Value {
    // the generated types serialize with string keys and infallible serializers only
    let mut v = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Some(payload) = v.get_mut("payload").and_then(Value::as_object_mut) {
        if let Some(key) = &event.payload.original_key {
            payload.insert("originalKey".into(), bytes_json(key));
        }
        if let (Some(meta), Some(Value::Object(out))) = (
            &event.payload.failed_message_metadata,
            payload.get_mut("failedMessageMetadata"),
        ) {
            let headers: Map<String, Value> = meta
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), bytes_json(v)))
                .collect();
            out.insert("headers".into(), Value::Object(headers));
        }
    }
    v
}

/// The event and, when the failed record's value is a Confluent-framed
/// `CreateAuditRecordCommand` of a known version, that command:
/// `{"errorEvent": .., "failedCommand": {"schemaId": .., "version": .., "command": ..} | null,
/// "failedCommandError": null | ".."}`.
#[must_use]
pub fn to_json_with_failed_command(event: &MessageProcessingFailedEvent) -> Value {
    let (command, error) = match decode_command(&event.payload.original_message) {
        Ok(d) => (
            json!({
                "schemaId": d.schema_id,
                "version": d.version.as_str(),
                "command": audit_schema::json::to_json(&d.command),
            }),
            Value::Null,
        ),
        Err(e) => (Value::Null, Value::String(error_chain(&e))),
    };
    json!({ "errorEvent": to_json(event), "failedCommand": command, "failedCommandError": error })
}

/// `error: cause: cause ...`
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}
