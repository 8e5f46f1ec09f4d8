//! Client configuration and subject naming.

use std::fmt;
use std::time::Duration;

use audit_schema::SchemaVersion;

pub use audit_schema::COMMAND_FULL_NAME;

/// How the subject of a topic's value schema is named (Confluent's `value.subject.name.strategy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubjectStrategy {
    /// `{topic}-{record full name}`: jEAP's default (`TopicRecordNameStrategy`).
    #[default]
    TopicRecordName,
    /// `{topic}-value` (`TopicNameStrategy`).
    TopicName,
    /// `{record full name}` (`RecordNameStrategy`).
    RecordName,
}

impl SubjectStrategy {
    /// All strategies.
    pub const ALL: &'static [SubjectStrategy] = &[
        SubjectStrategy::TopicRecordName,
        SubjectStrategy::TopicName,
        SubjectStrategy::RecordName,
    ];

    /// The subject of a value schema whose record has `record_full_name`, written to `topic`.
    ///
    /// ```
    /// use audit_registry::{SubjectStrategy, COMMAND_FULL_NAME};
    /// assert_eq!(
    ///     SubjectStrategy::TopicRecordName.subject("audit", COMMAND_FULL_NAME),
    ///     "audit-ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand"
    /// );
    /// assert_eq!(SubjectStrategy::TopicName.subject("audit", COMMAND_FULL_NAME), "audit-value");
    /// ```
    pub fn subject(self, topic: &str, record_full_name: &str) -> String {
        match self {
            SubjectStrategy::TopicRecordName => format!("{topic}-{record_full_name}"),
            SubjectStrategy::TopicName => format!("{topic}-value"),
            SubjectStrategy::RecordName => record_full_name.to_owned(),
        }
    }

    /// The subject of the command schema on `topic`.
    pub fn command_subject(self, topic: &str) -> String {
        self.subject(topic, COMMAND_FULL_NAME)
    }

    /// Kebab-case name: `topic-record-name`, `topic-name`, `record-name`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectStrategy::TopicRecordName => "topic-record-name",
            SubjectStrategy::TopicName => "topic-name",
            SubjectStrategy::RecordName => "record-name",
        }
    }

    /// Parses the kebab-case name or the Confluent class name
    /// (`TopicRecordNameStrategy`, also fully qualified).
    pub fn parse(s: &str) -> Option<SubjectStrategy> {
        let short = s.rsplit('.').next().unwrap_or(s);
        SubjectStrategy::ALL.iter().copied().find(|strategy| {
            let class = match strategy {
                SubjectStrategy::TopicRecordName => "TopicRecordNameStrategy",
                SubjectStrategy::TopicName => "TopicNameStrategy",
                SubjectStrategy::RecordName => "RecordNameStrategy",
            };
            s == strategy.as_str() || short == class
        })
    }
}

impl fmt::Display for SubjectStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compatibility level of a subject (Confluent's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CompatibilityLevel {
    /// `NONE`
    None,
    /// `BACKWARD`
    Backward,
    /// `BACKWARD_TRANSITIVE`
    BackwardTransitive,
    /// `FORWARD`
    Forward,
    /// `FORWARD_TRANSITIVE`
    ForwardTransitive,
    /// `FULL`
    Full,
    /// `FULL_TRANSITIVE`
    FullTransitive,
}

impl CompatibilityLevel {
    /// All levels.
    pub const ALL: &'static [CompatibilityLevel] = &[
        CompatibilityLevel::None,
        CompatibilityLevel::Backward,
        CompatibilityLevel::BackwardTransitive,
        CompatibilityLevel::Forward,
        CompatibilityLevel::ForwardTransitive,
        CompatibilityLevel::Full,
        CompatibilityLevel::FullTransitive,
    ];

    /// The REST API name, e.g. `"BACKWARD_TRANSITIVE"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CompatibilityLevel::None => "NONE",
            CompatibilityLevel::Backward => "BACKWARD",
            CompatibilityLevel::BackwardTransitive => "BACKWARD_TRANSITIVE",
            CompatibilityLevel::Forward => "FORWARD",
            CompatibilityLevel::ForwardTransitive => "FORWARD_TRANSITIVE",
            CompatibilityLevel::Full => "FULL",
            CompatibilityLevel::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Parses the REST API name (case-insensitive).
    pub fn parse(s: &str) -> Option<CompatibilityLevel> {
        CompatibilityLevel::ALL
            .iter()
            .copied()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Basic-auth credentials (the password is never printed).
#[derive(Clone)]
pub(crate) struct BasicAuth {
    pub(crate) user: String,
    pub(crate) password: Option<String>,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Configuration of a [`RegistryClient`](crate::RegistryClient).
///
/// ```
/// use audit_registry::{RegistryConfig, SubjectStrategy};
/// use audit_schema::SchemaVersion;
/// use std::time::Duration;
///
/// let config = RegistryConfig::new("https://registry.example:8081")
///     .basic_auth("api-key", Some("secret"))
///     .timeout(Duration::from_secs(5))
///     .subject_strategy(SubjectStrategy::TopicRecordName)
///     .auto_register(false)
///     .pin_schema_id(SchemaVersion::V1_0_2, 42);
/// assert_eq!(config.url(), "https://registry.example:8081");
/// assert_eq!(config.pinned_id(SchemaVersion::V1_0_2), Some(42));
/// ```
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    pub(crate) url: String,
    pub(crate) basic_auth: Option<BasicAuth>,
    pub(crate) timeout: Duration,
    pub(crate) subject_strategy: SubjectStrategy,
    pub(crate) auto_register: bool,
    pub(crate) set_compatibility_none: bool,
    pub(crate) pinned: Vec<(SchemaVersion, u32)>,
    #[cfg(any(feature = "native-tls", feature = "rustls"))]
    pub(crate) root_certificates_pem: Vec<Vec<u8>>,
}

impl RegistryConfig {
    /// Defaults: no auth, 10 s timeout, TopicRecordName subjects, auto-registration on, subject
    /// compatibility set to NONE on first registration, no pinned ids.
    pub fn new(url: impl Into<String>) -> Self {
        let url: String = url.into();
        Self {
            url: url.trim_end_matches('/').to_owned(),
            basic_auth: None,
            timeout: Duration::from_secs(10),
            subject_strategy: SubjectStrategy::default(),
            auto_register: true,
            set_compatibility_none: true,
            pinned: Vec::new(),
            #[cfg(any(feature = "native-tls", feature = "rustls"))]
            root_certificates_pem: Vec::new(),
        }
    }

    /// Basic authentication (Confluent Cloud: API key and secret).
    pub fn basic_auth(mut self, user: impl Into<String>, password: Option<&str>) -> Self {
        self.basic_auth = Some(BasicAuth {
            user: user.into(),
            password: password.map(str::to_owned),
        });
        self
    }

    /// Connect and request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Subject naming strategy (default [`SubjectStrategy::TopicRecordName`]).
    pub fn subject_strategy(mut self, strategy: SubjectStrategy) -> Self {
        self.subject_strategy = strategy;
        self
    }

    /// Whether encoders may register the schema (default `true`). When `false`, they only look
    /// the schema up and fail with [`Error::NotRegistered`](crate::Error::NotRegistered) if it
    /// is missing; nothing is ever written to the registry.
    pub fn auto_register(mut self, on: bool) -> Self {
        self.auto_register = on;
        self
    }

    /// Whether auto-registration sets a new subject's compatibility to `NONE` before its first
    /// registration (default `true`, as jEAP does: the design-time check of `avro/` is the gate).
    pub fn set_compatibility_none(mut self, on: bool) -> Self {
        self.set_compatibility_none = on;
        self
    }

    /// Pins the registry id of a schema version: encoding with that version and decoding that id
    /// never call the registry, so a service can run while the registry is down.
    pub fn pin_schema_id(mut self, version: SchemaVersion, id: u32) -> Self {
        self.pinned.retain(|(v, _)| *v != version);
        self.pinned.push((version, id));
        self
    }

    /// Trusts an additional root certificate (PEM) for `https://` registries.
    #[cfg(any(feature = "native-tls", feature = "rustls"))]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem.push(pem.into());
        self
    }

    /// Base URL, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The subject strategy.
    pub fn strategy(&self) -> SubjectStrategy {
        self.subject_strategy
    }

    /// Whether auto-registration is on.
    pub fn auto_registers(&self) -> bool {
        self.auto_register
    }

    /// The pinned id of `version`, if any.
    pub fn pinned_id(&self, version: SchemaVersion) -> Option<u32> {
        self.pinned
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, id)| *id)
    }

    /// The version pinned to `id`, if any.
    pub fn pinned_version(&self, id: u32) -> Option<SchemaVersion> {
        self.pinned.iter().find(|(_, i)| *i == id).map(|(v, _)| *v)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use schema_registry_converter::schema_registry_common::SubjectNameStrategy;

    #[test]
    fn subjects_match_schema_registry_converter() {
        let cases = [
            (
                SubjectStrategy::TopicRecordName,
                SubjectNameStrategy::TopicRecordNameStrategy("t".into(), COMMAND_FULL_NAME.into()),
            ),
            (
                SubjectStrategy::TopicName,
                SubjectNameStrategy::TopicNameStrategy("t".into(), false),
            ),
            (
                SubjectStrategy::RecordName,
                SubjectNameStrategy::RecordNameStrategy(COMMAND_FULL_NAME.into()),
            ),
        ];
        for (ours, theirs) in cases {
            assert_eq!(
                Ok(ours.command_subject("t")),
                theirs.get_subject().map_err(|e| e.to_string())
            );
        }
    }

    #[test]
    fn strategies_parse_from_both_spellings() {
        for s in SubjectStrategy::ALL {
            assert_eq!(SubjectStrategy::parse(s.as_str()), Some(*s));
        }
        assert_eq!(
            SubjectStrategy::parse(
                "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"
            ),
            Some(SubjectStrategy::TopicRecordName)
        );
        assert_eq!(
            SubjectStrategy::parse("RecordNameStrategy"),
            Some(SubjectStrategy::RecordName)
        );
        assert_eq!(SubjectStrategy::parse("nope"), None);
    }

    #[test]
    fn compatibility_levels_round_trip() {
        for l in CompatibilityLevel::ALL {
            assert_eq!(CompatibilityLevel::parse(l.as_str()), Some(*l));
        }
        assert_eq!(
            CompatibilityLevel::parse("full_transitive"),
            Some(CompatibilityLevel::FullTransitive)
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let config = RegistryConfig::new("http://r/").basic_auth("u", Some("secret"));
        assert!(!format!("{config:?}").contains("secret"));
        assert_eq!(config.url(), "http://r");
    }
}
