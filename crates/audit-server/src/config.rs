//! The server's configuration: a TOML or JSON file, then environment variables on top.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ConfigError;

/// Prefix of every environment variable the server reads.
pub const ENV_PREFIX: &str = "AUDIT_SERVER_";

/// The whole configuration. Every field has a default (see [`Config::default`]), so an empty
/// file is a valid configuration: SQLite store `audit.db`, keep records forever, listen on
/// `127.0.0.1:8080`. Only the authentication needs settings before a token is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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

impl Config {
    /// Reads `file` (TOML, or JSON when the name ends in `.json`) if given, then applies the
    /// process environment's `AUDIT_SERVER_*` variables, then validates.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, variable or setting and the bad value.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`load`](Self::load) with the given environment (for tests and embedding).
    ///
    /// # Errors
    /// [`ConfigError`].
    pub fn load_from<I, K, V>(file: Option<&Path>, env: I) -> Result<Self, ConfigError>
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
    /// [`ConfigError::Read`], [`ConfigError::Parse`].
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let parsed = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            toml::from_str(&text).map_err(|e| e.to_string())
        };
        parsed.map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })
    }

    fn apply_env(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let Some(name) = key.strip_prefix(ENV_PREFIX) else {
            return Ok(());
        };
        let bad = |expected: &'static str, secret: bool| ConfigError::Env {
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
            _ => {
                return Err(ConfigError::UnknownEnv {
                    var: key.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Checks the relations between settings.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting: &'static str, value: String, reason: &'static str| {
            Err(ConfigError::Invalid {
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
