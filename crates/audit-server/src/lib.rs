//! The audit service: an axum HTTP API over [`audit_store`].
//!
//! * Ingestion: `POST /v1/audit/records` takes a JSON batch of `CreateAuditRecordCommand`s
//!   (the JSON of `audit_schema::json`), validates each item (the builder's non-blank rules,
//!   answered with the field path), and queues the valid ones on a bounded queue (counted in
//!   records) in front of one writer task that batches them into the store. The answer comes
//!   once they are durably stored: `accepted` / `duplicate` (same idempotence id) /
//!   `rejected` per item. A body over `max_body_bytes` or a batch over `max_batch` gets 413,
//!   invalid JSON 400, a full queue 429 with `Retry-After`.
//! * Queries: `GET /v1/audit/records` (filters as query parameters, keyset pagination with the
//!   store's opaque cursor), `GET /v1/audit/records/{messageId}`, and
//!   `GET /v1/audit/records/export?format=ndjson|csv` streamed page by page. Each read is
//!   itself stored as a `READ`/`LISTED` audit record naming the reader and the filter.
//! * Access control: a bearer JWT (HS256, RS256, ES256; `exp`, `nbf`, `aud`, optional `iss`)
//!   on every route but `/healthz` and `/readyz`; scopes `audit:read`, `audit:write`,
//!   `audit:admin` (implies both); a claim (default `audit_systems`) limits a reader to some
//!   systems, enforced in the store's SQL of every read.
//! * Kafka ingestion (cargo feature `kafka`, on by default; `[kafka]` section, see
//!   [`KafkaConfig`] and the [`kafka`] module): the `audit_consumer::runtime` consumer hands
//!   every record to the same batching writer and commits its offset only once it is stored.
//! * Operations: `/healthz`, `/readyz` (the database answers, the Kafka consumer is assigned),
//!   `/v1/audit/status`, `/metrics`
//!   (Prometheus, through the `metrics` facade), `/openapi.json`, retention runs, graceful
//!   shutdown that drains the queue.
//!
//! # Quick start
//!
//! ```no_run
//! # async fn run() -> Result<(), audit_server::Error> {
//! use audit_server::{AuditServer, Config};
//! // defaults (SQLite `audit.db`, keep forever) + AUDIT_SERVER_* variables
//! let config = Config::load(None)?;
//! let listener = tokio::net::TcpListener::bind(config.listen).await?;
//! AuditServer::new(config).await?.serve(listener).await
//! # }
//! ```

mod auth;
mod config;
mod error;
mod ingest;
pub mod kafka;
mod openapi;
mod query;
mod server;

pub use auth::{AuthFailure, Authenticator, Principal, Scope};
pub use config::{
    AuthConfig, Config, ENV_PREFIX, IngestConfig, KafkaConfig, PinnedSchema, QueryConfig,
    RetentionConfig,
};
pub use error::Error;
pub use ingest::{Rejection, parse_item};
pub use kafka::{KafkaMonitor, KafkaStatus, PartitionLag};
pub use openapi::document as openapi_document;
pub use query::{MAX_PARAM_LEN, RecordParams};
pub use server::{ApiError, AppState, AuditServer, Caller, Route, route_table};
