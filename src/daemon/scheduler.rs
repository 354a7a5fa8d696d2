//! When each job runs: fire times, coalescing, catch-up and priority.
//!
//! The [`Scheduler`] is a pure state machine over the loaded jobs. It is
//! handed the current instant on every heartbeat tick and answers which
//! jobs fired and which runs to start; it never reads a clock, sleeps or
//! touches the state database, so tests drive it with any instant they
//! like. Its rules:
//!
//! - a job fires when a fire time of its cron pattern, read in its
//!   operation's zone, has passed since its last fire; several missed fire
//!   times (downtime) collapse into the latest one, whose run catches up
//!   every missed window because the planner fetches all due windows;
//! - a job that never fired before (new, or first start) fires at once;
//! - at most one run per job is in flight and at most one is pending: a
//!   fire while the job runs sets the pending run, further fires coalesce
//!   into it;
//! - runs that start on the same tick start in priority order (higher
//!   first), then by name.
//!
//! Persisting last fires, spawning runs and reloading files are the event
//! loop's job ([`super::Daemon`]).

use std::collections::{BTreeMap, BTreeSet};

use jiff::{Timestamp, tz::TimeZone};

use crate::{jobs::Job, schedule};

/// The jobs being scheduled and their run state.
#[derive(Debug, Default)]
pub struct Scheduler {
    entries: BTreeMap<String, Entry>,
}

#[derive(Debug)]
struct Entry {
    job: Job,
    tz: TimeZone,
    /// When the job last fired; `None` if it never did.
    last_fire: Option<Timestamp>,
    run: RunState,
    /// Removed from the jobs folder while running: dropped when the run
    /// ends, never started again.
    removed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunState {
    Idle,
    Running,
    RunningWithPending,
}

/// What one tick decided.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TickOutcome {
    /// Jobs that fired, with the fire time to remember as their last fire.
    pub fired: Vec<(String, Timestamp)>,
    /// Jobs whose run starts now, in start order.
    pub start: Vec<String>,
    /// Jobs that fired while running: a run is pending after the current
    /// one (already pending ones coalesce).
    pub coalesced: Vec<String>,
}

/// A job as loaded: its definition, its operation's zone and its last
/// fire (from the state).
pub type Loaded = (Job, TimeZone, Option<Timestamp>);

/// How the jobs changed on a reload.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReloadDiff {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    /// Job files that were refused, with why (path and line).
    pub rejected: Vec<String>,
}

impl ReloadDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.changed.is_empty()
            && self.removed.is_empty()
            && self.rejected.is_empty()
    }
}

impl Scheduler {
    /// An empty scheduler.
    pub fn new() -> Scheduler {
        Scheduler::default()
    }

    /// Adds (or replaces) a job whose last fire was `last_fire`.
    pub fn insert(&mut self, job: Job, tz: TimeZone, last_fire: Option<Timestamp>) {
        let run = self.entries.get(&job.name).map_or(RunState::Idle, |e| e.run);
        let entry = Entry { job, tz, last_fire, run, removed: false };
        self.entries.insert(entry.job.name.clone(), entry);
    }

    /// The scheduled job called `name` (not one removed while running).
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.entries.get(name).filter(|e| !e.removed).map(|e| &e.job)
    }

    /// Every scheduled job, by name.
    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.entries.values().filter(|e| !e.removed).map(|e| &e.job)
    }

    /// Jobs with a run in flight.
    pub fn running(&self) -> usize {
        self.entries.values().filter(|e| e.run != RunState::Idle).count()
    }

    /// The next fire time of `name` after its last fire; `None` if it
    /// never fired (it fires on the next tick) or never fires again.
    pub fn next_fire(&self, name: &str) -> Option<Timestamp> {
        let entry = self.entries.get(name)?;
        schedule::next_fire(&entry.job.schedule, &entry.tz, entry.last_fire?)
    }

    /// Fires every job due at `now` and says which runs start.
    pub fn tick(&mut self, now: Timestamp) -> TickOutcome {
        let mut out = TickOutcome::default();
        let mut starting = Vec::new();
        for (name, entry) in &mut self.entries {
            if entry.removed {
                continue;
            }
            let Some(fire) = entry.due(now) else { continue };
            entry.last_fire = Some(fire);
            out.fired.push((name.clone(), fire));
            match entry.run {
                RunState::Idle => {
                    entry.run = RunState::Running;
                    starting.push((entry.job.priority, name.clone()));
                }
                RunState::Running | RunState::RunningWithPending => {
                    entry.run = RunState::RunningWithPending;
                    out.coalesced.push(name.clone());
                }
            }
        }
        starting.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        out.start = starting.into_iter().map(|(_, name)| name).collect();
        out
    }

    /// A run of `name` ended. Returns whether its pending run starts now.
    pub fn finished(&mut self, name: &str) -> bool {
        let Some(entry) = self.entries.get_mut(name) else { return false };
        if entry.removed {
            self.entries.remove(name);
            return false;
        }
        let again = entry.run == RunState::RunningWithPending;
        entry.run = if again { RunState::Running } else { RunState::Idle };
        again
    }

    /// Replaces the job set with `jobs` (each with its zone and last fire).
    /// Jobs named in `keep` (their file was refused) keep their current
    /// definition. A removed job that is running stays until its run ends
    /// but never starts again; the caller stops it after its request in
    /// flight.
    pub fn reload(&mut self, jobs: Vec<Loaded>, keep: &BTreeSet<String>) -> ReloadDiff {
        let mut diff = ReloadDiff::default();
        let incoming: BTreeSet<String> = jobs.iter().map(|(j, _, _)| j.name.clone()).collect();
        for (job, tz, last_fire) in jobs {
            match self.entries.get(&job.name).filter(|e| !e.removed) {
                None => diff.added.push(job.name.clone()),
                Some(e) if same_job(&e.job, &job) && e.tz == tz => continue,
                Some(_) => diff.changed.push(job.name.clone()),
            }
            let last = self.entries.get(&job.name).and_then(|e| e.last_fire).or(last_fire);
            self.insert(job, tz, last);
        }
        let gone: Vec<String> = self
            .entries
            .iter()
            .filter(|(name, e)| !e.removed && !incoming.contains(*name) && !keep.contains(*name))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            self.remove(&name);
            diff.removed.push(name);
        }
        diff
    }

    fn remove(&mut self, name: &str) {
        let Some(entry) = self.entries.get_mut(name) else { return };
        if entry.run == RunState::Idle {
            self.entries.remove(name);
        } else {
            entry.removed = true;
        }
    }
}

impl Entry {
    /// The fire time to record if the job is due at `now`.
    fn due(&self, now: Timestamp) -> Option<Timestamp> {
        match self.last_fire {
            // Whole seconds, like cron's own fire times.
            None => Some(Timestamp::from_second(now.as_second()).unwrap_or(now)),
            Some(last) => schedule::latest_fire(&self.job.schedule, &self.tz, last, now),
        }
    }
}

/// Whether two definitions of a job schedule and fetch the same way.
fn same_job(a: &Job, b: &Job) -> bool {
    a.path == b.path
        && a.operation == b.operation
        && a.endpoint.id() == b.endpoint.id()
        && a.params == b.params
        && a.schedule == b.schedule
        && a.windowing == b.windowing
        && a.formats == b.formats
        && a.priority == b.priority
        && a.csv == b.csv
        && a.enabled == b.enabled
}

#[cfg(test)]
mod tests;
