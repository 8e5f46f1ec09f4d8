//! Client configuration and subject naming.

use std::fmt;
use std::time::Duration;

use audit_schema::SchemaVersion;

use crate::error::Error;

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
struct BasicAuth {
    user: String,
    password: Option<String>,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Configuration of a [`RegistryClient`](crate::RegistryClient): built with `new` and the
/// setters, validated by [`RegistryClient::new`](crate::RegistryClient::new) (or
/// [`RegistryConfig::validate`]), which reports an invalid one as [`Error::Config`].
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
/// assert!(config.validate().is_ok());
/// assert!(RegistryConfig::new("localhost:8081").validate().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    url: String,
    basic_auth: Option<BasicAuth>,
    timeout: Duration,
    subject_strategy: SubjectStrategy,
    auto_register: bool,
    set_compatibility_none: bool,
    lookup_by_version_scan: bool,
    pinned: Vec<(SchemaVersion, u32)>,
    #[cfg(any(feature = "native-tls", feature = "rustls"))]
    root_certificates_pem: Vec<Vec<u8>>,
}

impl RegistryConfig {
    /// Defaults: no auth, 10 s timeout, TopicRecordName subjects, auto-registration on, subject
    /// compatibility set to NONE on first registration, no look-up by version scan, no pinned ids.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        let url: String = url.into();
        Self {
            url: url.trim_end_matches('/').to_owned(),
            basic_auth: None,
            timeout: Duration::from_secs(10),
            subject_strategy: SubjectStrategy::default(),
            auto_register: true,
            set_compatibility_none: true,
            lookup_by_version_scan: false,
            pinned: Vec::new(),
            #[cfg(any(feature = "native-tls", feature = "rustls"))]
            root_certificates_pem: Vec::new(),
        }
    }

    /// Basic authentication (Confluent Cloud: API key and secret).
    #[must_use]
    pub fn basic_auth(mut self, user: impl Into<String>, password: Option<&str>) -> Self {
        self.basic_auth = Some(BasicAuth {
            user: user.into(),
            password: password.map(str::to_owned),
        });
        self
    }

    /// Connect and request timeout (more than zero).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Subject naming strategy (default [`SubjectStrategy::TopicRecordName`]).
    #[must_use]
    pub fn subject_strategy(mut self, strategy: SubjectStrategy) -> Self {
        self.subject_strategy = strategy;
        self
    }

    /// Whether the client may register the schema (default `true`). When `false`, it only looks
    /// the schema up and fails with [`Error::NotRegistered`] if it is missing; nothing is ever
    /// written to the registry.
    #[must_use]
    pub fn auto_register(mut self, on: bool) -> Self {
        self.auto_register = on;
        self
    }

    /// Whether auto-registration sets a new subject's compatibility to `NONE` before its first
    /// registration (default `true`, as jEAP does: the design-time check of `avro/` is the gate).
    #[must_use]
    pub fn set_compatibility_none(mut self, on: bool) -> Self {
        self.set_compatibility_none = on;
        self
    }

    /// Whether [`RegistryClient::lookup`](crate::RegistryClient::lookup) falls back to fetching
    /// every version of the subject when the registry has no look-up endpoint
    /// (`POST /subjects/{subject}` answers 405, or 404 without a Confluent error code). Default
    /// `false`: a Confluent registry has the endpoint, and the scan costs one request per
    /// version; the error is returned instead. Turn it on for registries without the endpoint.
    #[must_use]
    pub fn lookup_by_version_scan(mut self, on: bool) -> Self {
        self.lookup_by_version_scan = on;
        self
    }

    /// Pins the registry id of a schema version: encoding with that version and decoding that id
    /// never call the registry, so a service can run while the registry is down. Pinning a
    /// version again replaces its id; one id pinned to two versions is invalid.
    #[must_use]
    pub fn pin_schema_id(mut self, version: SchemaVersion, id: u32) -> Self {
        self.pinned.retain(|(v, _)| *v != version);
        self.pinned.push((version, id));
        self
    }

    /// Trusts an additional root certificate (PEM) for `https://` registries.
    #[cfg(any(feature = "native-tls", feature = "rustls"))]
    #[must_use]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem.push(pem.into());
        self
    }

    /// Checks the configuration: an `http://` or `https://` URL with a host, a timeout above
    /// zero, a non-blank basic-auth user, no id pinned to two versions, root certificates that
    /// parse as PEM.
    ///
    /// # Errors
    /// [`Error::Config`] naming what is wrong.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |message: String| {
            Err(Error::Config {
                message,
                source: None,
            })
        };
        let host = self
            .url
            .strip_prefix("http://")
            .or_else(|| self.url.strip_prefix("https://"));
        match host {
            None => {
                return invalid(format!(
                    "registry URL {:?} must start with http:// or https://",
                    self.url
                ));
            }
            Some(rest) if rest.is_empty() || rest.starts_with(['/', ':', '?', '#']) => {
                return invalid(format!("registry URL {:?} has no host", self.url));
            }
            Some(_) => {}
        }
        if self.timeout.is_zero() {
            return invalid("the timeout must be more than zero".to_owned());
        }
        if let Some(auth) = &self.basic_auth
            && auth.user.trim().is_empty()
        {
            return invalid("the basic-auth user is blank".to_owned());
        }
        for (i, (version, id)) in self.pinned.iter().enumerate() {
            if let Some((other, _)) = self.pinned.iter().take(i).find(|(_, other)| other == id) {
                return invalid(format!(
                    "schema id {id} is pinned to both {other} and {version}"
                ));
            }
        }
        #[cfg(any(feature = "native-tls", feature = "rustls"))]
        for pem in &self.root_certificates_pem {
            reqwest::Certificate::from_pem(pem).map_err(|e| Error::Config {
                message: "invalid root certificate (PEM)".to_owned(),
                source: Some(Box::new(e)),
            })?;
        }
        Ok(())
    }

    /// Base URL, without a trailing slash.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The subject strategy.
    #[must_use]
    pub fn strategy(&self) -> SubjectStrategy {
        self.subject_strategy
    }

    /// Whether auto-registration is on.
    #[must_use]
    pub fn auto_registers(&self) -> bool {
        self.auto_register
    }

    /// Whether auto-registration sets a new subject's compatibility to `NONE` first.
    #[must_use]
    pub fn sets_compatibility_none(&self) -> bool {
        self.set_compatibility_none
    }

    /// Whether a look-up without the look-up endpoint scans the subject's versions.
    #[must_use]
    pub fn looks_up_by_version_scan(&self) -> bool {
        self.lookup_by_version_scan
    }

    /// The connect and request timeout.
    #[must_use]
    pub fn request_timeout(&self) -> Duration {
        self.timeout
    }

    /// The pinned id of `version`, if any.
    #[must_use]
    pub fn pinned_id(&self, version: SchemaVersion) -> Option<u32> {
        self.pinned
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, id)| *id)
    }

    /// The version pinned to `id`, if any.
    #[must_use]
    pub fn pinned_version(&self, id: u32) -> Option<SchemaVersion> {
        self.pinned.iter().find(|(_, i)| *i == id).map(|(v, _)| *v)
    }

    pub(crate) fn basic_auth_credentials(&self) -> Option<(&str, Option<&str>)> {
        self.basic_auth
            .as_ref()
            .map(|a| (a.user.as_str(), a.password.as_deref()))
    }

    #[cfg(any(feature = "native-tls", feature = "rustls"))]
    pub(crate) fn root_certificates_pem(&self) -> &[Vec<u8>] {
        &self.root_certificates_pem
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

    #[test]
    fn validation_names_what_is_wrong() {
        let message = |config: RegistryConfig| match config.validate() {
            Err(Error::Config { message, .. }) => message,
            other => format!("not a config error: {other:?}"),
        };
        assert!(RegistryConfig::new("http://r:8081").validate().is_ok());
        assert!(message(RegistryConfig::new("localhost:8081")).contains("http:// or https://"));
        assert!(message(RegistryConfig::new("http:///path")).contains("no host"));
        assert!(message(RegistryConfig::new("https://:8081")).contains("no host"));
        assert!(
            message(RegistryConfig::new("http://r").timeout(Duration::ZERO)).contains("timeout")
        );
        assert!(message(RegistryConfig::new("http://r").basic_auth(" ", None)).contains("user"));
        let twice = RegistryConfig::new("http://r")
            .pin_schema_id(SchemaVersion::V1_0_1, 3)
            .pin_schema_id(SchemaVersion::V1_0_2, 3);
        assert!(message(twice).contains("schema id 3 is pinned to both"));
        let replaced = RegistryConfig::new("http://r")
            .pin_schema_id(SchemaVersion::V1_0_2, 3)
            .pin_schema_id(SchemaVersion::V1_0_2, 4);
        assert!(replaced.validate().is_ok());
        assert_eq!(replaced.pinned_version(3), None);
    }

    #[test]
    fn version_scan_is_off_by_default() {
        assert!(!RegistryConfig::new("http://r").looks_up_by_version_scan());
        assert!(
            RegistryConfig::new("http://r")
                .lookup_by_version_scan(true)
                .looks_up_by_version_scan()
        );
    }
}
