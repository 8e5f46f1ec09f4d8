//! Permanent failures: the original record with the `audit-error-*` headers to the error topic.

use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::Duration;

use super::config::RetryPolicy;
use super::{Outcome, chain};
use crate::error::{BoxError, Error};

/// Header on error-topic records: the error, with its chain of causes (`a: b: c`).
pub const ERROR_MESSAGE_HEADER: &str = "audit-error-message";
/// Header on error-topic records: the failure class, `decode` or `handler`.
pub const ERROR_STAGE_HEADER: &str = "audit-error-stage";
/// Header on error-topic records: the topic the record was consumed from.
pub const ERROR_TOPIC_HEADER: &str = "audit-error-topic";
/// Header on error-topic records: the partition it was consumed from (decimal).
pub const ERROR_PARTITION_HEADER: &str = "audit-error-partition";
/// Header on error-topic records: its offset (decimal).
pub const ERROR_OFFSET_HEADER: &str = "audit-error-offset";

/// Sends the original record with the `audit-error-*` headers to the error topic (`producer`),
/// retrying the produce until it is acknowledged; without an error topic the failure stops the
/// runtime ([`Error::PermanentFailure`]).
pub(super) async fn dead_letter(
    producer: Option<&(FutureProducer, String)>,
    retry: &RetryPolicy,
    message: &OwnedMessage,
    stage: &'static str,
    error: BoxError,
    retries: u64,
) -> Result<Outcome, Error> {
    let text = chain(error.as_ref());
    let Some((producer, error_topic)) = producer else {
        tracing::error!(topic = message.topic(), partition = message.partition(), offset = message.offset(),
            error = %text, "permanent failure and no error topic configured");
        return Err(Error::PermanentFailure {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            source: error,
        });
    };
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
    ] {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    tracing::warn!(topic = message.topic(), partition = message.partition(), offset = message.offset(),
        error = %text, error_topic = %error_topic, "permanent failure; sending the record to the error topic");
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
