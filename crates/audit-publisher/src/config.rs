//! Publisher settings.

use std::time::Duration;

use audit_support::Backoff;

use crate::error::{Error, Result};

/// What [`AuditPublisher::try_publish`](crate::AuditPublisher::try_publish) does when the
/// in-memory queue is full (the writer cannot keep up with SQLite, or SQLite fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhenFull {
    /// Wait for room up to this long, then reject ([`Error::QueueFull`]).
    Wait(Duration),
    /// Drop the command: counted (`dropped_queue_full`, metric
    /// `audit_publisher_dropped_total{reason="queue_full"}`) and logged as a warning (at most one
    /// line per second); the call returns [`Published::Dropped`](crate::Published::Dropped).
    Drop,
    /// Give the command back at once ([`Error::QueueFull`]).
    Reject,
}

/// What happens to commands over the rate limit ([`PublisherConfig::rate_limit`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverLimit {
    /// Accept every command into the SQLite spill and deliver at the limited rate (the relay
    /// claims only as many rows as it has tokens). Nothing is dropped. The default.
    #[default]
    Spill,
    /// Drop commands over the limit at `try_publish` (counted: `dropped_rate_limited`, metric
    /// `audit_publisher_dropped_total{reason="rate_limit"}`, a warning at most once per second).
    Drop,
}

/// A token bucket: `per_second` commands per second on average, bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub(crate) per_second: u32,
    pub(crate) burst: u32,
    pub(crate) over_limit: OverLimit,
}

impl RateLimit {
    /// `per_second` on average with bursts of up to `burst` (both at least 1, checked by
    /// [`PublisherConfig::validate`]); commands over the limit are spilled ([`OverLimit::Spill`]).
    #[must_use]
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second,
            burst,
            over_limit: OverLimit::Spill,
        }
    }

    /// What happens to commands over the limit (default [`OverLimit::Spill`]).
    #[must_use]
    pub fn over_limit(mut self, over_limit: OverLimit) -> Self {
        self.over_limit = over_limit;
        self
    }
}

/// Publisher settings: [`PublisherConfig::new`] with the defaults, `#[must_use]` setters,
/// checked by [`PublisherConfig::validate`] (and again when the publisher starts).
///
/// ```
/// use std::time::Duration;
/// use audit_publisher::{PublisherConfig, RateLimit, WhenFull};
///
/// let config = PublisherConfig::new()
///     .queue_capacity(50_000)
///     .batch_size(1_000)
///     .flush_interval(Duration::from_millis(5))
///     .when_full(WhenFull::Wait(Duration::from_millis(2)))
///     .rate_limit(RateLimit::new(1_000, 2_000));
/// config.validate()?;
/// assert!(PublisherConfig::new().queue_capacity(0).validate().is_err());
/// # Ok::<(), audit_publisher::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PublisherConfig {
    pub(crate) queue_capacity: usize,
    pub(crate) batch_size: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) when_full: WhenFull,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) write_backoff: Backoff,
    pub(crate) shutdown_timeout: Duration,
}

/// Default back-off after a failed SQLite write: 10 ms doubling up to 1 s.
const DEFAULT_WRITE_BACKOFF: Backoff =
    match Backoff::new(Duration::from_millis(10), Duration::from_secs(1)) {
        Ok(b) => b,
        Err(_) => unreachable!(),
    };

impl Default for PublisherConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl PublisherConfig {
    /// Defaults: a queue of 10,000 commands, batches of up to 500 rows per SQLite transaction,
    /// flush interval 10 ms, on a full queue [`WhenFull::Reject`], no rate limit, write back-off
    /// 10 ms..1 s, shutdown timeout 30 s.
    #[must_use]
    pub fn new() -> Self {
        Self {
            queue_capacity: 10_000,
            batch_size: 500,
            flush_interval: Duration::from_millis(10),
            when_full: WhenFull::Reject,
            rate_limit: None,
            write_backoff: DEFAULT_WRITE_BACKOFF,
            shutdown_timeout: Duration::from_secs(30),
        }
    }

    /// Commands the in-memory queue holds (default 10,000; at least 1). A process that dies
    /// loses at most what is in the queue plus the batch being written.
    #[must_use]
    pub fn queue_capacity(mut self, commands: usize) -> Self {
        self.queue_capacity = commands;
        self
    }

    /// Rows per SQLite transaction (default 500; at least 1, at most the queue capacity).
    #[must_use]
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows;
        self
    }

    /// How long the writer collects a batch after its first command before writing it, when
    /// fewer than `batch_size` commands are queued (default 10 ms; zero writes what is there at
    /// once). With the queue's content, it bounds what a killed process loses.
    #[must_use]
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// What `try_publish` does on a full queue (default [`WhenFull::Reject`]).
    #[must_use]
    pub fn when_full(mut self, policy: WhenFull) -> Self {
        self.when_full = policy;
        self
    }

    /// Limits the rate (default: none). With [`OverLimit::Spill`] the relay delivers at this rate
    /// and the rest waits in SQLite; with [`OverLimit::Drop`] `try_publish` drops what is over.
    #[must_use]
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Back-off between attempts of a failed SQLite write (default 10 ms doubling up to 1 s; the
    /// batch is kept and retried until it is written or the publisher shuts down).
    #[must_use]
    pub fn write_backoff(mut self, backoff: Backoff) -> Self {
        self.write_backoff = backoff;
        self
    }

    /// How long [`AuditPublisher::shutdown`](crate::AuditPublisher::shutdown) waits for the
    /// queue to be written to SQLite (default 30 s).
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The queue capacity.
    pub fn capacity(&self) -> usize {
        self.queue_capacity
    }

    /// Checks the settings: queue capacity and batch size at least 1, the batch not larger than
    /// the queue, a rate limit with both numbers at least 1, a non-zero wait.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting.
    pub fn validate(&self) -> Result<()> {
        if self.queue_capacity == 0 {
            return Err(Error::Config("queue capacity must be at least 1".into()));
        }
        if self.batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        if self.batch_size > self.queue_capacity {
            return Err(Error::Config(format!(
                "batch size ({}) must not exceed the queue capacity ({})",
                self.batch_size, self.queue_capacity
            )));
        }
        if let WhenFull::Wait(d) = self.when_full
            && d.is_zero()
        {
            return Err(Error::Config(
                "when_full: a wait of zero is `WhenFull::Reject`".into(),
            ));
        }
        if let Some(limit) = &self.rate_limit
            && (limit.per_second == 0 || limit.burst == 0)
        {
            return Err(Error::Config(format!(
                "rate limit: commands per second ({}) and burst ({}) must be at least 1",
                limit.per_second, limit.burst
            )));
        }
        Ok(())
    }
}
