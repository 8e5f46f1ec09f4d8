//! The publisher: queue, writer task, relay.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use audit_outbox::relay::CircuitState;
use audit_outbox::sender::AuditSender;
use audit_outbox::{Outbox, OutboxMessage, RelayConfig, RelayHandle, RelayStats};
use audit_schema::CreateAuditRecordCommand;
use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::{OverLimit, PublisherConfig, RateLimit, WhenFull};
use crate::error::{Error, Result};
use crate::metrics as m;

/// Opens (creates if missing) the SQLite outbox at `path` the way the publisher wants it: WAL
/// journal, `synchronous = NORMAL` (a committed batch survives a killed process; a power loss
/// may lose the last transactions), a busy timeout of 30 s, up to 4 connections, migrated.
///
/// # Errors
/// [`Error::Database`] when the file cannot be opened, [`Error::Outbox`] when migrating fails.
pub async fn open_sqlite(path: impl AsRef<Path>) -> Result<Outbox<Sqlite>> {
    let options = SqliteConnectOptions::new()
        .filename(path.as_ref())
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(Error::Database)?;
    let outbox = Outbox::new(pool);
    outbox.migrate().await?;
    Ok(outbox)
}

/// What became of an accepted call of [`AuditPublisher::try_publish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Published {
    /// In the queue; the writer stores it in SQLite, the relay delivers it.
    Queued,
    /// Dropped by policy (a full queue with [`WhenFull::Drop`], or over the rate limit with
    /// [`OverLimit::Drop`]); counted.
    Dropped,
}

/// Counters of one publisher since its start, the circuit state and the relay's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublisherStatus {
    /// Commands accepted into the queue.
    pub accepted: u64,
    /// Commands written to SQLite (committed).
    pub written: u64,
    /// Commands in the queue or in the batch being written (accepted - written).
    pub unwritten: u64,
    /// Commands dropped because the queue was full ([`WhenFull::Drop`]).
    pub dropped_queue_full: u64,
    /// Commands dropped over the rate limit ([`OverLimit::Drop`]).
    pub dropped_rate_limited: u64,
    /// Commands given back because the queue was full ([`Error::QueueFull`]).
    pub rejected: u64,
    /// Commands that waited for room ([`WhenFull::Wait`]), whether they got it or not.
    pub waited: u64,
    /// Failed SQLite writes (each retried).
    pub write_errors: u64,
    /// SQLite transactions written.
    pub batches: u64,
    /// The relay's circuit: [`CircuitState::Open`] while the broker is failing.
    pub circuit: CircuitState,
    /// The relay's counters (`delivered`, `circuit_opened`, `circuit_closed`, ...).
    pub relay: RelayStats,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    written: AtomicU64,
    dropped_queue_full: AtomicU64,
    dropped_rate_limited: AtomicU64,
    rejected: AtomicU64,
    waited: AtomicU64,
    write_errors: AtomicU64,
    batches: AtomicU64,
}

fn add(field: &AtomicU64, n: u64) {
    field.fetch_add(n, Ordering::Relaxed);
}

/// Token bucket of [`OverLimit::Drop`].
#[derive(Debug)]
struct Bucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    refilled: Instant,
}

impl Bucket {
    fn new(limit: RateLimit) -> Self {
        Self {
            per_second: f64::from(limit.per_second),
            burst: f64::from(limit.burst),
            tokens: f64::from(limit.burst),
            refilled: Instant::now(),
        }
    }

    fn take_one(&mut self) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Logs a warning at most once per second (drops can come in floods).
#[derive(Debug)]
struct Throttle(Mutex<Option<Instant>>);

impl Throttle {
    fn ready(&self) -> bool {
        let mut last = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            *last = Some(Instant::now());
            true
        } else {
            false
        }
    }
}

/// The background tasks, taken by shutdown.
struct Tasks {
    stop: watch::Sender<bool>,
    writer: JoinHandle<()>,
    relay: RelayHandle,
}

struct Inner {
    config: PublisherConfig,
    counters: Arc<Counters>,
    bucket: Option<Mutex<Bucket>>,
    warn: Throttle,
    tasks: Mutex<Option<Tasks>>,
    /// The relay's last counters and circuit state (kept after shutdown).
    relay_stats: Mutex<(RelayStats, CircuitState)>,
}

/// Publishes audit commands without blocking on Kafka: a bounded in-memory queue, a writer task
/// that batches the queue into the SQLite outbox, the outbox relay that delivers from there.
/// Cheap to clone (the clones share the queue).
///
/// [`try_publish`](Self::try_publish) never waits for Kafka and never fails because Kafka is
/// slow or down; only a full queue (SQLite slower than the callers, or failing) applies the
/// configured [`WhenFull`] policy. [`shutdown`](Self::shutdown) writes the whole queue to SQLite
/// and stops the relay; rows not delivered yet are delivered by the next start.
#[derive(Clone)]
pub struct AuditPublisher {
    queue: mpsc::Sender<CreateAuditRecordCommand>,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AuditPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditPublisher")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl AuditPublisher {
    /// Starts the writer and the relay on the current Tokio runtime. `sender` names the topic and
    /// the schema id the commands are framed with; `relay` is the relay's configuration (with
    /// [`OverLimit::Spill`] the publisher's rate limit is set on it).
    ///
    /// # Errors
    /// [`Error::Config`] for invalid settings, [`Error::Outbox`] when the relay cannot start.
    pub fn start(
        outbox: Outbox<Sqlite>,
        sender: AuditSender,
        relay: RelayConfig,
        config: PublisherConfig,
    ) -> Result<Self> {
        config.validate()?;
        let relay = match config.rate_limit {
            Some(limit) if limit.over_limit == OverLimit::Spill => {
                relay.rate_limit(limit.per_second, limit.burst)
            }
            _ => relay,
        };
        relay.validate()?;
        let relay = outbox.start_relay(relay)?;
        let (queue, rx) = mpsc::channel(config.queue_capacity);
        let (stop, stop_rx) = watch::channel(false);
        let counters = Arc::new(Counters::default());
        let writer = Writer {
            rx,
            outbox,
            sender,
            batch_size: config.batch_size,
            flush_interval: config.flush_interval,
            backoff: config.write_backoff,
            counters: counters.clone(),
            stop: stop_rx,
        };
        let writer = tokio::spawn(writer.run());
        let bucket = match config.rate_limit {
            Some(limit) if limit.over_limit == OverLimit::Drop => {
                Some(Mutex::new(Bucket::new(limit)))
            }
            _ => None,
        };
        metrics::gauge!(m::QUEUE_CAPACITY).set(audit_support::count_to_f64(
            u64::try_from(config.queue_capacity).unwrap_or(u64::MAX),
        ));
        Ok(Self {
            queue,
            inner: Arc::new(Inner {
                config,
                counters,
                bucket,
                warn: Throttle(Mutex::new(None)),
                tasks: Mutex::new(Some(Tasks {
                    stop,
                    writer,
                    relay,
                })),
                relay_stats: Mutex::new((RelayStats::default(), CircuitState::Closed)),
            }),
        })
    }

    /// Hands `command` to the queue. Returns at once when the queue has room (the usual case:
    /// no lock, no I/O; the writer encodes and stores it). On a full queue the [`WhenFull`]
    /// policy applies: `Wait` awaits room up to its timeout, `Drop` drops it (counted), `Reject`
    /// gives it back. Never waits for Kafka.
    ///
    /// # Errors
    /// [`Error::QueueFull`] (policy `Reject`, or the wait ran out) and [`Error::Closed`] give
    /// the command back; [`Error::InvalidCommand`] for a command without message id or
    /// idempotence id.
    pub async fn try_publish(&self, command: CreateAuditRecordCommand) -> Result<Published> {
        if command.identity.id.is_empty() {
            return Err(Error::InvalidCommand("the message id is empty"));
        }
        if command.identity.idempotence_id.is_empty() {
            return Err(Error::InvalidCommand("the idempotence id is empty"));
        }
        let c = &self.inner.counters;
        if let Some(bucket) = &self.inner.bucket {
            let allowed = bucket
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take_one();
            if !allowed {
                add(&c.dropped_rate_limited, 1);
                metrics::counter!(m::DROPPED, "reason" => "rate_limit").increment(1);
                if self.inner.warn.ready() {
                    tracing::warn!(
                        dropped = c.dropped_rate_limited.load(Ordering::Relaxed),
                        "audit command over the rate limit dropped"
                    );
                }
                return Ok(Published::Dropped);
            }
        }
        let command = match self.queue.try_send(command) {
            Ok(()) => return Ok(self.accepted()),
            Err(mpsc::error::TrySendError::Closed(command)) => {
                return Err(Error::Closed(Box::new(command)));
            }
            Err(mpsc::error::TrySendError::Full(command)) => command,
        };
        match self.inner.config.when_full {
            WhenFull::Reject => Err(self.rejected(command)),
            WhenFull::Drop => {
                add(&c.dropped_queue_full, 1);
                metrics::counter!(m::DROPPED, "reason" => "queue_full").increment(1);
                if self.inner.warn.ready() {
                    tracing::warn!(
                        dropped = c.dropped_queue_full.load(Ordering::Relaxed),
                        "audit queue full: command dropped"
                    );
                }
                Ok(Published::Dropped)
            }
            WhenFull::Wait(timeout) => {
                add(&c.waited, 1);
                metrics::counter!(m::WAITED).increment(1);
                match self.queue.send_timeout(command, timeout).await {
                    Ok(()) => Ok(self.accepted()),
                    Err(mpsc::error::SendTimeoutError::Timeout(command)) => {
                        Err(self.rejected(command))
                    }
                    Err(mpsc::error::SendTimeoutError::Closed(command)) => {
                        Err(Error::Closed(Box::new(command)))
                    }
                }
            }
        }
    }

    fn accepted(&self) -> Published {
        add(&self.inner.counters.accepted, 1);
        metrics::counter!(m::ACCEPTED).increment(1);
        Published::Queued
    }

    fn rejected(&self, command: CreateAuditRecordCommand) -> Error {
        add(&self.inner.counters.rejected, 1);
        metrics::counter!(m::REJECTED).increment(1);
        Error::QueueFull(Box::new(command))
    }

    /// Commands in the queue now.
    pub fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Counters, circuit state and the relay's counters.
    pub fn status(&self) -> PublisherStatus {
        let (relay, circuit) = {
            let tasks = self
                .inner
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match tasks.as_ref() {
                Some(t) => (t.relay.stats(), t.relay.circuit()),
                None => *self
                    .inner
                    .relay_stats
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            }
        };
        let c = &self.inner.counters;
        let accepted = c.accepted.load(Ordering::Relaxed);
        let written = c.written.load(Ordering::Relaxed);
        PublisherStatus {
            accepted,
            written,
            unwritten: accepted.saturating_sub(written),
            dropped_queue_full: c.dropped_queue_full.load(Ordering::Relaxed),
            dropped_rate_limited: c.dropped_rate_limited.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
            waited: c.waited.load(Ordering::Relaxed),
            write_errors: c.write_errors.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            circuit,
            relay,
        }
    }

    /// A receiver that sees every change of the relay's circuit state.
    pub fn circuit_watch(&self) -> watch::Receiver<CircuitState> {
        let tasks = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match tasks.as_ref() {
            Some(t) => t.relay.circuit_watch(),
            None => watch::channel(CircuitState::Closed).1,
        }
    }

    /// Graceful shutdown (for all clones): the queue is closed (further calls get
    /// [`Error::Closed`]), everything in it is written to SQLite, then the relay stops (it settles
    /// the batches in flight). Rows not delivered yet stay in SQLite for the next start.
    /// Returns the final status. A second call returns the status at once.
    ///
    /// # Errors
    /// [`Error::ShutdownTimeout`] when the queue is not written within the shutdown timeout (the
    /// writer keeps trying in the background; the relay is stopped), [`Error::WriterTask`],
    /// [`Error::Outbox`] from the relay's shutdown.
    pub async fn shutdown(&self) -> Result<PublisherStatus> {
        let tasks = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(Tasks {
            stop,
            mut writer,
            relay,
        }) = tasks
        else {
            return Ok(self.status());
        };
        let _ = stop.send(true);
        let written = tokio::time::timeout(self.inner.config.shutdown_timeout, &mut writer).await;
        let stats = relay.stats();
        let circuit = relay.circuit();
        let relay_result = relay.shutdown().await;
        let stats = relay_result.as_ref().map_or(stats, |s| *s);
        *self
            .inner
            .relay_stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = (stats, circuit);
        match written {
            Err(_elapsed) => {
                return Err(Error::ShutdownTimeout {
                    unwritten: self.status().unwritten,
                });
            }
            Ok(Err(e)) => return Err(Error::WriterTask(e)),
            Ok(Ok(())) => {}
        }
        relay_result?;
        Ok(self.status())
    }
}

/// The writer task: queue -> batches -> SQLite transactions.
struct Writer {
    rx: mpsc::Receiver<CreateAuditRecordCommand>,
    outbox: Outbox<Sqlite>,
    sender: AuditSender,
    batch_size: usize,
    flush_interval: Duration,
    backoff: audit_support::Backoff,
    counters: Arc<Counters>,
    stop: watch::Receiver<bool>,
}

impl Writer {
    async fn run(mut self) {
        let mut batch: Vec<CreateAuditRecordCommand> = Vec::with_capacity(self.batch_size);
        let mut stopping = false;
        loop {
            let n = if stopping {
                self.rx.recv_many(&mut batch, self.batch_size).await
            } else {
                tokio::select! {
                    n = self.rx.recv_many(&mut batch, self.batch_size) => n,
                    _ = self.stop.changed() => {
                        // no more commands: write what is queued, then end
                        self.rx.close();
                        stopping = true;
                        continue;
                    }
                }
            };
            if n == 0 {
                break; // closed and empty
            }
            if !stopping && batch.len() < self.batch_size && !self.flush_interval.is_zero() {
                let deadline = tokio::time::Instant::now() + self.flush_interval;
                while batch.len() < self.batch_size {
                    let room = self.batch_size - batch.len();
                    tokio::select! {
                        got = tokio::time::timeout_at(deadline, self.rx.recv_many(&mut batch, room)) => {
                            match got {
                                Ok(0) | Err(_) => break,
                                Ok(_) => {}
                            }
                        }
                        _ = self.stop.changed() => {
                            // shutting down: write this batch now, then the rest of the queue
                            self.rx.close();
                            stopping = true;
                            break;
                        }
                    }
                }
            }
            self.write(&batch).await;
            batch.clear();
            metrics::gauge!(m::QUEUE_DEPTH).set(audit_support::count_to_f64(self.rx.len() as u64));
        }
        tracing::debug!("audit publisher writer stopped");
    }

    /// Writes one batch in one transaction, retrying with back-off until it is written.
    async fn write(&self, batch: &[CreateAuditRecordCommand]) {
        let messages: Vec<OutboxMessage> = batch.iter().map(|c| self.sender.message(c)).collect();
        let rows = messages.len() as u64;
        let mut delay = self.backoff.initial();
        loop {
            match self.write_once(&messages).await {
                Ok(()) => {
                    add(&self.counters.written, rows);
                    add(&self.counters.batches, 1);
                    metrics::counter!(m::WRITTEN).increment(rows);
                    return;
                }
                Err(e) => {
                    add(&self.counters.write_errors, 1);
                    metrics::counter!(m::WRITE_ERRORS).increment(1);
                    tracing::warn!(error = %e, rows, ?delay, "writing audit commands to SQLite failed, retrying");
                    tokio::time::sleep(delay).await;
                    delay = self.backoff.after(delay);
                }
            }
        }
    }

    async fn write_once(&self, messages: &[OutboxMessage]) -> Result<()> {
        let mut tx = self.outbox.pool().begin().await.map_err(Error::Database)?;
        self.outbox.enqueue_all(&mut tx, messages).await?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(())
    }
}
