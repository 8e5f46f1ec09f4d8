//! The registry client: REST calls, caching, register-or-get.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use audit_schema::registry::{AsyncWriterSchemaSource, BoxError, SchemaIdProvider, Writer};
use audit_schema::{SchemaVersion, WriterSchema};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use schema_registry_converter::async_impl::schema_registry::{
    SrSettings, get_all_subjects, get_all_versions, get_schema_by_id,
    get_schema_by_subject_and_version, perform_sr_call, post_schema,
};
use schema_registry_converter::schema_registry_common::{SchemaType, SrCall, SuppliedSchema};
use serde::Deserialize;

use crate::config::{CompatibilityLevel, RegistryConfig};
use crate::error::Error;

const CONTENT: &str = "application/vnd.schemaregistry.v1+json";

/// One registered version of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectVersion {
    /// The subject.
    pub subject: String,
    /// Version number within the subject.
    pub version: u32,
    /// Global schema id.
    pub id: u32,
    /// The schema text as stored by the registry.
    pub schema: String,
}

/// Answer of a compatibility check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatibilityCheck {
    /// Whether the registry considers the schema compatible with the subject's latest version
    /// under the subject's compatibility level.
    pub is_compatible: bool,
    /// The registry's explanations (empty unless incompatible and the registry gives them).
    pub messages: Vec<String>,
}

/// A Confluent Schema Registry client with caching (cheap to clone; clones share the caches).
///
/// Creating a client makes no network call, so a service can start while the registry is down.
/// Successful answers are cached (`(subject, schema) -> id`, `id -> schema`,
/// `id -> WriterSchema`); errors never are. Ids pinned in the [`RegistryConfig`] are answered
/// without any call.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: RegistryConfig,
    sr: SrSettings,
    http: reqwest::Client,
    ids: Mutex<HashMap<(String, String), u32>>,
    schemas: Mutex<HashMap<u32, Arc<str>>>,
    writers: Mutex<HashMap<u32, Arc<WriterSchema>>>,
    prepared_subjects: Mutex<HashSet<String>>,
    requests: AtomicU64,
}

impl fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryClient")
            .field("config", &self.inner.config)
            .field("requests", &self.request_count())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Percent-encodes a subject for use as one path segment.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn client_builder(config: &RegistryConfig) -> Result<reqwest::ClientBuilder, Error> {
    #[allow(unused_mut)]
    let mut builder = reqwest::Client::builder()
        .timeout(config.request_timeout())
        .connect_timeout(config.request_timeout());
    #[cfg(any(feature = "native-tls", feature = "rustls"))]
    for pem in config.root_certificates_pem() {
        let cert = reqwest::Certificate::from_pem(pem).map_err(|e| Error::Config {
            message: "invalid root certificate (PEM)".to_owned(),
            source: Some(Box::new(e)),
        })?;
        builder = builder.add_root_certificate(cert);
    }
    Ok(builder)
}

#[derive(Deserialize)]
struct ErrorBody {
    error_code: Option<u32>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct CompatibilityBody {
    is_compatible: bool,
    #[serde(default)]
    messages: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigBody {
    compatibility_level: Option<String>,
    compatibility: Option<String>,
}

impl RegistryClient {
    /// Builds the client. No network call is made.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid configuration ([`RegistryConfig::validate`]) or when the
    /// HTTP client cannot be built.
    pub fn new(config: RegistryConfig) -> Result<Self, Error> {
        config.validate()?;
        let mut sr = SrSettings::new_builder(config.url().to_owned());
        sr.set_timeout(config.request_timeout());
        if let Some((user, password)) = config.basic_auth_credentials() {
            sr.set_basic_authorization(user, password);
        }
        let sr = sr
            .build_with(client_builder(&config)?)
            .map_err(|e| Error::Config {
                message: "cannot build the schema_registry_converter HTTP client".to_owned(),
                source: Some(Box::new(e)),
            })?;
        let http = client_builder(&config)?
            .build()
            .map_err(|e| Error::Config {
                message: "cannot build the HTTP client".to_owned(),
                source: Some(Box::new(e)),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                sr,
                http,
                ids: Mutex::new(HashMap::new()),
                schemas: Mutex::new(HashMap::new()),
                writers: Mutex::new(HashMap::new()),
                prepared_subjects: Mutex::new(HashSet::new()),
                requests: AtomicU64::new(0),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RegistryConfig {
        &self.inner.config
    }

    /// The registry base URL.
    pub fn url(&self) -> &str {
        self.inner.config.url()
    }

    /// The command's subject on `topic` under the configured strategy.
    pub fn command_subject(&self, topic: &str) -> String {
        self.inner.config.strategy().command_subject(topic)
    }

    /// Number of HTTP requests this client (and its clones) has sent so far.
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn url_for(&self, path: &str) -> String {
        format!("{}{path}", self.inner.config.url())
    }

    /// Sends one request with our own reqwest client (same auth, timeout and TLS settings as the
    /// converter's); returns the 2xx body.
    async fn send(
        &self,
        method: &'static str,
        url: String,
        body: Option<String>,
    ) -> Result<Vec<u8>, Error> {
        let http = &self.inner.http;
        let mut request = match method {
            "PUT" => http.put(&url),
            "POST" => http.post(&url),
            _ => http.get(&url),
        }
        .header(ACCEPT, CONTENT);
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, CONTENT).body(body);
        }
        if let Some((user, password)) = self.inner.config.basic_auth_credentials() {
            request = request.basic_auth(user, password);
        }
        self.count();
        let response = request
            .send()
            .await
            .map_err(|e| Error::from_reqwest(e, method, url.clone()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Error::from_reqwest(e, method, url.clone()))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let (error_code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => (
                body.error_code.filter(|c| *c != 0),
                body.message.unwrap_or_default(),
            ),
            Err(_) => (None, String::from_utf8_lossy(&bytes).into_owned()),
        };
        Err(Error::Http {
            method,
            url,
            status: status.as_u16(),
            error_code,
            message,
        })
    }

    fn schema_body(schema_json: &str) -> String {
        serde_json::json!({ "schema": schema_json, "schemaType": "AVRO" }).to_string()
    }

    /// Registers `schema_json` (sent verbatim) under `subject` and returns its id; when the
    /// registry already has it, this returns the existing id (register-or-get). Always calls the
    /// registry; the answer is cached for [`RegistryClient::schema_id`].
    pub async fn register(&self, subject: &str, schema_json: &str) -> Result<u32, Error> {
        let url = self.url_for(&format!(
            "/subjects/{}/versions",
            subject.replace('/', "%2F")
        ));
        self.count();
        let registered = post_schema(
            &self.inner.sr,
            subject.to_owned(),
            SuppliedSchema::new(None, SchemaType::Avro, schema_json.to_owned()),
        )
        .await
        .map_err(|e| Error::from_src(e, "POST", url))?;
        let id = registered.id;
        lock(&self.inner.ids).insert((subject.to_owned(), schema_json.to_owned()), id);
        lock(&self.inner.schemas)
            .entry(id)
            .or_insert_with(|| Arc::from(schema_json));
        Ok(id)
    }

    /// The id to write for `schema_json` on `subject`: a pinned id or a cached one without any
    /// call; otherwise register-or-get when auto-registration is on (first setting a new
    /// subject's compatibility to NONE if configured), or a pure look-up when it is off.
    pub async fn schema_id(&self, subject: &str, schema_json: &str) -> Result<u32, Error> {
        if let Some(id) = SchemaVersion::ALL
            .iter()
            .find(|v| v.schema_json() == schema_json)
            .and_then(|v| self.inner.config.pinned_id(*v))
        {
            return Ok(id);
        }
        if let Some(id) = lock(&self.inner.ids)
            .get(&(subject.to_owned(), schema_json.to_owned()))
            .copied()
        {
            return Ok(id);
        }
        if self.inner.config.auto_registers() {
            if self.inner.config.sets_compatibility_none() {
                self.prepare_subject(subject).await?;
            }
            return self.register(subject, schema_json).await;
        }
        match self.lookup(subject, schema_json).await? {
            Some(found) => {
                lock(&self.inner.ids)
                    .insert((subject.to_owned(), schema_json.to_owned()), found.id);
                Ok(found.id)
            }
            None => Err(Error::NotRegistered {
                subject: subject.to_owned(),
                url: self.url().to_owned(),
                fingerprint: fingerprint(schema_json)?,
            }),
        }
    }

    /// Sets compatibility NONE on `subject` if it does not exist yet (once per client).
    async fn prepare_subject(&self, subject: &str) -> Result<(), Error> {
        if lock(&self.inner.prepared_subjects).contains(subject) {
            return Ok(());
        }
        // Confluent answers 404 for an unknown subject, rivven-schema an empty list.
        let is_new = match self.versions(subject).await {
            Ok(versions) => versions.is_empty(),
            Err(Error::Http { status: 404, .. }) => true,
            Err(e) => return Err(e),
        };
        if is_new {
            self.set_compatibility(subject, CompatibilityLevel::None)
                .await?;
        }
        lock(&self.inner.prepared_subjects).insert(subject.to_owned());
        Ok(())
    }

    /// Looks `schema_json` up under `subject` without registering it (`POST /subjects/{subject}`).
    ///
    /// A registry without that endpoint answers 405 (or 404 without a Confluent error code):
    /// that is an [`Error::Http`], unless [`RegistryConfig::lookup_by_version_scan`] is on; then
    /// the subject is searched version by version, newest first: a version with the same JSON
    /// (key order ignored) wins, else the newest one with the same Parsing Canonical Form
    /// fingerprint (it writes the same bytes; e.g. 1.0.0 and 1.0.1 differ only in an enum
    /// default).
    pub async fn lookup(
        &self,
        subject: &str,
        schema_json: &str,
    ) -> Result<Option<SubjectVersion>, Error> {
        let url = self.url_for(&format!(
            "/subjects/{}?deleted=false",
            subject.replace('/', "%2F")
        ));
        let body = Self::schema_body(schema_json);
        self.count();
        match perform_sr_call(&self.inner.sr, SrCall::PostForVersion(subject, &body)).await {
            Ok(raw) => match (raw.id, raw.version) {
                (Some(id), Some(version)) => Ok(Some(SubjectVersion {
                    subject: subject.to_owned(),
                    version,
                    id,
                    schema: raw.schema.unwrap_or_else(|| schema_json.to_owned()),
                })),
                _ => Err(Error::InvalidResponse {
                    method: "POST",
                    url,
                    message: "look-up answer without id or version".to_owned(),
                }),
            },
            Err(e) => match Error::from_src(e, "POST", url) {
                // Confluent: 40401 subject not found, 40403 schema not found.
                Error::Http {
                    status: 404,
                    error_code: Some(_),
                    ..
                } => Ok(None),
                // No such endpoint (405, or a bare 404), and the scan is configured.
                Error::Http {
                    status: 404 | 405,
                    error_code: None,
                    ..
                } if self.inner.config.looks_up_by_version_scan() => {
                    self.lookup_by_scan(subject, schema_json).await
                }
                other => Err(other),
            },
        }
    }

    async fn lookup_by_scan(
        &self,
        subject: &str,
        schema_json: &str,
    ) -> Result<Option<SubjectVersion>, Error> {
        let wanted = fingerprint(schema_json)?;
        let mut versions = match self.versions(subject).await {
            Ok(v) => v,
            Err(Error::Http { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        versions.sort_unstable_by(|a, b| b.cmp(a));
        let wanted_json = serde_json::from_str::<serde_json::Value>(schema_json).ok();
        let mut same_canonical_form = None;
        for version in versions {
            let candidate = self.subject_version(subject, Some(version)).await?;
            if wanted_json.is_some()
                && serde_json::from_str::<serde_json::Value>(&candidate.schema).ok() == wanted_json
            {
                return Ok(Some(candidate));
            }
            if same_canonical_form.is_none() && fingerprint(&candidate.schema).ok() == Some(wanted)
            {
                same_canonical_form = Some(candidate);
            }
        }
        Ok(same_canonical_form)
    }

    /// The schema text registered under `id` (cached; pinned ids answer without a call).
    pub async fn schema_by_id(&self, id: u32) -> Result<Arc<str>, Error> {
        if let Some(schema) = lock(&self.inner.schemas).get(&id) {
            return Ok(Arc::clone(schema));
        }
        if let Some(version) = self.inner.config.pinned_version(id) {
            return Ok(Arc::from(version.schema_json()));
        }
        let url = self.url_for(&format!("/schemas/ids/{id}?deleted=true"));
        self.count();
        let registered = get_schema_by_id(id, &self.inner.sr)
            .await
            .map_err(|e| Error::from_src(e, "GET", url))?;
        let schema: Arc<str> = Arc::from(registered.schema);
        lock(&self.inner.schemas).insert(id, Arc::clone(&schema));
        Ok(schema)
    }

    /// The writer schema for `id`, ready to decode (cached). Known versions (matched by
    /// fingerprint) decode on the generated fast path.
    pub async fn writer_schema(&self, id: u32) -> Result<Arc<WriterSchema>, Error> {
        if let Some(writer) = lock(&self.inner.writers).get(&id) {
            return Ok(Arc::clone(writer));
        }
        let schema = self.schema_by_id(id).await?;
        let writer = WriterSchema::parse(&schema).map_err(|source| Error::WriterSchema {
            id,
            url: self.url().to_owned(),
            source,
        })?;
        let writer = Arc::new(writer);
        lock(&self.inner.writers).insert(id, Arc::clone(&writer));
        Ok(writer)
    }

    /// Asks whether `schema_json` is compatible with the latest version of `subject` under the
    /// subject's compatibility level (`POST /compatibility/subjects/{s}/versions/latest`).
    pub async fn check_compatibility(
        &self,
        subject: &str,
        schema_json: &str,
    ) -> Result<CompatibilityCheck, Error> {
        let url = self.url_for(&format!(
            "/compatibility/subjects/{}/versions/latest?verbose=true",
            segment(subject)
        ));
        let body = self
            .send("POST", url.clone(), Some(Self::schema_body(schema_json)))
            .await?;
        let parsed: CompatibilityBody =
            serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
                method: "POST",
                url,
                message: format!("not a compatibility answer: {e}"),
            })?;
        Ok(CompatibilityCheck {
            is_compatible: parsed.is_compatible,
            messages: parsed
                .messages
                .into_iter()
                .map(|m| match m {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
        })
    }

    /// All subjects.
    pub async fn subjects(&self) -> Result<Vec<String>, Error> {
        let url = self.url_for("/subjects");
        self.count();
        get_all_subjects(&self.inner.sr)
            .await
            .map_err(|e| Error::from_src(e, "GET", url))
    }

    /// The version numbers of `subject` (HTTP 404 when the subject does not exist).
    pub async fn versions(&self, subject: &str) -> Result<Vec<u32>, Error> {
        let url = self.url_for(&format!("/subjects/{subject}/versions"));
        self.count();
        get_all_versions(&self.inner.sr, subject.to_owned())
            .await
            .map_err(|e| Error::from_src(e, "GET", url))
    }

    /// One version of `subject` (`None`: the latest).
    pub async fn subject_version(
        &self,
        subject: &str,
        version: Option<u32>,
    ) -> Result<SubjectVersion, Error> {
        let v = version.map_or_else(|| "latest".to_owned(), |v| v.to_string());
        let url = self.url_for(&format!(
            "/subjects/{}/versions/{v}",
            subject.replace('/', "%2F")
        ));
        self.count();
        let registered = get_schema_by_subject_and_version(&self.inner.sr, subject, version)
            .await
            .map_err(|e| Error::from_src(e, "GET", url.clone()))?;
        let Some(version) = registered.version else {
            return Err(Error::InvalidResponse {
                method: "GET",
                url,
                message: "answer without a version".to_owned(),
            });
        };
        Ok(SubjectVersion {
            subject: registered.subject.unwrap_or_else(|| subject.to_owned()),
            version,
            id: registered.id,
            schema: registered.schema,
        })
    }

    /// Sets the compatibility level of `subject` (`PUT /config/{subject}`).
    pub async fn set_compatibility(
        &self,
        subject: &str,
        level: CompatibilityLevel,
    ) -> Result<(), Error> {
        let url = self.url_for(&format!("/config/{}", segment(subject)));
        let body = serde_json::json!({ "compatibility": level.as_str() }).to_string();
        self.send("PUT", url, Some(body)).await.map(|_| ())
    }

    /// The compatibility level set on `subject` itself (`GET /config/{subject}`); `None` when the
    /// subject has no level of its own (HTTP 404).
    pub async fn subject_compatibility(
        &self,
        subject: &str,
    ) -> Result<Option<CompatibilityLevel>, Error> {
        let url = self.url_for(&format!("/config/{}", segment(subject)));
        let body = match self.send("GET", url.clone(), None).await {
            Ok(body) => body,
            Err(Error::Http { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let parsed: ConfigBody =
            serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
                method: "GET",
                url: url.clone(),
                message: format!("not a config answer: {e}"),
            })?;
        let name = parsed
            .compatibility_level
            .or(parsed.compatibility)
            .unwrap_or_default();
        CompatibilityLevel::parse(&name)
            .map(Some)
            .ok_or_else(|| Error::InvalidResponse {
                method: "GET",
                url,
                message: format!("unknown compatibility level {name:?}"),
            })
    }
}

/// The producer-side seam: the subject from the configured [`SubjectStrategy`](crate::SubjectStrategy),
/// the id from [`RegistryClient::schema_id`] (pinned, cached, or one registry round per subject
/// and schema).
impl SchemaIdProvider for RegistryClient {
    fn command_subject(&self, topic: &str) -> String {
        RegistryClient::command_subject(self, topic)
    }

    async fn schema_id(&self, subject: &str, schema_json: &str) -> Result<u32, BoxError> {
        RegistryClient::schema_id(self, subject, schema_json)
            .await
            .map_err(BoxError::from)
    }
}

/// The consumer-side seam: [`RegistryClient::writer_schema`] (pinned, cached, or fetched once);
/// an id the registry does not know (HTTP 404) is `Ok(None)`. A writer schema the reader cannot
/// resolve is an error whose source is [`audit_schema::Error::IncompatibleSchema`].
impl AsyncWriterSchemaSource for RegistryClient {
    async fn fetch_writer_schema(&self, schema_id: u32) -> Result<Option<Writer>, BoxError> {
        match self.writer_schema(schema_id).await {
            Ok(schema) => Ok(Some(Writer::Schema(schema))),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form.
fn fingerprint(schema_json: &str) -> Result<u64, Error> {
    let canonical = audit_schema::canonical::parsing_canonical_form(schema_json)
        .map_err(audit_schema::Error::from)?;
    Ok(audit_schema::canonical::fingerprint(&canonical))
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_percent_encoded_as_one_segment() {
        assert_eq!(segment("a.b-c_d"), "a.b-c_d");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn new_makes_no_call_and_rejects_bad_urls() {
        let client =
            RegistryClient::new(RegistryConfig::new("http://127.0.0.1:9")).expect("client");
        assert_eq!(client.request_count(), 0);
        let err =
            RegistryClient::new(RegistryConfig::new("localhost:8081")).expect_err("no scheme");
        assert!(err.to_string().contains("localhost:8081"), "{err}");
    }
}
