//! The one wall clock of the product, injectable for tests.
//!
//! Planning, the daily budget and maintenance pauses need wall-clock time
//! (a date in the operation's zone), which `tokio::time::pause` does not
//! move. A [`Clock`] is either the system clock or a clock that starts at a
//! given instant and then follows tokio's clock, so a test that pauses
//! tokio time moves the wall clock with it and never sleeps for real.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tokio::time::Instant;

/// A wall clock.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
enum Inner {
    System,
    /// `base` at tokio instant `at`, advancing with tokio's clock.
    Tokio {
        base: Timestamp,
        at: Instant,
    },
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock { inner: Arc::new(Inner::System) }
    }

    /// A clock that reads `start` now and then advances with tokio's clock
    /// (paused or not).
    pub fn starting_at(start: Timestamp) -> Clock {
        Clock { inner: Arc::new(Inner::Tokio { base: start, at: Instant::now() }) }
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        match &*self.inner {
            Inner::System => Timestamp::now(),
            Inner::Tokio { base, at } => {
                let elapsed = SignedDuration::try_from(at.elapsed()).unwrap_or(SignedDuration::MAX);
                base.saturating_add(elapsed).unwrap_or(*base)
            }
        }
    }

    /// Sleeps until `when` on this clock (at once when it has passed).
    pub async fn sleep_until(&self, when: Timestamp) {
        let left = when.duration_since(self.now());
        if let Ok(left) = std::time::Duration::try_from(left) {
            tokio::time::sleep(left).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let start: Timestamp = "2026-03-08T06:00:00Z".parse().unwrap();
        let clock = Clock::starting_at(start);
        tokio::time::sleep(std::time::Duration::from_secs(3_600)).await;
        assert_eq!(clock.now().to_string(), "2026-03-08T07:00:00Z");
        clock.sleep_until("2026-03-08T07:30:00Z".parse().unwrap()).await;
        assert_eq!(clock.now().to_string(), "2026-03-08T07:30:00Z");
    }
}
