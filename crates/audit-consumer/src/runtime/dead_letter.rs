//! Failed records: the original record with the `audit-error-*` headers to the error topic.

use audit_signing::Temporality;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::Duration;

use super::config::RetryPolicy;
use super::error_events::ErrorEvents;
use super::{Outcome, chain};
use crate::error::{BoxError, Error};

/// Header on error-topic records: the error, with its chain of causes (`a: b: c`).
pub const ERROR_MESSAGE_HEADER: &str = "audit-error-message";
/// Header on error-topic records: the failure class, `decode`, `signature` or `handler`.
pub const ERROR_STAGE_HEADER: &str = "audit-error-stage";
/// Header on error-topic records: the topic the record was consumed from.
pub const ERROR_TOPIC_HEADER: &str = "audit-error-topic";
/// Header on error-topic records: the partition it was consumed from (decimal).
pub const ERROR_PARTITION_HEADER: &str = "audit-error-partition";
/// Header on error-topic records: its offset (decimal).
pub const ERROR_OFFSET_HEADER: &str = "audit-error-offset";
/// Header on error-topic records: jEAP's temporality of the failure, `PERMANENT` or `TEMPORARY`
/// (a rejected signature: [`audit_signing::Rejection::temporality`]; a transient handler failure
/// past [`RetryPolicy::max_attempts`]: `TEMPORARY`; everything else `PERMANENT`).
pub const ERROR_TEMPORALITY_HEADER: &str = "audit-error-temporality";
/// Header on error-topic records: the error code (a rejected signature: jEAP's
/// `MESSAGE_SIGNATURE_VALIDATION_ERROR` / `MESSAGE_CERTIFICATE_VALIDATION_ERROR`; a record that
/// does not decode: [`DESERIALIZATION_FAILED`]; a handler failure: [`UNKNOWN_EXCEPTION`]).
pub const ERROR_CODE_HEADER: &str = "audit-error-code";

/// Error code of a record that does not decode (framing, schema id, writer schema, Avro datum).
pub const DESERIALIZATION_FAILED: &str = "DESERIALIZATION_FAILED";
/// Error code of a handler failure (permanent, or transient past the retry bound): jEAP's code
/// for an error that carries none.
pub const UNKNOWN_EXCEPTION: &str = "UNKNOWN_EXCEPTION";

/// Why a record goes to the error topic.
pub(super) struct Failure {
    /// `decode`, `signature` or `handler`.
    pub(super) stage: &'static str,
    pub(super) temporality: Temporality,
    pub(super) code: &'static str,
    pub(super) error: BoxError,
}

/// Sends the original record with the `audit-error-*` headers to the error topic (`producer`),
/// retrying the produce until it is acknowledged; without an error topic the failure stops the
/// runtime ([`Error::PermanentFailure`]).
pub(super) async fn dead_letter(
    producer: Option<&(FutureProducer, String)>,
    events: Option<&ErrorEvents>,
    retry: &RetryPolicy,
    message: &OwnedMessage,
    failure: Failure,
    retries: u64,
) -> Result<Outcome, Error> {
    let Failure {
        stage,
        temporality,
        code,
        error,
    } = failure;
    let text = chain(error.as_ref());
    let Some((producer, error_topic)) = producer else {
        tracing::error!(topic = message.topic(), partition = message.partition(), offset = message.offset(),
            error = %text, code, temporality = temporality.as_str(), "record failed and no error topic configured");
        return Err(Error::PermanentFailure {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            source: error,
        });
    };
    if let Some(events) = events {
        return error_event(
            producer,
            error_topic,
            events,
            retry,
            message,
            Failure {
                stage,
                temporality,
                code,
                error,
            },
            retries,
        )
        .await;
    }
    let mut headers = OwnedHeaders::new();
    if let Some(original) = message.headers() {
        for header in original.iter() {
            headers = headers.insert(header);
        }
    }
    let partition = message.partition().to_string();
    let offset = message.offset().to_string();
    for (key, value) in [
        (ERROR_MESSAGE_HEADER, text.as_str()),
        (ERROR_STAGE_HEADER, stage),
        (ERROR_TOPIC_HEADER, message.topic()),
        (ERROR_PARTITION_HEADER, partition.as_str()),
        (ERROR_OFFSET_HEADER, offset.as_str()),
        (ERROR_TEMPORALITY_HEADER, temporality.as_str()),
        (ERROR_CODE_HEADER, code),
    ] {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    tracing::warn!(topic = message.topic(), partition = message.partition(), offset = message.offset(),
        error = %text, code, temporality = temporality.as_str(), error_topic = %error_topic, "record failed; sending it to the error topic");
    let mut attempts = 0u32;
    loop {
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(error_topic).headers(headers.clone());
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        match producer.send(record, Duration::from_secs(30)).await {
            Ok(_) => return Ok(Outcome::DeadLettered { retries }),
            Err((e, _)) => {
                attempts = attempts.saturating_add(1);
                tracing::warn!(error = %e, error_topic = %error_topic, "producing to the error topic failed; retrying");
                tokio::time::sleep(retry.delay(attempts)).await;
            }
        }
    }
}

/// The failure as a jEAP `MessageProcessingFailedEvent` (Confluent-framed value and key) on the
/// error topic; schema-id look-ups and the produce are retried until they succeed.
async fn error_event(
    producer: &FutureProducer,
    error_topic: &str,
    events: &ErrorEvents,
    retry: &RetryPolicy,
    message: &OwnedMessage,
    failure: Failure,
    retries: u64,
) -> Result<Outcome, Error> {
    use audit_error_event::{
        EVENT_SCHEMA_JSON, ErrorInfo, EventIdentity, FailedRecord, KEY_SCHEMA_JSON, RecordPart,
        key_subject, value_subject,
    };
    let text = chain(failure.error.as_ref());
    // Built in a block: `ErrorInfo` borrows the cause as `&dyn Error` (not `Sync`), which must not
    // live across an await (the consumer's future stays `Send`).
    let (event, code, temporality) = {
        let headers: Vec<(&str, Option<&[u8]>)> = message
            .headers()
            .map(|h| h.iter().map(|h| (h.key, h.value)).collect())
            .unwrap_or_default();
        let record = FailedRecord::new(message.topic(), message.partition(), message.offset())
            .with_key(message.key())
            .with_value(message.payload())
            .with_headers(&headers);
        let cause: &(dyn std::error::Error + 'static) = failure.error.as_ref();
        let info = if failure.stage == "decode" {
            ErrorInfo::deserialization_failed(RecordPart::Value, cause)
        } else {
            let temporality = match failure.temporality {
                Temporality::Permanent => audit_error_event::Temporality::Permanent,
                Temporality::Temporary => audit_error_event::Temporality::Temporary,
            };
            ErrorInfo::new(failure.code, temporality, &text).with_cause(cause)
        };
        let event = events
            .config
            .build_event(&record, &info, EventIdentity::generate());
        (event, info.code.to_owned(), info.temporality.as_str())
    };
    let (value_subject, key_subject) = (value_subject(error_topic), key_subject(error_topic));
    let mut attempts = 0u32;
    let (value_id, key_id) = loop {
        let ids = async {
            Ok::<_, BoxError>((
                events.schema_id(&value_subject, EVENT_SCHEMA_JSON).await?,
                events.schema_id(&key_subject, KEY_SCHEMA_JSON).await?,
            ))
        };
        match ids.await {
            Ok(ids) => break ids,
            Err(e) => {
                attempts = attempts.saturating_add(1);
                tracing::warn!(error = %chain(e.as_ref()), subject = %value_subject,
                    "error event schema id look-up failed; retrying");
                tokio::time::sleep(retry.delay(attempts)).await;
            }
        }
    };
    let (value, key) = (event.framed_value(value_id), event.framed_key(key_id));
    tracing::warn!(topic = message.topic(), partition = message.partition(), offset = message.offset(),
        error = %text, code = %code, temporality, error_topic = %error_topic,
        "record failed; publishing a MessageProcessingFailedEvent");
    let mut attempts = 0u32;
    loop {
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(error_topic)
            .payload(value.as_slice())
            .key(key.as_slice());
        if let Some(signer) = &events.signer {
            // signed at send time with the signer in force (rotation takes effect on a retry)
            match signer.current().sign_record(Some(&key), &value) {
                Ok(signature) => {
                    let mut headers = OwnedHeaders::new();
                    for (name, bytes) in signature.headers() {
                        headers = headers.insert(Header {
                            key: name,
                            value: Some(bytes),
                        });
                    }
                    record = record.headers(headers);
                }
                Err(e) => {
                    attempts = attempts.saturating_add(1);
                    tracing::warn!(error = %e, error_topic = %error_topic, "signing the error event failed; retrying");
                    tokio::time::sleep(retry.delay(attempts)).await;
                    continue;
                }
            }
        }
        match producer.send(record, Duration::from_secs(30)).await {
            Ok(_) => return Ok(Outcome::DeadLettered { retries }),
            Err((e, _)) => {
                attempts = attempts.saturating_add(1);
                tracing::warn!(error = %e, error_topic = %error_topic, "producing the error event failed; retrying");
                tokio::time::sleep(retry.delay(attempts)).await;
            }
        }
    }
}
