//! The message that is stored in the outbox and the stored header format.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// Name of the W3C trace-context header stored with every message that has a trace context.
pub use audit_support::TRACEPARENT_HEADER;

/// One record to deliver to Kafka, as written into the outbox table.
///
/// The value is stored as given: already serialized (for audit commands: Avro with Confluent framing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Kafka topic.
    pub topic: String,
    /// Record key (`None`: no key, the partitioner picks a random partition).
    pub key: Option<Vec<u8>>,
    /// Record value bytes.
    pub value: Vec<u8>,
    /// Record headers in order (name, value). A `traceparent` header is added at enqueue time from
    /// the current trace context when none is given.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Message id (jEAP `identity.id`).
    pub message_id: String,
    /// Idempotence id (jEAP `identity.idempotenceId`).
    pub idempotence_id: String,
    /// Message type name (e.g. `CreateAuditRecordCommand`).
    pub type_name: String,
    /// Message type version (e.g. `1.0.2`).
    pub type_version: Option<String>,
    /// When the message was created.
    pub created: DateTime<Utc>,
}

impl OutboxMessage {
    /// A message with a random message id and idempotence id, type name `unknown`, created now.
    ///
    /// ```
    /// let m = audit_outbox::OutboxMessage::new("audit-topic", b"bytes".to_vec())
    ///     .with_key(b"k".to_vec())
    ///     .with_header("x-signature", b"sig".to_vec());
    /// assert_eq!(m.topic, "audit-topic");
    /// assert_eq!(m.headers.len(), 1);
    /// ```
    pub fn new(topic: impl Into<String>, value: Vec<u8>) -> Self {
        Self {
            topic: topic.into(),
            key: None,
            value,
            headers: Vec::new(),
            message_id: uuid::Uuid::new_v4().to_string(),
            idempotence_id: uuid::Uuid::new_v4().to_string(),
            type_name: "unknown".to_owned(),
            type_version: None,
            created: Utc::now(),
        }
    }

    /// Sets the record key.
    #[must_use]
    pub fn with_key(mut self, key: Vec<u8>) -> Self {
        self.key = Some(key);
        self
    }

    /// Appends a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: Vec<u8>) -> Self {
        self.headers.push((name.into(), value));
        self
    }

    /// Sets the `traceparent` header explicitly (replaces one captured from the tracing context).
    #[must_use]
    pub fn with_traceparent(mut self, traceparent: impl Into<String>) -> Self {
        self.headers.retain(|(n, _)| n != TRACEPARENT_HEADER);
        self.headers.push((
            TRACEPARENT_HEADER.to_owned(),
            traceparent.into().into_bytes(),
        ));
        self
    }

    /// Sets message id and idempotence id.
    #[must_use]
    pub fn with_ids(
        mut self,
        message_id: impl Into<String>,
        idempotence_id: impl Into<String>,
    ) -> Self {
        self.message_id = message_id.into();
        self.idempotence_id = idempotence_id.into();
        self
    }

    /// Sets the message type name and version.
    #[must_use]
    pub fn with_type(mut self, name: impl Into<String>, version: Option<String>) -> Self {
        self.type_name = name.into();
        self.type_version = version;
        self
    }

    /// Sets the creation time.
    #[must_use]
    pub fn with_created(mut self, created: DateTime<Utc>) -> Self {
        self.created = created;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.topic.trim().is_empty() {
            return Err(Error::InvalidMessage("topic is empty".into()));
        }
        if self.message_id.is_empty() {
            return Err(Error::InvalidMessage("message id is empty".into()));
        }
        if self.idempotence_id.is_empty() {
            return Err(Error::InvalidMessage("idempotence id is empty".into()));
        }
        for (name, _) in &self.headers {
            if name.is_empty() {
                return Err(Error::InvalidMessage("a header name is empty".into()));
            }
        }
        Ok(())
    }
}

/// Encodes headers into the stored format.
///
/// Format (documented in the migrations): for each header in order, a 4-byte big-endian length of the
/// UTF-8 name, the name, a 4-byte big-endian length of the value, the value. No headers: empty bytes.
pub fn encode_headers(headers: &[(String, Vec<u8>)]) -> Vec<u8> {
    let size: usize = headers.iter().map(|(n, v)| 8 + n.len() + v.len()).sum();
    let mut out = Vec::with_capacity(size);
    for (name, value) in headers {
        out.extend_from_slice(&u32::try_from(name.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&u32::try_from(value.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(value);
    }
    out
}

/// Decodes the stored header format (see [`encode_headers`]).
pub fn decode_headers(id: i64, mut bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    fn take<'a>(id: i64, bytes: &mut &'a [u8], what: &'static str) -> Result<&'a [u8]> {
        let (len, rest) = bytes
            .split_first_chunk::<4>()
            .ok_or(Error::CorruptHeaders { id, reason: what })?;
        let len = usize::try_from(u32::from_be_bytes(*len)).unwrap_or(usize::MAX);
        if rest.len() < len {
            return Err(Error::CorruptHeaders { id, reason: what });
        }
        let (v, rest) = rest.split_at(len);
        *bytes = rest;
        Ok(v)
    }
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let name = take(id, &mut bytes, "truncated header name")?;
        let name = std::str::from_utf8(name)
            .map_err(|_| Error::CorruptHeaders {
                id,
                reason: "header name is not UTF-8",
            })?
            .to_owned();
        let value = take(id, &mut bytes, "truncated header value")?.to_vec();
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        let h = vec![
            ("traceparent".to_owned(), b"00-abc-def-01".to_vec()),
            ("empty".to_owned(), Vec::new()),
            ("bin".to_owned(), vec![0, 255, 7]),
        ];
        let bytes = encode_headers(&h);
        assert_eq!(decode_headers(1, &bytes).ok(), Some(h));
        assert_eq!(decode_headers(1, &[]).ok(), Some(vec![]));
    }

    #[test]
    fn corrupt_headers_are_errors() {
        let mut bytes = encode_headers(&[("a".to_owned(), b"xyz".to_vec())]);
        bytes.pop();
        assert!(matches!(
            decode_headers(9, &bytes),
            Err(Error::CorruptHeaders { id: 9, .. })
        ));
        assert!(decode_headers(9, &[0, 0]).is_err());
    }

    #[test]
    fn traceparent_replaces() {
        let m = OutboxMessage::new("t", vec![])
            .with_traceparent("a")
            .with_traceparent("b");
        assert_eq!(
            m.headers,
            vec![(TRACEPARENT_HEADER.to_owned(), b"b".to_vec())]
        );
    }

    #[test]
    fn validation() {
        assert!(OutboxMessage::new(" ", vec![]).validate().is_err());
        assert!(
            OutboxMessage::new("t", vec![])
                .with_ids("", "x")
                .validate()
                .is_err()
        );
        assert!(OutboxMessage::new("t", vec![]).validate().is_ok());
    }
}
