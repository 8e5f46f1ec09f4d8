//! The idempotent Kafka producer and the classification of delivery errors.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;
use rdkafka::types::RDKafkaErrorCode;

use crate::error::{Error, Result};

/// Producer properties the relay always sets (they are what makes delivery safe; overriding
/// them with another value is a configuration error).
pub const FIXED_PROPERTIES: &[(&str, &str)] = &[
    ("enable.idempotence", "true"),
    ("acks", "all"),
    ("partitioner", "murmur2_random"),
];

/// How a delivery failure is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// Retrying cannot help (unknown topic, not authorized, record too large): the row is marked
    /// failed with the reason and waits for an operator's resend.
    Permanent,
    /// Broker down, timeout, ...: the row is retried after a capped exponential back-off, forever.
    Transient,
}

impl FailureClass {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Permanent => "permanent",
            FailureClass::Transient => "transient",
        }
    }
}

/// Classifies a produce/delivery error.
pub fn classify(error: &KafkaError) -> FailureClass {
    let code = match error {
        KafkaError::MessageProduction(code) => *code,
        other => match other.rdkafka_error_code() {
            Some(code) => code,
            None => return FailureClass::Transient,
        },
    };
    classify_code(code)
}

/// Classifies an error code (see [`classify`]).
pub fn classify_code(code: RDKafkaErrorCode) -> FailureClass {
    use RDKafkaErrorCode as C;
    match code {
        C::UnknownTopicOrPartition
        | C::UnknownTopic
        | C::UnknownPartition
        | C::InvalidTopic
        | C::TopicAuthorizationFailed
        | C::ClusterAuthorizationFailed
        | C::MessageSizeTooLarge
        | C::InvalidMessageSize
        | C::MessageBatchTooLarge
        | C::InvalidRecord => FailureClass::Permanent,
        _ => FailureClass::Transient,
    }
}

pub(crate) fn client_config(
    bootstrap_servers: &str,
    delivery_timeout: Duration,
    properties: &BTreeMap<String, String>,
) -> Result<ClientConfig> {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", bootstrap_servers);
    cfg.set(
        "message.timeout.ms",
        delivery_timeout.as_millis().to_string(),
    );
    cfg.set("linger.ms", "1");
    cfg.set("queue.buffering.max.messages", "1000000");
    cfg.set("topic.metadata.propagation.max.ms", "5000");
    for (k, v) in properties {
        if let Some((_, fixed)) = FIXED_PROPERTIES.iter().find(|(name, _)| name == k)
            && v != fixed
        {
            return Err(Error::Config(format!(
                "producer property `{k}` must be `{fixed}` (the relay relies on it), got `{v}`"
            )));
        }
        cfg.set(k, v);
    }
    for (k, v) in FIXED_PROPERTIES {
        cfg.set(*k, *v);
    }
    Ok(cfg)
}

pub(crate) fn create(cfg: &ClientConfig) -> Result<FutureProducer> {
    cfg.create().map_err(Error::Producer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        for c in [
            RDKafkaErrorCode::UnknownTopicOrPartition,
            RDKafkaErrorCode::UnknownTopic,
            RDKafkaErrorCode::TopicAuthorizationFailed,
            RDKafkaErrorCode::MessageSizeTooLarge,
        ] {
            assert_eq!(
                classify(&KafkaError::MessageProduction(c)),
                FailureClass::Permanent
            );
        }
        for c in [
            RDKafkaErrorCode::MessageTimedOut,
            RDKafkaErrorCode::BrokerTransportFailure,
            RDKafkaErrorCode::NotEnoughReplicas,
            RDKafkaErrorCode::QueueFull,
            RDKafkaErrorCode::Fatal,
        ] {
            assert_eq!(
                classify(&KafkaError::MessageProduction(c)),
                FailureClass::Transient
            );
        }
    }

    #[test]
    fn fixed_properties_cannot_be_weakened() {
        let mut p = BTreeMap::new();
        p.insert("acks".to_owned(), "1".to_owned());
        assert!(matches!(
            client_config("127.0.0.1:1", Duration::from_secs(1), &p),
            Err(Error::Config(_))
        ));
        p.insert("acks".to_owned(), "all".to_owned());
        p.insert("compression.type".to_owned(), "lz4".to_owned());
        let cfg = client_config("127.0.0.1:1", Duration::from_secs(1), &p);
        assert_eq!(
            cfg.ok()
                .and_then(|c| c.get("enable.idempotence").map(str::to_owned)),
            Some("true".into())
        );
    }
}
