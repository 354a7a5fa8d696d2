//! `status` and `plan`: what the state folder says, for an operator.
//!
//! Both read the config, the job files and the state database only: no
//! token is needed (except to count held in-flight slots, whose lock files
//! are named after the token), nothing is sent and nothing is written, so
//! they work beside a running daemon. `status` looks back (budget used,
//! pauses, last runs, windows complete and pending); `plan` looks ahead
//! over today's API day (next fires, windows due, the calls they cost,
//! which jobs the budget left cannot cover, by priority). Running anything
//! is the daemon's job.

use std::{fmt, fs::File, path::Path};

use jiff::{Timestamp, tz::TimeZone};
use serde::Serialize;

use crate::{
    api::client::token_key,
    clock::Clock,
    config::{Config, Operation},
    jobs::Job,
    pacer::Pacer,
    plan, schedule,
    state::{State, StateError},
    sync::is_covered,
};

/// The state of every operation and job.
#[derive(Debug, Serialize)]
pub struct Status {
    pub at: Timestamp,
    pub operations: Vec<OperationStatus>,
    pub jobs: Vec<JobStatus>,
}

/// An operation's budget, pause and requests in flight.
#[derive(Debug, Serialize)]
pub struct OperationStatus {
    pub name: String,
    /// The API day the budget counts (the operation's date at rollover).
    pub api_day: String,
    /// Calls this daemon may spend per day (licenses × 1000 − reserve).
    pub budget: u64,
    pub used: u64,
    pub left: u64,
    /// Set while the operation is in maintenance.
    pub paused_since: Option<Timestamp>,
    pub next_probe: Option<Timestamp>,
    /// Held in-flight slots on this host; `None` when the token (which
    /// names the lock files) cannot be read here.
    pub in_flight: Option<usize>,
}

/// A job's last run and windows.
#[derive(Debug, Serialize)]
pub struct JobStatus {
    pub name: String,
    pub operation: String,
    pub endpoint: String,
    /// `enabled = false` in the job file: the daemon does not run it.
    pub disabled: bool,
    pub last_fire: Option<Timestamp>,
    pub last_run: Option<LastRun>,
    pub windows_complete: usize,
    /// Closed windows not fetched yet (history jobs).
    pub windows_pending: usize,
    pub rows_total: u64,
    /// The error of the last run, if it stopped on one.
    pub last_error: Option<String>,
}

/// One run, as the state remembers it.
#[derive(Debug, Serialize)]
pub struct LastRun {
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub windows: u64,
    pub rows: u64,
    pub calls: u64,
}

/// Reads the status of `config`'s operations and of `jobs`.
pub fn status(config: &Config, jobs: &[Job], clock: &Clock) -> Result<Status, StateError> {
    let state = State::open_existing(&config.state_dir)?;
    let now = clock.now();
    let mut operations = Vec::new();
    for op in &config.operations {
        operations.push(operation_status(config, op, &state, clock)?);
    }
    let mut out = Vec::new();
    for job in jobs {
        out.push(job_status(config, job, &state, now)?);
    }
    Ok(Status { at: now, operations, jobs: out })
}

fn operation_status(
    config: &Config,
    op: &Operation,
    state: &State,
    clock: &Clock,
) -> Result<OperationStatus, StateError> {
    let key = op.read_token().ok().map(|t| token_key(&t));
    let pacer = pacer(config, op, state, clock, key.clone().unwrap_or_default());
    let used = pacer.calls_today()?;
    let pause = pacer.pause()?;
    let lock_dir = config.state_dir.join("locks");
    Ok(OperationStatus {
        name: op.name.clone(),
        api_day: pacer.api_day(clock.now()).to_string(),
        budget: pacer.limit(),
        used,
        left: pacer.limit().saturating_sub(used),
        paused_since: pause.map(|p| p.since),
        next_probe: pause.map(|p| p.next_probe),
        in_flight: key.map(|key| held_slots(&lock_dir, &key)),
    })
}

fn job_status(
    config: &Config,
    job: &Job,
    state: &State,
    now: Timestamp,
) -> Result<JobStatus, StateError> {
    let windows = state.windows(&job.name)?;
    let last = state.last_run(&job.name)?;
    let pending = due(config, job, state, now)?.len();
    Ok(JobStatus {
        name: job.name.clone(),
        operation: job.operation.clone(),
        endpoint: job.endpoint.id(),
        disabled: !job.enabled,
        last_fire: state.last_fire(&job.name)?,
        last_error: last.as_ref().and_then(|r| r.summary.error.clone()),
        last_run: last.map(|r| LastRun {
            started_at: r.started_at,
            ended_at: r.ended_at,
            windows: r.summary.windows,
            rows: r.summary.rows,
            calls: r.summary.calls,
        }),
        windows_complete: windows.len(),
        windows_pending: pending,
        rows_total: windows.iter().map(|w| w.rows).sum(),
    })
}

/// Today's outlook.
#[derive(Debug, Serialize)]
pub struct Plan {
    pub at: Timestamp,
    pub operations: Vec<OperationPlan>,
    /// By operation, then priority (higher first), then name.
    pub jobs: Vec<JobPlan>,
}

/// An operation's budget left today.
#[derive(Debug, Serialize)]
pub struct OperationPlan {
    pub name: String,
    pub api_day: String,
    pub budget: u64,
    pub left: u64,
    /// What every run left today would spend, all jobs together.
    pub calls_today: u64,
}

/// A job's next run.
#[derive(Debug, Serialize)]
pub struct JobPlan {
    pub name: String,
    pub operation: String,
    pub priority: i64,
    /// `enabled = false` in the job file: it never fires and costs nothing.
    pub disabled: bool,
    /// Now, for a job that never fired or is overdue; none when disabled.
    pub next_fire: Option<Timestamp>,
    /// Fire times left in today's API day, the next one included.
    pub fires_today: usize,
    pub windows_due: usize,
    /// Calls the next run costs when nothing fails: one per window due,
    /// one per snapshot.
    pub calls: u64,
    /// Calls of every run left today: the next one's, then one per window
    /// that closes before a later run, plus its re-fetches; one per run
    /// for a snapshot.
    pub calls_today: u64,
    /// The budget left cannot cover this run after the runs of the jobs
    /// with a higher priority.
    pub deferred: bool,
}

/// Works out today's plan for `jobs`.
pub fn plan(config: &Config, jobs: &[Job], clock: &Clock) -> Result<Plan, StateError> {
    let state = State::open_existing(&config.state_dir)?;
    let now = clock.now();
    let mut operations = Vec::new();
    let mut out = Vec::new();
    for op in &config.operations {
        let pacer = pacer(config, op, &state, clock, String::new());
        let left = pacer.limit().saturating_sub(pacer.calls_today()?);
        let day = pacer.api_day(now);
        let day_end = pacer.day_start(day.tomorrow().unwrap_or(day));
        let mut mine: Vec<&Job> = jobs.iter().filter(|j| j.operation == op.name).collect();
        mine.sort_by(|a, b| b.priority.cmp(&a.priority).then_with(|| a.name.cmp(&b.name)));
        let (mut spent, mut calls_today) = (0, 0);
        for job in mine {
            let mut p = job_plan(config, job, &state, now, day_end, &op.timezone)?;
            spent += p.calls;
            calls_today += p.calls_today;
            p.deferred = spent > left;
            out.push(p);
        }
        operations.push(OperationPlan {
            name: op.name.clone(),
            api_day: day.to_string(),
            budget: pacer.limit(),
            left,
            calls_today,
        });
    }
    Ok(Plan { at: now, operations, jobs: out })
}

fn job_plan(
    config: &Config,
    job: &Job,
    state: &State,
    now: Timestamp,
    day_end: Timestamp,
    tz: &TimeZone,
) -> Result<JobPlan, StateError> {
    let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
    let next = match state.last_fire(&job.name)? {
        _ if !job.enabled => None,
        None => Some(now),
        Some(last) => schedule::next_fire(&job.schedule, tz, last).map(|n| n.max(now)),
    };
    let windows_due = due(config, job, state, now)?.len();
    let calls = match (job.enabled, job.window_spec()) {
        (false, _) => 0,
        (true, Some(_)) => windows_due as u64,
        (true, None) => 1,
    };
    let (fires_today, last_fire) = fires_before(job, tz, next, day_end);
    let later_runs = fires_today.saturating_sub(1) as u64;
    // The windows due now are the next run's; any that closes after now
    // and by the last run is fetched by one of them.
    let calls_today = match (next, last_fire, job.window_spec()) {
        (Some(_), Some(last), Some(spec)) => {
            calls + closing_between(spec, tz, now, last) + u64::from(spec.refetch) * later_runs
        }
        (Some(_), _, None) => fires_today as u64,
        _ => calls,
    };
    Ok(JobPlan {
        name: job.name.clone(),
        operation: job.operation.clone(),
        priority: job.priority,
        disabled: !job.enabled,
        next_fire: next,
        fires_today,
        windows_due,
        calls,
        calls_today,
        deferred: false,
    })
}

/// Fire times from `next` (included) up to `end`: how many, and the last.
fn fires_before(
    job: &Job,
    tz: &TimeZone,
    next: Option<Timestamp>,
    end: Timestamp,
) -> (usize, Option<Timestamp>) {
    const MAX: usize = 100_000;
    let (mut count, mut last) = (0, None);
    let mut at = next;
    while let Some(t) = at.filter(|t| *t < end && count < MAX) {
        count += 1;
        last = Some(t);
        at = schedule::next_fire(&job.schedule, tz, t);
    }
    (count, last)
}

/// Windows of `spec` that close after `after` and by `until`: each is
/// fetched by the first run after it closes.
fn closing_between(
    spec: &plan::WindowSpec,
    tz: &TimeZone,
    after: Timestamp,
    until: Timestamp,
) -> u64 {
    // The first window that may still be open at `after` holds `after`
    // less the lag; those before it closed already.
    let back = after.checked_sub(spec.lag).unwrap_or(after);
    let from = back.to_zoned(tz.clone()).datetime().max(spec.start);
    let mut count = 0;
    for window in plan::windows_from(spec.grain, from) {
        if !plan::is_closed(&window, spec.lag, tz, until) {
            break;
        }
        if !plan::is_closed(&window, spec.lag, tz, after) {
            count += 1;
        }
    }
    count
}

/// The windows a run of `job` would fetch at `now`.
fn due(
    config: &Config,
    job: &Job,
    state: &State,
    now: Timestamp,
) -> Result<Vec<plan::Window>, StateError> {
    let Some(op) = config.operation(&job.operation) else { return Ok(Vec::new()) };
    let published = state.windows(&job.name)?;
    let covered = |w: &plan::Window| is_covered(w, &published);
    Ok(plan::due_windows(job, now, &op.timezone, &covered))
}

/// A pacer used only to read the ledger and the pause.
fn pacer(config: &Config, op: &Operation, state: &State, clock: &Clock, key: String) -> Pacer {
    let cfg = crate::runtime::pacer_config(op, key, true);
    Pacer::new(cfg, state.clone(), clock.clone(), &config.state_dir.join("locks"))
}

/// Slot lock files of the token that some process holds now.
fn held_slots(lock_dir: &Path, key: &str) -> usize {
    let held = |i: usize| {
        let path = lock_dir.join(format!("slot-{key}-{i}.lock"));
        let Ok(file) = File::open(path) else { return false };
        matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
    };
    (0..2).filter(|i| held(*i)).count()
}

fn when(at: Option<Timestamp>, tz: &TimeZone) -> String {
    match at {
        Some(t) => t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string(),
        None => "-".to_string(),
    }
}

fn zone(config: &Config, operation: &str) -> TimeZone {
    config.operation(operation).map_or(TimeZone::UTC, |op| op.timezone.clone())
}

/// [`Status`] as text, times in each operation's zone.
pub struct StatusText<'a>(pub &'a Status, pub &'a Config);

impl fmt::Display for StatusText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (status, config) = (self.0, self.1);
        for op in &status.operations {
            let tz = zone(config, &op.name);
            write!(
                f,
                "operation {}: day {}: {} of {} calls used, {} left",
                op.name, op.api_day, op.used, op.budget, op.left
            )?;
            match op.paused_since {
                Some(since) => write!(
                    f,
                    "; maintenance since {}, next probe {}",
                    when(Some(since), &tz),
                    when(op.next_probe, &tz)
                )?,
                None => write!(f, "; not paused")?,
            }
            match op.in_flight {
                Some(n) => writeln!(f, "; {n} request(s) in flight")?,
                None => writeln!(f, "; requests in flight unknown (token not readable here)")?,
            }
        }
        writeln!(
            f,
            "\n{:<20} {:<20} {:<20} {:>8} {:>8} {:>8} {:>8} {:>10}",
            "job",
            "last run start",
            "last run end",
            "windows",
            "calls",
            "complete",
            "pending",
            "rows total"
        )?;
        for job in &status.jobs {
            let tz = zone(config, &job.operation);
            let (start, end, windows, calls) = match &job.last_run {
                Some(r) => {
                    (when(Some(r.started_at), &tz), when(r.ended_at, &tz), r.windows, r.calls)
                }
                None => ("never".to_string(), "-".to_string(), 0, 0),
            };
            writeln!(
                f,
                "{:<20} {start:<20} {end:<20} {windows:>8} {calls:>8} {:>8} {:>8} {:>10}",
                job.name, job.windows_complete, job.windows_pending, job.rows_total
            )?;
            if job.disabled {
                writeln!(f, "  disabled (enabled = false): the daemon does not run it")?;
            }
            if let Some(e) = &job.last_error {
                writeln!(f, "  last error: {e}")?;
            }
        }
        Ok(())
    }
}

/// [`Plan`] as text, times in each operation's zone.
pub struct PlanText<'a>(pub &'a Plan, pub &'a Config);

impl fmt::Display for PlanText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (plan, config) = (self.0, self.1);
        for op in &plan.operations {
            let over = match op.calls_today > op.left {
                true => " (more than is left: the lowest priorities wait for tomorrow)",
                false => "",
            };
            writeln!(
                f,
                "operation {}: day {}: {} of {} calls left; today's runs would spend {}{over}",
                op.name, op.api_day, op.left, op.budget, op.calls_today
            )?;
        }
        writeln!(
            f,
            "\n{:<20} {:>8} {:<20} {:>11} {:>11} {:>10} {:>11}  note",
            "job",
            "priority",
            "next fire",
            "fires today",
            "windows due",
            "calls next",
            "calls today"
        )?;
        for job in &plan.jobs {
            let tz = zone(config, &job.operation);
            let note = match (job.disabled, job.deferred) {
                (true, _) => "disabled (enabled = false)",
                (false, true) => "deferred: not enough budget left today",
                (false, false) => "",
            };
            writeln!(
                f,
                "{:<20} {:>8} {:<20} {:>11} {:>11} {:>10} {:>11}  {note}",
                job.name,
                job.priority,
                when(job.next_fire, &tz),
                job.fires_today,
                job.windows_due,
                job.calls,
                job.calls_today
            )?;
        }
        Ok(())
    }
}
