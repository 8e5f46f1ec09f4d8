//! Housekeeping: deletes sent rows after a retention, page by page, independent of the relay.
//! Unsent rows are never deleted; failed rows only when a retention for them is configured, each
//! deletion logged and counted.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::metrics as m;
use crate::outbox::Outbox;
use crate::store::Backend;

/// Housekeeping settings: [`HousekeepingConfig::new`] (= `default()`) with the defaults,
/// `#[must_use]` setters, checked by [`HousekeepingConfig::validate`] (and by every run).
///
/// ```
/// use std::time::Duration;
/// use audit_outbox::HousekeepingConfig;
/// let config = HousekeepingConfig::new()
///     .sent_retention(Duration::from_secs(86_400))
///     .failed_retention(Duration::from_secs(30 * 86_400))
///     .page_size(500);
/// config.validate()?;
/// assert!(HousekeepingConfig::new().page_size(0).validate().is_err());
/// # Ok::<(), audit_outbox::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct HousekeepingConfig {
    sent_retention: Duration,
    failed_retention: Option<Duration>,
    page_size: u32,
    interval: Duration,
}

impl Default for HousekeepingConfig {
    fn default() -> Self {
        Self {
            sent_retention: Duration::from_secs(2 * 24 * 3600),
            failed_retention: None,
            page_size: 1000,
            interval: Duration::from_secs(600),
        }
    }
}

impl HousekeepingConfig {
    /// The defaults: sent rows kept 2 days, failed rows kept until resent, pages of 1,000 rows,
    /// a run every 10 min.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sent rows older than this (by `sent_at`) are deleted (default 2 days).
    #[must_use]
    pub fn sent_retention(mut self, retention: Duration) -> Self {
        self.sent_retention = retention;
        self
    }

    /// Failed rows older than this (by `failed_at`) are deleted, each logged at WARN and counted.
    /// Without it (the default) failed rows are kept until an operator resends them.
    #[must_use]
    pub fn failed_retention(mut self, retention: Duration) -> Self {
        self.failed_retention = Some(retention);
        self
    }

    /// Rows per delete statement; each page is its own transaction (default 1,000; at least 1).
    #[must_use]
    pub fn page_size(mut self, rows: u32) -> Self {
        self.page_size = rows;
        self
    }

    /// Time between runs of the background task (default 10 min; not zero).
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::Config`] for a page size of 0 or a zero interval.
    pub fn validate(&self) -> Result<()> {
        if self.page_size == 0 {
            return Err(Error::Config(
                "housekeeping page size must be at least 1".into(),
            ));
        }
        if self.interval.is_zero() {
            return Err(Error::Config(
                "housekeeping interval must not be zero".into(),
            ));
        }
        Ok(())
    }
}

/// What one housekeeping run deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HousekeepingReport {
    /// Sent rows deleted.
    pub sent_deleted: u64,
    /// Failed rows deleted (only with a failed-row retention).
    pub failed_deleted: u64,
}

/// A running housekeeping task.
#[derive(Debug)]
pub struct HousekeepingHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl HousekeepingHandle {
    /// Stops the task after the page in progress.
    pub async fn shutdown(self) -> Result<()> {
        let _ = self.stop.send(true);
        self.task.await.map_err(Error::RelayTask)
    }
}

impl<DB: Backend> Outbox<DB> {
    /// One housekeeping run: deletes in pages until no page is full, then refreshes the gauges.
    pub async fn housekeep_once(&self, config: &HousekeepingConfig) -> Result<HousekeepingReport> {
        config.validate()?;
        let page = i64::from(config.page_size);
        let mut report = HousekeepingReport::default();
        loop {
            let n = DB::delete_sent_page(&self.pool, config.sent_retention, page)
                .await
                .map_err(Error::db("delete sent rows"))?;
            report.sent_deleted += n;
            metrics::counter!(m::HOUSEKEEPING_DELETED, "state" => "sent").increment(n);
            if n < page.unsigned_abs() {
                break;
            }
        }
        if let Some(retention) = config.failed_retention {
            loop {
                let deleted = DB::delete_failed_page(&self.pool, retention, page)
                    .await
                    .map_err(Error::db("delete failed rows"))?;
                for (id, message_id) in &deleted {
                    tracing::warn!(id, %message_id, ?retention, "deleting failed outbox row after its retention");
                }
                let n = deleted.len() as u64;
                report.failed_deleted += n;
                metrics::counter!(m::HOUSEKEEPING_DELETED, "state" => "failed").increment(n);
                if n < page.unsigned_abs() {
                    break;
                }
            }
        }
        self.refresh_gauges().await?;
        Ok(report)
    }

    /// Starts housekeeping in the background (first run at once, then every `interval`). Errors
    /// are logged and the next run tries again.
    ///
    /// # Errors
    /// [`Error::Config`] if the settings are invalid ([`HousekeepingConfig::validate`]).
    pub fn start_housekeeping(&self, config: HousekeepingConfig) -> Result<HousekeepingHandle> {
        config.validate()?;
        let (stop, mut stop_rx) = watch::channel(false);
        let outbox = self.clone();
        let task = tokio::spawn(async move {
            loop {
                if *stop_rx.borrow() {
                    return;
                }
                match outbox.housekeep_once(&config).await {
                    Ok(r) => tracing::debug!(?r, "outbox housekeeping done"),
                    Err(e) => {
                        metrics::counter!(m::DATABASE_ERRORS, "operation" => "housekeeping")
                            .increment(1);
                        tracing::warn!(error = %e, "outbox housekeeping failed");
                    }
                }
                tokio::select! {
                    _ = stop_rx.changed() => return,
                    () = tokio::time::sleep(config.interval) => {}
                }
            }
        });
        Ok(HousekeepingHandle { stop, task })
    }
}
