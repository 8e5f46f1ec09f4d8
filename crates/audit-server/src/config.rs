//! The server's configuration: a TOML or JSON file, then environment variables on top.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

/// Prefix of every environment variable the server reads.
pub const ENV_PREFIX: &str = "AUDIT_SERVER_";

/// The whole configuration. Every field has a default (see [`Config::default`]), so an empty
/// file is a valid configuration: SQLite store `audit.db`, keep records forever, listen on
/// `127.0.0.1:8080`. Only the authentication needs settings before a token is accepted.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listen address (`AUDIT_SERVER_LISTEN`).
    pub listen: SocketAddr,
    /// Store URL: `sqlite://file.db` or `postgres://user@host/db` (`AUDIT_SERVER_STORE_URL`).
    pub store_url: String,
    /// The system name under which the server audits reads of the trail (`AUDIT_SERVER_SYSTEM`).
    pub system_name: String,
    /// The service name under which the server audits reads of the trail.
    pub service_name: String,
    /// Retention.
    pub retention: RetentionConfig,
    /// Bearer-token validation.
    pub auth: AuthConfig,
    /// HTTP ingestion.
    pub ingest: IngestConfig,
    /// Query API.
    pub query: QueryConfig,
    /// Seconds a readiness probe waits for the database (`AUDIT_SERVER_READY_TIMEOUT_SECS`).
    pub ready_timeout_secs: u64,
    /// Kafka ingestion (the `[kafka]` section); `None` (the default) ingests over HTTP only.
    /// Needs the cargo feature `kafka` (on by default). Setting any `AUDIT_SERVER_KAFKA_*`
    /// variable creates the section.
    pub kafka: Option<KafkaConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            store_url: "sqlite://audit.db".to_owned(),
            system_name: "AUDIT".to_owned(),
            service_name: "audit-server".to_owned(),
            retention: RetentionConfig::default(),
            auth: AuthConfig::default(),
            ingest: IngestConfig::default(),
            query: QueryConfig::default(),
            ready_timeout_secs: 2,
            kafka: None,
        }
    }
}

/// How long records are kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days to keep a record after its event time; `None` keeps forever (the default)
    /// (`AUDIT_SERVER_RETENTION_DAYS`, empty or `forever` for none).
    pub days: Option<u32>,
    /// Seconds between retention runs (`AUDIT_SERVER_RETENTION_INTERVAL_SECS`).
    pub interval_secs: u64,
    /// Records deleted per statement.
    pub page_size: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            days: None,
            interval_secs: 3600,
            page_size: 10_000,
        }
    }
}

/// Bearer JWT validation. Tokens signed with HS256 (shared secret), RS256 or ES256 (public
/// keys, PEM) are accepted when their signature, `exp`, `nbf` and `aud` check out.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The required audience (`aud`) (`AUDIT_SERVER_JWT_AUDIENCE`).
    pub audience: String,
    /// The required issuer (`iss`), if any (`AUDIT_SERVER_JWT_ISSUER`).
    pub issuer: Option<String>,
    /// HS256 shared secret (`AUDIT_SERVER_JWT_HS256_SECRET`; never logged).
    pub hs256_secret: Option<String>,
    /// Files with RS256 public keys in PEM (`AUDIT_SERVER_JWT_RS256_KEY_FILES`, comma-separated).
    pub rs256_public_key_files: Vec<PathBuf>,
    /// Files with ES256 public keys in PEM (`AUDIT_SERVER_JWT_ES256_KEY_FILES`, comma-separated).
    pub es256_public_key_files: Vec<PathBuf>,
    /// The claim with the systems a reader is limited to (an array of strings); a token
    /// without it reads every system (`AUDIT_SERVER_JWT_SYSTEMS_CLAIM`).
    pub systems_claim: String,
    /// Seconds of clock skew tolerated on `exp`/`nbf`.
    pub leeway_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            audience: "audit".to_owned(),
            issuer: None,
            hs256_secret: None,
            rs256_public_key_files: Vec::new(),
            es256_public_key_files: Vec::new(),
            systems_claim: "audit_systems".to_owned(),
            leeway_secs: 30,
        }
    }
}

/// HTTP ingestion limits and the internal queue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Largest request body in bytes; larger ones get 413 (`AUDIT_SERVER_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Most records in one request; more get 413 (`AUDIT_SERVER_MAX_BATCH`).
    pub max_batch: usize,
    /// Records waiting for or being written; a request that does not fit gets 429 with
    /// `Retry-After` (`AUDIT_SERVER_QUEUE_CAPACITY`).
    pub queue_capacity: usize,
    /// Most records the writer task puts in one store batch (`AUDIT_SERVER_WRITER_BATCH`).
    pub writer_batch: usize,
    /// The `Retry-After` seconds of a 429.
    pub retry_after_secs: u64,
    /// Writer tasks writing store batches concurrently (`AUDIT_SERVER_WRITERS`; SQLite
    /// serializes them anyway).
    pub writers: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 4 * 1024 * 1024,
            max_batch: 1_000,
            queue_capacity: 20_000,
            writer_batch: 1_000,
            retry_after_secs: 1,
            writers: 2,
        }
    }
}

/// Query API limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueryConfig {
    /// Page size when the request names none.
    pub default_limit: u32,
    /// Largest page size a request may ask for (`AUDIT_SERVER_MAX_PAGE`).
    pub max_limit: u32,
}

impl Default for QueryConfig {
    fn default() -> Self {
        Self {
            default_limit: 100,
            max_limit: 1_000,
        }
    }
}

/// Kafka ingestion: the consumer of `audit_consumer::runtime` subscribed to `topics`; every
/// record goes through the same batching writer as HTTP ingestion and its offset is committed
/// only after its batch is durably stored (see the `kafka` module docs of the crate).
///
/// ```toml
/// [kafka]
/// bootstrap_servers = "127.0.0.1:9092"
/// group_id = "audit-server"
/// topics = ["audit-records"]
/// registry_url = "http://127.0.0.1:8081"   # or only pinned schemas:
/// pinned_schemas = [{ id = 7, version = "1.0.2" }]
/// max_in_flight = 2000
/// [kafka.properties]
/// "security.protocol" = "plaintext"
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// `bootstrap.servers` (`AUDIT_SERVER_KAFKA_BOOTSTRAP_SERVERS`).
    pub bootstrap_servers: String,
    /// The consumer group (`AUDIT_SERVER_KAFKA_GROUP_ID`), default `audit-server`.
    pub group_id: String,
    /// Topics to consume (`AUDIT_SERVER_KAFKA_TOPICS`, comma-separated).
    pub topics: Vec<String>,
    /// Where records that can never be stored go (undecodable bytes, unknown schema id); without
    /// it such a record stops the consumer (`AUDIT_SERVER_KAFKA_ERROR_TOPIC`).
    pub error_topic: Option<String>,
    /// A Confluent schema registry resolving writer-schema ids
    /// (`AUDIT_SERVER_KAFKA_REGISTRY_URL`). Without it, only `pinned_schemas` are known.
    pub registry_url: Option<String>,
    /// Schema ids pinned to known versions (no registry call for them)
    /// (`AUDIT_SERVER_KAFKA_PINNED_SCHEMAS`, e.g. `7=1.0.2,3=1.0.0`; a bare id means the newest
    /// version).
    pub pinned_schemas: Vec<PinnedSchema>,
    /// Records handled at once (`AUDIT_SERVER_KAFKA_MAX_IN_FLIGHT`): these are what one store
    /// batch is made of, so keep it at least `ingest.writer_batch`. At most
    /// `ingest.queue_capacity`.
    pub max_in_flight: usize,
    /// A partition is paused when this many records from its oldest unstored one on are
    /// consumed (`AUDIT_SERVER_KAFKA_MAX_UNCOMMITTED_PER_PARTITION`): what a crash can
    /// redeliver per partition.
    pub max_uncommitted_per_partition: usize,
    /// Milliseconds between offset commits of what is stored (`AUDIT_SERVER_KAFKA_COMMIT_INTERVAL_MS`).
    pub commit_interval_ms: u64,
    /// Milliseconds between consumer-lag measurements (`AUDIT_SERVER_KAFKA_LAG_INTERVAL_MS`).
    pub lag_interval_ms: u64,
    /// Seconds shutdown waits for records in flight before the final commit
    /// (`AUDIT_SERVER_KAFKA_SHUTDOWN_TIMEOUT_SECS`).
    pub shutdown_timeout_secs: u64,
    /// Extra librdkafka properties of the consumer (e.g. `security.protocol`; without an
    /// `auto.offset.reset` the server uses `earliest`: a new group reads the whole topic);
    /// `AUDIT_SERVER_KAFKA_PROPERTY_<NAME>` with `_` for `.`
    /// (`AUDIT_SERVER_KAFKA_PROPERTY_SECURITY_PROTOCOL=ssl`). `group.id`,
    /// `bootstrap.servers`, `enable.auto.commit` and `enable.auto.offset.store` are managed.
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            bootstrap_servers: String::new(),
            group_id: "audit-server".to_owned(),
            topics: Vec::new(),
            error_topic: None,
            registry_url: None,
            pinned_schemas: Vec::new(),
            max_in_flight: 2_000,
            max_uncommitted_per_partition: 20_000,
            commit_interval_ms: 500,
            lag_interval_ms: 5_000,
            shutdown_timeout_secs: 30,
            properties: BTreeMap::new(),
        }
    }
}

impl KafkaConfig {
    /// A section consuming `topics` from `bootstrap_servers`, everything else default
    /// (add a registry URL or pinned schemas).
    #[must_use]
    pub fn new<I, T>(bootstrap_servers: impl Into<String>, topics: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            topics: topics.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Pins schema id `id` to the version `version` (e.g. `"1.0.2"`).
    #[must_use]
    pub fn pin_schema(mut self, id: u32, version: impl Into<String>) -> Self {
        self.pinned_schemas.push(PinnedSchema {
            id,
            version: version.into(),
        });
        self
    }
}

/// A Confluent schema id and the known schema version it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedSchema {
    /// The schema id of the Confluent frame.
    pub id: u32,
    /// The version, e.g. `1.0.2` (default: the newest known).
    #[serde(default = "latest_version")]
    pub version: String,
}

fn latest_version() -> String {
    audit_schema::SchemaVersion::LATEST.as_str().to_owned()
}

impl Config {
    /// Reads `file` (TOML, or JSON when the name ends in `.json`) if given, then applies the
    /// process environment's `AUDIT_SERVER_*` variables, then validates.
    ///
    /// # Errors
    /// [`Error`] naming the file, variable or setting and the bad value.
    pub fn load(file: Option<&Path>) -> Result<Self, Error> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`load`](Self::load) with the given environment (for tests and embedding).
    ///
    /// # Errors
    /// [`Error`].
    pub fn load_from<I, K, V>(file: Option<&Path>, env: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = match file {
            None => Self::default(),
            Some(path) => Self::from_file(path)?,
        };
        for (key, value) in env {
            config.apply_env(key.as_ref(), value.as_ref())?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Parses a file: JSON when its name ends in `.json`, TOML otherwise.
    ///
    /// # Errors
    /// [`Error::Read`], [`Error::Parse`].
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let parsed = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            toml::from_str(&text).map_err(|e| e.to_string())
        };
        parsed.map_err(|message| Error::Parse {
            path: path.to_owned(),
            message,
        })
    }

    fn apply_env(&mut self, key: &str, value: &str) -> Result<(), Error> {
        let Some(name) = key.strip_prefix(ENV_PREFIX) else {
            return Ok(());
        };
        let bad = |expected: &'static str, secret: bool| Error::Env {
            var: key.to_owned(),
            value: if secret {
                "<redacted>".to_owned()
            } else {
                value.chars().take(200).collect()
            },
            expected,
        };
        let files = |v: &str| -> Vec<PathBuf> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect()
        };
        match name {
            "LISTEN" => {
                self.listen = value
                    .parse()
                    .map_err(|_| bad("a socket address such as 127.0.0.1:8080", false))?;
            }
            "STORE_URL" => self.store_url = value.to_owned(),
            "SYSTEM" => self.system_name = value.to_owned(),
            "RETENTION_DAYS" => {
                self.retention.days = match value.trim() {
                    "" | "forever" => None,
                    v => Some(
                        v.parse()
                            .map_err(|_| bad("a whole number of days or `forever`", false))?,
                    ),
                };
            }
            "RETENTION_INTERVAL_SECS" => {
                self.retention.interval_secs = value
                    .parse()
                    .map_err(|_| bad("a whole number of seconds", false))?;
            }
            "JWT_AUDIENCE" => self.auth.audience = value.to_owned(),
            "JWT_ISSUER" => self.auth.issuer = Some(value.to_owned()).filter(|v| !v.is_empty()),
            "JWT_HS256_SECRET" => {
                self.auth.hs256_secret = Some(value.to_owned()).filter(|v| !v.is_empty());
            }
            "JWT_RS256_KEY_FILES" => self.auth.rs256_public_key_files = files(value),
            "JWT_ES256_KEY_FILES" => self.auth.es256_public_key_files = files(value),
            "JWT_SYSTEMS_CLAIM" => self.auth.systems_claim = value.to_owned(),
            "MAX_BODY_BYTES" => {
                self.ingest.max_body_bytes = value
                    .parse()
                    .map_err(|_| bad("a whole number of bytes", false))?;
            }
            "MAX_BATCH" => {
                self.ingest.max_batch = value
                    .parse()
                    .map_err(|_| bad("a whole number of records", false))?;
            }
            "QUEUE_CAPACITY" => {
                self.ingest.queue_capacity = value
                    .parse()
                    .map_err(|_| bad("a whole number of records", false))?;
            }
            "WRITER_BATCH" => {
                self.ingest.writer_batch = value
                    .parse()
                    .map_err(|_| bad("a whole number of records", false))?;
            }
            "WRITERS" => {
                self.ingest.writers = value
                    .parse()
                    .map_err(|_| bad("a whole number of tasks", false))?;
            }
            "MAX_PAGE" => {
                self.query.max_limit = value
                    .parse()
                    .map_err(|_| bad("a whole number of records", false))?;
            }
            "READY_TIMEOUT_SECS" => {
                self.ready_timeout_secs = value
                    .parse()
                    .map_err(|_| bad("a whole number of seconds", false))?;
            }
            // the `-c` file of the binary, read before this
            "CONFIG" => {}
            kafka if kafka.starts_with("KAFKA_") => {
                let k = self.kafka.get_or_insert_with(KafkaConfig::default);
                let list = |v: &str| -> Vec<String> {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                };
                match &kafka["KAFKA_".len()..] {
                    "BOOTSTRAP_SERVERS" => value.clone_into(&mut k.bootstrap_servers),
                    "GROUP_ID" => value.clone_into(&mut k.group_id),
                    "TOPICS" => k.topics = list(value),
                    "ERROR_TOPIC" => {
                        k.error_topic = Some(value.to_owned()).filter(|v| !v.is_empty())
                    }
                    "REGISTRY_URL" => {
                        k.registry_url = Some(value.to_owned()).filter(|v| !v.is_empty());
                    }
                    "PINNED_SCHEMAS" => {
                        let mut pins = Vec::new();
                        for item in list(value) {
                            let (id, version) = match item.split_once('=') {
                                Some((id, version)) => (id.trim(), version.trim().to_owned()),
                                None => (item.as_str(), latest_version()),
                            };
                            let id = id.parse().map_err(|_| {
                                bad("comma-separated `id=version` pairs such as 7=1.0.2 (or bare ids)", false)
                            })?;
                            pins.push(PinnedSchema { id, version });
                        }
                        k.pinned_schemas = pins;
                    }
                    "MAX_IN_FLIGHT" => {
                        k.max_in_flight = value
                            .parse()
                            .map_err(|_| bad("a whole number of records", false))?;
                    }
                    "MAX_UNCOMMITTED_PER_PARTITION" => {
                        k.max_uncommitted_per_partition = value
                            .parse()
                            .map_err(|_| bad("a whole number of records", false))?;
                    }
                    "COMMIT_INTERVAL_MS" => {
                        k.commit_interval_ms = value
                            .parse()
                            .map_err(|_| bad("a whole number of milliseconds", false))?;
                    }
                    "LAG_INTERVAL_MS" => {
                        k.lag_interval_ms = value
                            .parse()
                            .map_err(|_| bad("a whole number of milliseconds", false))?;
                    }
                    "SHUTDOWN_TIMEOUT_SECS" => {
                        k.shutdown_timeout_secs = value
                            .parse()
                            .map_err(|_| bad("a whole number of seconds", false))?;
                    }
                    property if property.starts_with("PROPERTY_") && property.len() > 9 => {
                        let name = property["PROPERTY_".len()..]
                            .to_ascii_lowercase()
                            .replace('_', ".");
                        if value.is_empty() {
                            k.properties.remove(&name);
                        } else {
                            k.properties.insert(name, value.to_owned());
                        }
                    }
                    _ => {
                        return Err(Error::UnknownEnv {
                            var: key.to_owned(),
                        });
                    }
                }
            }
            _ => {
                return Err(Error::UnknownEnv {
                    var: key.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Checks the relations between settings.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the setting.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |setting: &'static str, value: String, reason: &'static str| {
            Err(Error::Invalid {
                setting,
                value,
                reason,
            })
        };
        let i = &self.ingest;
        if i.max_batch == 0 {
            return invalid("ingest.max_batch", "0".into(), "must be at least 1");
        }
        if i.writer_batch == 0 {
            return invalid("ingest.writer_batch", "0".into(), "must be at least 1");
        }
        if i.writers == 0 || i.writers > 64 {
            return invalid(
                "ingest.writers",
                i.writers.to_string(),
                "must be between 1 and 64",
            );
        }
        if i.max_body_bytes == 0 {
            return invalid("ingest.max_body_bytes", "0".into(), "must be at least 1");
        }
        if i.queue_capacity < i.max_batch {
            return invalid(
                "ingest.queue_capacity",
                i.queue_capacity.to_string(),
                "must be at least ingest.max_batch (a full batch must fit the queue)",
            );
        }
        let q = &self.query;
        if q.max_limit == 0 || q.max_limit > audit_store::MAX_PAGE_SIZE {
            return invalid(
                "query.max_limit",
                q.max_limit.to_string(),
                "must be between 1 and the store's largest page (10000)",
            );
        }
        if q.default_limit == 0 || q.default_limit > q.max_limit {
            return invalid(
                "query.default_limit",
                q.default_limit.to_string(),
                "must be between 1 and query.max_limit",
            );
        }
        if self.retention.days == Some(0) {
            return invalid(
                "retention.days",
                "0".into(),
                "must be at least 1 (omit it to keep forever)",
            );
        }
        if self.retention.interval_secs == 0 || self.retention.page_size == 0 {
            return invalid(
                "retention.interval_secs / retention.page_size",
                "0".into(),
                "must be at least 1",
            );
        }
        if self.auth.audience.is_empty() {
            return invalid("auth.audience", String::new(), "must not be empty");
        }
        if let Some(kafka) = &self.kafka {
            kafka.validate(self.ingest.queue_capacity)?;
        }
        if self.system_name.trim().is_empty() || self.service_name.trim().is_empty() {
            return invalid(
                "system_name / service_name",
                String::new(),
                "must not be blank",
            );
        }
        Ok(())
    }
}

/// librdkafka properties the consumer runtime sets itself.
const MANAGED_PROPERTIES: &[&str] = &[
    "enable.auto.commit",
    "enable.auto.offset.store",
    "group.id",
    "bootstrap.servers",
];

impl KafkaConfig {
    /// Checks the section (`queue_capacity`: the ingestion queue it shares with HTTP).
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the `kafka.*` setting.
    pub fn validate(&self, queue_capacity: usize) -> Result<(), Error> {
        let invalid = |setting: &'static str, value: &str, reason: &'static str| {
            Err(Error::Invalid {
                setting,
                value: value.chars().take(200).collect(),
                reason,
            })
        };
        if !cfg!(feature = "kafka") {
            return invalid(
                "kafka",
                "",
                "this build has no Kafka ingestion: build audit-server with the cargo feature `kafka`",
            );
        }
        if self.bootstrap_servers.trim().is_empty() {
            return invalid(
                "kafka.bootstrap_servers",
                &self.bootstrap_servers,
                "must name at least one broker (host:port, comma-separated)",
            );
        }
        if self.group_id.trim().is_empty() {
            return invalid("kafka.group_id", &self.group_id, "must not be blank");
        }
        if self.topics.is_empty() {
            return invalid("kafka.topics", "", "must name at least one topic");
        }
        for (i, topic) in self.topics.iter().enumerate() {
            if topic.trim().is_empty() {
                return invalid("kafka.topics", topic, "a topic must not be blank");
            }
            if self.topics.iter().take(i).any(|t| t == topic) {
                return invalid("kafka.topics", topic, "a topic is named twice");
            }
        }
        if let Some(error_topic) = &self.error_topic
            && (error_topic.trim().is_empty() || self.topics.contains(error_topic))
        {
            return invalid(
                "kafka.error_topic",
                error_topic,
                "must not be blank nor one of the consumed topics",
            );
        }
        if let Some(url) = &self.registry_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return invalid(
                "kafka.registry_url",
                url,
                "must be an http:// or https:// URL",
            );
        }
        for (i, pin) in self.pinned_schemas.iter().enumerate() {
            if audit_schema::SchemaVersion::parse(&pin.version).is_none() {
                return invalid(
                    "kafka.pinned_schemas",
                    &format!("{}={}", pin.id, pin.version),
                    "unknown schema version (known: 1.0.0, 1.0.1, 1.0.2)",
                );
            }
            if self.pinned_schemas.iter().take(i).any(|p| p.id == pin.id) {
                return invalid(
                    "kafka.pinned_schemas",
                    &pin.id.to_string(),
                    "a schema id is pinned twice",
                );
            }
        }
        if self.registry_url.is_none() && self.pinned_schemas.is_empty() {
            return invalid(
                "kafka.registry_url / kafka.pinned_schemas",
                "",
                "records cannot be decoded: set a registry URL or pin at least one schema id",
            );
        }
        if self.max_in_flight == 0 || self.max_in_flight > queue_capacity {
            return invalid(
                "kafka.max_in_flight",
                &self.max_in_flight.to_string(),
                "must be between 1 and ingest.queue_capacity",
            );
        }
        if self.max_uncommitted_per_partition == 0 {
            return invalid(
                "kafka.max_uncommitted_per_partition",
                "0",
                "must be at least 1",
            );
        }
        if self.commit_interval_ms == 0 || self.lag_interval_ms == 0 {
            return invalid(
                "kafka.commit_interval_ms / kafka.lag_interval_ms",
                "0",
                "must be at least 1",
            );
        }
        for (name, value) in &self.properties {
            if MANAGED_PROPERTIES.contains(&name.as_str()) {
                return invalid(
                    "kafka.properties",
                    name,
                    "is set by the consumer runtime and cannot be configured",
                );
            }
            if name.trim().is_empty() || value.is_empty() {
                return invalid(
                    "kafka.properties",
                    name,
                    "a property needs a name and a value",
                );
            }
        }
        Ok(())
    }
}

/// What `Debug` shows instead of a secret.
const REDACTED: &str = "<redacted>";

/// `url` with the password of its user info replaced (`postgres://audit:<redacted>@db/audit`).
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:{REDACTED}@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Whether a librdkafka property holds a secret (`sasl.password`, `ssl.key.password`,
/// `sasl.oauthbearer.client.secret`, `ssl.key.pem`, ...).
fn secret_property(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "secret", "key", "token", "jaas"]
        .iter()
        .any(|word| name.contains(word))
}

/// Secrets (the HS256 secret, a password in the store URL) are not shown.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("store_url", &redact_url(&self.store_url))
            .field("system_name", &self.system_name)
            .field("service_name", &self.service_name)
            .field("retention", &self.retention)
            .field("auth", &self.auth)
            .field("ingest", &self.ingest)
            .field("query", &self.query)
            .field("ready_timeout_secs", &self.ready_timeout_secs)
            .field("kafka", &self.kafka)
            .finish()
    }
}

/// The HS256 secret is not shown.
impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = self.hs256_secret.as_ref().map(|_| REDACTED);
        f.debug_struct("AuthConfig")
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .field("hs256_secret", &secret)
            .field("rs256_public_key_files", &self.rs256_public_key_files)
            .field("es256_public_key_files", &self.es256_public_key_files)
            .field("systems_claim", &self.systems_claim)
            .field("leeway_secs", &self.leeway_secs)
            .finish()
    }
}

/// Secret librdkafka properties and a password in the registry URL are not shown.
impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let properties: BTreeMap<&str, &str> = self
            .properties
            .iter()
            .map(|(k, v)| {
                let shown = if secret_property(k) {
                    REDACTED
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("KafkaConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("group_id", &self.group_id)
            .field("topics", &self.topics)
            .field("error_topic", &self.error_topic)
            .field(
                "registry_url",
                &self.registry_url.as_deref().map(redact_url),
            )
            .field("pinned_schemas", &self.pinned_schemas)
            .field("max_in_flight", &self.max_in_flight)
            .field(
                "max_uncommitted_per_partition",
                &self.max_uncommitted_per_partition,
            )
            .field("commit_interval_ms", &self.commit_interval_ms)
            .field("lag_interval_ms", &self.lag_interval_ms)
            .field("shutdown_timeout_secs", &self.shutdown_timeout_secs)
            .field("properties", &properties)
            .finish()
    }
}
