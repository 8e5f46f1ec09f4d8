//! The audit trail's storage: one row per audit record, batched idempotent writes, filtered
//! keyset-paginated queries with access control enforced in SQL, streaming export and
//! retention, on PostgreSQL (feature `postgres`) or SQLite (feature `sqlite`, the embedded
//! default).
//!
//! * Model: one row per [`AuditRecord`](audit_consumer::AuditRecord) with the columns a query
//!   filters on (message id, idempotence id, event time, created, received, service, system,
//!   event type, use case, process id, trigger kind, user id + identity provider or
//!   department/system/component, object type/id/version, schema version, source: Kafka
//!   topic/partition/offset or HTTP client) plus the whole record as a JSON document (`jsonb`
//!   on PostgreSQL). The schema ships as SQL in `migrations/<backend>/` ([`POSTGRES_MIGRATIONS`],
//!   [`SQLITE_MIGRATIONS`]), applied by [`AuditStore::migrate`].
//! * Writes ([`AuditStore::write_batch`]): one multi-row insert per batch (PostgreSQL: `UNNEST`
//!   of one array per column; SQLite: `VALUES` tuples in one transaction) with
//!   `ON CONFLICT (idempotence_id) DO NOTHING`. A record whose idempotence id is already stored,
//!   or appears earlier in the same batch, is a [`WriteOutcome::Duplicate`]. When the call
//!   returns `Ok`, every record of the batch is durably stored (commit the Kafka offsets then).
//! * Reads ([`AuditStore::query`], [`AuditStore::get`], [`AuditStore::export`]): every value of
//!   a [`RecordFilter`] and of an [`Access`] is a bound parameter, never part of the SQL text.
//!   Results are sorted by event time with the row id as the tiebreak; a [`Cursor`] holds the
//!   last (event time, id) and a fingerprint of the filter and access, so it continues exactly
//!   that query and never widens it. Records inserted while a reader pages through a result
//!   never make it see a record twice or miss one that existed when it started.
//! * Retention ([`AuditStore::delete_older_than`]): deletes records whose event time is
//!   strictly before the cut-off, in pages of a bounded size.
//!
//! # Quick start
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use audit_store::{Access, AuditStore, IncomingRecord, RecordFilter, Source, WriteOutcome};
//! # let dir = tempfile::tempdir()?;
//! # let url = format!("sqlite://{}", dir.path().join("audit.db").display());
//! // `url`: "sqlite://audit.db" (created when missing) or "postgres://user@host/db"
//! let store = AuditStore::connect(&url).await?;
//! store.migrate().await?;
//!
//! let command = audit_builder::AuditCommandBuilder::new("invoice-service", "BILLING", chrono::Utc::now())
//!     .user("u1", "https://idp.example")
//!     .audited_object(audit_builder::AuditedObject::new("Invoice", "INV-42"))
//!     .build()?;
//! let record = audit_consumer::AuditRecord::from(command);
//! let source = Source::Kafka { topic: "audit".into(), partition: 0, offset: 7 };
//! let batch = [IncomingRecord::new(record, source)];
//! assert!(matches!(store.write_batch(&batch).await?[..], [WriteOutcome::Stored { .. }]));
//! // a redelivery is stored once
//! assert_eq!(store.write_batch(&batch).await?, [WriteOutcome::Duplicate]);
//!
//! let filter = RecordFilter {
//!     object_type: Some("Invoice".into()),
//!     object_id: Some("INV-42".into()),
//!     ..RecordFilter::default()
//! };
//! let reader = Access::systems(["BILLING"]);
//! let page = store.query(&filter, &reader, None, 100).await?;
//! assert_eq!(page.records.len(), 1);
//! assert!(page.next.is_none());
//! # Ok(()) }
//! ```

#[cfg(not(any(feature = "postgres", feature = "sqlite")))]
compile_error!(
    "audit-store: no storage backend: enable the feature `postgres`, `sqlite` or both \
     (e.g. `audit-store = { version = \"..\", default-features = false, features = [\"postgres\"] }`)"
);

mod error;
mod migrate;
#[cfg(feature = "postgres")]
mod postgres;
mod query;
mod record;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

pub use error::{Error, Result};
pub use migrate::{Migration, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
pub use query::{Access, Cursor, MAX_PAGE_SIZE, Page, RecordFilter, SortOrder};
pub use record::{
    IncomingRecord, Source, StoredObject, StoredRecord, StoredTrigger, TriggerKind, WriteOutcome,
};
pub use store::{AuditStore, RetentionReport, StoreStats};
