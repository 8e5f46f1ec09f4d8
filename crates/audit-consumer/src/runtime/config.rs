//! [`ConsumerConfig`] and [`RetryPolicy`].

use std::time::Duration;

use audit_signing::VerifierConfig;
use audit_support::{Backoff, redact};
use rdkafka::config::ClientConfig;

use super::dedup::Dedup;
use super::error_events::ErrorEvents;
use crate::error::Error;

/// Capped exponential back-off for transient failures ([`Backoff`], shared with the outbox
/// relay) and how often a transient handler failure is retried.
///
/// ```
/// use std::time::Duration;
/// use audit_consumer::runtime::RetryPolicy;
/// use audit_support::Backoff;
/// let p = RetryPolicy::new(Backoff::new(Duration::from_millis(10), Duration::from_millis(50))?);
/// assert_eq!(p.delay(1), Duration::from_millis(10));
/// assert_eq!(p.delay(3), Duration::from_millis(40));
/// assert_eq!(p.delay(30), Duration::from_millis(50));
/// let bounded = p.max_attempts(5);
/// assert_eq!(bounded.attempts(), Some(5));
/// # Ok::<(), audit_support::InvalidBackoff>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub(super) backoff: Backoff,
    pub(super) max_attempts: Option<u32>,
}

/// Default retry back-off: 100 ms doubling up to 30 s.
const DEFAULT_BACKOFF: Backoff =
    match Backoff::new(Duration::from_millis(100), Duration::from_secs(30)) {
        Ok(b) => b,
        Err(_) => unreachable!(),
    };

impl Default for RetryPolicy {
    /// 100 ms doubling up to 30 s; transient handler failures retried forever.
    fn default() -> Self {
        Self::new(DEFAULT_BACKOFF)
    }
}

impl RetryPolicy {
    /// Retries with `backoff`, transient handler failures forever.
    #[must_use]
    pub fn new(backoff: Backoff) -> Self {
        Self {
            backoff,
            max_attempts: None,
        }
    }

    /// Handler attempts (at least 1) before a transient handler failure is treated as permanent
    /// (sent to the error topic); without it (the default) it is retried forever.
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts.max(1));
        self
    }

    /// The configured attempt bound, if any.
    #[must_use]
    pub fn attempts(&self) -> Option<u32> {
        self.max_attempts
    }

    /// The back-off.
    #[must_use]
    pub fn backoff(&self) -> Backoff {
        self.backoff
    }

    /// The delay before retry number `retry` (1-based): `initial * 2^(retry-1)`, capped at `max`.
    #[must_use]
    pub fn delay(&self, retry: u32) -> Duration {
        self.backoff.delay(retry.saturating_sub(1))
    }
}

/// Configuration of an [`AuditConsumer`](super::AuditConsumer).
///
/// Its `Debug` output redacts the values of secret librdkafka properties (see [`is_secret`](audit_support::is_secret)).
#[derive(Clone)]
pub struct ConsumerConfig {
    pub(super) bootstrap_servers: String,
    pub(super) group_id: String,
    pub(super) topics: Vec<String>,
    pub(super) error_topic: Option<String>,
    pub(super) max_in_flight: usize,
    pub(super) commit_interval: Duration,
    pub(super) shutdown_timeout: Duration,
    pub(super) retry: RetryPolicy,
    pub(super) dedup: Option<Dedup>,
    pub(super) max_uncommitted: usize,
    pub(super) client: Vec<(String, String)>,
    pub(super) service_name: Option<String>,
    pub(super) verification: Option<VerifierConfig>,
    pub(super) error_events: Option<ErrorEvents>,
}

/// `(key, value)` pairs with secret values replaced by [`REDACTED`](audit_support::REDACTED).
fn redacted(client: &[(String, String)]) -> Vec<(&str, &str)> {
    client
        .iter()
        .map(|(k, v)| (k.as_str(), redact(k, v)))
        .collect()
}

impl std::fmt::Debug for ConsumerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("group_id", &self.group_id)
            .field("topics", &self.topics)
            .field("error_topic", &self.error_topic)
            .field("max_in_flight", &self.max_in_flight)
            .field("max_uncommitted_per_partition", &self.max_uncommitted)
            .field("commit_interval", &self.commit_interval)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("retry", &self.retry)
            .field("dedup", &self.dedup)
            .field("client", &redacted(&self.client))
            .field("service_name", &self.service_name)
            .field("error_events", &self.error_events)
            .field(
                "verification",
                &self.verification.as_ref().map(|v| {
                    format!(
                        "require_signature={} chains for {:?}",
                        v.require_signature,
                        {
                            let mut services: Vec<_> = v.certificate_chains.keys().collect();
                            services.sort();
                            services
                        }
                    )
                }),
            )
            .finish()
    }
}

/// Default of [`ConsumerConfig::max_uncommitted_per_partition`].
pub const DEFAULT_MAX_UNCOMMITTED_PER_PARTITION: usize = 10_000;

impl ConsumerConfig {
    /// Consume `topics` as member of the consumer group `group_id`.
    ///
    /// Defaults: no error topic, 64 records in flight, 10,000 uncommitted records per partition,
    /// commit every 500 ms, 30 s shutdown timeout, [`RetryPolicy::default`], no deduplication,
    /// `auto.offset.reset=earliest`.
    #[must_use]
    pub fn new(
        bootstrap_servers: impl Into<String>,
        group_id: impl Into<String>,
        topics: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            group_id: group_id.into(),
            topics: topics.into_iter().map(Into::into).collect(),
            error_topic: None,
            max_in_flight: 64,
            commit_interval: Duration::from_millis(500),
            shutdown_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            dedup: None,
            max_uncommitted: DEFAULT_MAX_UNCOMMITTED_PER_PARTITION,
            client: vec![("auto.offset.reset".to_owned(), "earliest".to_owned())],
            service_name: None,
            verification: None,
            error_events: None,
        }
    }

    /// The name of this consuming service (jEAP `jeap.messaging.kafka.serviceName`, by default
    /// `spring.application.name`). Records that jEAP's Error Handling Service resubmitted for
    /// another service (header [`EH_TARGET_SERVICE_HEADER`](super::EH_TARGET_SERVICE_HEADER)
    /// naming a different service) are skipped; it also labels the signature metrics. Default:
    /// the consumer group id.
    #[must_use]
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Verifies every record's jEAP signature headers (`jeap-sign`, `jeap-sign-key`, `jeap-cert`)
    /// with an [`audit_signing::Verifier`] built from `config` when the consumer is created
    /// (jEAP's `jeap.messaging.authentication.subscriber.*` options). A rejected record goes to
    /// the error topic with the temporality and error code jEAP gives the case
    /// ([`audit_signing::Rejection`]); accepted records are handled as usual. An empty
    /// [`VerifierConfig::application`] is set to the [service name](Self::service_name).
    /// Default: no verification (the same as jEAP without `require-signature`).
    #[must_use]
    pub fn signature_verification(mut self, config: VerifierConfig) -> Self {
        self.verification = Some(config);
        self
    }

    /// Publish failed records to the [error topic](Self::error_topic) as jEAP
    /// `MessageProcessingFailedEvent`s (what jEAP's Error Handling Service reads) instead of raw
    /// dead letters. Needs an error topic. Not the default, because the event needs the
    /// service's system name and schema ids: jEAP landscapes turn it on, other users keep the
    /// raw dead letter.
    #[must_use]
    pub fn error_events(mut self, events: ErrorEvents) -> Self {
        self.error_events = Some(events);
        self
    }

    /// The effective service name: [`service_name`](Self::service_name), else the error events'
    /// publisher service, else the group id.
    pub(super) fn effective_service_name(&self) -> &str {
        self.service_name
            .as_deref()
            .or_else(|| self.error_events.as_ref().map(ErrorEvents::service))
            .unwrap_or(&self.group_id)
    }

    /// Where failed records go. By default as the original record (value, key and headers) plus
    /// the `audit-error-*` headers (a raw dead letter, readable by any Kafka tool); with
    /// [`error_events`](Self::error_events) as jEAP `MessageProcessingFailedEvent`s instead.
    #[must_use]
    pub fn error_topic(mut self, topic: impl Into<String>) -> Self {
        self.error_topic = Some(topic.into());
        self
    }

    /// How many records may be in handling at once (at least 1; 1 handles records strictly in order).
    #[must_use]
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self
    }

    /// The bound of a partition's uncommitted window: records consumed from the oldest one not
    /// finished yet (its offset is the committable position) to the newest one (default
    /// [`DEFAULT_MAX_UNCOMMITTED_PER_PARTITION`], at least 1). When a record is retried for a long
    /// time, later records of its partition keep being handled but cannot be committed; once the
    /// window holds this many records the partition is paused (no more fetching), and it is
    /// resumed when the window drains below the bound. This bounds what a crash redelivers per
    /// partition. The window is exported as the gauge
    /// `audit_consumer_uncommitted_records{topic, partition}` (see [`metrics`](super::metrics)).
    #[must_use]
    pub fn max_uncommitted_per_partition(mut self, n: usize) -> Self {
        self.max_uncommitted = n;
        self
    }

    /// How often finished positions are committed (asynchronously).
    #[must_use]
    pub fn commit_interval(mut self, interval: Duration) -> Self {
        self.commit_interval = interval;
        self
    }

    /// How long shutdown waits for records in flight before committing what finished.
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The back-off for transient failures.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Skip records whose idempotence id was handled before (see [`Dedup`]).
    #[must_use]
    pub fn dedup(mut self, dedup: Dedup) -> Self {
        self.dedup = Some(dedup);
        self
    }

    /// Sets a librdkafka property of the consumer and of the error-topic producer (e.g.
    /// `security.protocol`). `enable.auto.commit`, `enable.auto.offset.store`, `group.id` and
    /// `bootstrap.servers` are managed by the runtime.
    #[must_use]
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.client.push((key.into(), value.into()));
        self
    }

    pub(super) fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: &str| {
            Err(Error::InvalidConfig {
                reason: reason.to_owned(),
            })
        };
        if self.bootstrap_servers.trim().is_empty() {
            return invalid("bootstrap servers are blank");
        }
        if self.group_id.trim().is_empty() {
            return invalid("group id is blank");
        }
        if self.topics.is_empty() || self.topics.iter().any(|t| t.trim().is_empty()) {
            return invalid("at least one topic is required and topics must not be blank");
        }
        if let Some(error_topic) = &self.error_topic
            && (error_topic.trim().is_empty() || self.topics.contains(error_topic))
        {
            return invalid("the error topic must not be blank nor one of the consumed topics");
        }
        if self.max_in_flight == 0 {
            return invalid("max_in_flight must be at least 1");
        }
        if self.max_uncommitted == 0 {
            return invalid("max_uncommitted_per_partition must be at least 1");
        }
        if self
            .service_name
            .as_ref()
            .is_some_and(|name| name.trim().is_empty())
        {
            return invalid("the service name must not be blank");
        }
        if self.error_events.is_some() && self.error_topic.is_none() {
            return invalid("error events need an error topic");
        }
        const MANAGED: &[&str] = &[
            "enable.auto.commit",
            "enable.auto.offset.store",
            "group.id",
            "bootstrap.servers",
        ];
        if let Some((key, _)) = self
            .client
            .iter()
            .find(|(k, _)| MANAGED.contains(&k.as_str()))
        {
            return Err(Error::InvalidConfig {
                reason: format!("`{key}` is managed by the runtime"),
            });
        }
        Ok(())
    }

    pub(super) fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        for (key, value) in &self.client {
            config.set(key, value);
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(config: &ConsumerConfig) -> String {
        match config.validate() {
            Err(Error::InvalidConfig { reason }) => reason,
            other => format!("{other:?}"),
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn invalid_configurations_are_typed_errors_naming_the_problem() {
        let ok = ConsumerConfig::new("127.0.0.1:9092", "g", ["t"]);
        assert!(ok.validate().is_ok());
        assert!(reason(&ConsumerConfig::new(" ", "g", ["t"])).contains("bootstrap"));
        assert!(reason(&ConsumerConfig::new("b:1", "", ["t"])).contains("group id"));
        assert!(reason(&ConsumerConfig::new("b:1", "g", Vec::<String>::new())).contains("topic"));
        assert!(reason(&ok.clone().error_topic("t")).contains("error topic"));
        assert!(reason(&ok.clone().max_in_flight(0)).contains("max_in_flight"));
        assert!(reason(&ok.clone().service_name(" ")).contains("service name"));
        let events = ErrorEvents::with_schema_ids(
            audit_error_event::ErrorEventConfig::new("SYS", "svc").unwrap(),
            1,
            2,
        );
        assert!(reason(&ok.clone().error_events(events)).contains("error topic"));
        assert!(
            reason(&ok.clone().set("enable.auto.commit", "true")).contains("enable.auto.commit")
        );
    }
}
