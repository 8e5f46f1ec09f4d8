//! The injectable clock that stamps `identity.created`.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

/// A source of "now" for `identity.created`. Any `Fn() -> DateTime<Utc> + Send + Sync` is a clock.
///
/// ```
/// use audit_builder::Clock;
/// use chrono::{DateTime, Utc};
/// let fixed = || DateTime::<Utc>::UNIX_EPOCH;
/// assert_eq!(fixed.now(), DateTime::<Utc>::UNIX_EPOCH);
/// ```
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

impl<F> Clock for F
where
    F: Fn() -> DateTime<Utc> + Send + Sync,
{
    fn now(&self) -> DateTime<Utc> {
        self()
    }
}

/// The system clock ([`Utc::now`]), the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The clock a builder or factory holds: the system clock without allocation, or a shared custom one.
#[derive(Clone, Default)]
pub(crate) enum ClockRef {
    #[default]
    System,
    Custom(Arc<dyn Clock>),
}

impl ClockRef {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Custom(clock) => clock.now(),
        }
    }
}

impl fmt::Debug for ClockRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::System => f.write_str("SystemClock"),
            Self::Custom(_) => f.write_str("CustomClock"),
        }
    }
}
