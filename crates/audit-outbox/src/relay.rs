//! The relay: claims pending rows with a lease, produces them through an idempotent producer
//! without waiting for each acknowledgement, and marks the acknowledged rows sent in one statement.
//!
//! # Ordering guarantee
//!
//! For records with the same topic and the same (non-null) key, the **first delivery** of each
//! record happens in outbox id order, with any number of relays on one database, across back-off,
//! retries and crashes:
//!
//! * a row is claimed only when no earlier pending row (not sent, not failed) with the same topic
//!   and key exists outside the claiming relay's own candidate set and its own batches in flight:
//!   rows behind a row in back-off, a row claimed by another relay (or by a crashed predecessor,
//!   until its lease expires) or a row locked by a concurrent claim wait;
//! * one relay produces its batches in id order through one idempotent producer (per-partition
//!   order is kept by librdkafka; at most `pipeline_depth` batches are in flight);
//! * keys are partitioned with `murmur2_random` like the Java clients, so one key maps to one
//!   partition.
//!
//! Caveats, exactly: (1) id order is the order of the INSERTs; for one key written by one
//! transaction at a time (e.g. under the aggregate's row lock) it is commit order; two
//! transactions that insert the same key concurrently may commit in the other order. (2) A row
//! marked failed permanently no longer holds back later rows of its key, and a resend delivers it
//! after them. (3) At-least-once: after a crash or an expired lease, rows may be delivered again,
//! so a record can appear again after later records (its first delivery was still in order).
//! (4) If an in-flight record fails transiently (e.g. a message timeout during a broker outage)
//! while a later in-flight record of the same key is acknowledged, the earlier one is delivered
//! after it. Records without a key have no order.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rdkafka::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

use audit_signing::{RecordSignature, Signer, SignerHandle};
use audit_support::Backoff;

use crate::error::{Error, Result};
use crate::kafka::{self, FailureClass};
use crate::message::decode_headers;
use crate::metrics as m;
use crate::outbox::Outbox;
use crate::store::{Backend, ClaimedRow};

/// Relay settings: [`RelayConfig::new`] with the defaults, `#[must_use]` setters, checked by
/// [`RelayConfig::validate`] (and again when the relay starts). `Debug` redacts secret producer
/// properties (see [`redact`]).
///
/// ```
/// use std::time::Duration;
/// use audit_outbox::RelayConfig;
/// use audit_support::Backoff;
///
/// let config = RelayConfig::new("127.0.0.1:9092")
///     .batch_size(500)
///     .lease(Duration::from_secs(60))
///     .backoff(Backoff::new(Duration::from_millis(200), Duration::from_secs(30))?)
///     .producer_property("security.protocol", "SASL_SSL");
/// config.validate()?;
/// assert!(RelayConfig::new("127.0.0.1:9092").batch_size(0).validate().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RelayConfig {
    bootstrap_servers: String,
    producer_properties: BTreeMap<String, String>,
    relay_id: String,
    batch_size: u32,
    lease: Duration,
    poll_interval: Duration,
    delivery_timeout: Duration,
    backoff: Backoff,
    database_backoff: Backoff,
    listen: bool,
    pipeline_depth: u32,
    signing: Option<Signing>,
    rate_limit: Option<RateLimit>,
}

/// How the relay gets its signer.
#[derive(Clone)]
enum Signing {
    /// Built at start from PEM key + certificate + service (fails the start when they do not fit).
    Pem {
        private_key: Arc<[u8]>,
        certificate: Arc<[u8]>,
        service: String,
    },
    /// A handle the application owns and may rotate.
    Handle(SignerHandle),
}

impl std::fmt::Debug for Signing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signing::Pem { service, .. } => f
                .debug_struct("Pem")
                .field("service", service)
                .field("private_key", &"<redacted>")
                .finish_non_exhaustive(),
            Signing::Handle(h) => f.debug_tuple("Handle").field(&h.current()).finish(),
        }
    }
}

impl std::fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let properties: BTreeMap<&str, &str> = self
            .producer_properties
            .iter()
            .map(|(k, v)| (k.as_str(), redact(k, v)))
            .collect();
        f.debug_struct("RelayConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("producer_properties", &properties)
            .field("relay_id", &self.relay_id)
            .field("batch_size", &self.batch_size)
            .field("lease", &self.lease)
            .field("poll_interval", &self.poll_interval)
            .field("delivery_timeout", &self.delivery_timeout)
            .field("backoff", &self.backoff)
            .field("database_backoff", &self.database_backoff)
            .field("listen", &self.listen)
            .field("pipeline_depth", &self.pipeline_depth)
            .field("signing", &self.signing)
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

/// The value to show for the librdkafka property `key`: `"<redacted>"` for secrets (any key
/// naming a password, secret, private key, keystore, JAAS or OAuth/OIDC configuration, token or
/// credential), the value itself otherwise. The workspace's one rule ([`audit_support::redact`]).
///
/// ```
/// use audit_outbox::relay::redact;
/// assert_eq!(redact("sasl.password", "hunter2"), "<redacted>");
/// assert_eq!(redact("ssl.key.pem", "-----BEGIN PRIVATE KEY-----"), "<redacted>");
/// assert_eq!(redact("sasl.username", "relay"), "relay");
/// ```
pub use audit_support::redact;

/// Default transient-failure back-off: 500 ms doubling up to 60 s.
const DEFAULT_BACKOFF: Backoff =
    match Backoff::new(Duration::from_millis(500), Duration::from_secs(60)) {
        Ok(b) => b,
        Err(_) => unreachable!(),
    };
/// Default back-off after database errors: 50 ms doubling up to 5 s.
const DEFAULT_DATABASE_BACKOFF: Backoff =
    match Backoff::new(Duration::from_millis(50), Duration::from_secs(5)) {
        Ok(b) => b,
        Err(_) => unreachable!(),
    };

/// Back-off between attempts to rebuild a fenced producer: 100 ms doubling up to 5 s.
const PRODUCER_REBUILD_BACKOFF: Backoff =
    match Backoff::new(Duration::from_millis(100), Duration::from_secs(5)) {
        Ok(b) => b,
        Err(_) => unreachable!(),
    };

impl RelayConfig {
    /// Defaults for this broker list: a random relay id, batches of 1,000 rows, lease 2 min, poll
    /// every 1 s, delivery timeout 30 s, back-off 500 ms..60 s, database back-off 50 ms..5 s,
    /// `LISTEN` on (PostgreSQL), pipeline depth 2.
    #[must_use]
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            producer_properties: BTreeMap::new(),
            relay_id: uuid::Uuid::new_v4().to_string(),
            batch_size: 1000,
            lease: Duration::from_secs(120),
            poll_interval: Duration::from_secs(1),
            delivery_timeout: Duration::from_secs(30),
            backoff: DEFAULT_BACKOFF,
            database_backoff: DEFAULT_DATABASE_BACKOFF,
            listen: true,
            pipeline_depth: 2,
            signing: None,
            rate_limit: None,
        }
    }

    /// Sets one further librdkafka producer property (e.g. security settings).
    /// `enable.idempotence=true`, `acks=all` and `partitioner=murmur2_random` are always set.
    #[must_use]
    pub fn producer_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.producer_properties.insert(key.into(), value.into());
        self
    }

    /// This relay's id (default: a random UUID). Claims are stored as `<relay_id>#<start token>`
    /// in `claimed_by`, unique per start, so a restarted relay never mistakes the rows of its
    /// crashed predecessor for its own.
    #[must_use]
    pub fn relay_id(mut self, relay_id: impl Into<String>) -> Self {
        self.relay_id = relay_id.into();
        self
    }

    /// Rows per batch (default 1,000; at least 1).
    #[must_use]
    pub fn batch_size(mut self, rows: u32) -> Self {
        self.batch_size = rows;
        self
    }

    /// How long a claim is valid; a crashed relay's rows are taken over after it (default 2 min;
    /// must be longer than the delivery timeout).
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Poll interval: the relay looks for rows at least this often, even without a wake-up
    /// (default 1 s; not zero).
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// librdkafka `message.timeout.ms`: after it, an unacknowledged record counts as a transient
    /// failure (default 30 s).
    #[must_use]
    pub fn delivery_timeout(mut self, timeout: Duration) -> Self {
        self.delivery_timeout = timeout;
        self
    }

    /// Back-off of a row after transient failures (default 500 ms doubling up to 60 s).
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Back-off after database errors (default 50 ms doubling up to 5 s).
    #[must_use]
    pub fn database_backoff(mut self, backoff: Backoff) -> Self {
        self.database_backoff = backoff;
        self
    }

    /// PostgreSQL: wake up on `NOTIFY audit_outbox` (default true; polling runs regardless).
    #[must_use]
    pub fn listen(mut self, listen: bool) -> Self {
        self.listen = listen;
        self
    }

    /// Batches in flight at once: the next batch is claimed and produced while the previous one
    /// awaits its acknowledgements (default 2; 1 settles each batch before the next claim).
    #[must_use]
    pub fn pipeline_depth(mut self, batches: u32) -> Self {
        self.pipeline_depth = batches;
        self
    }

    /// Signs every record like a jEAP publisher (`jeap-sign`, `jeap-sign-key`, `jeap-cert`; see
    /// [`audit_signing`]): the signer is built from the PKCS#8 RSA private key (PEM or DER), the
    /// certificate (PEM or DER) and the declared publisher service when the relay starts, and
    /// [`Outbox::start_relay`] fails with [`Error::Signing`] when the key does not match the
    /// certificate or the certificate's CN is not `service`. Records are signed at send time;
    /// with signing configured no record is sent unsigned (a row whose signing fails is retried).
    #[must_use]
    pub fn signing_pem(
        mut self,
        private_key: impl Into<Vec<u8>>,
        certificate: impl Into<Vec<u8>>,
        service: impl Into<String>,
    ) -> Self {
        self.signing = Some(Signing::Pem {
            private_key: private_key.into().into(),
            certificate: certificate.into().into(),
            service: service.into(),
        });
        self
    }

    /// Signs every record with the signer in force in `handle` at send time, so the application
    /// can rotate the certificate at runtime ([`SignerHandle::rotate`]): rows enqueued before a
    /// rotation and sent after it carry the new key's signature and serial.
    #[must_use]
    pub fn signer(mut self, handle: SignerHandle) -> Self {
        self.signing = Some(Signing::Handle(handle));
        self
    }

    /// Limits deliveries to `per_second` records per second on average with bursts of up to
    /// `burst` records (a token bucket that starts full; default: no limit). Rows over the limit
    /// stay pending in the outbox (the spill) and are claimed when tokens are available: nothing
    /// is dropped. Each wait for tokens counts in [`RelayStats::rate_limit_waits`] and the metric
    /// `audit_outbox_rate_limit_waits_total`. Both numbers must be at least 1.
    #[must_use]
    pub fn rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.rate_limit = Some(RateLimit { per_second, burst });
        self
    }

    /// The signer the relay will use (built now from PEM, or the given handle).
    fn build_signer(&self) -> Result<Option<SignerHandle>> {
        match &self.signing {
            None => Ok(None),
            Some(Signing::Handle(h)) => Ok(Some(h.clone())),
            Some(Signing::Pem {
                private_key,
                certificate,
                service,
            }) => Signer::from_pem(private_key, certificate, service)
                .map(|s| Some(SignerHandle::new(s)))
                .map_err(Error::Signing),
        }
    }

    /// Checks the settings: brokers not blank, batch size and pipeline depth at least 1, poll
    /// interval not zero, the lease longer than the effective delivery timeout (with the producer
    /// properties applied).
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting.
    pub fn validate(&self) -> Result<()> {
        self.client_config().map(drop)
    }

    /// Checks the settings and returns the effective producer configuration (the one the relay
    /// will use, with `producer_properties` applied), against which the lease is checked too.
    fn client_config(&self) -> Result<ClientConfig> {
        if self.bootstrap_servers.trim().is_empty() {
            return Err(Error::Config("bootstrap servers are empty".into()));
        }
        if self.batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        if self.pipeline_depth == 0 {
            return Err(Error::Config("pipeline depth must be at least 1".into()));
        }
        if self.lease <= self.delivery_timeout {
            return Err(Error::Config(format!(
                "the lease ({:?}) must be longer than the delivery timeout ({:?})",
                self.lease, self.delivery_timeout
            )));
        }
        if self.poll_interval.is_zero() {
            return Err(Error::Config("poll interval must not be zero".into()));
        }
        if let Some(limit) = &self.rate_limit
            && (limit.per_second == 0 || limit.burst == 0)
        {
            return Err(Error::Config(format!(
                "rate limit: records per second ({}) and burst ({}) must be at least 1",
                limit.per_second, limit.burst
            )));
        }
        let client = kafka::client_config(
            &self.bootstrap_servers,
            self.delivery_timeout,
            &self.producer_properties,
        )?;
        // `delivery.timeout.ms` is librdkafka's alias of `message.timeout.ms`; the last one set
        // wins there, so both are checked. 0 means "no timeout" (infinite).
        for name in ["message.timeout.ms", "delivery.timeout.ms"] {
            let Some(value) = client.get(name) else {
                continue;
            };
            let ms: u64 = value.trim().parse().map_err(|_| {
                Error::Config(format!(
                    "producer property `{name}` must be a number of milliseconds, got `{value}`"
                ))
            })?;
            let effective = Duration::from_millis(ms);
            if ms == 0 || self.lease <= effective {
                return Err(Error::Config(format!(
                    "the lease ({:?}) must be longer than the effective delivery timeout \
                     (`{name}` = {value} ms; 0 = infinite): a record still in flight when the \
                     lease ends would be sent again by another relay",
                    self.lease
                )));
            }
        }
        Ok(client)
    }

    /// The back-off before the next attempt of a row that has failed `attempts` times before.
    fn retry_delay(&self, attempts: i32) -> Duration {
        self.backoff.delay(attempts.max(0).unsigned_abs())
    }
}

/// Counters of one relay since its start (the same events as the metrics, per relay).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Batches processed.
    pub batches: u64,
    /// Rows acknowledged and marked sent.
    pub delivered: u64,
    /// Rows marked failed (permanent failures).
    pub permanent_failures: u64,
    /// Row delivery attempts that failed transiently.
    pub transient_failures: u64,
    /// Producer rebuilds after fatal idempotent-producer errors.
    pub producer_rebuilds: u64,
    /// Rows whose status change (sent, retry, failed) changed nothing because another relay held
    /// the claim by then (this relay's lease had run out and the row was claimed again).
    pub claims_taken_over: u64,
    /// Rows whose status change was not even attempted because this relay's lease had run out
    /// (e.g. the process was paused): the rows belong to whoever claims them next.
    pub lease_expired_skips: u64,
    /// Rows whose status change this relay's statements actually made (sent + retry + failed).
    pub rows_changed: u64,
    /// Failed database statements of this relay (claims and status changes; all retried).
    pub database_errors: u64,
    /// Batch-settling tasks that panicked (their claims were released).
    pub settle_panics: u64,
    /// Times the circuit opened: a batch failed transiently at the broker with no record
    /// acknowledged (see [`CircuitState`]).
    pub circuit_opened: u64,
    /// Times the circuit closed again: a batch had records acknowledged after the circuit opened.
    pub circuit_closed: u64,
    /// Times the relay waited for rate-limit tokens before claiming ([`RelayConfig::rate_limit`]).
    pub rate_limit_waits: u64,
}

/// The relay's circuit breaker, derived from delivery outcomes: the relay's back-off is the
/// breaker (rows that fail transiently are not tried again before their back-off ends, so a
/// failing broker is probed at the back-off rate, not hammered).
///
/// * [`Open`](CircuitState::Open): the last settled batch with broker outcomes had transient
///   failures and no acknowledged record (the broker is down, unreachable or timing out);
/// * [`Closed`](CircuitState::Closed): at start, and from the first settled batch with an
///   acknowledged record on.
///
/// Exposed as [`RelayHandle::circuit`], [`RelayHandle::circuit_watch`], the gauge
/// `audit_outbox_circuit_open` (1 open, 0 closed) and the counter
/// `audit_outbox_circuit_transitions_total{state}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CircuitState {
    /// Deliveries succeed (or nothing has failed yet).
    #[default]
    Closed,
    /// The broker is failing: rows wait in the outbox in back-off.
    Open,
}

/// A token bucket: `per_second` tokens per second, at most `burst` stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RateLimit {
    per_second: u32,
    burst: u32,
}

/// The relay's tokens.
#[derive(Debug)]
struct Bucket {
    limit: RateLimit,
    tokens: f64,
    refilled: Instant,
}

impl Bucket {
    fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.burst),
            refilled: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let earned =
            now.duration_since(self.refilled).as_secs_f64() * f64::from(self.limit.per_second);
        self.tokens = (self.tokens + earned).min(f64::from(self.limit.burst));
        self.refilled = now;
    }

    /// Whole tokens available now (refilled first).
    fn available(&mut self) -> u32 {
        self.refill();
        let whole = self.tokens.floor().clamp(0.0, f64::from(self.limit.burst));
        // `whole` is an integer within 0..=burst (a u32): the conversion is exact
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let whole = whole as u32;
        whole
    }

    /// Tokens worth claiming at once: 50 ms worth of the rate (so a limited relay does not claim
    /// one row at a time), at most the burst and the batch size, at least 1.
    fn claim_target(&self, batch_size: u32) -> u32 {
        (self.limit.per_second / 20)
            .min(self.limit.burst)
            .min(batch_size)
            .max(1)
    }

    /// How long until `target` whole tokens are available.
    fn wait_for(&self, target: u32) -> Duration {
        let missing = (f64::from(target) - self.tokens).max(0.0);
        Duration::from_secs_f64(missing / f64::from(self.limit.per_second))
    }

    fn take(&mut self, n: usize) {
        self.tokens -= audit_support::count_to_f64(n as u64);
    }
}

#[derive(Debug, Default)]
struct Stats {
    batches: AtomicU64,
    delivered: AtomicU64,
    permanent_failures: AtomicU64,
    transient_failures: AtomicU64,
    producer_rebuilds: AtomicU64,
    claims_taken_over: AtomicU64,
    lease_expired_skips: AtomicU64,
    rows_changed: AtomicU64,
    database_errors: AtomicU64,
    settle_panics: AtomicU64,
    circuit_opened: AtomicU64,
    circuit_closed: AtomicU64,
    rate_limit_waits: AtomicU64,
    circuit_open: AtomicBool,
    circuit: Option<watch::Sender<CircuitState>>,
}

impl Stats {
    fn add(field: &AtomicU64, n: u64) {
        field.fetch_add(n, Ordering::Relaxed);
    }

    /// Records the circuit state after a settled batch; counts and reports transitions.
    fn set_circuit(&self, open: bool) {
        if self.circuit_open.swap(open, Ordering::AcqRel) == open {
            return;
        }
        let state = if open {
            tracing::warn!("the broker is failing: circuit open (rows wait in the outbox)");
            Stats::add(&self.circuit_opened, 1);
            CircuitState::Open
        } else {
            tracing::info!("deliveries succeed again: circuit closed");
            Stats::add(&self.circuit_closed, 1);
            CircuitState::Closed
        };
        metrics::gauge!(m::CIRCUIT_OPEN).set(if open { 1.0 } else { 0.0 });
        metrics::counter!(m::CIRCUIT_TRANSITIONS, "state" => if open { "open" } else { "closed" })
            .increment(1);
        if let Some(tx) = &self.circuit {
            tx.send_replace(state);
        }
    }
}

/// A running relay.
///
/// Dropping the handle stops the relay the way [`RelayHandle::shutdown`] does (it stops
/// claiming, settles the batches in flight and releases its claims), but in the background:
/// nothing waits for it. Call `shutdown` to wait for the end and see its result.
#[derive(Debug)]
pub struct RelayHandle {
    stats: Arc<Stats>,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<()>>,
    listener: Option<JoinHandle<()>>,
}

impl RelayHandle {
    /// Graceful shutdown: stops claiming, waits for the batch in flight (its acknowledgements and
    /// marks), releases this relay's remaining claims and stops the listener. Returns the relay's
    /// final counters.
    pub async fn shutdown(mut self) -> Result<RelayStats> {
        let _ = self.stop.send(true);
        let r = (&mut self.task).await.map_err(Error::RelayTask)?;
        if let Some(l) = self.listener.take() {
            let _ = l.await;
        }
        r.map(|()| self.stats())
    }

    /// This relay's counters so far.
    pub fn stats(&self) -> RelayStats {
        let s = &self.stats;
        RelayStats {
            batches: s.batches.load(Ordering::Relaxed),
            delivered: s.delivered.load(Ordering::Relaxed),
            permanent_failures: s.permanent_failures.load(Ordering::Relaxed),
            transient_failures: s.transient_failures.load(Ordering::Relaxed),
            producer_rebuilds: s.producer_rebuilds.load(Ordering::Relaxed),
            claims_taken_over: s.claims_taken_over.load(Ordering::Relaxed),
            lease_expired_skips: s.lease_expired_skips.load(Ordering::Relaxed),
            rows_changed: s.rows_changed.load(Ordering::Relaxed),
            database_errors: s.database_errors.load(Ordering::Relaxed),
            settle_panics: s.settle_panics.load(Ordering::Relaxed),
            circuit_opened: s.circuit_opened.load(Ordering::Relaxed),
            circuit_closed: s.circuit_closed.load(Ordering::Relaxed),
            rate_limit_waits: s.rate_limit_waits.load(Ordering::Relaxed),
        }
    }

    /// The circuit state now (see [`CircuitState`]).
    pub fn circuit(&self) -> CircuitState {
        if self.stats.circuit_open.load(Ordering::Acquire) {
            CircuitState::Open
        } else {
            CircuitState::Closed
        }
    }

    /// A receiver that sees every change of the circuit state (e.g. to alert or to report
    /// readiness).
    pub fn circuit_watch(&self) -> watch::Receiver<CircuitState> {
        match &self.stats.circuit {
            Some(tx) => tx.subscribe(),
            None => watch::channel(self.circuit()).1,
        }
    }

    /// Whether the relay task has ended (it ends only on shutdown or when its producer cannot be
    /// created at start).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for RelayHandle {
    /// Tells the relay to stop (a graceful shutdown nobody waits for). Without this, the dropped
    /// stop sender would make every wait of the relay return at once: a tight claim loop.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl<DB: Backend> Outbox<DB> {
    /// Starts a relay task on the current Tokio runtime.
    pub fn start_relay(&self, config: RelayConfig) -> Result<RelayHandle> {
        let client = config.client_config()?;
        let signer = config.build_signer()?;
        let producer = kafka::create(&client)?;
        let (stop, stop_rx) = watch::channel(false);
        let listener = if config.listen {
            DB::spawn_listener(&self.pool, self.wake.clone(), stop_rx.clone())
        } else {
            None
        };
        let stats = Arc::new(Stats {
            circuit: Some(watch::Sender::new(CircuitState::Closed)),
            ..Stats::default()
        });
        let nonce: String = uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .chars()
            .take(12)
            .collect();
        let token = format!("{}#{nonce}", config.relay_id);
        let config_rate_limit = config.rate_limit;
        let relay = Relay {
            outbox: self.clone(),
            token,
            config: Arc::new(config),
            client,
            producer,
            signer,
            stop: stop_rx,
            stats: stats.clone(),
            bucket: config_rate_limit.map(Bucket::new),
        };
        let task = tokio::spawn(relay.run());
        Ok(RelayHandle {
            stats,
            stop,
            task,
            listener,
        })
    }
}

struct Relay<DB: Backend> {
    outbox: Outbox<DB>,
    /// `claimed_by` value of this start of the relay.
    token: String,
    config: Arc<RelayConfig>,
    client: ClientConfig,
    producer: FutureProducer,
    /// The signer in force is taken per batch, at send time.
    signer: Option<SignerHandle>,
    stop: watch::Receiver<bool>,
    stats: Arc<Stats>,
    /// Tokens of the rate limit, if one is configured.
    bucket: Option<Bucket>,
}

enum Outcome {
    Acked,
    Failed(FailureClass, String),
}

/// A batch being settled by its own task.
struct InFlight {
    ids: Vec<i64>,
    task: JoinHandle<()>,
}

impl<DB: Backend> Relay<DB> {
    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Awaits the settling task of a batch. A panicked task is surfaced (error log, metric,
    /// stats) and its rows are released at once instead of staying claimed until the lease ends.
    async fn settle(&mut self, batch: InFlight) {
        let Err(e) = batch.task.await else {
            return;
        };
        let what = if e.is_panic() {
            "panicked"
        } else {
            "was cancelled"
        };
        tracing::error!(error = %e, rows = batch.ids.len(), relay = %self.token, "outbox batch settling {what}; releasing its rows");
        metrics::counter!(m::SETTLE_PANICS).increment(1);
        Stats::add(&self.stats.settle_panics, 1);
        let mut delay = self.config.database_backoff.initial();
        for _ in 0..5 {
            match DB::release_ids(&self.outbox.pool, &self.token, &batch.ids).await {
                Ok(n) => {
                    tracing::info!(released = n, "rows of the failed batch released");
                    return;
                }
                Err(e) => {
                    metrics::counter!(m::DATABASE_ERRORS, "operation" => "release").increment(1);
                    Stats::add(&self.stats.database_errors, 1);
                    tracing::warn!(error = %e, "releasing the failed batch's rows failed, retrying");
                    tokio::time::sleep(delay).await;
                    delay = self.config.database_backoff.after(delay);
                }
            }
        }
        tracing::warn!("rows of the failed batch not released; they expire with the lease");
    }

    /// Settles the oldest batch in flight, if any.
    async fn settle_oldest(&mut self, in_flight: &mut VecDeque<InFlight>) {
        if let Some(batch) = in_flight.pop_front() {
            self.settle(batch).await;
        }
    }

    /// Sleeps, returning early on shutdown.
    async fn pause(&mut self, d: Duration) {
        tokio::select! {
            _ = self.stop.changed() => {}
            () = tokio::time::sleep(d) => {}
        }
    }

    async fn run(mut self) -> Result<()> {
        let pool = self.outbox.pool.clone();
        let mut db_delay = self.config.database_backoff.initial();
        let mut last_gauges: Option<Instant> = None;
        tracing::info!(relay = %self.token, "outbox relay started");
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        while !self.stopping() {
            // At most `pipeline_depth` batches in flight: settle the oldest first.
            while in_flight.len()
                >= usize::try_from(self.config.pipeline_depth.max(1)).unwrap_or(usize::MAX)
            {
                self.settle_oldest(&mut in_flight).await;
                self.check_fatal().await;
            }
            let Some(limit) = self.claim_limit().await else {
                continue;
            };
            let claim_started = Instant::now();
            metrics::counter!(m::CLAIMS).increment(1);
            let claimed = DB::claim(&pool, &self.token, i64::from(limit), self.config.lease).await;
            tracing::trace!(elapsed = ?claim_started.elapsed(), "outbox claim");
            let rows = match claimed {
                Ok(rows) => {
                    db_delay = self.config.database_backoff.initial();
                    rows
                }
                Err(e) => {
                    tracing::warn!(error = %e, delay = ?db_delay, "outbox claim failed, backing off");
                    metrics::counter!(m::DATABASE_ERRORS, "operation" => "claim").increment(1);
                    Stats::add(&self.stats.database_errors, 1);
                    self.pause(db_delay).await;
                    db_delay = self.config.database_backoff.after(db_delay);
                    continue;
                }
            };
            if rows.is_empty() && !in_flight.is_empty() {
                // Nothing new (or only rows held back behind ours): settle before looking again.
                self.settle_oldest(&mut in_flight).await;
                self.check_fatal().await;
                continue;
            }
            if rows.is_empty() {
                if last_gauges.is_none_or(|t| t.elapsed() >= self.config.poll_interval) {
                    if let Err(e) = self.outbox.refresh_gauges().await {
                        tracing::debug!(error = %e, "outbox gauges not refreshed");
                    }
                    if let Some(signer) = &self.signer {
                        signer.update_metrics();
                    }
                    last_gauges = Some(Instant::now());
                }
                let wake = self.outbox.wake.clone();
                tokio::select! {
                    _ = self.stop.changed() => {}
                    () = wake.notified() => {}
                    () = tokio::time::sleep(self.config.poll_interval) => {}
                }
                continue;
            }
            if let Some(bucket) = &mut self.bucket {
                bucket.take(rows.len());
            }
            let span =
                tracing::info_span!("outbox relay batch", relay = %self.token, rows = rows.len());
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let (rows, signatures) = match &self.signer {
                None => (rows, None),
                Some(handle) => {
                    let (rows, signatures) = sign_batch(handle.current(), rows)
                        .instrument(span.clone())
                        .await;
                    (rows, Some(signatures))
                }
            };
            let settle = span.in_scope(|| self.produce(rows, signatures, claim_started));
            in_flight.push_back(InFlight {
                ids,
                task: tokio::spawn(settle.run().instrument(span)),
            });
            if self.producer.client().fatal_error().is_some() {
                // Settle what the failed producer had, then replace it.
                while !in_flight.is_empty() {
                    self.settle_oldest(&mut in_flight).await;
                }
                self.check_fatal().await;
            }
        }
        while !in_flight.is_empty() {
            self.settle_oldest(&mut in_flight).await;
        }
        self.check_fatal().await;
        // Graceful end: every batch in flight has been settled above.
        if let Err(e) = self.outbox.refresh_gauges().await {
            tracing::debug!(error = %e, "outbox gauges not refreshed");
        }
        for _ in 0..5 {
            match DB::release(&pool, &self.token).await {
                Ok(n) => {
                    tracing::info!(released = n, relay = %self.token, "outbox relay stopped");
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "releasing claims failed, retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        tracing::warn!("claims not released; they expire with the lease");
        Ok(())
    }

    /// Rows to claim now: the batch size, or with a rate limit the whole tokens available (at
    /// most the batch size). With fewer tokens than worth a claim (50 ms of the rate) it waits
    /// for them (returning early on shutdown) and returns `None`, so the loop checks for
    /// shutdown first.
    async fn claim_limit(&mut self) -> Option<u32> {
        let Some(bucket) = &mut self.bucket else {
            return Some(self.config.batch_size);
        };
        let available = bucket.available();
        let target = bucket.claim_target(self.config.batch_size);
        if available >= target {
            return Some(available.min(self.config.batch_size));
        }
        let wait = bucket.wait_for(target);
        Stats::add(&self.stats.rate_limit_waits, 1);
        metrics::counter!(m::RATE_LIMIT_WAITS).increment(1);
        self.pause(wait).await;
        None
    }

    /// After a fatal idempotent-producer error, replaces the producer (the rows it failed were
    /// marked for retry by their batches).
    async fn check_fatal(&mut self) {
        if let Some((code, reason)) = self.producer.client().fatal_error() {
            tracing::error!(?code, %reason, "fatal idempotent-producer error, rebuilding the producer");
            metrics::counter!(m::PRODUCER_REBUILDS).increment(1);
            Stats::add(&self.stats.producer_rebuilds, 1);
            self.rebuild_producer().await;
        }
    }

    async fn rebuild_producer(&mut self) {
        let mut delay = PRODUCER_REBUILD_BACKOFF.initial();
        loop {
            match kafka::create(&self.client) {
                Ok(p) => {
                    self.producer = p;
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot rebuild the producer, retrying");
                    tokio::time::sleep(delay).await;
                    delay = PRODUCER_REBUILD_BACKOFF.after(delay);
                }
            }
        }
    }

    /// Hands the whole batch to the producer (no waiting for acknowledgements). `claimed` is
    /// when the claim statement started: the lease runs from (at the latest) then.
    fn produce(
        &self,
        rows: Vec<ClaimedRow>,
        signatures: Option<Vec<SignResult>>,
        claimed: Instant,
    ) -> Settle<DB> {
        let started = Instant::now();
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(rows.len());
        let mut pending = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let headers = match decode_headers(row.id, &row.headers) {
                Ok(h) => h,
                Err(e) => {
                    outcomes.push(Some(Outcome::Failed(
                        FailureClass::Permanent,
                        e.to_string(),
                    )));
                    continue;
                }
            };
            let signature = match signatures.as_ref().map(|s| s.get(i)) {
                None => None,
                Some(Some(Ok(signature))) => Some(signature),
                Some(failed) => {
                    // Signing is configured: never send this row unsigned; retry it later.
                    let reason = match failed {
                        Some(Err(e)) => format!("signing the record failed: {e}"),
                        _ => "signing the record failed: no signature".to_owned(),
                    };
                    outcomes.push(Some(Outcome::Failed(FailureClass::Transient, reason)));
                    continue;
                }
            };
            let kh = record_headers(&headers, signature);
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&row.topic)
                .payload(&row.value[..])
                .headers(kh);
            if let Some(k) = &row.key {
                record = record.key(&k[..]);
            }
            match self.producer.send_result(record) {
                Ok(fut) => {
                    outcomes.push(None);
                    pending.push((i, fut));
                }
                Err((e, _)) => {
                    outcomes.push(Some(Outcome::Failed(kafka::classify(&e), e.to_string())));
                }
            }
        }
        Settle {
            pool: self.outbox.pool.clone(),
            token: self.token.clone(),
            claimed,
            config: self.config.clone(),
            stats: self.stats.clone(),
            producer: self.producer.clone(),
            produced: started.elapsed(),
            started,
            rows,
            outcomes,
            pending,
        }
    }
}

type SignResult = std::result::Result<RecordSignature, audit_signing::Error>;

/// Signs the batch off the async workers (RSA signing costs a fraction of a millisecond per
/// record), spread over the available cores; one result per row, in row order.
async fn sign_batch(
    signer: Arc<Signer>,
    rows: Vec<ClaimedRow>,
) -> (Vec<ClaimedRow>, Vec<SignResult>) {
    let n = rows.len();
    let shared = Arc::new(rows);
    let for_task = Arc::clone(&shared);
    let signed = tokio::task::spawn_blocking(move || sign_rows(&signer, &for_task)).await;
    let rows = Arc::try_unwrap(shared).unwrap_or_else(|arc| (*arc).clone());
    let signatures = signed.unwrap_or_else(|e| {
        tracing::error!(error = %e, "signing task failed");
        (0..n).map(|_| Err(audit_signing::Error::Sign)).collect()
    });
    (rows, signatures)
}

fn sign_rows(signer: &Signer, rows: &[ClaimedRow]) -> Vec<SignResult> {
    let sign = |row: &ClaimedRow| signer.sign_record(row.key.as_deref(), &row.value);
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    // Threads only pay off for more than a handful of signatures.
    let per_thread = rows.len().div_ceil(threads).max(8);
    if rows.len() <= per_thread {
        return rows.iter().map(sign).collect();
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || chunk.iter().map(sign).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err(audit_signing::Error::Sign)])
            })
            .collect()
    })
}

/// The Kafka headers of a relayed record: the stored headers, and with signing the jEAP
/// signature headers (stored headers of the same names are dropped, so the relay's are the only
/// ones).
pub(crate) fn record_headers(
    stored: &[(String, Vec<u8>)],
    signature: Option<&RecordSignature>,
) -> OwnedHeaders {
    let signature_headers = [
        audit_signing::VALUE_SIGNATURE_HEADER,
        audit_signing::KEY_SIGNATURE_HEADER,
        audit_signing::CERTIFICATE_HEADER,
    ];
    let mut kh = OwnedHeaders::new_with_capacity(stored.len() + 3);
    for (name, value) in stored {
        if signature.is_some() && signature_headers.contains(&name.as_str()) {
            continue;
        }
        kh = kh.insert(Header {
            key: name,
            value: Some(value),
        });
    }
    if let Some(signature) = signature {
        for (name, value) in signature.headers() {
            kh = kh.insert(Header {
                key: name,
                value: Some(value),
            });
        }
    }
    kh
}

/// A produced batch: awaits its delivery reports and marks its rows (runs as its own task, so the
/// relay can claim and produce the next batch meanwhile).
struct Settle<DB: Backend> {
    pool: sqlx::Pool<DB>,
    /// The claim token the rows are held with.
    token: String,
    /// When the claim statement started.
    claimed: Instant,
    config: Arc<RelayConfig>,
    stats: Arc<Stats>,
    producer: FutureProducer,
    started: Instant,
    produced: Duration,
    rows: Vec<ClaimedRow>,
    outcomes: Vec<Option<Outcome>>,
    pending: Vec<(usize, DeliveryFuture)>,
}

impl<DB: Backend> Settle<DB> {
    async fn run(self) {
        let Settle {
            pool,
            token,
            claimed,
            config,
            stats,
            producer,
            started,
            produced,
            rows,
            mut outcomes,
            pending,
        } = self;
        let this = SettleCtx {
            config,
            producer,
            stats: stats.clone(),
        };
        let mut pending: FuturesUnordered<_> = pending
            .into_iter()
            .map(|(i, fut)| async move { (i, fut.await) })
            .collect();
        let commit_to_ack = metrics::histogram!(m::COMMIT_TO_ACK);
        // transient failures reported by the broker path (not signing), for the circuit state
        let mut broker_failures = 0u64;
        while let Some((i, result)) = pending.next().await {
            let outcome = match result {
                Ok(Ok(_delivery)) => {
                    if let Some(row) = rows.get(i) {
                        // a clock step back (negative age) records 0
                        let secs = (Utc::now() - row.enqueued_at)
                            .to_std()
                            .map_or(0.0, |age| age.as_secs_f64());
                        commit_to_ack.record(secs);
                    }
                    Outcome::Acked
                }
                Ok(Err((e, _))) => {
                    let class = kafka::classify(&e);
                    if class == FailureClass::Transient {
                        broker_failures += 1;
                    }
                    Outcome::Failed(class, e.to_string())
                }
                Err(_canceled) => Outcome::Failed(
                    FailureClass::Transient,
                    "delivery report lost (producer closed)".into(),
                ),
            };
            if let Some(slot) = outcomes.get_mut(i) {
                *slot = Some(outcome);
            }
        }
        this.recheck_unknown_topics(&rows, &mut outcomes).await;
        let mut acked = Vec::with_capacity(rows.len());
        let mut retry: HashMap<i32, (Vec<i64>, String)> = HashMap::new();
        let mut permanent = Vec::new();
        for (row, outcome) in rows.iter().zip(outcomes) {
            match outcome {
                Some(Outcome::Acked) => acked.push(row.id),
                Some(Outcome::Failed(FailureClass::Permanent, reason)) => {
                    permanent.push((row.id, reason))
                }
                Some(Outcome::Failed(FailureClass::Transient, reason)) => {
                    let e = retry
                        .entry(row.attempts)
                        .or_insert_with(|| (Vec::new(), reason));
                    e.0.push(row.id);
                }
                None => {
                    let e = retry
                        .entry(row.attempts)
                        .or_insert_with(|| (Vec::new(), "no delivery report".into()));
                    e.0.push(row.id);
                }
            }
        }
        if !acked.is_empty() {
            stats.set_circuit(false);
        } else if broker_failures > 0 {
            stats.set_circuit(true);
        }
        let acks_done = started.elapsed();
        // The claim is ours until `claimed + lease` (the database's clock started it a little
        // later); a margin keeps a statement from racing the expiry.
        let margin =
            (this.config.lease / 10).clamp(Duration::from_millis(100), Duration::from_secs(1));
        let deadline = claimed + this.config.lease.saturating_sub(margin);
        if !acked.is_empty() {
            let changed = this
                .retry_db("mark sent", deadline, acked.len(), || {
                    DB::mark_sent(&pool, &token, &acked)
                })
                .await;
            metrics::counter!(m::DELIVERED).increment(changed);
            Stats::add(&stats.delivered, changed);
        }
        for (id, reason) in &permanent {
            tracing::warn!(id, %reason, "outbox row failed permanently");
            metrics::counter!(m::DELIVERY_FAILURES, "class" => "permanent").increment(1);
            let changed = this
                .retry_db("mark failed", deadline, 1, || {
                    DB::mark_failed(&pool, &token, *id, reason)
                })
                .await;
            Stats::add(&stats.permanent_failures, changed);
        }
        for (attempts, (ids, reason)) in &retry {
            let delay = this.config.retry_delay(*attempts);
            tracing::info!(rows = ids.len(), attempts, ?delay, %reason, "outbox delivery failed transiently, backing off");
            metrics::counter!(m::DELIVERY_FAILURES, "class" => "transient")
                .increment(ids.len() as u64);
            Stats::add(&stats.transient_failures, ids.len() as u64);
            this.retry_db("mark retry", deadline, ids.len(), || {
                DB::mark_retry(&pool, &token, ids, delay, reason)
            })
            .await;
        }
        tracing::debug!(
            rows = rows.len(),
            produce = ?produced,
            acks = ?acks_done.saturating_sub(produced),
            mark = ?started.elapsed().saturating_sub(acks_done),
            "outbox batch settled"
        );
        metrics::histogram!(m::BATCH_DURATION).record(started.elapsed().as_secs_f64());
        Stats::add(&stats.batches, 1);
    }
}

/// What the settling of a batch needs besides its rows.
struct SettleCtx {
    config: Arc<RelayConfig>,
    producer: FutureProducer,
    stats: Arc<Stats>,
}

impl SettleCtx {
    /// librdkafka caches "topic does not exist" until its next metadata refresh; a topic created
    /// since (e.g. before an operator's resend) would fail again. For rows failed as unknown
    /// topic, ask the broker once more: if the topic exists now, the failure is transient.
    async fn recheck_unknown_topics(&self, rows: &[ClaimedRow], outcomes: &mut [Option<Outcome>]) {
        let mut topics: Vec<String> = Vec::new();
        for (row, outcome) in rows.iter().zip(outcomes.iter()) {
            if let Some(Outcome::Failed(FailureClass::Permanent, reason)) = outcome
                && is_unknown_topic(reason)
                && !topics.contains(&row.topic)
            {
                topics.push(row.topic.clone());
            }
        }
        for topic in topics {
            let producer = self.producer.clone();
            let t = topic.clone();
            let exists = tokio::task::spawn_blocking(move || {
                producer
                    .client()
                    .fetch_metadata(Some(&t), Duration::from_secs(5))
                    .map(|md| {
                        md.topics().iter().any(|mt| {
                            mt.name() == t && mt.error().is_none() && !mt.partitions().is_empty()
                        })
                    })
                    .unwrap_or(false)
            })
            .await
            .unwrap_or(false);
            if !exists {
                continue;
            }
            for (row, outcome) in rows.iter().zip(outcomes.iter_mut()) {
                if row.topic == topic
                    && let Some(Outcome::Failed(class @ FailureClass::Permanent, reason)) = outcome
                    && is_unknown_topic(reason)
                {
                    *class = FailureClass::Transient;
                }
            }
        }
    }

    /// Runs a status change of `rows` rows (conditional on this relay's claim token) until it
    /// succeeds or `deadline` (the end of the lease) passes, and returns how many rows it changed.
    /// No statement is started after the deadline: the rows then belong to the next claim.
    /// Rows the statement did not change were claimed by another relay meanwhile; both kinds of
    /// lost claims are counted.
    async fn retry_db<F, Fut>(
        &self,
        op: &'static str,
        deadline: Instant,
        rows: usize,
        mut f: F,
    ) -> u64
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<u64, sqlx::Error>>,
    {
        let rows = rows as u64;
        let mut delay = self.config.database_backoff.initial();
        loop {
            if Instant::now() >= deadline {
                tracing::warn!(
                    op,
                    rows,
                    "the relay's lease ran out before the outbox update; the rows will be claimed again"
                );
                metrics::counter!(m::CLAIMS_LOST, "reason" => "lease_expired").increment(rows);
                Stats::add(&self.stats.lease_expired_skips, rows);
                return 0;
            }
            match f().await {
                Ok(changed) => {
                    Stats::add(&self.stats.rows_changed, changed);
                    let lost = rows.saturating_sub(changed);
                    if lost > 0 {
                        tracing::warn!(
                            op,
                            rows,
                            lost,
                            "outbox rows claimed by another relay meanwhile; not changed"
                        );
                        metrics::counter!(m::CLAIMS_LOST, "reason" => "taken_over").increment(lost);
                        Stats::add(&self.stats.claims_taken_over, lost);
                    }
                    return changed;
                }
                Err(e) => {
                    metrics::counter!(m::DATABASE_ERRORS, "operation" => op).increment(1);
                    Stats::add(&self.stats.database_errors, 1);
                    if Instant::now() + delay >= deadline {
                        tracing::error!(error = %e, op, "outbox update failed until the lease end; the rows will be claimed again");
                        metrics::counter!(m::CLAIMS_LOST, "reason" => "lease_expired")
                            .increment(rows);
                        Stats::add(&self.stats.lease_expired_skips, rows);
                        return 0;
                    }
                    tracing::warn!(error = %e, op, ?delay, "outbox update failed, retrying");
                    tokio::time::sleep(delay).await;
                    delay = self.config.database_backoff.after(delay);
                }
            }
        }
    }
}

fn is_unknown_topic(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("unknown topic")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_backoff_is_capped_exponential() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1))
            .unwrap_or_else(|e| unreachable!("{e}"));
        let c = RelayConfig::new("127.0.0.1:9092").backoff(backoff);
        assert_eq!(c.retry_delay(-1), Duration::from_millis(100));
        assert_eq!(c.retry_delay(0), Duration::from_millis(100));
        assert_eq!(c.retry_delay(1), Duration::from_millis(200));
        assert_eq!(c.retry_delay(3), Duration::from_millis(800));
        assert_eq!(c.retry_delay(4), Duration::from_secs(1));
        assert_eq!(c.retry_delay(1000), Duration::from_secs(1));
    }

    #[test]
    fn config_is_validated() {
        let c = RelayConfig::new("127.0.0.1:9092");
        assert!(c.validate().is_ok());
        let c = c.lease(Duration::from_secs(30));
        assert!(c.validate().is_err(), "lease = delivery timeout");
        // the effective producer configuration counts: a property cannot bypass the rule
        for name in ["message.timeout.ms", "delivery.timeout.ms"] {
            let c = RelayConfig::new("127.0.0.1:9092").producer_property(name, "600000");
            let e = c
                .validate()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(name) && e.contains("lease"), "{name}: {e}");
            let c = RelayConfig::new("127.0.0.1:9092").producer_property(name, "0");
            assert!(c.validate().is_err(), "{name} = 0 (infinite)");
            let c = RelayConfig::new("127.0.0.1:9092").producer_property(name, "soon");
            assert!(c.validate().is_err(), "{name} not a number");
            let c = RelayConfig::new("127.0.0.1:9092").producer_property(name, "10000");
            assert!(c.validate().is_ok(), "{name} shorter than the lease");
        }
        assert!(RelayConfig::new(" ").validate().is_err());
        assert!(RelayConfig::new("x:1").batch_size(0).validate().is_err());
        assert!(
            RelayConfig::new("x:1")
                .pipeline_depth(0)
                .validate()
                .is_err()
        );
        assert!(
            RelayConfig::new("x:1")
                .poll_interval(Duration::ZERO)
                .validate()
                .is_err()
        );
    }
}
