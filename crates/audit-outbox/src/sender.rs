//! Audit senders mirroring jEAP: audit a user-triggered event, audit a message-triggered system
//! event, or send an already built `CreateAuditRecordCommand`. The command is built (jEAP rules,
//! `audit_builder`), encoded (Avro binary of the newest schema, Confluent framing with the
//! subject's schema id) and enqueued in the caller's transaction; a build error is returned there,
//! so the caller's rollback drops the business write too. One sender per configured topic; the
//! configuration names a single `topic` XOR a `topics` list.

use audit_builder::{AuditCommandBuilder, JeapMessage, TokenSubject};
use audit_schema::{CreateAuditRecordCommand, SchemaVersion, confluent};
use sqlx::Transaction;

use crate::error::{Error, Result};
use crate::message::OutboxMessage;
use crate::outbox::Outbox;
use crate::store::Backend;

/// Obtains the subject and the Confluent schema id of the schema this crate writes with:
/// `audit_registry::RegistryClient` implements it (subject from its configured
/// `SubjectStrategy`, jEAP's TopicRecordNameStrategy by default; register-or-get, cached); or pin
/// the id in the configuration ([`SchemaId::Pinned`]).
pub use audit_schema::registry::SchemaIdProvider;

/// Topic configuration: exactly one of `topic` and `topics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditTopics {
    /// A single topic.
    pub topic: Option<String>,
    /// Several topics.
    pub topics: Vec<String>,
}

impl AuditTopics {
    /// The validated topic list: `topic` XOR `topics`; no empty, blank or duplicate topic.
    ///
    /// ```
    /// use audit_outbox::sender::AuditTopics;
    /// let ok = AuditTopics { topic: Some("audit".into()), topics: vec![] };
    /// assert_eq!(ok.resolve().ok(), Some(vec!["audit".to_owned()]));
    /// let both = AuditTopics { topic: Some("a".into()), topics: vec!["b".into()] };
    /// assert!(both.resolve().is_err());
    /// ```
    pub fn resolve(&self) -> Result<Vec<String>> {
        let list = match (&self.topic, self.topics.is_empty()) {
            (Some(_), false) => {
                return Err(Error::Config(
                    "configure either `topic` or `topics`, not both".into(),
                ));
            }
            (None, true) => {
                return Err(Error::Config(
                    "no audit topic configured (`topic` or `topics`)".into(),
                ));
            }
            (Some(t), true) => vec![t.clone()],
            (None, false) => self.topics.clone(),
        };
        let mut seen = std::collections::HashSet::new();
        for t in &list {
            if t.trim().is_empty() {
                return Err(Error::Config("an audit topic is empty or blank".into()));
            }
            if !seen.insert(t.as_str()) {
                return Err(Error::Config(format!(
                    "audit topic `{t}` is configured twice"
                )));
            }
        }
        Ok(list)
    }
}

/// Where the schema id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaId {
    /// A fixed id (from configuration).
    Pinned(u32),
}

/// Sends audit commands to one topic through the outbox.
#[derive(Debug, Clone)]
pub struct AuditSender {
    topic: String,
    schema_id: u32,
}

impl AuditSender {
    /// A sender for `topic` with a pinned schema id.
    pub fn pinned(topic: impl Into<String>, id: SchemaId) -> Result<Self> {
        let topic = topic.into();
        if topic.trim().is_empty() {
            return Err(Error::Config("audit topic is empty or blank".into()));
        }
        let SchemaId::Pinned(schema_id) = id;
        Ok(Self { topic, schema_id })
    }

    /// A sender for `topic` whose schema id is obtained once now from `provider`: the newest
    /// version's raw `.avsc` text under the subject the provider names for `topic`.
    pub async fn with_provider(
        topic: impl Into<String>,
        provider: &impl SchemaIdProvider,
    ) -> Result<Self> {
        let topic = topic.into();
        let subject = provider.command_subject(&topic);
        let schema_id = provider
            .schema_id(&subject, SchemaVersion::LATEST.schema_json())
            .await
            .map_err(|source| Error::SchemaId { subject, source })?;
        Self::pinned(topic, SchemaId::Pinned(schema_id))
    }

    /// One sender per configured topic (pinned schema id).
    pub fn per_topic(topics: &AuditTopics, id: SchemaId) -> Result<Vec<Self>> {
        topics
            .resolve()?
            .into_iter()
            .map(|t| Self::pinned(t, id))
            .collect()
    }

    /// One sender per configured topic, each with its schema id from `provider`
    /// ([`AuditSender::with_provider`]).
    pub async fn per_topic_with_provider(
        topics: &AuditTopics,
        provider: &impl SchemaIdProvider,
    ) -> Result<Vec<Self>> {
        let mut senders = Vec::new();
        for topic in topics.resolve()? {
            senders.push(Self::with_provider(topic, provider).await?);
        }
        Ok(senders)
    }

    /// The schema id the sender frames its messages with.
    pub fn schema_id(&self) -> u32 {
        self.schema_id
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The outbox message for `command` (encoded and framed; message id, idempotence id, type
    /// name/version and creation time taken from the command).
    pub fn message(&self, command: &CreateAuditRecordCommand) -> OutboxMessage {
        let datum = command.to_avro_datum();
        OutboxMessage::new(self.topic.clone(), confluent::frame(self.schema_id, &datum))
            .with_ids(
                command.identity.id.clone(),
                command.identity.idempotence_id.clone(),
            )
            .with_type(
                command.r#type.name.clone(),
                Some(command.r#type.version.to_string()),
            )
            .with_created(command.identity.created)
    }

    /// Audits a user-triggered event: `builder` (event type, context, audited object, ...) gets
    /// the user from `user`'s token subject and issuer, is built and enqueued.
    pub async fn audit_user_triggered<DB: Backend>(
        &self,
        outbox: &Outbox<DB>,
        tx: &mut Transaction<'_, DB>,
        builder: AuditCommandBuilder,
        user: &impl TokenSubject,
    ) -> Result<i64> {
        let command = builder.user_from_token(user).build()?;
        self.send(outbox, tx, &command).await
    }

    /// Audits a system event triggered by a received jEAP `message`: the trigger is the system
    /// component (`department`, the message's publisher system and service), built and enqueued.
    pub async fn audit_message_triggered<DB: Backend>(
        &self,
        outbox: &Outbox<DB>,
        tx: &mut Transaction<'_, DB>,
        builder: AuditCommandBuilder,
        department: &str,
        message: &impl JeapMessage,
    ) -> Result<i64> {
        let command = builder
            .system_component_from_message(department, message)
            .build()?;
        self.send(outbox, tx, &command).await
    }

    /// Enqueues an already built command in the caller's transaction.
    pub async fn send<DB: Backend>(
        &self,
        outbox: &Outbox<DB>,
        tx: &mut Transaction<'_, DB>,
        command: &CreateAuditRecordCommand,
    ) -> Result<i64> {
        outbox.enqueue(tx, &self.message(command)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_rules() {
        let t = |topic: Option<&str>, topics: &[&str]| AuditTopics {
            topic: topic.map(str::to_owned),
            topics: topics.iter().map(|s| (*s).to_owned()).collect(),
        };
        assert!(t(None, &[]).resolve().is_err());
        assert!(t(Some("a"), &["b"]).resolve().is_err());
        assert!(t(Some(" "), &[]).resolve().is_err());
        assert!(t(None, &["a", ""]).resolve().is_err());
        assert!(t(None, &["a", "a"]).resolve().is_err());
        assert_eq!(
            t(None, &["a", "b"]).resolve().ok(),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(
            AuditSender::per_topic(&t(None, &["a", "b"]), SchemaId::Pinned(7))
                .map(|v| v.len())
                .ok(),
            Some(2)
        );
    }

    /// Names subjects its own way and records what it was asked: the sender takes the subject
    /// from the provider and asks for the newest schema under it.
    struct SubjectRecorder(std::sync::Mutex<Vec<(String, String)>>);

    impl SchemaIdProvider for SubjectRecorder {
        fn command_subject(&self, topic: &str) -> String {
            format!("subject-of-{topic}")
        }

        async fn schema_id(
            &self,
            subject: &str,
            schema_json: &str,
        ) -> std::result::Result<u32, audit_schema::registry::BoxError> {
            let mut seen = self.0.lock().map_err(|e| e.to_string())?;
            seen.push((subject.to_owned(), schema_json.to_owned()));
            if subject.contains("broken") {
                return Err("registry down".into());
            }
            Ok(41)
        }
    }

    #[tokio::test]
    async fn provider_names_the_subject_and_gives_the_id() -> Result<()> {
        let provider = SubjectRecorder(std::sync::Mutex::new(Vec::new()));
        let sender = AuditSender::with_provider("audit-commands", &provider).await?;
        assert_eq!(sender.schema_id(), 41);
        let failed = AuditSender::with_provider("broken", &provider).await;
        assert!(
            matches!(&failed, Err(Error::SchemaId { subject, .. }) if subject == "subject-of-broken"),
            "{failed:?}"
        );
        let seen = provider.0.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(
            seen,
            vec![
                (
                    "subject-of-audit-commands".to_owned(),
                    SchemaVersion::LATEST.schema_json().to_owned()
                ),
                (
                    "subject-of-broken".to_owned(),
                    SchemaVersion::LATEST.schema_json().to_owned()
                )
            ]
        );
        Ok(())
    }
}
