//! A running server on a random loopback port, tokens, and command JSON.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
use audit_server::{AuditServer, Config};
use audit_store::AuditStore;
use chrono::{TimeZone, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SECRET: &str = "test-secret-with-enough-entropy-0123456789";
pub const AUDIENCE: &str = "audit";

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub store: AuditStore,
    pub store_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), audit_server::Error>>>,
    _dir: Option<tempfile::TempDir>,
}

/// A config for tests: HS256 secret, audience `audit`, SQLite in `dir` (when given).
pub fn config(dir: Option<&std::path::Path>) -> Config {
    let mut config = Config::default();
    if let Some(dir) = dir {
        config.store_url = format!("sqlite://{}", dir.join("audit.db").display());
    }
    config.auth.hs256_secret = Some(SECRET.to_owned());
    config.auth.audience = AUDIENCE.to_owned();
    config
}

impl TestServer {
    /// A server on a fresh SQLite store.
    pub async fn sqlite(change: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(Some(dir.path()));
        change(&mut config);
        let store = AuditStore::connect(&config.store_url).await.unwrap();
        Self::start(config, store, Some(dir)).await
    }

    pub async fn start(config: Config, store: AuditStore, dir: Option<tempfile::TempDir>) -> Self {
        let store_url = config.store_url.clone();
        let server = AuditServer::with_store(config, store.clone())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        let handle = tokio::spawn(server.serve_with_shutdown(listener, async {
            let _ = rx.await;
        }));
        Self {
            base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            store,
            store_url,
            shutdown: Some(tx),
            handle: Some(handle),
            _dir: dir,
        }
    }

    pub fn store_url(&self) -> String {
        self.store_url.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self.get(path, Some(token)).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, token: &str, body: Vec<u8>) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn ingest(&self, token: &str, items: &[Value]) -> (u16, Value) {
        let response = self
            .post(
                "/v1/audit/records",
                token,
                serde_json::to_vec(items).unwrap(),
            )
            .await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Stops the server (graceful) and returns what `serve` returned.
    pub async fn stop(mut self) -> Result<(), audit_server::Error> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.take().unwrap().await.unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims valid for an hour, with these scopes.
pub fn claims(scopes: &str) -> Value {
    json!({"sub": "alice", "iss": "https://idp.test", "aud": AUDIENCE,
           "exp": now_secs() + 3600, "scope": scopes})
}

pub fn sign(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

pub fn token(scopes: &str) -> String {
    sign(&claims(scopes))
}

/// A reader limited to `systems`.
pub fn reader_for(systems: &[&str]) -> String {
    let mut c = claims("audit:read");
    c["audit_systems"] = json!(systems);
    c["sub"] = json!(format!("reader-of-{}", systems.join("+")));
    sign(&c)
}

/// The command JSON (`audit_schema::json`) of a built command.
pub fn command(system: &str, object_id: &str, user: &str, seconds: i64) -> Value {
    let at = Utc.timestamp_opt(1_780_000_000 + seconds, 0).unwrap();
    let cmd = AuditCommandBuilder::new("invoice-service", system, at)
        .event_type(AuditEventType::Modified)
        .user(user, "https://idp.test")
        .context("pay-invoice")
        .audited_object(AuditedObject::new("Invoice", object_id))
        .build()
        .unwrap();
    audit_schema::json::to_json(&cmd)
}

pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
