//! Telling systemd how the daemon is doing (`Type=notify`).
//!
//! READY=1 once the jobs are loaded and scheduling starts, STATUS= a
//! one-line summary, WATCHDOG=1 from the event loop at half the watchdog
//! interval, STOPPING=1 when the drain starts. Everything is a no-op
//! unless systemd (or a test) set `NOTIFY_SOCKET`. What the summary says is
//! the event loop's business.

use std::time::Duration;

use sd_notify::NotifyState;

/// Sends notifications when the process runs under a notify socket.
#[derive(Clone, Debug)]
pub struct Notifier {
    enabled: bool,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET` and `WATCHDOG_USEC` from the environment.
    pub fn from_env() -> Notifier {
        let enabled = std::env::var_os("NOTIFY_SOCKET").is_some();
        let watchdog = if enabled { sd_notify::watchdog_enabled() } else { None };
        Notifier { enabled, watchdog }
    }

    /// A notifier that sends nothing (the demo, in-process tests).
    pub fn disabled() -> Notifier {
        Notifier { enabled: false, watchdog: None }
    }

    /// How often to send WATCHDOG=1: half the interval systemd expects.
    pub fn watchdog_period(&self) -> Option<Duration> {
        self.watchdog.map(|d| (d / 2).max(Duration::from_millis(1)))
    }

    /// READY=1 with a first status.
    pub fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// STATUS=<line>.
    pub fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    /// WATCHDOG=1.
    pub fn watchdog(&self) {
        self.send(&[NotifyState::Watchdog]);
    }

    /// STOPPING=1 with a status.
    pub fn stopping(&self, status: &str) {
        self.send(&[NotifyState::Stopping, NotifyState::Status(status)]);
    }

    fn send(&self, states: &[NotifyState]) {
        if !self.enabled {
            return;
        }
        if let Err(e) = sd_notify::notify(states) {
            tracing::warn!(error = %e, "notifying systemd failed");
        }
    }
}
