//! The simulator's clock.
//!
//! Everything the simulator decides by wall time (which rows exist yet,
//! maintenance windows, the budget's day) reads a [`SimClock`], so tests can
//! drive days and windows without sleeping. Waits inside a response
//! (latency faults) use tokio time instead, which tests pause on their own.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use jiff::{SignedDuration, Timestamp};

/// A shared, cloneable clock: real time, or a fixed instant that tests set
/// and advance. Clones see the same time.
#[derive(Clone, Debug)]
pub struct SimClock {
    inner: Arc<Mutex<Mode>>,
}

#[derive(Clone, Debug)]
enum Mode {
    /// Another clock (the engine's, in tests that pause tokio time) plus
    /// an offset that [`SimClock::advance`] grows.
    Follow { clock: crate::clock::Clock, offset: SignedDuration },
    /// The system clock plus an offset that [`SimClock::advance`] grows.
    Real { offset: SignedDuration },
    /// A time that moves only when told to.
    Fixed(Timestamp),
}

impl SimClock {
    /// A clock that follows the system clock.
    pub fn real() -> SimClock {
        SimClock::with_mode(Mode::Real { offset: SignedDuration::ZERO })
    }

    /// A clock stopped at `at`.
    pub fn fixed(at: Timestamp) -> SimClock {
        SimClock::with_mode(Mode::Fixed(at))
    }

    /// A clock that reads `clock`, so a test that drives the product's
    /// clock (tokio's paused time) drives the simulator with it.
    pub fn following(clock: crate::clock::Clock) -> SimClock {
        SimClock::with_mode(Mode::Follow { clock, offset: SignedDuration::ZERO })
    }

    fn with_mode(mode: Mode) -> SimClock {
        SimClock { inner: Arc::new(Mutex::new(mode)) }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match &*self.lock() {
            Mode::Real { offset } => {
                Timestamp::now().saturating_add(*offset).unwrap_or(Timestamp::MAX)
            }
            Mode::Follow { clock, offset } => {
                clock.now().saturating_add(*offset).unwrap_or(Timestamp::MAX)
            }
            Mode::Fixed(at) => *at,
        }
    }

    /// Stops the clock at `at` (a real clock becomes a fixed one).
    pub fn set(&self, at: Timestamp) {
        *self.lock() = Mode::Fixed(at);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX);
        let mut mode = self.lock();
        *mode = match &*mode {
            Mode::Real { offset } => Mode::Real { offset: offset.saturating_add(by) },
            Mode::Follow { clock, offset } => {
                Mode::Follow { clock: clock.clone(), offset: offset.saturating_add(by) }
            }
            Mode::Fixed(at) => Mode::Fixed(at.saturating_add(by).unwrap_or(Timestamp::MAX)),
        };
    }

    /// Whether the clock only moves when told to.
    pub fn is_fixed(&self) -> bool {
        matches!(*self.lock(), Mode::Fixed(_))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Mode> {
        // The guarded value is a plain copyable enum, so a panic elsewhere
        // cannot leave it half-written.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for SimClock {
    fn default() -> SimClock {
        SimClock::real()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let at: Timestamp = "2026-12-01T05:00:00Z".parse().unwrap();
        let clock = SimClock::fixed(at);
        let other = clock.clone();
        assert_eq!(clock.now(), at);
        other.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), "2026-12-01T05:01:30Z".parse::<Timestamp>().unwrap());
        clock.set(at);
        assert_eq!(other.now(), at);
    }

    #[test]
    fn real_clock_can_be_advanced() {
        let clock = SimClock::real();
        let before = Timestamp::now();
        clock.advance(Duration::from_secs(86_400));
        assert!(clock.now() >= before + SignedDuration::from_hours(24));
        assert!(!clock.is_fixed());
    }
}
