//! Keeping an operation inside the API's limits.
//!
//! One [`Pacer`] per operation decides when a request may be sent:
//!
//! 1. Maintenance: while the operation is paused (state: `pauses`), no
//!    request goes out except one probe at a time, across processes (a file
//!    lock), at the pause's next probe time, with exponential backoff and
//!    jitter up to a cap. The pause is in the state database, so a restart
//!    keeps waiting.
//! 2. In-flight slots: at most `max_in_flight` (≤ 2) requests per token, on
//!    the whole host: each slot is an OS file lock in the state folder, so a
//!    crash releases it.
//! 3. Budget: a call is recorded in the durable ledger before it is sent;
//!    when the API day's budget minus the reserve is spent, work waits for
//!    the next API day.
//!
//! The pacer does not retry or classify: callers report each answer's
//! [`Outcome`] back through [`Permit::finish`].

use std::{
    fs::File,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use jiff::{Timestamp, ToSpan, civil, tz::TimeZone};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::{
    api::envelope::Outcome,
    clock::Clock,
    state::{Pause, State, StateError},
};

/// How long the in-flight limit stays at 1 after the API said another
/// consumer shares the token.
const SHARED_TOKEN_COOLDOWN: Duration = Duration::from_secs(300);

/// How often a waiting task looks again for a free slot or probe turn.
const POLL: Duration = Duration::from_millis(25);

/// The limits of one operation.
#[derive(Clone, Debug)]
pub struct PacerConfig {
    pub operation: String,
    /// A short hash of the token: slots are per token.
    pub token_key: String,
    /// licenses × 1000.
    pub daily_budget: u64,
    /// Calls left to other consumers of the operation.
    pub reserve: u64,
    pub tz: TimeZone,
    /// The hour (in `tz`) at which the API day rolls over.
    pub rollover_hour: i8,
    pub max_in_flight: usize,
    /// The first wait before probing a maintenance window.
    pub probe_initial: Duration,
    /// The longest wait between probes.
    pub probe_max: Duration,
    /// When the day's budget is spent: wait for the next API day (the
    /// daemon), or stop with [`PacerError::BudgetSpent`] (a manual run).
    pub wait_for_budget: bool,
}

/// Why a request could not be admitted.
#[derive(Debug, thiserror::Error)]
pub enum PacerError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("lock file {path}: {source}")]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cancelled")]
    Cancelled,
    #[error("the daily budget of operation `{operation}` is spent; it renews at {renews}")]
    BudgetSpent { operation: String, renews: String },
}

/// What the pacer spent waiting, for run summaries.
#[derive(Clone, Copy, Debug, Default)]
pub struct Waited {
    pub maintenance: Duration,
    pub budget: Duration,
}

/// The per-operation gate.
#[derive(Debug)]
pub struct Pacer {
    cfg: PacerConfig,
    state: State,
    clock: Clock,
    lock_dir: PathBuf,
    local: Arc<Semaphore>,
    shared_until: Mutex<Option<Timestamp>>,
}

/// The right to send one request. Dropping it frees the slot.
#[derive(Debug)]
pub struct Permit<'a> {
    pacer: &'a Pacer,
    probe: Option<File>,
    _slot: File,
    _local: OwnedSemaphorePermit,
    /// The ledger's count for the day, this call included.
    pub calls_today: u64,
    pub waited: Waited,
}

impl Pacer {
    pub fn new(cfg: PacerConfig, state: State, clock: Clock, lock_dir: &Path) -> Pacer {
        let local = Arc::new(Semaphore::new(cfg.max_in_flight.clamp(1, 2)));
        Pacer {
            cfg,
            state,
            clock,
            lock_dir: lock_dir.to_path_buf(),
            local,
            shared_until: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &PacerConfig {
        &self.cfg
    }

    /// The calls the pacer may spend per API day.
    pub fn limit(&self) -> u64 {
        self.cfg.daily_budget.saturating_sub(self.cfg.reserve)
    }

    /// The API day `now` falls in.
    pub fn api_day(&self, now: Timestamp) -> civil::Date {
        let shifted =
            now.to_zoned(self.cfg.tz.clone()).datetime() - (self.cfg.rollover_hour as i64).hours();
        shifted.date()
    }

    /// When the API day after `day` starts.
    pub fn day_start(&self, day: civil::Date) -> Timestamp {
        let start = day.at(self.cfg.rollover_hour, 0, 0, 0);
        match start.to_zoned(self.cfg.tz.clone()) {
            Ok(z) => z.timestamp(),
            Err(_) => Timestamp::MAX,
        }
    }

    /// Takes the host-wide lock of one job, so two processes never run the
    /// same job at once; `None` when another holds it. Released on drop.
    pub fn lock_job(&self, job: &str) -> Result<Option<File>, PacerError> {
        try_lock(&self.lock_dir.join(format!("job-{job}.lock")))
    }

    /// Calls spent today according to the ledger.
    pub fn calls_today(&self) -> Result<u64, StateError> {
        let day = self.api_day(self.clock.now());
        self.state.calls(&self.cfg.operation, &day.to_string())
    }

    /// The current maintenance pause.
    pub fn pause(&self) -> Result<Option<Pause>, StateError> {
        self.state.pause(&self.cfg.operation)
    }

    /// Waits until a request may be sent: out of maintenance (or this is
    /// the probe), a free slot, and budget left (recorded as spent).
    pub async fn acquire(&self, cancel: &CancellationToken) -> Result<Permit<'_>, PacerError> {
        let mut waited = Waited::default();
        loop {
            let probe = self.wait_maintenance(cancel, &mut waited).await?;
            let local = self.local_permit(cancel).await?;
            let slot = self.slot(cancel).await?;
            let now = self.clock.now();
            let day = self.api_day(now);
            let reserved =
                self.state.reserve_call(&self.cfg.operation, &day.to_string(), self.limit())?;
            if let Some(calls_today) = reserved {
                return Ok(Permit {
                    pacer: self,
                    probe,
                    _slot: slot,
                    _local: local,
                    calls_today,
                    waited,
                });
            }
            drop((slot, local, probe));
            let next_day = self.day_start(day.tomorrow().unwrap_or(day));
            let renews =
                next_day.to_zoned(self.cfg.tz.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string();
            if !self.cfg.wait_for_budget {
                return Err(PacerError::BudgetSpent {
                    operation: self.cfg.operation.clone(),
                    renews,
                });
            }
            tracing::warn!(operation = %self.cfg.operation, until = %renews, "daily budget spent, waiting");
            let before = self.clock.now();
            self.sleep_until(next_day, cancel).await?;
            waited.budget += to_std(self.clock.now().duration_since(before));
        }
    }

    /// Returns the probe lock when this request is the maintenance probe.
    async fn wait_maintenance(
        &self,
        cancel: &CancellationToken,
        waited: &mut Waited,
    ) -> Result<Option<File>, PacerError> {
        loop {
            let Some(pause) = self.state.pause(&self.cfg.operation)? else { return Ok(None) };
            let now = self.clock.now();
            if now < pause.next_probe {
                self.sleep_until(pause.next_probe, cancel).await?;
                waited.maintenance += to_std(self.clock.now().duration_since(now));
                continue;
            }
            let path = self.lock_dir.join(format!("probe-{}.lock", self.cfg.operation));
            if let Some(lock) = try_lock(&path)? {
                // Another process may have probed and moved the pause on
                // between our read and the lock.
                match self.state.pause(&self.cfg.operation)? {
                    Some(p) if self.clock.now() >= p.next_probe => return Ok(Some(lock)),
                    _ => continue,
                }
            }
            self.sleep(POLL, cancel).await?;
            waited.maintenance += POLL;
        }
    }

    async fn local_permit(
        &self,
        cancel: &CancellationToken,
    ) -> Result<OwnedSemaphorePermit, PacerError> {
        tokio::select! {
            permit = self.local.clone().acquire_owned() => permit.map_err(|_| PacerError::Cancelled),
            () = cancel.cancelled() => Err(PacerError::Cancelled),
        }
    }

    /// Takes one of the token's host-wide slots.
    async fn slot(&self, cancel: &CancellationToken) -> Result<File, PacerError> {
        loop {
            for i in 0..self.slots_now() {
                let path = self.lock_dir.join(format!("slot-{}-{i}.lock", self.cfg.token_key));
                if let Some(lock) = try_lock(&path)? {
                    return Ok(lock);
                }
            }
            self.sleep(POLL, cancel).await?;
        }
    }

    fn slots_now(&self) -> usize {
        let until = *self.shared_until.lock().unwrap_or_else(|p| p.into_inner());
        match until {
            Some(until) if self.clock.now() < until => 1,
            _ => self.cfg.max_in_flight.clamp(1, 2),
        }
    }

    async fn sleep(&self, d: Duration, cancel: &CancellationToken) -> Result<(), PacerError> {
        tokio::select! {
            () = tokio::time::sleep(d) => Ok(()),
            () = cancel.cancelled() => Err(PacerError::Cancelled),
        }
    }

    async fn sleep_until(
        &self,
        when: Timestamp,
        cancel: &CancellationToken,
    ) -> Result<(), PacerError> {
        tokio::select! {
            () = self.clock.sleep_until(when) => Ok(()),
            () = cancel.cancelled() => Err(PacerError::Cancelled),
        }
    }

    fn on_maintenance(&self, was_probe: bool) -> Result<(), StateError> {
        let now = self.clock.now();
        let op = &self.cfg.operation;
        let pause = match self.state.pause(op)? {
            None => {
                tracing::warn!(operation = %op, "maintenance, pausing every job of the operation");
                let wait = jitter(self.cfg.probe_initial);
                Pause {
                    since: now,
                    next_probe: add(now, wait),
                    backoff: self.cfg.probe_initial.saturating_mul(2).min(self.cfg.probe_max),
                    probes: 0,
                }
            }
            Some(p) if was_probe => {
                let wait = jitter(p.backoff);
                tracing::info!(operation = %op, next_probe = %add(now, wait), "maintenance continues");
                Pause {
                    next_probe: add(now, wait),
                    backoff: p.backoff.saturating_mul(2).min(self.cfg.probe_max),
                    probes: p.probes + 1,
                    ..p
                }
            }
            // A request already in flight when the pause began: the pause
            // stands as it is.
            Some(_) => return Ok(()),
        };
        self.state.set_pause(op, &pause)
    }

    fn on_answer(&self, was_probe: bool) -> Result<(), StateError> {
        if !was_probe {
            return Ok(());
        }
        if let Some(p) = self.state.pause(&self.cfg.operation)? {
            let paused = self.clock.now().duration_since(p.since);
            tracing::info!(operation = %self.cfg.operation, paused_s = paused.as_secs(), "maintenance over, resuming");
            self.state.clear_pause(&self.cfg.operation)?;
        }
        Ok(())
    }
}

impl Permit<'_> {
    /// Whether this request probes a maintenance window.
    pub fn is_probe(&self) -> bool {
        self.probe.is_some()
    }

    /// Reports the answer, updating pauses, the ledger and the in-flight
    /// limit, then frees the slot.
    pub fn finish(self, outcome: &Outcome) -> Result<(), StateError> {
        let pacer = self.pacer;
        let was_probe = self.is_probe();
        match outcome {
            Outcome::Maintenance => pacer.on_maintenance(was_probe)?,
            Outcome::BudgetSpent => {
                let day = pacer.api_day(pacer.clock.now());
                tracing::warn!(operation = %pacer.cfg.operation, "the API says the daily budget is spent");
                pacer.state.raise_calls(
                    &pacer.cfg.operation,
                    &day.to_string(),
                    pacer.cfg.daily_budget,
                )?;
                pacer.on_answer(was_probe)?;
            }
            Outcome::Concurrency => {
                tracing::warn!(operation = %pacer.cfg.operation, "another consumer shares the token, one request at a time");
                let until = add(pacer.clock.now(), SHARED_TOKEN_COOLDOWN);
                *pacer.shared_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(until);
                pacer.on_answer(was_probe)?;
            }
            _ => pacer.on_answer(was_probe)?,
        }
        Ok(())
    }
}

fn try_lock(path: &Path) -> Result<Option<File>, PacerError> {
    let err = |source| PacerError::Lock { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(err)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(err(e)),
    }
}

/// Up to ±20 % of `d`.
fn jitter(d: Duration) -> Duration {
    let factor = 0.8 + rand::random::<f64>() * 0.4;
    d.mul_f64(factor)
}

fn add(t: Timestamp, d: Duration) -> Timestamp {
    let d = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
    t.saturating_add(d).unwrap_or(Timestamp::MAX)
}

fn to_std(d: jiff::SignedDuration) -> Duration {
    Duration::try_from(d).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pacer(dir: &Path, clock: Clock) -> Pacer {
        let cfg = PacerConfig {
            operation: "op".into(),
            token_key: "abcd".into(),
            daily_budget: 3,
            reserve: 1,
            tz: TimeZone::get("America/Bogota").unwrap(),
            rollover_hour: 0,
            max_in_flight: 2,
            probe_initial: Duration::from_secs(30),
            probe_max: Duration::from_secs(600),
            wait_for_budget: true,
        };
        Pacer::new(cfg, State::open(dir).unwrap(), clock, dir)
    }

    #[tokio::test(start_paused = true)]
    async fn budget_minus_reserve_then_waits_for_the_next_api_day() {
        let dir = tempfile::tempdir().unwrap();
        // 23:00 in Bogota.
        let clock = Clock::starting_at("2026-12-05T04:00:00Z".parse().unwrap());
        let p = pacer(dir.path(), clock.clone());
        let cancel = CancellationToken::new();
        for want in 1..=2 {
            let permit = p.acquire(&cancel).await.unwrap();
            assert_eq!(permit.calls_today, want);
            permit.finish(&Outcome::Empty).unwrap();
        }
        let permit = p.acquire(&cancel).await.unwrap();
        assert_eq!(clock.now().to_string(), "2026-12-05T05:00:00Z");
        assert_eq!(permit.calls_today, 1);
        assert_eq!(permit.waited.budget, Duration::from_secs(3_600));
        drop(permit);

        let mut once = pacer(dir.path(), clock.clone());
        once.cfg.wait_for_budget = false;
        once.cfg.daily_budget = 1;
        once.cfg.reserve = 0;
        let err = once.acquire(&cancel).await.unwrap_err();
        let want = "the daily budget of operation `op` is spent; it renews at 2026-12-06 00:00 -05";
        assert_eq!(err.to_string(), want);
    }

    #[tokio::test(start_paused = true)]
    async fn two_slots_per_token_on_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::starting_at("2026-12-05T12:00:00Z".parse().unwrap());
        let a = pacer(dir.path(), clock.clone());
        let b = pacer(dir.path(), clock);
        let cancel = CancellationToken::new();
        let first = a.acquire(&cancel).await.unwrap();
        let second = b.acquire(&cancel).await.unwrap();
        let third = tokio::time::timeout(Duration::from_secs(5), b.acquire(&cancel)).await;
        assert!(third.is_err(), "a third slot was granted");
        drop(first);
        drop(second);
    }

    #[tokio::test(start_paused = true)]
    async fn maintenance_pauses_and_one_probe_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::starting_at("2026-12-05T12:00:00Z".parse().unwrap());
        let mut p = pacer(dir.path(), clock.clone());
        p.cfg.daily_budget = 100;
        let cancel = CancellationToken::new();
        let permit = p.acquire(&cancel).await.unwrap();
        assert!(!permit.is_probe());
        permit.finish(&Outcome::Maintenance).unwrap();
        let pause = p.pause().unwrap().unwrap();
        let probe = p.acquire(&cancel).await.unwrap();
        assert!(probe.is_probe());
        let late = clock.now().duration_since(pause.next_probe);
        assert!(late >= jiff::SignedDuration::ZERO && late.as_secs() < 1, "{late:?}");
        probe.finish(&Outcome::Maintenance).unwrap();
        let again = p.pause().unwrap().unwrap();
        assert_eq!(again.probes, 1);
        assert!(again.next_probe > pause.next_probe);
        let probe = p.acquire(&cancel).await.unwrap();
        assert!(probe.is_probe());
        probe.finish(&Outcome::Empty).unwrap();
        assert_eq!(p.pause().unwrap(), None);
        assert!(!p.acquire(&cancel).await.unwrap().is_probe());
    }
}
