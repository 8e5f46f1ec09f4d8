//! Non-blocking audit publisher for services without a database of their own (or that do not
//! want the audit write inside the business transaction): auditing never blocks or breaks the
//! product path when Kafka is slow or down.
//!
//! * [`AuditPublisher::try_publish`] hands the command to a bounded in-memory queue and returns
//!   (no lock, no I/O on the usual path). It never waits for Kafka.
//! * A writer task batches the queue into the embedded **SQLite outbox** (the durable spill,
//!   [`audit_outbox::Outbox::enqueue_all`], one transaction per batch of up to
//!   [`PublisherConfig::batch_size`] rows, collected for at most
//!   [`PublisherConfig::flush_interval`]); the outbox relay ([`audit_outbox::relay`]) delivers
//!   from there, at least once, with back-off while the broker fails.
//! * On a full queue (SQLite slower than the callers) the [`WhenFull`] policy applies: wait up to
//!   a timeout, drop (counted, a warning), or reject (the command is given back).
//! * Optional rate limit ([`RateLimit`], a token bucket with burst): by default commands over the
//!   limit are **spilled** (stored, delivered at the limited rate by the relay), or dropped.
//! * The relay's back-off is the circuit breaker: its state ([`CircuitState`], open while the
//!   broker is failing) is in [`AuditPublisher::status`] and the metrics
//!   `audit_outbox_circuit_open` / `audit_outbox_circuit_transitions_total`.
//! * [`AuditPublisher::shutdown`] writes the whole queue to SQLite, then stops the relay; what is
//!   not delivered yet is delivered after the next start. A killed process loses at most the
//!   queue's content and the batch being written ([`PublisherStatus::unwritten`]).
//!
//! Sanitize commands before they are published with the builder's sanitizer
//! (`audit_builder::AuditCommandBuilder::sanitizer`, crate `audit-sanitize`).
//!
//! # Quick start
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use audit_builder::AuditCommandBuilder;
//! use audit_outbox::RelayConfig;
//! use audit_outbox::sender::{AuditSender, SchemaId};
//! use audit_publisher::{AuditPublisher, PublisherConfig, Published, WhenFull, open_sqlite};
//!
//! # let mock = rdkafka::mocking::MockCluster::new(1)?;
//! # mock.create_topic("audit", 1, 1)?;
//! # let bootstrap = mock.bootstrap_servers();
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("audit-spill.db");
//! let outbox = open_sqlite(&path).await?; // WAL, migrated
//! let publisher = AuditPublisher::start(
//!     outbox.clone(),
//!     AuditSender::pinned("audit", SchemaId::Pinned(1))?,
//!     RelayConfig::new(bootstrap),
//!     PublisherConfig::new()
//!         .queue_capacity(10_000)
//!         .when_full(WhenFull::Wait(Duration::from_millis(1))),
//! )?;
//!
//! let command = AuditCommandBuilder::new("invoice-service", "BILLING", chrono::Utc::now())
//!     .user("user-1", "https://idp.example.org")
//!     .build()?;
//! assert_eq!(publisher.try_publish(command).await?, Published::Queued);
//!
//! let status = publisher.shutdown().await?; // the queue is written to SQLite
//! assert_eq!((status.accepted, status.written), (1, 1));
//! # Ok(()) }
//! ```

mod config;
mod error;
pub mod metrics;
mod publisher;

pub use audit_outbox::relay::CircuitState;
pub use config::{OverLimit, PublisherConfig, RateLimit, WhenFull};
pub use error::{Error, Result};
pub use publisher::{AuditPublisher, Published, PublisherStatus, open_sqlite};
