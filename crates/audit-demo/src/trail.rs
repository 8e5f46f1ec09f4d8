//! The audit service end of the demo: an in-process `audit-server` that consumes the demo's
//! topic (its own consumer group) into a SQLite store, and a query through its HTTP API with a
//! bearer token the demo mints.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use audit_server::{AuditServer, Config, KafkaConfig};
use audit_store::AuditStore;
use audit_support::BoxError;
use indicatif::ProgressBar;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The reader the demo's query runs as (the server audits the read under this name).
pub const READER: &str = "demo-auditor";

/// A running audit service.
pub struct Trail {
    store: AuditStore,
    addr: SocketAddr,
    secret: String,
    client: reqwest::Client,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<Result<(), audit_server::Error>>,
}

/// What a query about one object answered.
pub struct ObjectQuery {
    /// Records about the object (all pages).
    pub count: u64,
    /// The first records, one line each.
    pub first_lines: Vec<String>,
    /// Pages fetched.
    pub pages: u64,
}

impl Trail {
    /// Starts the server on a random loopback port: SQLite store at `store_path` (created
    /// fresh), Kafka ingestion of `topic` with `schema_id` pinned to version 1.0.2.
    pub async fn start(
        store_path: &Path,
        bootstrap: &str,
        topic: &str,
        error_topic: &str,
        schema_id: u32,
    ) -> Result<Self, BoxError> {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = store_path.as_os_str().to_owned();
            name.push(suffix);
            match std::fs::remove_file(&name) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("removing the old store {name:?}: {e}").into()),
            }
        }
        if let Some(parent) = store_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let secret = format!("{}{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let mut kafka = KafkaConfig::new(bootstrap, [topic]).pin_schema(schema_id, "1.0.2");
        kafka.group_id = format!("audit-server-demo-{}", uuid::Uuid::new_v4());
        kafka.error_topic = Some(error_topic.to_owned());
        kafka.commit_interval_ms = 200;
        let mut config = Config {
            store_url: format!("sqlite://{}", store_path.display()),
            kafka: Some(kafka),
            ..Config::default()
        };
        config.auth.hs256_secret = Some(secret.clone());
        config.validate()?;
        let server = AuditServer::new(config).await?;
        let store = server.store().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(server.serve_with_shutdown(listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            store,
            addr,
            secret,
            client: reqwest::Client::new(),
            stop,
            serving,
        })
    }

    /// Records in the store.
    pub async fn stored(&self) -> Result<u64, BoxError> {
        Ok(self.store.stats().await?.records)
    }

    /// Waits until `want` records are stored, or no new one arrived for `stall`.
    pub async fn wait_stored(
        &self,
        want: u64,
        stall: Duration,
        bar: &ProgressBar,
    ) -> Result<u64, BoxError> {
        let mut last = (u64::MAX, Instant::now());
        loop {
            let stored = self.stored().await?;
            bar.set_position(stored);
            if stored >= want {
                return Ok(stored);
            }
            if stored != last.0 {
                last = (stored, Instant::now());
            } else if last.1.elapsed() > stall {
                eprintln!("audit-demo: the audit service stored nothing for {stall:?}; stopping");
                return Ok(stored);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stored records whose JSON document `leaks` (the planted sensitive values), read through
    /// the store's export stream.
    pub async fn stored_leaks(&self, leaks: fn(&[u8]) -> bool) -> Result<u64, BoxError> {
        use futures::TryStreamExt as _;
        let mut records = std::pin::pin!(self.store.export(
            &audit_store::RecordFilter::default(),
            &audit_store::Access::AllSystems,
        ));
        let mut leaked = 0;
        while let Some(record) = records.try_next().await? {
            leaked += u64::from(leaks(&serde_json::to_vec(&record.document)?));
        }
        Ok(leaked)
    }

    /// A bearer token for [`READER`] with scope `audit:read`, valid for ten minutes.
    fn token(&self) -> Result<String, BoxError> {
        let exp = chrono::Utc::now().timestamp() + 600;
        let claims = serde_json::json!({
            "sub": READER, "aud": "audit", "exp": exp, "scope": "audit:read"
        });
        Ok(jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(self.secret.as_bytes()),
        )?)
    }

    /// `GET /v1/audit/records?objectType=..&objectId=..` over HTTP, every page.
    pub async fn query_object(
        &self,
        object_type: &str,
        object_id: &str,
        lines: usize,
    ) -> Result<ObjectQuery, BoxError> {
        let token = self.token()?;
        let mut result = ObjectQuery {
            count: 0,
            first_lines: Vec::new(),
            pages: 0,
        };
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![
                ("objectType", object_type.to_owned()),
                ("objectId", object_id.to_owned()),
                ("order", "asc".to_owned()),
                ("limit", "50".to_owned()),
            ];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let url = reqwest::Url::parse_with_params(
                &format!("http://{}/v1/audit/records", self.addr),
                &query,
            )?;
            let response = self.client.get(url).bearer_auth(&token).send().await?;
            let status = response.status();
            let text = response.text().await?;
            if !status.is_success() {
                return Err(format!("GET /v1/audit/records answered {status}: {text}").into());
            }
            let page: serde_json::Value = serde_json::from_str(&text)?;
            result.pages += 1;
            let records = page
                .get("records")
                .and_then(serde_json::Value::as_array)
                .cloned()
                .unwrap_or_default();
            result.count += records.len() as u64;
            for record in records {
                if result.first_lines.len() < lines {
                    result.first_lines.push(line(&record));
                }
            }
            match page.get("next").and_then(serde_json::Value::as_str) {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(result),
            }
        }
    }

    /// Stops the server (consumer commits what is stored) and waits for it.
    pub async fn shutdown(self) -> Result<(), BoxError> {
        let _ = self.stop.send(());
        self.serving.await??;
        Ok(())
    }
}

/// One record of the API as a line: time, event type, who, service/system, object.
fn line(view: &serde_json::Value) -> String {
    let text = |pointer: &str| view.pointer(pointer).and_then(serde_json::Value::as_str);
    let who = match (
        text("/record/trigger/user/id"),
        text("/record/trigger/systemComponent/component"),
    ) {
        (Some(user), _) => format!("user {user}"),
        (None, Some(component)) => format!("component {component}"),
        (None, None) => "?".to_owned(),
    };
    format!(
        "{}  {:<9} {:<22} {:<28} {}/{} v{}",
        text("/eventTimestamp").unwrap_or("?"),
        text("/eventType").unwrap_or("?"),
        who,
        format!(
            "{}/{}",
            text("/service").unwrap_or("?"),
            text("/system").unwrap_or("?")
        ),
        text("/record/auditedObject/objectType").unwrap_or("?"),
        text("/record/auditedObject/id").unwrap_or("?"),
        text("/record/auditedObject/version").unwrap_or("-"),
    )
}
