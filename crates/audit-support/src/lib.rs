//! The small vocabulary the runtime crates (`audit-outbox`, `audit-consumer`, `audit-registry`,
//! `audit-cli`) share, written once: capped exponential [`Backoff`], redaction of secret client
//! properties ([`is_secret`], [`redact`]), header names ([`TRACEPARENT_HEADER`]) and [`BoxError`].
//! No dependencies beyond `std` and `thiserror`.
//!
//! # Quick start
//!
//! ```
//! use std::time::Duration;
//! use audit_support::{Backoff, redact};
//!
//! let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1))?;
//! assert_eq!(backoff.delay(0), Duration::from_millis(100)); // first retry
//! assert_eq!(backoff.delay(3), Duration::from_millis(800));
//! assert_eq!(backoff.delay(4), Duration::from_secs(1)); // capped
//! assert_eq!(backoff.after(Duration::from_millis(700)), Duration::from_secs(1));
//!
//! assert_eq!(redact("sasl.password", "hunter2"), "<redacted>");
//! assert_eq!(redact("sasl.username", "relay"), "relay");
//! # Ok::<(), audit_support::InvalidBackoff>(())
//! ```

use std::time::Duration;

/// A boxed error that can cross threads: the source type of handler and provider failures.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The W3C trace-context header (`traceparent`) that carries the producer's trace into Kafka
/// record headers.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// Capped exponential back-off: `initial * 2^attempt`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
}

/// A [`Backoff`] whose bounds are not `0 < initial <= max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("back-off: 0 < initial <= max required (initial {initial:?}, max {max:?})")]
pub struct InvalidBackoff {
    /// the initial delay given
    pub initial: Duration,
    /// the cap given
    pub max: Duration,
}

impl Backoff {
    /// A back-off from `initial` doubling up to `max`.
    ///
    /// # Errors
    /// [`InvalidBackoff`] unless `0 < initial <= max`.
    pub const fn new(initial: Duration, max: Duration) -> Result<Self, InvalidBackoff> {
        if initial.is_zero() || max.as_nanos() < initial.as_nanos() {
            return Err(InvalidBackoff { initial, max });
        }
        Ok(Self { initial, max })
    }

    /// The first delay.
    #[must_use]
    pub const fn initial(&self) -> Duration {
        self.initial
    }

    /// The cap.
    #[must_use]
    pub const fn max(&self) -> Duration {
        self.max
    }

    /// The delay after `attempt` earlier failures: `initial * 2^attempt`, capped at `max`
    /// (`delay(0) == initial`; never overflows).
    #[must_use]
    pub fn delay(&self, attempt: u32) -> Duration {
        self.initial
            .checked_mul(1u32 << attempt.min(31))
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The delay following `previous`: twice it, kept within `initial..=max` (for loops that
    /// keep the current delay instead of counting attempts).
    #[must_use]
    pub fn after(&self, previous: Duration) -> Duration {
        previous.saturating_mul(2).clamp(self.initial, self.max)
    }
}

/// `n` as `f64` for gauges and rates (the `metrics` facade takes `f64`): exact up to 2^53, the
/// nearest `f64` above. The workspace's one such conversion.
///
/// ```
/// assert_eq!(audit_support::count_to_f64(1_000), 1_000.0);
/// ```
#[must_use]
#[allow(clippy::cast_precision_loss)] // documented: counts beyond 2^53 are rounded
pub fn count_to_f64(n: u64) -> f64 {
    n as f64
}

/// Printed instead of a secret property's value.
pub const REDACTED: &str = "<redacted>";

/// Whether a client property (librdkafka, registry) holds a secret whose value must never be
/// printed: passwords (`sasl.password`, `ssl.key.password`, `ssl.keystore.password`, ...), client
/// secrets (`sasl.oauthbearer.client.secret`), JAAS and OAUTHBEARER configurations, private keys
/// (`ssl.key.pem`), keystores, tokens and credentials. Case-insensitive.
///
/// ```
/// assert!(audit_support::is_secret("SASL.PASSWORD"));
/// assert!(audit_support::is_secret("sasl.oauthbearer.config"));
/// assert!(!audit_support::is_secret("security.protocol"));
/// ```
#[must_use]
pub fn is_secret(key: &str) -> bool {
    const MARKERS: &[&str] = &[
        "password",
        "secret",
        "jaas",
        "token",
        "oauthbearer.config",
        "ssl.key.pem",
        "ssl_key",
        "private",
        "keystore",
        "credential",
    ];
    let key = key.to_ascii_lowercase();
    MARKERS.iter().any(|marker| key.contains(marker))
}

/// The value to show for property `key`: [`REDACTED`] for secrets ([`is_secret`]), the value
/// itself otherwise.
#[must_use]
pub fn redact<'a>(key: &str, value: &'a str) -> &'a str {
    if is_secret(key) { REDACTED } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_without_overflow() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1))
            .unwrap_or_else(|e| unreachable!("{e}"));
        let delays: Vec<_> = (0..6).map(|a| b.delay(a).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(1));
        let huge = Backoff::new(Duration::from_secs(u64::MAX / 4), Duration::MAX)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(huge.delay(40), Duration::MAX);
        assert_eq!(b.after(Duration::ZERO), Duration::from_millis(100));
        assert_eq!(
            b.after(Duration::from_millis(300)),
            Duration::from_millis(600)
        );
        assert_eq!(b.after(Duration::MAX), Duration::from_secs(1));
    }

    #[test]
    fn backoff_bounds_are_checked() {
        assert!(Backoff::new(Duration::ZERO, Duration::from_secs(1)).is_err());
        assert!(Backoff::new(Duration::from_secs(2), Duration::from_secs(1)).is_err());
        assert!(Backoff::new(Duration::from_secs(1), Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn secrets_of_both_clients_are_redacted() {
        for key in [
            "sasl.password",
            "ssl.key.password",
            "ssl.keystore.password",
            "ssl.key.pem",
            "sasl.oauthbearer.client.secret",
            "sasl.oauthbearer.config",
            "sasl.jaas.config",
            "basic.auth.user.info.token",
            "ssl.keystore.location",
            "ssl_key",
            "private.key",
            "aws.credentials",
        ] {
            assert_eq!(redact(key, "v"), REDACTED, "{key}");
        }
        for key in [
            "bootstrap.servers",
            "sasl.username",
            "security.protocol",
            "ssl.ca.location",
        ] {
            assert_eq!(redact(key, "v"), "v", "{key}");
        }
    }
}
