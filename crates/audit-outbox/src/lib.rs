//! Transactional outbox for jEAP audit commands (and any other Kafka record): the service writes
//! its business rows and the record in **one** database transaction; a relay delivers every
//! committed record to Kafka at least once, and a rolled-back transaction delivers nothing.
//!
//! * Storage: SQLite (feature `sqlite`, the default) or PostgreSQL (feature `postgres`), one API
//!   ([`Outbox`]). The schema ships as plain SQL in `migrations/<backend>/` ([`POSTGRES_MIGRATIONS`],
//!   [`SQLITE_MIGRATIONS`]) and is applied by [`Outbox::migrate`].
//! * Enqueue: [`Outbox::enqueue`] / [`Outbox::enqueue_all`] take the caller's open
//!   `sqlx::Transaction` and never open one. Audit commands: [`sender::AuditSender`] (already
//!   built, user-triggered, message-triggered; one sender per topic, `topic` XOR `topics`).
//! * Relay: [`Outbox::start_relay`] claims rows with a lease (PostgreSQL `FOR UPDATE SKIP LOCKED`,
//!   so several processes may relay from one database), produces a whole batch through an
//!   idempotent producer (`enable.idempotence=true`, `acks=all`, `partitioner=murmur2_random`),
//!   awaits all delivery reports and marks the acknowledged rows sent in one statement, while the
//!   next batch is already claimed and produced. No transaction or row lock is held while
//!   waiting on the broker. It wakes on commit
//!   (PostgreSQL LISTEN/NOTIFY, an in-process signal on SQLite) and polls. Ordering: see [`relay`].
//! * Failures: permanent ones (unknown topic, not authorized, record too large) mark the row failed
//!   with the reason ([`Outbox::list_failed`], [`Outbox::resend`]); transient ones are retried with
//!   capped exponential back-off, forever.
//! * Housekeeping ([`Outbox::start_housekeeping`]), metrics ([`metrics`]), `tracing` spans, the
//!   `traceparent` header from the current trace context ([`trace`], feature `opentelemetry`).
//!
//! # Quick start
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use audit_outbox::{HousekeepingConfig, Outbox, OutboxMessage, RelayConfig};
//!
//! let pool = sqlx::SqlitePool::connect("sqlite://outbox.db?mode=rwc").await?;
//! let outbox = Outbox::new(pool.clone());
//! outbox.migrate().await?;
//! let relay = outbox.start_relay(RelayConfig::new("127.0.0.1:9092"))?;
//! let housekeeping = outbox.start_housekeeping(HousekeepingConfig::new())?;
//!
//! let mut tx = pool.begin().await?;
//! // ... business writes in `tx` ...
//! outbox.enqueue(&mut tx, &OutboxMessage::new("audit", b"framed avro".to_vec())).await?;
//! tx.commit().await?; // the relay wakes up and delivers
//!
//! relay.shutdown().await?;
//! housekeeping.shutdown().await?;
//! # Ok(()) }
//! ```

#[cfg(not(any(feature = "postgres", feature = "sqlite")))]
compile_error!(
    "audit-outbox: no storage backend: enable the feature `postgres`, `sqlite` or both \
     (e.g. `audit-outbox = { version = \"..\", default-features = false, features = [\"postgres\"] }`)"
);

mod error;
pub mod housekeeping;
pub mod kafka;
mod message;
pub mod metrics;
mod outbox;
pub mod relay;
pub mod sender;
mod store;
pub mod trace;

pub use error::{Error, Result};
pub use housekeeping::{HousekeepingConfig, HousekeepingHandle, HousekeepingReport};
pub use message::{OutboxMessage, TRACEPARENT_HEADER, decode_headers, encode_headers};
pub use outbox::Outbox;
pub use relay::{RelayConfig, RelayHandle, RelayStats};
pub use store::{
    Backend, FailedMessage, Migration, OutboxCounts, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS,
};
