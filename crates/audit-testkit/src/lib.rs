//! Test infrastructure for the audit crates (internal, dev-dependency only): a real
//! Kafka-protocol broker ([`Tansu`] 0.6.0), a real Confluent-API schema registry
//! ([rivven-schema](SchemaRegistry) 0.0.22), per-test PostgreSQL databases ([`PgDatabase`]) and
//! throw-away certificates ([`Pki`]).
//!
//! Everything listens on `127.0.0.1` on random free ports, is started by the test itself and is
//! stopped when its handle is dropped. Server processes run behind a small watchdog shell that
//! kills them as soon as the test process goes away, even on SIGKILL, so nothing is left behind
//! (this is also what makes the process-wide `shared()` instances safe).
//!
//! # Quick start
//!
//! ```no_run
//! # async fn demo() -> Result<(), audit_testkit::Error> {
//! use audit_testkit::{PgDatabase, SchemaRegistry, Tansu};
//!
//! let broker = Tansu::shared()?;          // one broker per test binary
//! broker.create_topic("my-test-topic", 1)?; // Tansu 0.6.0 does not auto-create topics
//! let bootstrap = broker.bootstrap();       // "127.0.0.1:PORT" for rdkafka
//!
//! let registry = SchemaRegistry::shared()?; // one registry per test binary
//! let url = registry.url();                 // "http://127.0.0.1:PORT"
//!
//! let db = PgDatabase::create().await?;     // fresh database, dropped with `db`
//! let pg_url = db.url();
//! # let _ = (bootstrap, url, pg_url); Ok(()) }
//! ```
//!
//! # Binaries
//!
//! The tools are built with `cargo install` into a cache **outside the clone**,
//! `$AUDIT_TOOLS_DIR` (default `~/.cache/jeap-audit-tools`):
//!
//! | tool | script | cached binary | override |
//! |---|---|---|---|
//! | Tansu 0.6.0 (`--features dynostore`) | `scripts/ensure-tansu.sh` | `tansu-0.6.0/bin/tansu` | `AUDIT_TANSU_BIN` |
//! | rivven-schema 0.0.22 | `scripts/ensure-rivven.sh` | `rivven-schema-0.0.22/bin/rivven-schema` | `AUDIT_RIVVEN_SCHEMA_BIN` |
//!
//! Lookup order: the override variable, the cache, `PATH`. When the binary is missing the
//! testkit runs the script itself (a one-time build; Tansu takes 15-25 minutes on two cores);
//! set `AUDIT_TESTKIT_NO_INSTALL=1` to get an error instead. The scripts are idempotent and hold
//! an `flock`, so concurrent test binaries never build twice. `scripts/test-prep.sh` (run by the
//! Makefile before the tests) calls both scripts and starts PostgreSQL if it is down.
//!
//! # Tansu 0.6.0 notes (measured)
//!
//! - Start: `tansu broker --cluster-id C --listener-url tcp://127.0.0.1:P
//!   --advertised-listener-url tcp://127.0.0.1:P --storage-engine memory://tansu/`; it opens no
//!   other port. Tansu also reads `LISTENER_URL`, `STORAGE_ENGINE`, `CLUSTER_ID`, ... from the
//!   environment: the testkit removes them from the child's environment.
//! - Readiness is checked at the Kafka level: `start` returns once an `ApiVersions` request is
//!   answered.
//! - No topic auto-creation: create topics with [`Tansu::create_topic`] (which runs
//!   `tansu topic create`) or rdkafka's `AdminClient`. This crate stays free of rdkafka.
//! - No Kafka transactions; the idempotent producer works.
//! - Use `127.0.0.1`, never `localhost`, in `bootstrap.servers`.
//! - Verified by hand with rdkafka 0.39 (bundled librdkafka 2.12.1): `AdminClient::create_topics`,
//!   an idempotent `FutureProducer` (keys spread over partitions) and a `StreamConsumer` with a
//!   group all work.
//! - Producing to a topic that does not exist is **not** answered with
//!   `UnknownTopicOrPartition`: librdkafka keeps retrying until `message.timeout.ms` and then
//!   reports `MessageTimedOut`. Code that classifies "unknown topic" as a permanent failure must
//!   not rely on Tansu to produce that error.
//! - Older librdkafka cannot talk to Tansu 0.6.0: Debian's `kcat` (librdkafka 2.0.2) fails with
//!   "Protocol read buffer underflow for ApiVersion v3" and never connects. Use the bundled
//!   librdkafka of the `rdkafka` crate (or `tansu cat`/`tansu topic`) for manual checks.
//! - `tansu topic create` of an existing topic exits 1 with "Topic with this name already exists".
//!
//! # rivven-schema 0.0.22 notes (measured)
//!
//! Start: `rivven-schema serve --host 127.0.0.1 --port P`; readiness: `GET /` answers 200.
//! Storage is in memory, so ids restart at 1 with every server. The registry client's gaps
//! (no `POST /subjects/{s}` look-up, 404 on `POST /compatibility/subjects/{s}/versions`, logical
//! types rejected by its own compatibility checker, ...) are listed at [`SchemaRegistry`]; tests
//! that look schemas up against it turn on `RegistryConfig::lookup_by_version_scan`.
//!
//! # Certificates
//!
//! [`Pki`] makes throw-away RSA keys and X.509 certificates with the `openssl` CLI for the
//! signing tests: root CAs, leaves signed by a CA with a chosen serial, expired leaves.
//!
//! # PostgreSQL
//!
//! [`PgDatabase::create`] connects to `$AUDIT_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432`, trust auth), creates `audit_test_<pid>_<n>_<nanos>`, and
//! drops it `WITH (FORCE)` on drop, so tests can run in parallel on one server.

mod http_log;
mod pki;
mod postgres;
mod process;
mod registry;
mod tansu;
mod tools;

use std::path::PathBuf;
use std::time::Duration;

pub use http_log::{HttpRecorder, RecordedRequest};
pub use pki::{KeyCert, Pki};
pub use postgres::{DEFAULT_PG_URL, PgDatabase, server_url as pg_server_url};
pub use process::free_port;
pub use registry::SchemaRegistry;
pub use tansu::Tansu;
pub use tools::{RIVVEN_SCHEMA, TANSU, Tool, tools_dir, workspace_root};

/// Everything that can go wrong while providing test infrastructure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tool binary could not be found (or installed).
    #[error("{tool} binary not available: {detail}; run {script}")]
    ToolMissing {
        /// Tool name.
        tool: &'static str,
        /// What was looked at.
        detail: String,
        /// The script that installs it.
        script: &'static str,
    },
    /// A process could not be spawned.
    #[error("could not start {what} ({binary})")]
    Spawn {
        /// What was started.
        what: &'static str,
        /// The binary.
        binary: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A server exited before it became ready.
    #[error("{what} exited ({status}) before it was ready; its log ends with:\n{log}")]
    Exited {
        /// Which server.
        what: &'static str,
        /// Exit status.
        status: String,
        /// The last lines of its output.
        log: String,
    },
    /// A server did not become ready in time.
    #[error(
        "{what} on {addr} not ready after {waited:?} (last probe: {last_error}); its log ends with:\n{log}"
    )]
    NotReady {
        /// Which server.
        what: &'static str,
        /// Address probed.
        addr: String,
        /// How long we waited.
        waited: Duration,
        /// The last probe failure.
        last_error: String,
        /// The last lines of its output.
        log: String,
    },
    /// A helper command failed.
    #[error("`{command}` failed ({status}): {output}")]
    CommandFailed {
        /// The command line.
        command: String,
        /// Exit status.
        status: String,
        /// Its output.
        output: String,
    },
    /// A PostgreSQL operation failed.
    #[error("PostgreSQL at {url}: {what} failed")]
    Postgres {
        /// The operation.
        what: String,
        /// The server URL used.
        url: String,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
    /// A local I/O operation failed.
    #[error("{what} failed")]
    Io {
        /// The operation.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}
