//! The child process of the publisher's crash test (`tests/it/crash.rs`): publishes
//! `PUBLISHER_COUNT` commands (message ids `crash-0`, `crash-1`, ...) in one burst into a
//! publisher on the SQLite file `PUBLISHER_DB`, prints `accepted N`, then every millisecond
//! `written W` (commands committed to SQLite so far) until it is killed. The
//! relay points at a port nothing listens on, so no row is delivered (and none deleted).
//!
//! Settings (environment): `PUBLISHER_DB` (required), `PUBLISHER_COUNT` (default 20,000),
//! `PUBLISHER_QUEUE` (default 50,000), `PUBLISHER_BATCH` (default 500), `PUBLISHER_FLUSH_MS`
//! (default 10).

use std::io::Write;
use std::time::Duration;

use audit_builder::AuditCommandBuilder;
use audit_outbox::RelayConfig;
use audit_outbox::sender::{AuditSender, SchemaId};
use audit_publisher::{AuditPublisher, Published, PublisherConfig, open_sqlite};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn env_number(name: &str, default: u64) -> Result<u64, BoxError> {
    match std::env::var(name) {
        Ok(v) => Ok(v.parse().map_err(|e| format!("{name}={v}: {e}"))?),
        Err(_) => Ok(default),
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let db = std::env::var("PUBLISHER_DB").map_err(|_| "PUBLISHER_DB is not set")?;
    let count = env_number("PUBLISHER_COUNT", 20_000)?;
    let queue = usize::try_from(env_number("PUBLISHER_QUEUE", 50_000)?)?;
    let batch = usize::try_from(env_number("PUBLISHER_BATCH", 500)?)?;
    let flush = Duration::from_millis(env_number("PUBLISHER_FLUSH_MS", 10)?);
    let outbox = open_sqlite(&db).await?;
    let publisher = AuditPublisher::start(
        outbox,
        AuditSender::pinned("audit-crash", SchemaId::Pinned(1))?,
        RelayConfig::new("127.0.0.1:9"),
        PublisherConfig::new()
            .queue_capacity(queue)
            .batch_size(batch)
            .flush_interval(flush),
    )?;
    let now = chrono::Utc::now();
    let mut commands = Vec::new();
    for i in 0..count {
        let mut command = AuditCommandBuilder::new("crash-service", "CRASH", now)
            .user(format!("user-{}", i % 100), "https://idp.example.org")
            .event_data("seq", i.to_string())
            .build()?;
        command.identity.id = format!("crash-{i}").into();
        command.identity.idempotence_id = format!("crash-idem-{i}").into();
        commands.push(command);
    }
    let mut accepted = 0u64;
    for command in commands {
        if publisher.try_publish(command).await? == Published::Queued {
            accepted += 1;
        }
    }
    let mut out = std::io::stdout();
    writeln!(out, "accepted {accepted}")?;
    out.flush()?;
    // Wait to be killed; meanwhile report what the writer has committed so far.
    loop {
        writeln!(out, "written {}", publisher.status().written)?;
        out.flush()?;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
