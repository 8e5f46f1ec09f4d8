//! A stand-alone outbox relay process (used by the crash tests and the benchmark; also a minimal
//! example of running the relay as its own process).
//!
//! Configuration by environment: `OUTBOX_DATABASE_URL` (`postgres://...` or `sqlite://...`),
//! `OUTBOX_BOOTSTRAP` (Kafka bootstrap servers), optional `OUTBOX_RELAY_ID`, `OUTBOX_BATCH_SIZE`,
//! `OUTBOX_LEASE_MS`, `OUTBOX_DELIVERY_TIMEOUT_MS`, `OUTBOX_POLL_MS`; record signing (jEAP
//! `jeap-sign` headers) with all three of `OUTBOX_SIGNING_KEY_FILE` (PKCS#8 PEM),
//! `OUTBOX_SIGNING_CERTIFICATE_FILE` (PEM) and `OUTBOX_SIGNING_SERVICE` (the certificate's CN),
//! or none of them (a key or certificate that does not fit stops the start). Stops gracefully on Ctrl-C
//! or SIGTERM and then prints its final counters as one line `relay-stats RelayStats { .. }` on
//! stdout (the fault tests read what the relay's own statements did).

use std::time::Duration;

use audit_outbox::{Outbox, RelayConfig};

use audit_support::BoxError;

fn env(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set").into())
}

fn env_ms(name: &str, default: u64) -> Result<Duration, BoxError> {
    match std::env::var(name) {
        Ok(v) => Ok(Duration::from_millis(
            v.parse().map_err(|e| format!("{name}: {e}"))?,
        )),
        Err(_) => Ok(Duration::from_millis(default)),
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let url = env("OUTBOX_DATABASE_URL")?;
    let mut cfg = RelayConfig::new(env("OUTBOX_BOOTSTRAP")?);
    if let Ok(id) = std::env::var("OUTBOX_RELAY_ID") {
        cfg = cfg.relay_id(id);
    }
    if let Ok(b) = std::env::var("OUTBOX_BATCH_SIZE") {
        cfg = cfg.batch_size(b.parse().map_err(|e| format!("OUTBOX_BATCH_SIZE: {e}"))?);
    }
    cfg = cfg.lease(env_ms("OUTBOX_LEASE_MS", 120_000)?);
    cfg = cfg.delivery_timeout(env_ms("OUTBOX_DELIVERY_TIMEOUT_MS", 30_000)?);
    cfg = cfg.poll_interval(env_ms("OUTBOX_POLL_MS", 1000)?);
    let signing = [
        "OUTBOX_SIGNING_KEY_FILE",
        "OUTBOX_SIGNING_CERTIFICATE_FILE",
        "OUTBOX_SIGNING_SERVICE",
    ]
    .map(|name| std::env::var(name).ok());
    match signing {
        [Some(key), Some(cert), Some(service)] => {
            let key =
                std::fs::read(&key).map_err(|e| format!("OUTBOX_SIGNING_KEY_FILE {key}: {e}"))?;
            let cert = std::fs::read(&cert)
                .map_err(|e| format!("OUTBOX_SIGNING_CERTIFICATE_FILE {cert}: {e}"))?;
            cfg = cfg.signing_pem(key, cert, service);
        }
        [None, None, None] => {}
        _ => {
            return Err("record signing needs OUTBOX_SIGNING_KEY_FILE, OUTBOX_SIGNING_CERTIFICATE_FILE and OUTBOX_SIGNING_SERVICE together".into());
        }
    }
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    };
    if url.starts_with("postgres") {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect(&url)
            .await?;
        let outbox = Outbox::new(pool);
        outbox.migrate().await?;
        let relay = outbox.start_relay(cfg)?;
        stop.await?;
        println!("relay-stats {:?}", relay.shutdown().await?);
    } else {
        let opts: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        let opts = opts
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30))
            .create_if_missing(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await?;
        let outbox = Outbox::new(pool);
        outbox.migrate().await?;
        let relay = outbox.start_relay(cfg)?;
        stop.await?;
        println!("relay-stats {:?}", relay.shutdown().await?);
    }
    Ok(())
}
