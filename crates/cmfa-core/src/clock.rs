//! Time as an input: every expiry and time-step check reads a [`Clock`], never the OS directly.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Seconds since the Unix epoch, with sub-second precision (AWS timestamps are fractional).
    fn now(&self) -> f64;

    /// `now()` to the millisecond, as AWS stamps CreationDate and LastModifiedDate. A value
    /// with fewer digits also survives every JSON round trip unchanged.
    fn now_millis(&self) -> f64 {
        (self.now() * 1000.0).round() / 1000.0
    }
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    }
}

/// A clock tests set and advance by hand.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Default)]
pub struct FixedClock(std::sync::Mutex<f64>);

#[cfg(any(test, feature = "testing"))]
impl FixedClock {
    /// A clock stopped at `t` (Unix seconds).
    pub fn at(t: f64) -> Self {
        FixedClock(std::sync::Mutex::new(t))
    }
    /// Moves the clock forward by `secs`.
    pub fn advance(&self, secs: f64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += secs;
    }
}

#[cfg(any(test, feature = "testing"))]
impl Clock for FixedClock {
    fn now(&self) -> f64 {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
