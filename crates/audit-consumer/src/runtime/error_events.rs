//! [`ErrorEvents`]: failed records as jEAP `MessageProcessingFailedEvent`s on the error topic.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use audit_error_event::ErrorEventConfig;
use audit_schema::registry::SchemaIdProvider;
use audit_signing::SignerHandle;

use crate::error::BoxError;

type IdFuture<'a> = Pin<Box<dyn Future<Output = Result<u32, BoxError>> + Send + 'a>>;

/// Object-safe view of a schema-id source.
trait SchemaIds: Send + Sync {
    fn schema_id<'a>(&'a self, subject: &'a str, schema_json: &'a str) -> IdFuture<'a>;
}

struct Provider<P>(P);

impl<P: SchemaIdProvider + Send + Sync> SchemaIds for Provider<P> {
    fn schema_id<'a>(&'a self, subject: &'a str, schema_json: &'a str) -> IdFuture<'a> {
        Box::pin(self.0.schema_id(subject, schema_json))
    }
}

struct Pinned {
    value: u32,
    key: u32,
}

impl SchemaIds for Pinned {
    fn schema_id<'a>(&'a self, _subject: &'a str, schema_json: &'a str) -> IdFuture<'a> {
        let id = if schema_json == audit_error_event::KEY_SCHEMA_JSON {
            self.key
        } else {
            self.value
        };
        Box::pin(std::future::ready(Ok(id)))
    }
}

/// jEAP error events for the error topic ([`ConsumerConfig::error_events`](super::ConsumerConfig::error_events)):
/// a failed record becomes a `MessageProcessingFailedEvent` filled like jEAP's error handler
/// fills it ([`audit_error_event`]), keyed by a `MessageProcessingFailedMessageKey` (the failed
/// command's id), both Confluent-framed with the schema ids registered under the
/// TopicRecordNameStrategy subjects of the error topic
/// (`<error topic>-ch.admin.bit.jeap.messaging.avro.errorevent.MessageProcessingFailedEvent` and
/// `...MessageProcessingFailedMessageKey`).
///
/// ```
/// use audit_consumer::runtime::ErrorEvents;
/// use audit_error_event::ErrorEventConfig;
///
/// let events = ErrorEvents::with_schema_ids(ErrorEventConfig::new("JME", "jme-audit-archive")?, 7, 8);
/// # let _ = events;
/// # Ok::<(), audit_error_event::Error>(())
/// ```
#[derive(Clone)]
pub struct ErrorEvents {
    pub(super) config: ErrorEventConfig,
    ids: Arc<dyn SchemaIds>,
    pub(super) signer: Option<SignerHandle>,
}

impl std::fmt::Debug for ErrorEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorEvents")
            .field("config", &self.config)
            .field("signed", &self.signer.is_some())
            .finish_non_exhaustive()
    }
}

impl ErrorEvents {
    /// Events published as `config` says (system, service, stack-trace limits), with schema ids
    /// from `schema_ids`, e.g. the `audit_registry::RegistryClient` the consumer already uses
    /// (it registers or looks up [`audit_error_event::EVENT_SCHEMA_JSON`] and
    /// [`audit_error_event::KEY_SCHEMA_JSON`] under the subjects above and caches the ids). A
    /// failing look-up is retried with the runtime's back-off; the record is not committed
    /// before its event is acknowledged.
    #[must_use]
    pub fn new(
        config: ErrorEventConfig,
        schema_ids: impl SchemaIdProvider + Send + Sync + 'static,
    ) -> Self {
        Self {
            config,
            ids: Arc::new(Provider(schema_ids)),
            signer: None,
        }
    }

    /// Events framed with fixed schema ids (registered beforehand, e.g. by a deployment step).
    #[must_use]
    pub fn with_schema_ids(
        config: ErrorEventConfig,
        value_schema_id: u32,
        key_schema_id: u32,
    ) -> Self {
        Self {
            config,
            ids: Arc::new(Pinned {
                value: value_schema_id,
                key: key_schema_id,
            }),
            signer: None,
        }
    }

    /// Signs every error event as a jEAP publisher does (`jeap-sign` over the framed value,
    /// `jeap-sign-key` over the framed key, `jeap-cert`), with the signer in force when the event
    /// is sent, so that a strict subscriber (jEAP's Error Handling Service with
    /// `require-signature`) accepts it. The signer's certificate CN must be the events' service
    /// ([`ErrorEventConfig`]'s), which is the publisher the events declare.
    #[must_use]
    pub fn signed_by(mut self, signer: SignerHandle) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The service the events name as publisher.
    #[must_use]
    pub fn service(&self) -> &str {
        &self.config.service
    }

    /// The id of `schema_json` under `subject`.
    pub(super) async fn schema_id(
        &self,
        subject: &str,
        schema_json: &str,
    ) -> Result<u32, BoxError> {
        self.ids.schema_id(subject, schema_json).await
    }
}
